"""Async facade over a blocking `SearchEngine`: every call runs in a worker thread.

The request path is async all the way down; Whoosh (and extraction) block, so
they never run on the event loop.
"""

from __future__ import annotations

from collections.abc import Iterable

import anyio.to_thread

from search.engine import IndexRebuild, SearchEngine
from search.records import IndexRecord, SearchRequest, SearchResult


class AsyncSearchEngine:
    """The same operations as `SearchEngine`, awaitable.

    Writes are serialised by the engine itself; `upsert` materialises the
    records before leaving the event loop so a lazy iterable is never
    consumed from another thread.
    """

    def __init__(self, engine: SearchEngine, *, limiter: anyio.CapacityLimiter | None = None) -> None:
        self.engine = engine
        self._limiter = limiter

    async def search(self, request: SearchRequest) -> SearchResult:
        """Run `engine.search` in a worker thread; raises what it raises."""
        return await anyio.to_thread.run_sync(self.engine.search, request, limiter=self._limiter)

    async def upsert(self, records: Iterable[IndexRecord]) -> int:
        batch = list(records)
        return await anyio.to_thread.run_sync(self.engine.upsert, batch, limiter=self._limiter)

    async def delete(self, document_ids: Iterable[int]) -> int:
        ids = list(document_ids)
        return await anyio.to_thread.run_sync(self.engine.delete, ids, limiter=self._limiter)

    async def count(self) -> int:
        return await anyio.to_thread.run_sync(self.engine.count, limiter=self._limiter)

    async def document_ids(self) -> set[int]:
        return await anyio.to_thread.run_sync(self.engine.document_ids, limiter=self._limiter)

    async def needs_rebuild(self) -> bool:
        return await anyio.to_thread.run_sync(self.engine.needs_rebuild, limiter=self._limiter)

    async def is_healthy(self) -> bool:
        return await anyio.to_thread.run_sync(self.engine.is_healthy, limiter=self._limiter)

    async def health(self) -> tuple[bool, str | None]:
        return await anyio.to_thread.run_sync(self.engine.health, limiter=self._limiter)

    async def settle(self) -> bool:
        return await anyio.to_thread.run_sync(self.engine.settle, limiter=self._limiter)

    async def begin_rebuild(self, *, resume: bool = False) -> AsyncRebuild:
        rebuild = await anyio.to_thread.run_sync(
            lambda: self.engine.begin_rebuild(resume=resume), limiter=self._limiter
        )
        return AsyncRebuild(rebuild, self._limiter)

    async def close(self) -> None:
        await anyio.to_thread.run_sync(self.engine.close, limiter=self._limiter)


class AsyncRebuild:
    """An `IndexRebuild` whose calls run in worker threads."""

    def __init__(self, rebuild: IndexRebuild, limiter: anyio.CapacityLimiter | None) -> None:
        self.rebuild = rebuild
        self._limiter = limiter

    async def upsert(self, records: Iterable[IndexRecord]) -> int:
        batch = list(records)
        return await anyio.to_thread.run_sync(self.rebuild.upsert, batch, limiter=self._limiter)

    async def swap(self) -> None:
        await anyio.to_thread.run_sync(self.rebuild.swap, limiter=self._limiter)

    async def suspend(self) -> None:
        await anyio.to_thread.run_sync(self.rebuild.suspend, limiter=self._limiter)

    async def resumed_after(self) -> int:
        return await anyio.to_thread.run_sync(self.rebuild.resumed_after, limiter=self._limiter)

    async def abort(self) -> None:
        await anyio.to_thread.run_sync(self.rebuild.abort, limiter=self._limiter)
