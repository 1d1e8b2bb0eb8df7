"""Blobs as objects in an S3-compatible bucket (MinIO, SeaweedFS, AWS S3) via the MinIO SDK.

Object names: ``<prefix>ab/cd/abcdef…`` for blobs (the filesystem layout) and
``<prefix>staging/<name>`` for bytes not yet verified: uploads in progress and files
clients PUT through a presigned URL.

How ``put`` keeps memory bounded: the SHA-256, and so the object name, is only known
after the last byte, so the bytes stream into a staging object through ``put_object``
with an unknown length, which uploads them as a multipart upload of PART_SIZE parts,
one part at a time, while the same pass hashes them; the verified object is then
copied server-side to its content name and the staging object deleted. The SDK keeps
the part being sent while assembling the next (about 3 × PART_SIZE at peak, measured),
so memory per upload in flight is bounded whatever the blob's size, and no local disk
is needed (spooling to a temp file would trade memory for disk that containers often
lack, or for RAM again on a tmpfs /tmp). The price is a server-side copy, which moves
no bytes through this process. Parts go one at a time because the SDK's default of
three parallel parts holds about 5 × PART_SIZE per upload.

The MinIO SDK is blocking: every call runs in a worker thread (``anyio.to_thread``),
never on the event loop, and response bodies are read in threads chunk by chunk.
"""

import hashlib
import io
import ssl
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Callable, Collection, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import certifi
import urllib3
from anyio import CancelScope, from_thread, to_thread
from anyio.lowlevel import checkpoint_if_cancelled
from minio import Minio
from minio.commonconfig import REPLACE, CopySource
from minio.error import MinioException, S3Error

from storage.base import (
    CHUNK_SIZE,
    BlobHashMismatch,
    BlobNotFound,
    BlobSizeMismatch,
    BlobStream,
    BlobTooLarge,
    FileDigest,
    RangeNotSatisfiable,
    StorageError,
    StorageUnavailable,
    StoredBlob,
    check_byte_range,
    check_put_limits,
    content_disposition,
    fan_out,
    is_blob_key,
    local_file_digest,
    require_blob_key,
    require_upload_key,
)

#: Multipart part size for streamed uploads. It bounds memory per upload (see the module
#: docstring) and, with S3's 10 000-part limit, the largest blob: 8 MiB × 10 000 ≈ 78 GiB.
PART_SIZE = 8 * 1024 * 1024
#: Parts sent at once when the length is known (`put_file`). The SDK then picks the
#: smallest part size S3 allows (FILE_PART_SIZE, more for files beyond ~48 GiB) and reads
#: each part into memory: at most (2 × PARALLEL_PARTS + 1) × FILE_PART_SIZE per upload, as an
#: SDK worker keeps its last part referenced until it takes the next (usually ~5 parts).
PARALLEL_PARTS = 3
FILE_PART_SIZE = 5 * 1024 * 1024
_STAGING = "staging/"
_LIST_BATCH = 1000
#: How old an unfinished multipart upload must be before gc aborts it, whatever its grace period.
MULTIPART_GRACE = timedelta(days=1)
_CREDENTIAL_ERRORS = frozenset({"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"})

T = TypeVar("T")


def make_http_client() -> urllib3.PoolManager:
    """The HTTP pool the SDK uses: few, quick retries, so an unreachable endpoint fails in
    under a second instead of the SDK's default of several, and room for many threads."""
    tls = ssl.create_default_context()  # system trust store (honours SSL_CERT_FILE)
    tls.load_verify_locations(certifi.where())  # plus the SDK's usual bundle
    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=10.0, read=300.0),
        maxsize=32,
        ssl_context=tls,
        retries=urllib3.Retry(total=3, backoff_factor=0.1, status_forcelist=[500, 502, 503, 504]),
    )


