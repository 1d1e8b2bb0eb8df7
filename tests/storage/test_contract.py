"""The blob-store contract: every test here runs, unchanged, against every backend."""

import asyncio
import hashlib
import tracemalloc
from collections.abc import AsyncIterator

import anyio
import pytest

from storage import (
    CHUNK_SIZE,
    BlobHashMismatch,
    BlobNotFound,
    BlobStore,
    BlobTooLarge,
    RangeNotSatisfiable,
    StoredBlob,
)
from tests.storage.conftest import Backend, GeneratedStream, MiB, chunked, random_bytes

HELLO = b"hello world"
HELLO_SHA256 = "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


async def read_all(stream: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in stream])


async def collect_keys(store: BlobStore) -> list[str]:
    return [key async for key in store.keys()]


def test_every_backend_offers_the_whole_interface(blob_store: BlobStore):
    assert isinstance(blob_store, BlobStore)


async def test_a_put_blob_is_described_found_and_read_back(blob_store: BlobStore):
    data = random_bytes(300_000)
    blob = await blob_store.put(chunked(data))

    assert blob == StoredBlob(key=hashlib.sha256(data).hexdigest(), size=len(data), sha256=blob.key)
    assert await blob_store.stat(blob.key) == blob
    assert await blob_store.exists(blob.key)
    assert await read_all(await blob_store.open(blob.key)) == data


async def test_the_key_is_the_lowercase_hex_sha256_of_the_bytes(blob_store: BlobStore):
    blob = await blob_store.put(chunked(b"hello world", chunk_size=3))

    assert blob.key == blob.sha256 == HELLO_SHA256
    assert blob.size == 11


async def test_an_empty_blob_is_a_blob_too(blob_store: BlobStore):
    blob = await blob_store.put(chunked(b""))

    assert blob == StoredBlob(key=EMPTY_SHA256, size=0, sha256=EMPTY_SHA256)
    assert await read_all(await blob_store.open(EMPTY_SHA256)) == b""


async def test_the_same_bytes_put_twice_are_stored_once(backend: Backend):
    data = random_bytes(100_000)
    first = await backend.store.put(chunked(data))
    second = await backend.store.put(chunked(data, chunk_size=7_000))

    assert first == second
    assert await collect_keys(backend.store) == [first.key]
    assert await backend.leftovers() == []


async def test_concurrent_puts_of_the_same_bytes_store_one_blob(backend: Backend):
    data = random_bytes(200_000)
    results: list[StoredBlob] = []

    async def put() -> None:
        results.append(await backend.store.put(chunked(data)))

    async with anyio.create_task_group() as tg:
        for _ in range(4):
            tg.start_soon(put)

    assert {r.key for r in results} == {hashlib.sha256(data).hexdigest()}
    assert await collect_keys(backend.store) == [results[0].key]
    assert await backend.leftovers() == []


@pytest.mark.parametrize(
    ("byte_range", "expected"),
    [
        ((0, 9), slice(0, 10)),
        ((1000, 1999), slice(1000, 2000)),
        ((4999, 4999), slice(4999, 5000)),
        ((0, 4999), slice(0, 5000)),
        ((4990, 10**9), slice(4990, 5000)),
    ],
    ids=["first bytes", "middle", "last byte", "whole", "end clamped"],
)
async def test_a_range_read_returns_exactly_the_inclusive_range(
    blob_store: BlobStore, byte_range: tuple[int, int], expected: slice
):
    data = random_bytes(5000)
    blob = await blob_store.put(chunked(data))

    stream = await blob_store.open(blob.key, byte_range)
    assert stream.size == len(data[expected])  # what the storage says it will send
    assert await read_all(stream) == data[expected]


async def test_a_range_starting_past_the_end_is_not_satisfiable(blob_store: BlobStore):
    blob = await blob_store.put(chunked(b"0123456789"))

    with pytest.raises(RangeNotSatisfiable):
        await blob_store.open(blob.key, (10, 20))


