"""`put_file`: storing bytes already on local disk, on every backend, with `put`'s guarantees."""

import hashlib
import io
import random
import tempfile
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pytest

from storage import BlobHashMismatch, BlobStore, BlobTooLarge, FileDigest, StorageError, StoredBlob
from storage.filesystem import FilesystemBlobStore
from storage.s3 import FILE_PART_SIZE, PARALLEL_PARTS, PART_SIZE
from tests.storage.conftest import Backend, MiB, chunked, filesystem_leftovers, random_bytes

EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.fixture
def spooled(tmp_path: Path) -> Iterator[BinaryIO]:
    """A private temporary file, the way a multipart upload is spooled to disk."""
    with tempfile.TemporaryFile(dir=tmp_path) as file:
        yield file


def write(file: BinaryIO, data: bytes) -> None:
    file.write(data)
    file.flush()


async def read_all(store: BlobStore, key: str) -> bytes:
    return b"".join([chunk async for chunk in await store.open(key)])


async def test_a_file_is_stored_under_the_same_key_put_would_give(blob_store: BlobStore, spooled: BinaryIO):
    data = random_bytes(3 * MiB + 17)
    write(spooled, data)  # leaves the position at the end: put_file must read from the start

    blob = await blob_store.put_file(spooled)

    digest = hashlib.sha256(data).hexdigest()
    assert blob == StoredBlob(key=digest, size=len(data), sha256=digest)
    assert await read_all(blob_store, blob.key) == data
    assert await blob_store.put(chunked(data)) == blob


async def test_an_in_memory_file_is_accepted_too(blob_store: BlobStore):
    blob = await blob_store.put_file(io.BytesIO(b"small upload, never rolled over to disk"))

    assert await read_all(blob_store, blob.key) == b"small upload, never rolled over to disk"


async def test_an_empty_file_is_an_empty_blob(blob_store: BlobStore):
    blob = await blob_store.put_file(io.BytesIO(b""))

    assert (blob.key, blob.size) == (EMPTY_SHA256, 0)


async def test_bytes_already_stored_are_not_written_again_but_their_age_is_refreshed(
    blob_store: BlobStore, spooled: BinaryIO
):
    import asyncio

    write(spooled, b"the same bytes, twice")
    first = await blob_store.put_file(spooled)
    before = (await blob_store.stat(first.key)).modified_at
    await asyncio.sleep(1.1)

    again = await blob_store.put_file(spooled)

    after = (await blob_store.stat(first.key)).modified_at
    assert again == first
    assert before is not None and after is not None and after > before


async def test_a_file_over_the_limit_is_refused_and_leaves_nothing(backend: Backend, spooled: BinaryIO):
    write(spooled, random_bytes(2 * MiB + 2))

    with pytest.raises(BlobTooLarge):
        await backend.store.put_file(spooled, max_size=2 * MiB + 1)

    assert [key async for key in backend.store.keys()] == []
    assert await backend.leftovers() == []


async def test_a_hash_mismatch_is_refused_and_leaves_nothing(backend: Backend, spooled: BinaryIO):
    write(spooled, b"not empty")

    with pytest.raises(BlobHashMismatch):
        await backend.store.put_file(spooled, expected_sha256=EMPTY_SHA256)

    assert [key async for key in backend.store.keys()] == []
    assert await backend.leftovers() == []


class CountingFile(io.RawIOBase):
    """A file that counts the bytes read from it."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._data.seek(offset, whence)

    def tell(self) -> int:
        return self._data.tell()

    def read(self, size: int = -1) -> bytes:
        data = self._data.read(size)
        self.bytes_read += len(data)
        return data


async def test_a_digest_taken_while_the_file_was_written_spares_reading_it_to_hash_it(blob_store: BlobStore):
    data = random_bytes(2 * FILE_PART_SIZE + 5)
    digest = hashlib.sha256(data).hexdigest()
    hashed, known = CountingFile(data), CountingFile(data)

    by_reading = await blob_store.put_file(hashed)  # type: ignore[arg-type]
    await blob_store.delete(by_reading.key)
    by_digest = await blob_store.put_file(known, digest=FileDigest(digest, len(data)))  # type: ignore[arg-type]

    assert by_digest == by_reading == StoredBlob(key=digest, size=len(data), sha256=digest)
    assert await read_all(blob_store, digest) == data
    assert hashed.bytes_read == 2 * len(data)  # hashed, then stored
    assert known.bytes_read == len(data)  # only stored


async def test_a_digest_is_refused_by_the_same_rules_and_leaves_nothing(backend: Backend, spooled: BinaryIO):
    data = random_bytes(3 * MiB)
    write(spooled, data)
    digest = FileDigest(hashlib.sha256(data).hexdigest(), len(data))

    with pytest.raises(BlobTooLarge):
        await backend.store.put_file(spooled, max_size=len(data) - 1, digest=digest)
    with pytest.raises(BlobHashMismatch):
        await backend.store.put_file(spooled, expected_sha256=EMPTY_SHA256, digest=digest)
    with pytest.raises(ValueError, match="blob key"):
        await backend.store.put_file(spooled, digest=FileDigest("not a hash", len(data)))

    assert [key async for key in backend.store.keys()] == []
    assert await backend.leftovers() == []


async def test_on_disk_a_wrong_digest_is_caught_by_the_copy_and_leaves_nothing(
    fs_store: FilesystemBlobStore, spooled: BinaryIO
):
    # Only a local copy is hashed as it is written; S3 takes the digest on trust.
    write(spooled, b"the bytes")

    with pytest.raises(StorageError, match="changed"):
        await fs_store.put_file(spooled, digest=FileDigest(EMPTY_SHA256, 9))

    assert [key async for key in fs_store.keys()] == []
    assert await filesystem_leftovers(fs_store.root)() == []


class FailingDisk(CountingFile):
    """A file whose reads fail once the hash pass is over, mid-way through the upload."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.passes = 0

    def seek(self, offset: int, whence: int = 0) -> int:
        if offset == 0 and whence == 0:
            self.passes += 1
        return super().seek(offset, whence)

    def read(self, size: int = -1) -> bytes:
        if self.passes >= 2 and self.tell() > 2 * PART_SIZE:
            raise OSError("I/O error")
        return super().read(size)


async def test_a_read_failure_during_the_upload_leaves_nothing(backend: Backend):
    source = FailingDisk(random_bytes(4 * PART_SIZE))

    with pytest.raises((OSError, StorageError)):
        await backend.store.put_file(source)  # type: ignore[arg-type]

    assert [key async for key in backend.store.keys()] == []
    assert await backend.leftovers() == []


async def test_a_large_file_is_stored_in_bounded_memory(backend: Backend, spooled: BinaryIO):
    rng = random.Random(11)
    hasher = hashlib.sha256()
    for _ in range(48):
        chunk = rng.randbytes(MiB)
        hasher.update(chunk)
        spooled.write(chunk)
    spooled.flush()

    tracemalloc.start()
    try:
        blob = await backend.store.put_file(spooled)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert blob.key == hasher.hexdigest()
    # S3 holds the parts in flight, the one being read, and the last part of each idle SDK
    # worker (released only when it takes the next); the filesystem a chunk or two.
    budget = (2 * PARALLEL_PARTS + 1) * FILE_PART_SIZE + MiB if backend.name == "s3" else 4 * MiB
    assert peak < budget, f"put_file peaked at {peak / MiB:.1f} MiB for a 48 MiB file"
