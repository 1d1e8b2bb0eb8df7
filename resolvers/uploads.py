"""Staged uploads: `requestUpload` and the app's own `PUT /uploads/<signed token>` route."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from auth.signing import InvalidSignature
from dms.actor import Actor
from dms.documents import staging
from dms.documents.uploads import IncomingFile
from dms.errors import DomainError
from dms.identity.queries import users_by_id
from resolvers.context import RequestContext, Services
from resolvers.ids import encode_id
from resolvers.outcome import Outcome, attempt


@dataclass(frozen=True)
class UploadSlot:
    upload_id: str
    upload_url: str
    expires_at: datetime


def _ttl(services: Services) -> timedelta:
    return timedelta(seconds=services.limits.staged_upload_ttl_seconds)


async def request_upload(ctx: RequestContext, filename: str, size: int, sha256: str | None) -> Outcome[UploadSlot]:
    async def run() -> UploadSlot:
        actor = ctx.require_actor()
        services = ctx.services
        async with ctx.write() as uow:
            ticket = await staging.request_upload(
                uow.session,
                uow.blobs,
                actor,
                filename=filename,
                size=size,
                sha256=sha256,
                max_upload_bytes=ctx.limits.max_upload_bytes,
                ttl=_ttl(services),
            )
            upload = ticket.upload
        url = ticket.presigned_url
        if url is None:
            token = services.upload_signer.sign({"s": upload.id, "u": actor.user_id})
            url = ctx.absolute_url(f"/uploads/{token}")
        return UploadSlot(encode_id("StagedUpload", upload.id), url, upload.expires_at)

    return await attempt(run)


async def _body(request: Request) -> AsyncIterator[bytes]:
    async for chunk in request.stream():
        if chunk:
            yield chunk


async def receive(request: Request) -> Response:
    """PUT the bytes of a staged upload (filesystem storage: S3 takes them on a presigned URL)."""
    services: Services = request.app.state.services
    try:
        claim = services.upload_signer.unsign(
            request.path_params["token"], max_age_seconds=services.limits.staged_upload_ttl_seconds
        )
        upload_id, user_id = int(claim["s"]), int(claim["u"])
    except (InvalidSignature, KeyError, TypeError, ValueError):
        return JSONResponse({"error": "the upload link is not valid"}, status_code=403)
    async with services.db.write_sessions() as session:
        users = await users_by_id(session, [user_id])
        if not users or not users[0].is_active:
            return JSONResponse({"error": "the upload link is not valid"}, status_code=403)
        actor = Actor(user_id=user_id, username=users[0].username, is_admin=users[0].is_admin)
        try:
            upload = await staging.receive_bytes(
                session, services.blobs, actor, upload_id, IncomingFile(filename=None, chunks=_body(request))
            )
            await session.commit()
        except DomainError as error:
            # STORAGE_UNAVAILABLE is the server's trouble, not the client's: a 503 is retried.
            status = {"NOT_FOUND": 404, "CONFLICT": 409, "UPLOAD_TOO_LARGE": 413, "STORAGE_UNAVAILABLE": 503}.get(
                error.code, 400
            )
            return JSONResponse({"error": error.message, "code": error.code}, status_code=status)
    return JSONResponse(
        {"uploadId": encode_id("StagedUpload", upload.id), "size": upload.declared_size, "sha256": upload.sha256}
    )