async def test_a_backwards_range_is_refused(blob_store: BlobStore):
    blob = await blob_store.put(chunked(b"0123456789"))

    with pytest.raises(ValueError, match="invalid byte range"):
        await blob_store.open(blob.key, (5, 4))


async def test_a_missing_blob_is_not_found_when_opened_or_described(blob_store: BlobStore):
    with pytest.raises(BlobNotFound):
        await blob_store.open(HELLO_SHA256)
    with pytest.raises(BlobNotFound):
        await blob_store.stat(HELLO_SHA256)
    assert not await blob_store.exists(HELLO_SHA256)


async def test_adopting_an_upload_that_never_arrived_is_not_found(blob_store: BlobStore):
    # The filesystem store stages nothing at all; S3 has no object under the upload's name.
    with pytest.raises(BlobNotFound):
        await blob_store.adopt_staged("never-uploaded", max_size=None, expected_sha256=None, expected_size=None)


async def test_a_local_file_holds_exactly_the_blob_or_there_is_none(backend: Backend):
    blob = await backend.store.put(chunked(HELLO))

    path = await backend.store.local_path(blob.key)
    if backend.name == "s3":
        assert path is None
    else:
        assert path is not None and path.read_bytes() == HELLO
        with pytest.raises(BlobNotFound):
            await backend.store.local_path(EMPTY_SHA256)


@pytest.mark.parametrize("key", ["../../etc/passwd", HELLO_SHA256.upper(), HELLO_SHA256[:-1], ""])
async def test_a_malformed_key_is_refused_before_it_can_name_a_path(blob_store: BlobStore, key: str):
    with pytest.raises(ValueError, match="not a blob key"):
        await blob_store.open(key)
    with pytest.raises(ValueError, match="not a blob key"):
        await blob_store.local_path(key)
    with pytest.raises(ValueError, match="not a blob key"):
        await blob_store.delete(key)


async def test_delete_removes_a_blob_and_deleting_again_is_harmless(blob_store: BlobStore):
    blob = await blob_store.put(chunked(HELLO))

    await blob_store.delete(blob.key)
    await blob_store.delete(blob.key)

    assert not await blob_store.exists(blob.key)
    assert await collect_keys(blob_store) == []


async def test_keys_streams_every_stored_key_and_nothing_else(backend: Backend):
    blobs = [await backend.store.put(chunked(random_bytes(1000 + i))) for i in range(5)]

    listing = backend.store.keys()
    assert isinstance(listing, AsyncIterator)
    assert sorted([key async for key in listing]) == sorted(b.key for b in blobs)


async def test_exceeding_max_size_is_refused_at_once_and_leaves_nothing(backend: Backend):
    source = GeneratedStream(size=10 * MiB)

    with pytest.raises(BlobTooLarge) as refused:
        await backend.store.put(source, max_size=2 * MiB + 1)

    assert refused.value.max_size == 2 * MiB + 1
    assert source.pulled == 3, "the chunk that crossed the limit must be the last one read"
    assert await collect_keys(backend.store) == []
    assert await backend.leftovers() == []


async def test_bytes_exactly_at_max_size_are_accepted(blob_store: BlobStore):
    blob = await blob_store.put(chunked(HELLO), max_size=len(HELLO))

    assert blob.size == len(HELLO)


async def test_a_hash_mismatch_is_refused_and_leaves_nothing(backend: Backend):
    with pytest.raises(BlobHashMismatch) as refused:
        await backend.store.put(chunked(HELLO), expected_sha256=EMPTY_SHA256)

    assert isinstance(refused.value, ValueError)
    assert refused.value.actual == HELLO_SHA256
    assert await collect_keys(backend.store) == []
    assert await backend.leftovers() == []


async def test_the_announced_hash_is_accepted_when_it_matches(blob_store: BlobStore):
    blob = await blob_store.put(chunked(HELLO), expected_sha256=HELLO_SHA256)

    assert blob.key == HELLO_SHA256


class ClientWentAway(Exception):
    pass


