"""Choosing the blob store from a storage URL: ``file:///abs/path`` or ``s3://bucket[/prefix]``."""

import re
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

import urllib3
from minio import Minio

from storage.base import BlobStore
from storage.filesystem import FilesystemBlobStore
from storage.s3 import S3BlobStore, make_http_client

# S3 bucket naming rules: 3-63 characters, lowercase letters, digits, dots and hyphens,
# starting and ending with a letter or digit.
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_ENDPOINT = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?")


def open_blob_store(
    url: str,
    *,
    s3_endpoint: str | None = None,
    s3_access_key: str | None = None,
    s3_secret_key: str | None = None,
    s3_secure: bool = True,
    s3_region: str | None = None,
    s3_public_endpoint: str | None = None,
) -> BlobStore:
    """Build the blob store a storage URL names, without touching the network or the disk.

    ``file:///abs/path`` keeps blobs in that (existing) directory; ``s3://bucket[/prefix]``
    keeps them in that bucket on ``s3_endpoint`` (``host[:port]``, no scheme; TLS per
    ``s3_secure``), signing with the access and secret key (both or neither). Call
    ``check()`` on the result to verify it works (and to create a missing bucket). Presigned
    URLs name ``s3_public_endpoint`` instead when given: where clients reach the same store.
    Raises ValueError, with a one-line message, for a malformed URL or endpoint.
    """
    parts = urlsplit(url.strip())
    if parts.query or parts.fragment:
        raise ValueError(f"storage URL must not have a query or fragment: {url!r}")
    if parts.scheme == "file":
        return _filesystem_store(url, parts.netloc, parts.path)
    if parts.scheme == "s3":
        bucket, prefix = _bucket_and_prefix(url, parts.netloc, parts.path)
        return _s3_store(
            bucket, prefix, s3_endpoint, s3_access_key, s3_secret_key, s3_secure, s3_region, s3_public_endpoint
        )
    raise ValueError(f"unsupported storage URL {url!r}: use file:///absolute/path or s3://bucket[/prefix]")


def _filesystem_store(url: str, host: str, path: str) -> FilesystemBlobStore:
    if host not in ("", "localhost"):
        raise ValueError(f"file storage URL must name a local path (file:///abs/path): {url!r}")
    local = PurePosixPath(unquote(path))
    if not path or not local.is_absolute():
        raise ValueError(f"file storage URL must hold an absolute path (file:///abs/path): {url!r}")
    if ".." in local.parts:
        raise ValueError(f"file storage URL must not contain '..': {url!r}")
    return FilesystemBlobStore(Path(local))


def _bucket_and_prefix(url: str, netloc: str, path: str) -> tuple[str, str]:
    if _BUCKET.fullmatch(netloc) is None or ".." in netloc:
        raise ValueError(f"s3 storage URL needs a valid bucket name (s3://bucket[/prefix]): {url!r}")
    segments = [s for s in unquote(path).split("/") if s]
    if any(s in (".", "..") for s in segments) or "//" in path.strip("/"):
        raise ValueError(f"s3 storage URL prefix must be plain path segments: {url!r}")
    return netloc, "".join(f"{s}/" for s in segments)


#: The region of an S3 store that names none (MinIO's and SeaweedFS's default, and AWS's first).
DEFAULT_REGION = "us-east-1"


def _s3_store(
    bucket: str,
    prefix: str,
    endpoint: str | None,
    access_key: str | None,
    secret_key: str | None,
    secure: bool,
    region: str | None,
    public_endpoint: str | None = None,
) -> S3BlobStore:
    if not endpoint:
        raise ValueError("s3 storage needs an S3 endpoint (host[:port])")
    for name, given in (("S3 endpoint", endpoint), ("S3 public endpoint", public_endpoint)):
        if given is not None and _ENDPOINT.fullmatch(given) is None:
            raise ValueError(f"{name} must be host[:port] without a scheme or path: {given!r}")
    if bool(access_key) != bool(secret_key):
        raise ValueError("S3 access key and secret key must be given together")

    def client_of(where: str, region: str | None, http: urllib3.PoolManager | None = None) -> Minio:
        return Minio(
            where,
            access_key=access_key or None,
            secret_key=secret_key or None,
            secure=secure,
            region=region,
            http_client=http,
        )

    http = make_http_client()
    client = client_of(endpoint, region or None, http)
    # Presigning is arithmetic on the URL: with a region given, its client never connects (the
    # server may not reach the public name at all).
    presigner = None
    if public_endpoint is not None and public_endpoint != endpoint:
        presigner = client_of(public_endpoint, region or DEFAULT_REGION)
    return S3BlobStore(
        client, bucket, prefix, endpoint=endpoint, region=region or None, http_client=http, presigner=presigner
    )
