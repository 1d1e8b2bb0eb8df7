"""The file route: `GET /files/<signed token>/<name>` streams a version's bytes, with Range support."""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

from anyio import CancelScope
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse

from auth.signing import InvalidSignature, Signer
from dms.documents import downloads
from dms.documents.models import DocumentVersion
from dms.errors import NotFound
from resolvers.context import RequestContext, Services
from storage.base import BlobNotFound, BlobStore, BlobStream, StorageUnavailable, content_disposition, is_blob_key

log = logging.getLogger("kartoteka.files")

# Positions of up to 19 digits (any file size); a longer one is malformed and ignored.
_RANGE = re.compile(r"^bytes=(\d{0,19})-(\d{0,19})$")

# Types a browser would render or run: served as plain bytes so a download never becomes a page.
_ACTIVE_TYPES = frozenset(
    {"text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml", "text/javascript"}
)


def served_type(mime_type: str) -> str:
    return "application/octet-stream" if mime_type.split(";")[0].strip().lower() in _ACTIVE_TYPES else mime_type


def download_path(
    signer: Signer, version_id: int, user_id: int, blob_key: str, filename: str, token_id: int | None = None
) -> str:
    """The signed path of a version's bytes for one user (and the session asking, whose end ends
    the link too); it expires with the signer's max age."""
    claim: dict[str, object] = {"v": version_id, "u": user_id, "h": blob_key}
    if token_id is not None:
        claim["t"] = token_id
    token = signer.sign(claim)
    return f"/files/{token}/{quote(filename, safe='')}"


def download_url(ctx: RequestContext, version: DocumentVersion) -> str:
    """An absolute, signed, expiring URL of the version's bytes for the current viewer."""
    actor = ctx.require_actor()
    path = download_path(
        ctx.services.download_signer, version.id, actor.user_id, version.sha256, version.filename, actor.token_id
    )
    return ctx.absolute_url(path)


def parse_range(header: str | None, size: int) -> tuple[int, int] | bool | None:
    """(first, last) for a satisfiable single range; None for no/ignored range; False when unsatisfiable."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if match is None:
        return None  # multiple or malformed ranges: serve the whole file, as RFC 9110 allows
    start, end = match.groups()
    if not start and not end:
        return None
    if not start:
        length = int(end)
        if length == 0:
            return False
        return (max(size - length, 0), size - 1) if size else False
    first = int(start)
    last = min(int(end), size - 1) if end else size - 1
    if first >= size or first > last:
        return False
    return (first, last)


def none_match(header: str | None, etag: str) -> bool:
    """Whether If-None-Match names this ETag (compared weakly, as RFC 9110 has it) or is "*"."""
    if header is None:
        return False
    if header.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in header.split(","))


def _problem(status: int, message: str, *, retry_after: int | None = None) -> Response:
    headers = {"Cache-Control": "no-store"}
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return JSONResponse({"error": message}, status_code=status, headers=headers)


async def _record(
    services: Services, granted: downloads.DownloadGrant, byte_range: tuple[int, int] | None, length: int
) -> bool:
    """The download goes into the document's download history and the audit log before any byte
    leaves; False when the document is gone (purged since the link was checked)."""
    async with services.db.write_sessions() as session:
        try:
            await downloads.record(
                session,
                granted,
                bytes_sent=length,
                byte_range=f"{byte_range[0]}-{byte_range[1]}" if byte_range else None,
            )
        except NotFound:
            return False
        await session.commit()
    return True


async def _storage_redirect(
    services: Services, granted: downloads.DownloadGrant, byte_range: tuple[int, int] | None, length: int
) -> Response | None:
    """Log the download, then send the client to a short-lived presigned URL of the storage itself."""
    version = granted.version
    url = await services.blobs.presigned_get_url(
        version.sha256,
        expires=timedelta(minutes=5),
        filename=version.filename,
        content_type=served_type(version.mime_type),
    )
    if url is None:
        return None
    if not await _record(services, granted, byte_range, length):
        return _problem(404, "no such file")
    return RedirectResponse(url, status_code=307, headers={"Cache-Control": "no-store"})


@dataclass(frozen=True)
class DownloadLink:
    """What a signed download link says: which version, for whom, and the key of its bytes."""

    version_id: int
    user_id: int
    # Versions never change their bytes, so the link may name them. Links signed before it did
    # (they live for the download URL lifetime) have none.
    blob_key: str | None
    # The session (bearer token) that asked for the link: a logout or a password change ends it.
    token_id: int | None = None


def read_link(services: Services, token: str) -> DownloadLink:
    """The link's claim; InvalidSignature when it is forged, expired or malformed."""
    claim = services.download_signer.unsign(token, max_age_seconds=services.limits.download_url_ttl_seconds)
    try:
        key = claim.get("h")
        return DownloadLink(
            version_id=int(claim["v"]),
            user_id=int(claim["u"]),
            blob_key=key if isinstance(key, str) and is_blob_key(key) else None,
            token_id=int(claim["t"]) if "t" in claim else None,
        )
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise InvalidSignature("the link is not valid") from exc