async def test_a_failing_stream_aborts_the_put_with_its_own_error_and_leaves_nothing(backend: Backend):
    async def broken() -> AsyncIterator[bytes]:
        for _ in range(10):  # more than one S3 part, so a multipart upload was under way
            yield random_bytes(MiB)
        raise ClientWentAway

    with pytest.raises(ClientWentAway):
        await backend.store.put(broken())

    assert await collect_keys(backend.store) == []
    assert await backend.leftovers() == []


async def test_a_put_cancelled_mid_stream_leaves_nothing(backend: Backend):
    stalled = anyio.Event()

    async def stalling() -> AsyncIterator[bytes]:
        yield random_bytes(MiB)
        stalled.set()
        await anyio.sleep_forever()
        yield b""  # pragma: no cover

    async with anyio.create_task_group() as tg:
        tg.start_soon(backend.store.put, stalling())
        await stalled.wait()
        tg.cancel_scope.cancel()

    assert await collect_keys(backend.store) == []
    assert await backend.leftovers() == []


async def test_a_put_whose_task_is_cancelled_natively_leaves_nothing(backend: Backend):
    stalled = asyncio.Event()

    async def stalling() -> AsyncIterator[bytes]:
        yield random_bytes(MiB)
        stalled.set()
        await asyncio.sleep(3600)
        yield b""  # pragma: no cover

    task = asyncio.create_task(backend.store.put(stalling()))
    await stalled.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert await collect_keys(backend.store) == []
    assert await backend.leftovers() == []


async def test_a_large_blob_round_trips_in_bounded_memory(backend: Backend):
    size = 64 * MiB  # several S3 parts, and far more than either backend may hold
    source = GeneratedStream(size=size, seed=7)

    tracemalloc.start()
    try:
        blob = await backend.store.put(source)
        _, put_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        hasher = hashlib.sha256()
        read = 0
        async for chunk in await backend.store.open(blob.key):
            hasher.update(chunk)
            read += len(chunk)
        _, read_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert blob == StoredBlob(key=source.sha256, size=size, sha256=source.sha256)
    assert (read, hasher.hexdigest()) == (size, source.sha256)
    budget = backend.streaming_memory_budget
    assert put_peak < budget, f"put peaked at {put_peak / MiB:.1f} MiB for a {size // MiB} MiB blob"
    assert read_peak < budget, f"read peaked at {read_peak / MiB:.1f} MiB for a {size // MiB} MiB blob"


async def test_a_read_can_be_stopped_early(blob_store: BlobStore):
    blob = await blob_store.put(GeneratedStream(size=3 * MiB))

    async with await blob_store.open(blob.key) as stream:
        first = await anext(stream)

    assert len(first) > 0
    assert [chunk async for chunk in stream] == []  # a closed stream yields nothing more
    assert await blob_store.stat(blob.key) == blob  # and the store is still usable


async def test_a_blob_is_read_in_bounded_pieces(blob_store: BlobStore):
    blob = await blob_store.put(GeneratedStream(size=3 * MiB + 5))

    sizes = [len(chunk) async for chunk in await blob_store.open(blob.key)]

    assert sum(sizes) == blob.size
    assert max(sizes) <= CHUNK_SIZE


async def test_a_duplicate_put_refreshes_the_blobs_age(blob_store):
    import asyncio

    first = await blob_store.put(_one(b"the same bytes, twice"))
    before = (await blob_store.stat(first.key)).modified_at
    assert before is not None
    await asyncio.sleep(1.1)
    await blob_store.put(_one(b"the same bytes, twice"))
    after = (await blob_store.stat(first.key)).modified_at
    assert after is not None and after > before


async def test_purging_stale_leftovers_never_touches_blobs(blob_store):
    from datetime import timedelta

    stored = await blob_store.put(_one(b"keep me"))
    assert await blob_store.purge_stale(timedelta(0)) >= 0
    assert await blob_store.exists(stored.key)


async def _one(data: bytes):
    yield data
