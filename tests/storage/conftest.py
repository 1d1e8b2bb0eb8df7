"""Fixtures of the storage suite: every backend behind the same ``blob_store`` fixture.

The S3 backend runs against the session's SeaweedFS (``s3_server`` from
``tests.servers.seaweedfs``). Tests share one bucket and each gets a key prefix of its
own: SeaweedFS gives every bucket a volume of its own, a prefix isolates just as well,
and the store's prefix support gets exercised on the way.
"""

import hashlib
import os
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import anyio
import pytest
from minio import Minio

from storage import BlobStore, FilesystemBlobStore, S3BlobStore, is_blob_key, open_blob_store
from storage.s3 import PART_SIZE
from tests.servers.seaweedfs import S3Server

MiB = 1024 * 1024
SHARED_BUCKET = "kartoteka-storage-tests"


@dataclass
class Backend:
    """A blob store under test plus what the contract needs to look behind it."""

    name: str
    store: BlobStore
    #: Everything stored that is not a complete blob: temp files, staging objects,
    #: unfinished multipart uploads. Must be empty after any failed or refused put.
    leftovers: Callable[[], Awaitable[list[str]]]
    #: Peak Python memory a streamed put or read may use, whatever the blob's size.
    streaming_memory_budget: int


def is_blob_path(parts: list[str] | tuple[str, ...]) -> bool:
    """Whether a path (below the root or prefix) is where a complete blob lives."""
    return len(parts) == 3 and is_blob_key(parts[2]) and tuple(parts[:2]) == (parts[2][:2], parts[2][2:4])


def filesystem_leftovers(root: Path) -> Callable[[], Awaitable[list[str]]]:
    def scan() -> list[str]:
        return [
            str(path.relative_to(root))
            for path in root.rglob("*")
            if not path.is_dir() and not is_blob_path(path.relative_to(root).parts)
        ]

    async def leftovers() -> list[str]:
        return await anyio.to_thread.run_sync(scan)

    return leftovers


def s3_admin_client(server: S3Server) -> Minio:
    return Minio(server.endpoint, server.access_key, server.secret_key, secure=server.secure)


def s3_leftovers(server: S3Server, bucket: str, prefix: str) -> Callable[[], Awaitable[list[str]]]:
    client = s3_admin_client(server)

    def scan() -> list[str]:
        found = [
            name
            for item in client.list_objects(bucket, prefix=prefix, recursive=True)
            if not is_blob_path((name := item.object_name or "")[len(prefix) :].split("/"))
        ]
        # The SDK has no public call for this; unfinished multipart uploads hold bytes too.
        uploads = client._list_multipart_uploads(bucket, prefix=prefix).uploads
        found.extend(f"multipart upload of {u.object_name}" for u in uploads)
        return found

    async def leftovers() -> list[str]:
        return await anyio.to_thread.run_sync(scan)

    return leftovers


def make_s3_store(server: S3Server, bucket: str, prefix: str = "") -> S3BlobStore:
    url = f"s3://{bucket}/{prefix}" if prefix else f"s3://{bucket}"
    store = open_blob_store(
        url,
        s3_endpoint=server.endpoint,
        s3_access_key=server.access_key,
        s3_secret_key=server.secret_key,
        s3_secure=server.secure,
    )
    assert isinstance(store, S3BlobStore)
    return store


@pytest.fixture(params=["filesystem", "s3"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    """Each backend in turn, empty and checked, with its leftovers probe."""
    if request.param == "filesystem":
        root = tmp_path / "blobs"
        root.mkdir()
        store: BlobStore = FilesystemBlobStore(root)
        probe = Backend("filesystem", store, filesystem_leftovers(root), streaming_memory_budget=4 * MiB)
    else:
        server: S3Server = request.getfixturevalue("s3_server")
        prefix = f"t-{uuid.uuid4().hex[:12]}/"
        store = make_s3_store(server, SHARED_BUCKET, prefix)
        # The SDK holds about three multipart parts at peak (see storage/s3.py).
        probe = Backend(
            "s3",
            store,
            s3_leftovers(server, SHARED_BUCKET, prefix),
            streaming_memory_budget=3 * PART_SIZE + 4 * MiB,
        )
    await store.check()
    try:
        yield probe
    finally:
        await store.close()


@pytest.fixture
def blob_store(backend: Backend) -> BlobStore:
    """The store of the current backend (filesystem, then S3)."""
    return backend.store


@pytest.fixture
def fs_store(tmp_path: Path) -> FilesystemBlobStore:
    root = tmp_path / "blobs"
    root.mkdir()
    return FilesystemBlobStore(root)


@pytest.fixture
async def s3_store(s3_server: S3Server) -> AsyncIterator[S3BlobStore]:
    store = make_s3_store(s3_server, SHARED_BUCKET, f"t-{uuid.uuid4().hex[:12]}/")
    await store.check()
    try:
        yield store
    finally:
        await store.close()


async def chunked(data: bytes, chunk_size: int = 64 * 1024) -> AsyncIterator[bytes]:
    """The bytes as an async stream, the way an upload arrives."""
    for start in range(0, len(data), chunk_size):
        yield data[start : start + chunk_size]


@dataclass
class GeneratedStream:
    """Pseudo-random bytes produced chunk by chunk, never held whole; hashed as they go."""

    size: int
    chunk_size: int = MiB
    seed: int = 0
    pulled: int = 0  # chunks handed out so far

    def __post_init__(self) -> None:
        self._hasher = hashlib.sha256()

    @property
    def sha256(self) -> str:
        return self._hasher.hexdigest()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        rng = random.Random(self.seed)
        remaining = self.size
        while remaining > 0:
            chunk = rng.randbytes(min(self.chunk_size, remaining))
            self._hasher.update(chunk)
            self.pulled += 1
            remaining -= len(chunk)
            yield chunk


def random_bytes(size: int) -> bytes:
    return os.urandom(size)
