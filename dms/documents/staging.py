"""Staged uploads: big files PUT apart from the GraphQL request, then made into a version.

With S3 the client PUTs straight to a presigned URL; with a directory the app receives the bytes
on its own route. Either way the server verifies size (and hash, when declared) before a version
points at the bytes, and an unused staged upload expires.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import anyio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dms.actor import Actor
from dms.base import utcnow
from dms.documents.models import StagedUpload
from dms.documents.uploads import SNIFF_BYTES, IncomingFile, ReceivedFile, SniffedBlob, detect_mime_type, store_incoming
from dms.errors import Conflict, NotFound, StorageFailure, UploadTooLarge, ValidationFailed
from dms.names import safe_filename
from storage.base import (
    BlobHashMismatch,
    BlobNotFound,
    BlobSizeMismatch,
    BlobStore,
    BlobTooLarge,
    StorageUnavailable,
    StoredBlob,
)

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class UploadTicket:
    upload: StagedUpload
    # None: the client PUTs to the app's own route (the caller builds that URL).
    presigned_url: str | None


async def request_upload(
    session: AsyncSession,
    blobs: BlobStore,
    actor: Actor,
    *,
    filename: str,
    size: int,
    sha256: str | None,
    max_upload_bytes: int,
    ttl: timedelta,
) -> UploadTicket:
    """Reserve a staged upload of `size` bytes for the actor."""
    if size < 0:
        raise ValidationFailed("the size cannot be negative", field="size")
    if size > max_upload_bytes:
        raise UploadTooLarge(f"the file is larger than the limit of {max_upload_bytes} bytes", field="size")
    if sha256 is not None and not _SHA256.match(sha256.lower()):
        raise ValidationFailed("sha256 is 64 hexadecimal digits", field="sha256")
    upload = StagedUpload(
        user_id=actor.user_id,
        filename=safe_filename(filename),
        declared_size=size,
        declared_sha256=sha256.lower() if sha256 else None,
        staging_key=secrets.token_hex(16),
        expires_at=utcnow() + ttl,
    )
    session.add(upload)
    await session.flush()
    try:
        url = await blobs.presigned_put_url(upload.staging_key, expires=ttl)
    except StorageUnavailable as exc:
        raise StorageFailure() from exc
    return UploadTicket(upload=upload, presigned_url=url)


async def _usable(session: AsyncSession, actor: Actor, upload_id: int, *, now: datetime | None = None) -> StagedUpload:
    # Locked until commit: a second request using the same upload waits, then finds it used.
    upload = await session.scalar(
        select(StagedUpload)
        .where(StagedUpload.id == upload_id, StagedUpload.user_id == actor.user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if upload is None or upload.expires_at <= (now or utcnow()):
        raise NotFound("no such staged upload (it may have expired)", field="stagedUploadId")
    if upload.consumed_at is not None:
        raise Conflict("this staged upload was already used", field="stagedUploadId")
    return upload


async def receive_bytes(
    session: AsyncSession, blobs: BlobStore, actor: Actor, upload_id: int, incoming: IncomingFile
) -> StagedUpload:
    """The app's own upload route: store the bytes, refusing more than declared or a wrong hash."""
    upload = await _usable(session, actor, upload_id)
    if upload.sha256 is not None:
        raise Conflict("the bytes of this upload were already received", field="stagedUploadId")
    declared_size = upload.declared_size
    await session.rollback()  # never hold the write lock while bytes stream in
    sniffed = await store_incoming(blobs, incoming, max_size=declared_size)
    upload = await _usable(session, actor, upload_id)
    if sniffed.blob.size != upload.declared_size:
        raise ValidationFailed(
            f"received {sniffed.blob.size} bytes, {upload.declared_size} were declared", field="size"
        )
    if upload.declared_sha256 and sniffed.blob.sha256 != upload.declared_sha256:
        raise ValidationFailed("the bytes do not match the declared sha256", field="sha256")
    upload.sha256 = sniffed.blob.sha256
    return upload


async def _sniff(blobs: BlobStore, blob: StoredBlob) -> str:
    head = bytearray()
    if blob.size:
        async for chunk in await blobs.open(blob.key, (0, min(blob.size, SNIFF_BYTES) - 1)):
            head += chunk
    return await anyio.to_thread.run_sync(detect_mime_type, bytes(head))


async def take(session: AsyncSession, blobs: BlobStore, actor: Actor, upload_id: int) -> SniffedBlob:
    """The verified bytes of a staged upload, which is used up by taking it."""
    upload = await _usable(session, actor, upload_id)
    try:
        if upload.sha256 is not None:
            blob = await blobs.stat(upload.sha256)
        else:
            blob = await blobs.adopt_staged(
                upload.staging_key,
                max_size=upload.declared_size,
                expected_sha256=upload.declared_sha256,
                expected_size=upload.declared_size,
            )
    except BlobNotFound as exc:
        raise ValidationFailed("the file has not been uploaded yet", field="stagedUploadId") from exc
    except (BlobTooLarge, BlobSizeMismatch) as exc:
        raise ValidationFailed("the uploaded file's size differs from the declared size", field="size") from exc
    except BlobHashMismatch as exc:
        raise ValidationFailed("the uploaded file does not match the declared sha256", field="sha256") from exc
    except StorageUnavailable as exc:
        raise StorageFailure() from exc
    if blob.size != upload.declared_size:
        raise ValidationFailed("the uploaded file's size differs from the declared size", field="size")
    upload.sha256 = blob.sha256
    upload.consumed_at = utcnow()
    return SniffedBlob(blob=blob, mime_type=await _sniff(blobs, blob), filename=upload.filename)


@dataclass(frozen=True)
class StagedSource:
    """A reference to a staged upload, used instead of a file sent with the request."""

    upload_id: int


FileSource = IncomingFile | ReceivedFile | StagedSource


async def obtain(
    session: AsyncSession, blobs: BlobStore, actor: Actor, source: FileSource, *, max_upload_bytes: int
) -> SniffedBlob:
    """The stored, sniffed bytes of a new version, from either kind of source."""
    if isinstance(source, StagedSource):
        return await take(session, blobs, actor, source.upload_id)
    return await store_incoming(blobs, source, max_size=max_upload_bytes)