class S3BlobStore:
    """A :class:`storage.base.BlobStore` keeping blobs as objects in an S3 bucket.

    The bucket is created, if missing, by :meth:`check`. ``prefix`` (empty or ending in
    ``/``) lets several stores share a bucket.
    """

    def __init__(
        self,
        client: Minio,
        bucket: str,
        prefix: str = "",
        *,
        endpoint: str,
        region: str | None = None,
        http_client: urllib3.PoolManager | None = None,
        part_size: int = PART_SIZE,
        presigner: Minio | None = None,
    ) -> None:
        if prefix and not prefix.endswith("/"):
            raise ValueError(f"S3 key prefix must end with '/': {prefix!r}")
        self._client = client
        self.bucket = bucket
        self.prefix = prefix
        self.endpoint = endpoint
        self._region = region
        self._http = http_client
        self._part_size = part_size
        # Signs the URLs handed to clients, for the endpoint they reach (default: this one).
        self._presigner = presigner or client

    def __repr__(self) -> str:
        return f"S3BlobStore(s3://{self.bucket}/{self.prefix} at {self.endpoint})"

    def _object_name(self, key: str) -> str:
        return self.prefix + "/".join(fan_out(require_blob_key(key)))

    def _staging_name(self, name: str) -> str:
        return f"{self.prefix}{_STAGING}{name}"

    def _key_of(self, object_name: str) -> str | None:
        """The blob key an object name stands for, or None for staging and foreign objects."""
        parts = object_name[len(self.prefix) :].split("/")
        if len(parts) != 3 or not is_blob_key(parts[2]) or tuple(parts) != fan_out(parts[2]):
            return None
        return parts[2]

    # -- calling the SDK -----------------------------------------------------------------

    async def _call(
        self,
        func: Callable[..., T],
        *args: Any,
        key: str | None = None,
        byte_range: tuple[int, int] | None = None,
        **kwargs: Any,
    ) -> T:
        """Run a blocking SDK call in a worker thread, translating its failures.

        ``key`` and ``byte_range`` say what was asked for, so that "no such key" and
        "invalid range" become BlobNotFound and RangeNotSatisfiable.
        """
        try:
            return await to_thread.run_sync(partial(func, *args, **kwargs))
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise self._translate(exc, key, byte_range) from exc

    def _translate(self, exc: Exception, key: str | None, byte_range: tuple[int, int] | None = None) -> StorageError:
        where = f"S3 endpoint {self.endpoint}"
        if isinstance(exc, S3Error):
            if exc.code == "NoSuchKey" and key is not None:
                return BlobNotFound(key)
            if exc.code == "InvalidRange" and key is not None and byte_range is not None:
                return RangeNotSatisfiable(key, byte_range)
            if exc.code == "NoSuchBucket":
                return StorageUnavailable(f"bucket {self.bucket} does not exist at {where}")
            if exc.code in _CREDENTIAL_ERRORS:
                return StorageUnavailable(f"{where} refused the credentials for bucket {self.bucket} ({exc.code})")
            return StorageUnavailable(f"{where} failed: {exc.code}: {exc.message}")
        if isinstance(exc, urllib3.exceptions.MaxRetryError):
            return StorageUnavailable(f"{where} is unreachable: {_root_cause(exc)}")
        if isinstance(exc, urllib3.exceptions.HTTPError | OSError):
            return StorageUnavailable(f"{where} connection failed: {_root_cause(exc)}")
        return StorageUnavailable(f"{where} failed: {exc}")

    def _remove_quietly(self, object_name: str) -> None:
        """Best-effort removal during cleanup, where a second failure must not mask the first."""
        try:
            self._client.remove_object(self.bucket, object_name)
        except Exception:  # noqa: S110 - the original error is the one worth reporting
            pass

    async def _discard_staging(self, object_name: str) -> None:
        # Shielded: it runs while handling errors and cancellations, and must finish.
        with CancelScope(shield=True):
            await to_thread.run_sync(self._remove_quietly, object_name)

    # -- writing -------------------------------------------------------------------------

    async def put(
        self,
        chunks: AsyncIterable[bytes],
        *,
        max_size: int | None = None,
        expected_sha256: str | None = None,
    ) -> StoredBlob:
        """See :meth:`storage.base.BlobStore.put` and the module docstring for how it streams."""
        check_put_limits(max_size, expected_sha256)
        staging = self._staging_name(f".put-{uuid.uuid4().hex}")
        reader = _ChunkReader(chunks, max_size)
        try:
            await self._call(self._upload_staging, staging, reader)
            digest = reader.hexdigest()
            if expected_sha256 is not None and digest != expected_sha256:
                raise BlobHashMismatch(expected_sha256, digest)
            blob = StoredBlob(key=digest, size=reader.size, sha256=digest)
            await self._promote(staging, blob.key)
        except BaseException as exc:
            reader.abort()
            await self._discard_staging(staging)
            # A cancelled fetch surfaces in the worker thread as a plain exception;
            # let the real cancellation, if that is what happened, take over.
            await checkpoint_if_cancelled()
            if isinstance(exc, _SourceFailed):
                # The caller's iterator failed: its own error, untranslated, is the news.
                raise exc.original from exc.original.__cause__
            raise
        return blob

    def _upload_staging(self, staging: str, reader: "_ChunkReader") -> None:
        """Worker thread: stream the reader into the staging object; clean up on failure.

        The cleanup happens here too, not only in :meth:`put`, because a natively
        cancelled caller stops waiting for this thread: whatever the thread still creates
        after that, it must remove itself.
        """
        try:
            self._client.put_object(self.bucket, staging, reader, -1, part_size=self._part_size, num_parallel_uploads=1)
        except BaseException:
            # put_object has already aborted its multipart upload; a single-part
            # upload may have completed before the failure, so remove that too.
            self._remove_quietly(staging)
            raise
        if reader.aborted:
            self._remove_quietly(staging)
            raise _UploadAborted

    async def _promote(self, staging: str, key: str, *, etag: str | None = None) -> None:
        """Make the verified staging object the blob ``key`` and delete it.

        Already-stored bytes are not copied again (content addressing). ``etag`` pins the
        copy to exactly the object that was verified.
        """
        target = self._object_name(key)
        if not await self._object_exists(target):
            source = CopySource(self.bucket, staging, match_etag=etag)
            await self._call(self._client.copy_object, self.bucket, target, source)
        else:
            await self._touch(target)
        await self._call(self._client.remove_object, self.bucket, staging)

    async def _touch(self, object_name: str) -> None:
        """Copy a stored object onto itself so its Last-Modified moves and gc's grace period
        covers this new use of the bytes too."""
        await self._call(
            self._client.copy_object,
            self.bucket,
            object_name,
            CopySource(self.bucket, object_name),
            metadata={"x-amz-meta-kartoteka-touched": "1"},
            metadata_directive=REPLACE,
        )

    async def put_file(
        self,
        file: BinaryIO,
        *,
        max_size: int | None = None,
        expected_sha256: str | None = None,
        digest: FileDigest | None = None,
    ) -> StoredBlob:
        """See :meth:`storage.base.BlobStore.put_file`.

        The hash comes first, from the local file, so the bytes go straight to their content
        name as a known-length upload in parallel parts (no staging object, no server-side
        copy), and not at all when they are already stored. S3 shows a multipart upload only
        once it completes, and the SDK aborts a failed one, so a failure leaves no object.
        """
        check_put_limits(max_size, expected_sha256)
        sha256, size = await to_thread.run_sync(local_file_digest, file, max_size, expected_sha256, digest)
        target = self._object_name(sha256)
        if await self._object_exists(target):
            await self._touch(target)
        else:
            await self._call(
                self._client.put_object,
                self.bucket,
                target,
                file,
                size,
                part_size=0,  # the SDK's choice: FILE_PART_SIZE until the 10 000-part limit needs more
                num_parallel_uploads=PARALLEL_PARTS,
            )
        return StoredBlob(key=sha256, size=size, sha256=sha256)

    async def adopt_staged(
        self,
        upload_key: str,
        *,
        max_size: int | None,
        expected_sha256: str | None,
        expected_size: int | None,
    ) -> StoredBlob:
        """See :meth:`storage.base.BlobStore.adopt_staged`.

        Reads the staged object once, streaming, to hash it, then copies it server-side.
        Refused uploads are deleted; other failures (the endpoint is down, the call is
        cancelled) leave the staged object in place so adoption can be retried.
        """
        require_upload_key(upload_key)
        check_put_limits(max_size, expected_sha256)
        staging = self._staging_name(upload_key)
        info = await self._call(self._client.stat_object, self.bucket, staging, key=upload_key)
        size = int(info.size or 0)
        try:
            if expected_size is not None and size != expected_size:
                raise BlobSizeMismatch(expected_size, size)
            if max_size is not None and size > max_size:
                raise BlobTooLarge(max_size)
            digest = await self._call(self._hash_object, staging, info.etag, size, key=upload_key)
            if expected_sha256 is not None and digest != expected_sha256:
                raise BlobHashMismatch(expected_sha256, digest)
        except (BlobSizeMismatch, BlobTooLarge, BlobHashMismatch):
            await self._discard_staging(staging)
            raise
        await self._promote(staging, digest, etag=info.etag)
        return StoredBlob(key=digest, size=size, sha256=digest)

    def _hash_object(self, object_name: str, etag: str | None, size: int) -> str:
        """Worker thread: SHA-256 of an object, read chunk by chunk."""
        # If-Match: hash exactly the version that was sized, even if the client PUTs again.
        headers = {"If-Match": etag} if etag else None
        response = self._client.get_object(self.bucket, object_name, request_headers=headers)
        try:
            hasher = hashlib.sha256()
            read = 0
            for data in response.stream(CHUNK_SIZE, decode_content=False):
                hasher.update(data)
                read += len(data)
        finally:
            response.close()
            response.release_conn()
        if read != size:
            raise StorageUnavailable(f"staged object {object_name} changed while it was being verified")
        return hasher.hexdigest()

    async def presigned_put_url(self, upload_key: str, *, expires: timedelta) -> str | None:
        """See :meth:`storage.base.BlobStore.presigned_put_url`: a presigned S3 PUT to staging."""
        name = self._staging_name(require_upload_key(upload_key))
        return await self._call(self._presigner.presigned_put_object, self.bucket, name, expires=expires)

    # -- reading -------------------------------------------------------------------------

    async def local_path(self, key: str) -> Path | None:
        """See :meth:`storage.base.BlobStore.local_path`: objects have no local file."""
        require_blob_key(key)
        return None

    async def open(self, key: str, byte_range: tuple[int, int] | None = None) -> BlobStream:
        """See :meth:`storage.base.BlobStore.open`; a range becomes an HTTP Range request."""
        check_byte_range(byte_range)
        name = self._object_name(key)
        offset, length = (0, 0) if byte_range is None else (byte_range[0], byte_range[1] - byte_range[0] + 1)
        response = await self._call(
            self._client.get_object, self.bucket, name, offset=offset, length=length, key=key, byte_range=byte_range
        )

        def read() -> bytes:
            try:
                # The stored bytes as stored: a Content-Encoding set on the object by some other
                # tool is not undone (the blob's hash is of these bytes), and nothing is buffered.
                return response.read(CHUNK_SIZE, decode_content=False)
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                raise self._translate(exc, key) from exc

        def release() -> None:
            # Closing drops a half-read connection instead of returning it dirty to the pool.
            response.close()
            response.release_conn()

        length_header = response.headers.get("Content-Length")
        return BlobStream(read, release, size=int(length_header) if length_header is not None else None)

    async def stat(self, key: str) -> StoredBlob:
        """See :meth:`storage.base.BlobStore.stat`."""
        info = await self._call(self._client.stat_object, self.bucket, self._object_name(key), key=key)
        return StoredBlob(key=key, size=int(info.size or 0), sha256=key, modified_at=info.last_modified)

    async def purge_stale(self, older_than: timedelta, *, keep: Collection[str] = (), dry_run: bool = False) -> int:
        """See :meth:`storage.base.BlobStore.purge_stale`: old objects under ``staging/``, but
        not the staged uploads in ``keep`` (a client may PUT its bytes long before using them),
        and multipart uploads under the prefix left unfinished by a process that died (their parts
        take space, and are billed, but show in no listing of objects)."""
        cutoff = datetime.now(UTC) - older_than
        wanted = {self._staging_name(key) for key in keep}
        listing = self._client.list_objects(self.bucket, prefix=self.prefix + _STAGING, recursive=True)
        removed = 0
        while True:
            batch = await self._call(_take, listing, _LIST_BATCH)
            for item in batch:
                name = item.object_name
                if name and name not in wanted and item.last_modified is not None and item.last_modified < cutoff:
                    if not dry_run:
                        await self._call(self._client.remove_object, self.bucket, name)
                    removed += 1
            if len(batch) < _LIST_BATCH:
                break
        # Never one younger than a day, whatever the grace: a multi-gigabyte check-in may still be
        # sending its parts (lifecycle rules on S3 wait days, too).
        started_before = min(cutoff, datetime.now(UTC) - MULTIPART_GRACE)
        for name, upload_id in await self._call(self._unfinished_uploads, started_before):
            if not dry_run:
                await self._call(self._client._abort_multipart_upload, self.bucket, name, upload_id)
            removed += 1
        return removed

    def _unfinished_uploads(self, started_before: datetime) -> list[tuple[str, str]]:
        """Worker thread: (object name, upload id) of each multipart upload under the prefix begun
        before `started_before`. Through the SDK's own (unlisted) ListMultipartUploads call: its
        public API has none, and the SDK is pinned."""
        found: list[tuple[str, str]] = []
        key_marker: str | None = None
        upload_marker: str | None = None
        while True:
            page = self._client._list_multipart_uploads(
                self.bucket, prefix=self.prefix or None, key_marker=key_marker, upload_id_marker=upload_marker
            )
            for upload in page.uploads:
                started = upload.initiated_time
                if upload.upload_id and started is not None and started < started_before:
                    found.append((upload.object_name, upload.upload_id))
            if not page.is_truncated or not page.uploads:
                return found
            # The SDK sets next_upload_id_marker under a misspelt attribute (minio 7.2.20): the last
            # upload listed is the marker S3 means.
            key_marker = page.next_key_marker or page.uploads[-1].object_name
            upload_marker = page.next_upload_id_marker or page.uploads[-1].upload_id

    async def exists(self, key: str) -> bool:
        """See :meth:`storage.base.BlobStore.exists`."""
        return await self._object_exists(self._object_name(key))

    async def _object_exists(self, object_name: str) -> bool:
        try:
            await self._call(self._client.stat_object, self.bucket, object_name, key=object_name)
        except BlobNotFound:
            return False
        return True

    async def delete(self, key: str) -> None:
        """See :meth:`storage.base.BlobStore.delete` (S3 deletes are idempotent already)."""
        await self._call(self._client.remove_object, self.bucket, self._object_name(key))

    async def keys(self) -> AsyncIterator[str]:
        """See :meth:`storage.base.BlobStore.keys`; pages through the listing in threads."""
        listing = self._client.list_objects(self.bucket, prefix=self.prefix, recursive=True)
        while True:
            batch = await self._call(_take, listing, _LIST_BATCH)
            for item in batch:
                key = self._key_of(item.object_name or "")
                if key is not None:
                    yield key
            if len(batch) < _LIST_BATCH:
                return

    async def presigned_get_url(
        self,
        key: str,
        *,
        expires: timedelta,
        filename: str | None = None,
        content_type: str | None = None,
    ) -> str | None:
        """See :meth:`storage.base.BlobStore.presigned_get_url`: a presigned S3 GET."""
        response_headers: dict[str, str | list[str] | tuple[str]] = {}
        if filename is not None:
            response_headers["response-content-disposition"] = content_disposition(filename)
        if content_type is not None:
            response_headers["response-content-type"] = content_type
        return await self._call(
            self._presigner.presigned_get_object,
            self.bucket,
            self._object_name(key),
            expires=expires,
            response_headers=response_headers or None,
        )

    # -- health --------------------------------------------------------------------------

    async def check(self, *, create: bool = True) -> None:
        """See :meth:`storage.base.BlobStore.check`: reach the bucket (creating it if
        missing, when `create`) and write and delete a small probe object, which also proves the
        credentials may write."""
        await self._call(self._ensure_bucket if create else self._require_bucket)
        probe = self._staging_name(f".check-{uuid.uuid4().hex}")
        await self._call(self._client.put_object, self.bucket, probe, io.BytesIO(b"ok"), 2)
        await self._call(self._client.remove_object, self.bucket, probe)

    def _ensure_bucket(self) -> None:
        if not self._client.bucket_exists(self.bucket):
            if self._region:
                self._client.make_bucket(self.bucket, location=self._region)
            else:
                self._client.make_bucket(self.bucket)

    def _require_bucket(self) -> None:
        if not self._client.bucket_exists(self.bucket):
            raise StorageUnavailable(f"bucket {self.bucket} does not exist at S3 endpoint {self.endpoint}")

    async def close(self) -> None:
        """Close the pooled HTTP connections."""
        if self._http is not None:
            self._http.clear()


