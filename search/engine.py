"""The one interface every search engine implements (Whoosh today, Tantivy planned).

Contract, in the words of the indexer that drives it:

* One process writes (the indexer); any number of processes read.  API
  workers open the engine with ``writable=False``.
* `upsert` replaces a document by id, so re-applying an outbox entry is
  harmless; `delete` of an unknown id is a no-op.  Writes are committed
  before the call returns (large upserts in batches).
* `needs_rebuild()` is true when the index is missing, unreadable or was built
  with another schema or analysis version.  A rebuild is written into a side
  directory while searches keep answering from the live index; `swap()`
  makes it live atomically.  Changes made while a rebuild runs are not copied
  into it: after the swap, the indexer replays its outbox from the moment the
  rebuild began (upserts and deletes are idempotent) and may reconcile with
  `document_ids()`.
* Searches filter by access inside the index query, so totals and facets
  never count a document the user may not read.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol, runtime_checkable

from search.errors import IndexRebuilding, IndexUnavailable, InvalidCursor, QuerySyntaxError, SearchError
from search.records import IndexRecord, SearchRequest, SearchResult

__all__ = [
    "IndexRebuild",
    "IndexRebuilding",
    "IndexUnavailable",
    "InvalidCursor",
    "QuerySyntaxError",
    "SearchEngine",
    "SearchError",
    "open_engine",
    "rebuilding",
]


@runtime_checkable
class IndexRebuild(Protocol):
    """A fresh index being built beside the live one."""

    def upsert(self, records: Iterable[IndexRecord]) -> int:
        """Add records to the side index; returns how many were written."""
        ...

    def swap(self) -> None:
        """Commit the side index and make it the live one atomically; the old one is retired."""
        ...

    def abort(self) -> None:
        """Throw the side index away; the live index is untouched."""
        ...

    def suspend(self) -> None:
        """Stop here but keep the side index, for `begin_rebuild(resume=True)` to continue."""
        ...

    def resumed_after(self) -> int:
        """The highest document id already written (0 for a new rebuild): where to go on from."""
        ...


@runtime_checkable
class SearchEngine(Protocol):
    """A full-text index of `IndexRecord`s.  All methods block; see `search.service` for async."""

    @property
    def schema_version(self) -> int:
        """The version stamp of indexes this code writes; other stamps need a rebuild."""
        ...

    def open(self, directory: Path, *, writable: bool = True) -> None:
        """Attach to the index under `directory` (created if missing); does not build an index."""
        ...

    def close(self) -> None: ...

    def upsert(self, records: Iterable[IndexRecord]) -> int:
        """Insert or replace documents by id, committing in batches; returns how many were given."""
        ...

    def delete(self, document_ids: Iterable[int]) -> int:
        """Remove documents by id in one commit; returns how many ids were asked for."""
        ...

    def search(self, request: SearchRequest) -> SearchResult:
        """Run one search.  Raises `InvalidCursor`, `IndexUnavailable` or `IndexRebuilding`."""
        ...

    def count(self) -> int:
        """Number of documents in the live index."""
        ...

    def document_ids(self) -> set[int]:
        """Every document id in the live index, for reconciliation with the database."""
        ...

    def is_healthy(self) -> bool:
        """The live index exists, opens, answers a query and carries the current schema stamp."""
        ...

    def health(self) -> tuple[bool, str | None]:
        """Whether the live index answers searches (one of another schema version does, until
        rebuilt), and what is wrong with it, if anything."""
        ...

    def needs_rebuild(self) -> bool:
        """`not is_healthy()`: the index must be rebuilt from the database."""
        ...

    def settle(self) -> bool:
        """Housekeeping while no change waits (e.g. put finished background merges in place).

        Never fails; True when it changed the live index.
        """
        ...

    def begin_rebuild(self, *, resume: bool = False) -> IndexRebuild:
        """Start a fresh index in a side directory (writable engines only).

        With `resume`, an earlier rebuild that was interrupted is continued instead of discarded;
        records must then be written in ascending document id order (see `resumed_after`).
        """
        ...


@contextmanager
def rebuilding(engine: SearchEngine) -> Iterator[IndexRebuild]:
    """Build a fresh index and swap it in when the block ends; abort it if the block raises."""
    rebuild = engine.begin_rebuild()
    try:
        yield rebuild
    except BaseException:
        rebuild.abort()
        raise
    rebuild.swap()


def open_engine(directory: Path, *, writable: bool = True, kind: str = "whoosh") -> SearchEngine:
    """Open the engine of `kind` on `directory`; the only place that picks an implementation."""
    if kind != "whoosh":
        raise ValueError(f"unknown search engine: {kind!r}")
    from search.whoosh_engine import WhooshEngine

    engine = WhooshEngine()
    engine.open(directory, writable=writable)
    return engine