class EarlyBytes:
    """A whole blob asked of storage while the link's access is still being checked.

    Opening a stored object (an S3 GET's round trip) costs about as much as the access check,
    and the link names the bytes, so the two overlap instead of adding up. Nothing is sent
    before access is granted and the download recorded; bytes opened for a link that is then
    refused are released unread.
    """

    def __init__(self, blobs: BlobStore, key: str) -> None:
        self.key = key
        self._opening = asyncio.ensure_future(self._open(blobs, key))
        self._taken = False

    @staticmethod
    async def _open(blobs: BlobStore, key: str) -> BlobStream:
        stream = await blobs.open(key)
        # The first pieces are read while access is checked too: a small file is then read whole.
        stream.prefetch()
        return stream

    async def take(self) -> BlobStream:
        # Shielded: a request cancelled while waiting leaves the opening to `release`.
        stream = await asyncio.shield(self._opening)
        self._taken = True
        return stream

    async def release(self) -> None:
        """Close the bytes unless `take` handed them over; a failed opening holds nothing."""
        if self._taken:
            return
        with CancelScope(shield=True):
            try:
                stream = await self._opening
            except (Exception, asyncio.CancelledError):
                return
            await stream.aclose()


def _early_key(request: Request, services: Services, link: DownloadLink) -> str | None:
    """The key to open early: only for a plain GET of the whole file, which streams it unless refused."""
    key = link.blob_key
    if (
        key is None
        or request.method != "GET"
        or services.limits.redirect_downloads
        or "range" in request.headers
        or "if-none-match" in request.headers
    ):
        return None
    return key


async def download(request: Request) -> Response:
    services: Services = request.app.state.services
    try:
        link = read_link(services, request.path_params["token"])
    except InvalidSignature as exc:
        return _problem(403, str(exc))
    key = _early_key(request, services, link)
    early = EarlyBytes(services.blobs, key) if key is not None else None
    try:
        return await _serve(request, services, link, early)
    finally:
        if early is not None:
            await early.release()


async def _serve(request: Request, services: Services, link: DownloadLink, early: EarlyBytes | None) -> Response:
    address = request.client.host if request.client else None
    async with services.db.sessions() as session:
        try:
            actor = await downloads.actor_of_link(session, link.user_id, address, token_id=link.token_id)
            granted = await downloads.grant(session, actor, link.version_id)
        except NotFound:
            return _problem(404, "no such file")
    version = granted.version
    if link.blob_key is not None and link.blob_key != version.sha256:
        # A version's bytes never change: the link was issued for something else.
        return _problem(404, "no such file")
    etag = f'"{version.sha256}"'
    if none_match(request.headers.get("if-none-match"), etag):
        # RFC 9110 13.1.2: the client has these bytes (any of ours, for "*"); nothing is downloaded.
        return Response(status_code=304, headers={"ETag": etag})
    range_header = request.headers.get("range")
    if_range = request.headers.get("if-range")
    if if_range is not None and if_range.strip() != etag:
        # RFC 9110 13.1.5: the client's copy is not this one (or is dated: we send no
        # Last-Modified), so a piece of ours would not fit it: send the whole file.
        range_header = None
    wanted = parse_range(range_header, version.size)
    if wanted is False:
        return Response(status_code=416, headers={"Content-Range": f"bytes */{version.size}"})
    byte_range = wanted if isinstance(wanted, tuple) else None
    length = byte_range[1] - byte_range[0] + 1 if byte_range else version.size
    headers = {
        "Content-Length": str(length),
        "ETag": etag,
        "Accept-Ranges": "bytes",
        "Content-Disposition": content_disposition(version.filename),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
    if byte_range:
        headers["Content-Range"] = f"bytes {byte_range[0]}-{byte_range[1]}/{version.size}"
    if services.limits.redirect_downloads and request.method == "GET":
        redirect = await _storage_redirect(services, granted, byte_range, length)
        if redirect is not None:
            return redirect
    status = 206 if byte_range else 200
    if request.method == "HEAD":
        # Only headers: nothing is downloaded, so nothing is recorded.
        return Response(status_code=status, headers=headers, media_type=served_type(version.mime_type))
    try:
        if early is not None and early.key == version.sha256:
            stream = await early.take()
        else:
            stream = await services.blobs.open(version.sha256, byte_range)
    except BlobNotFound:
        # The database says these bytes exist: their absence is damage for `kartoteka fsck` to report.
        log.error("blob missing for a version", extra={"version_id": version.id, "sha256": version.sha256})
        return _problem(503, "the file's bytes are missing from storage")
    except StorageUnavailable as exc:
        # Not the link's fault nor the file's: the store is down or unreachable for now.
        log.warning("the file store is unavailable", extra={"version_id": version.id, "error": str(exc)})
        return _problem(503, "the file store is not available; try again shortly", retry_after=30)
    expected = version.size if byte_range is None else byte_range[1] - byte_range[0] + 1
    if stream.size is not None and stream.size != expected:
        # Stored bytes never change size: these were damaged (a part of them too, when a range
        # runs past a truncated end). Sending them would break the response half-way (its
        # Content-Length is what the version promises), so nothing is sent.
        await stream.aclose()
        log.error(
            "blob size differs from its version's",
            extra={"version_id": version.id, "sha256": version.sha256, "stored": stream.size, "expected": version.size},
        )
        return _problem(503, "the file's bytes in storage are damaged")
    try:
        recorded = await _record(services, granted, byte_range, length)
    except BaseException:
        await stream.aclose()
        raise
    if not recorded:
        await stream.aclose()
        return _problem(404, "no such file")
    return StreamingResponse(
        stream,
        status_code=status,
        headers=headers,
        media_type=served_type(version.mime_type),
    )