class _UploadAborted(Exception):
    """The caller gave up on an upload; raised in the worker thread to stop the SDK."""


class _SourceFailed(Exception):
    """The chunk iterator handed to put() raised; carries its exception through the SDK."""

    def __init__(self, original: BaseException) -> None:
        super().__init__(f"reading the chunks to store failed: {original!r}")
        self.original = original


class _ChunkReader(io.RawIOBase):
    """A blocking file-like view of an async byte iterator, for ``put_object``.

    ``read`` runs in the SDK's worker thread and fetches each chunk from the event loop
    (``anyio.from_thread.run``); it hashes, counts and enforces the size limit on the
    way, so the bytes are seen exactly once. Whole chunks are handed over without
    copying when the SDK asks for at least that much.
    """

    def __init__(self, chunks: AsyncIterable[bytes], max_size: int | None) -> None:
        super().__init__()
        self._chunks = aiter(chunks)
        self._max_size = max_size
        self._hasher = hashlib.sha256()
        self.size = 0
        self._buffer = b""
        self._offset = 0
        self._exhausted = False
        self.aborted = False
        self._pull_scope: CancelScope | None = None

    def readable(self) -> bool:
        return True

    def hexdigest(self) -> str:
        return self._hasher.hexdigest()

    def abort(self) -> None:
        """Event loop: stop the upload. A pending fetch is cancelled; later reads fail."""
        self.aborted = True
        if self._pull_scope is not None:
            self._pull_scope.cancel()

    def read(self, size: int = -1) -> bytes:
        if self._offset >= len(self._buffer):
            self._buffer, self._offset = self._next_chunk(), 0
            if not self._buffer:
                return b""
        end = len(self._buffer) if size < 0 else min(len(self._buffer), self._offset + size)
        if self._offset == 0 and end == len(self._buffer):
            data = self._buffer
        else:
            data = self._buffer[self._offset : end]
        self._offset = end
        if self._offset >= len(self._buffer):
            self._buffer, self._offset = b"", 0  # do not keep the chunk alive
        return data

    def _next_chunk(self) -> bytes:
        while not self._exhausted:
            try:
                chunk = from_thread.run(self._pull)
            except _UploadAborted:
                raise
            except BaseException as exc:
                # Wrapped so that the SDK-error translation cannot mistake the caller's
                # failure (say, an OSError from the client's socket) for a storage failure.
                raise _SourceFailed(exc) from exc
            if chunk is None:
                self._exhausted = True
                break
            if not chunk:
                continue
            self.size += len(chunk)
            if self._max_size is not None and self.size > self._max_size:
                raise BlobTooLarge(self._max_size)
            data = chunk if type(chunk) is bytes else bytes(chunk)  # the SDK insists on bytes
            self._hasher.update(data)
            return data
        return b""

    async def _pull(self) -> bytes | None:
        """Event loop: the next chunk, or None at the end."""
        if self.aborted:
            raise _UploadAborted
        with CancelScope() as scope:
            self._pull_scope = scope
            try:
                return await anext(self._chunks, None)
            finally:
                self._pull_scope = None
        raise _UploadAborted  # reached only when abort() cancelled the fetch


def _take(iterator: Iterator[T], count: int) -> list[T]:
    return list(islice(iterator, count))


def _root_cause(exc: BaseException) -> str:
    """The innermost reason of a urllib3 failure, e.g. ``[Errno 111] Connection refused``."""
    reason: BaseException = exc
    while True:
        nested = getattr(reason, "reason", None)
        if isinstance(nested, BaseException) and nested is not reason:
            reason = nested
            continue
        break
    text = str(reason)
    # urllib3 prefixes "<connection object at 0x…>: Failed to establish a new connection: …"
    return text.rsplit(": ", 2)[-1] if "Failed to establish" in text else text
