"""BlobStream reads one piece ahead, and never releases its file or connection under a read."""

import asyncio
import threading

from storage import BlobStream


class Source:
    """A blocking source of pieces that records the order of reads and the release."""

    def __init__(self, pieces: list[bytes], *, hold_after: int | None = None) -> None:
        self._pieces = list(pieces)
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
