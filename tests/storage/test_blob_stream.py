"""BlobStream reads ahead of its consumer, within bounds, and never releases its source under a read."""

import asyncio
import threading

from storage import BlobStream
from storage.base import PIECES_PER_TURN


class Source:
    """A blocking source of pieces that records the order of reads and the release."""

    def __init__(self, pieces: list[bytes], *, hold_after: int | None = None, fail_at: int | None = None) -> None:
        self._pieces = list(pieces)
        self._fail_at = fail_at
        self.events: list[str] = []
        self.reading = threading.Event()
        self.go_on = threading.Event()
        self._hold_after = hold_after
        self._reads = 0

    def read(self) -> bytes:
        self._reads += 1
        if self._hold_after is not None and self._reads > self._hold_after:
            self.reading.set()
            self.go_on.wait(5)
        assert "released" not in self.events, "read after release"
        self.events.append("read")
        if self._reads == self._fail_at:
            raise OSError("connection reset")
        return self._pieces.pop(0) if self._pieces else b""

    def release(self) -> None:
        self.events.append("released")


async def test_every_piece_arrives_in_order_and_the_source_is_released_once():
    source = Source([b"a", b"b", b"c"])

    received = [piece async for piece in BlobStream(source.read, source.release)]

    assert received == [b"a", b"b", b"c"]
    assert source.events == ["read"] * 4 + ["released"]


async def test_the_next_piece_is_read_while_the_current_one_is_handled():
    source = Source([b"a", b"b"], hold_after=1)
    stream = BlobStream(source.read, source.release)

    assert await anext(stream) == b"a"
    # Nobody asked for the second piece yet, and its read has started anyway.
    assert await asyncio.to_thread(source.reading.wait, 5)
    source.go_on.set()
    assert await anext(stream) == b"b"
    await stream.aclose()


async def test_closing_during_a_read_ahead_releases_only_after_that_read_ends():
    source = Source([b"a", b"b"], hold_after=1)
    stream = BlobStream(source.read, source.release)
    assert await anext(stream) == b"a"
    assert await asyncio.to_thread(source.reading.wait, 5)

    await stream.aclose()
    assert "released" not in source.events
    source.go_on.set()
    for _ in range(100):
        if "released" in source.events:
            break
        await asyncio.sleep(0.01)

    assert source.events == ["read", "read", "released"]
    assert [piece async for piece in stream] == []


async def test_a_consumer_cancelled_while_waiting_for_a_piece_leaves_the_source_released():
    source = Source([b"a", b"b"], hold_after=1)
    stream = BlobStream(source.read, source.release)
    assert await anext(stream) == b"a"

    waiting = asyncio.create_task(anext(stream))
    assert await asyncio.to_thread(source.reading.wait, 5)
    waiting.cancel()
    source.go_on.set()
    try:
        await waiting
    except asyncio.CancelledError:
        pass
    for _ in range(100):
        if "released" in source.events:
            break
        await asyncio.sleep(0.01)

    assert source.events[-1] == "released"
    assert source.events.count("released") == 1


async def settled(source: Source, reads: int) -> None:
    """Wait until the source has been read `reads` times, and a little longer for any stray read."""
    for _ in range(200):
        if source.events.count("read") >= reads:
            break
        await asyncio.sleep(0.005)
    await asyncio.sleep(0.05)


async def test_a_slow_consumer_is_read_ahead_of_by_at_most_read_ahead_pieces():
    source = Source([b"a", b"b", b"c", b"d", b"e", b"f"])
    stream = BlobStream(source.read, source.release, read_ahead=3)

    assert await anext(stream) == b"a"
    # The first read ran when "a" was asked for; "a" taken frees one more place: b, c, d.
    await settled(source, 4)
    assert source.events == ["read"] * 4
    assert await anext(stream) == b"b"
    await settled(source, 5)
    assert source.events == ["read"] * 5
    assert [piece async for piece in stream] == [b"c", b"d", b"e", b"f"]
    assert source.events == ["read"] * 7 + ["released"]


async def test_prefetch_reads_before_the_first_piece_is_asked_for():
    source = Source([b"a", b"b", b"c"])
    stream = BlobStream(source.read, source.release, read_ahead=2)

    stream.prefetch()
    await settled(source, 2)

    assert source.events == ["read", "read"]
    assert [piece async for piece in stream] == [b"a", b"b", b"c"]
    assert source.events == ["read"] * 4 + ["released"]


async def test_a_failed_read_reaches_the_consumer_after_the_pieces_before_it():
    source = Source([b"a", b"b", b"c"], fail_at=3)
    stream = BlobStream(source.read, source.release)

    received = []
    try:
        async for piece in stream:
            received.append(piece)
    except OSError as exc:
        failure = exc
    assert received == [b"a", b"b"]
    assert str(failure) == "connection reset"
    assert source.events == ["read"] * 3 + ["released"]


async def test_a_long_stream_is_read_in_turns_and_arrives_whole():
    """Past PIECES_PER_TURN pieces the reading thread hands over to a new one; nothing is lost,
    duplicated or left waiting, however the consumer and the readers interleave."""
    pieces = [str(index).encode() for index in range(PIECES_PER_TURN * 5 + 3)]

    async def consume(read_ahead: int) -> list[bytes]:
        source = Source(pieces)
        received = [piece async for piece in BlobStream(source.read, source.release, read_ahead=read_ahead)]
        assert source.events == ["read"] * (len(pieces) + 1) + ["released"]
        return received

    results = await asyncio.wait_for(
        asyncio.gather(*(consume(read_ahead) for read_ahead in (1, 2, 3) for _ in range(30))), timeout=60
    )
    assert all(received == pieces for received in results)
