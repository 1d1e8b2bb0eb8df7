"""Search over the CRM's own records: counterparty cards and events, beside the document index.

The same analysis (`search.analysis`) and query language (`search.query`) as document search, in
indexes of their own so the document index's schema stays as it is.  Each index holds one kind of
record keyed by its integer id, and has the lifecycle of `search.engine.SearchEngine` (one writer,
rebuild beside the live index then swap, `needs_rebuild` for self-healing); only `find` differs.

Ranking: a match in a card's name or short name outranks one in its tax ids, which outranks one in
its contact persons; an event's number outranks its title and custom text fields, which outrank
its note.  Ties go to the lower id, so pages are stable.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

import anyio.to_thread

from search.engine import IndexRebuild
from search.query import MatchAll, QueryNode
from search.records import MAX_LIMIT, AccessFilter
from search.service import AsyncSearchEngine

DirectoryKind = Literal["counterparties", "events"]
KINDS: tuple[DirectoryKind, ...] = ("counterparties", "events")
#: The fields a query of each kind may name (`name:Budimex`, `number:ZD/2026/0001`).
FIELDS: dict[DirectoryKind, frozenset[str]] = {
    "counterparties": frozenset({"name", "counterparty", "title", "content", "nip"}),
    "events": frozenset({"number", "title", "content"}),
}


@dataclass(frozen=True)
class CounterpartyRecord:
    """What a counterparty card is found by.  `tax_ids` hold NIP, REGON and VAT number as stored."""

    counterparty_id: int
    name: str
    short_name: str = ""
    tax_ids: tuple[str, ...] = ()
    #: One line per contact person: name, position.
    persons: tuple[str, ...] = ()
    #: Their e-mail addresses and phone numbers.
    contacts: tuple[str, ...] = ()
    #: One line per address the card has or had: street, postal code, city.
    addresses: tuple[str, ...] = ()
    deleted: bool = False

    @property
    def record_id(self) -> int:
        return self.counterparty_id


@dataclass(frozen=True)
class EventRecord:
    """What an event is found by.  `access_tokens` work as `IndexRecord.access_tokens` do."""

    event_id: int
    note: str = ""
    number: str = ""
    #: What the event is about in a few words: the title of the document it records, a subject.
    title: str = ""
    #: The event type's free-text custom fields, one value per line.
    fields: tuple[str, ...] = ()
    counterparty_id: int | None = None
    occurred_at: datetime | None = None
    access_tokens: tuple[str, ...] = ()

    @property
    def record_id(self) -> int:
        return self.event_id


DirectoryRecord = CounterpartyRecord | EventRecord


@dataclass(frozen=True)
class DirectoryRequest:
    """One search of a directory index.

    `access` filters events inside the index query (the default shows nothing, failing closed);
    counterparty cards carry no rights and ignore it.  `deleted` asks for deleted cards instead of
    active ones; `counterparty_id` keeps the events of one card.
    """

    query: QueryNode = field(default_factory=MatchAll)
    access: AccessFilter = field(default_factory=AccessFilter)
    deleted: bool = False
    counterparty_id: int | None = None
    limit: int = 20
    after: str | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_LIMIT:
            raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")


@dataclass(frozen=True)
class DirectoryHit:
    record_id: int
    score: float
    cursor: str


@dataclass(frozen=True)
class DirectoryResult:
    """A page of hits; `total` counts every visible match, not only this page."""

    total: int
    hits: tuple[DirectoryHit, ...]
    next_cursor: str | None
    has_next: bool


@runtime_checkable
class DirectoryIndex(Protocol):
    """An index of one kind of directory record; blocking, like `SearchEngine`."""

    @property
    def schema_version(self) -> int: ...

    def open(self, directory: Path, *, writable: bool = True) -> None: ...

    def close(self) -> None: ...

    def upsert(self, records: Iterable[DirectoryRecord]) -> int:
        """Insert or replace records by id; returns how many were given."""
        ...

    def delete(self, document_ids: Iterable[int]) -> int:
        """Remove records by id (unknown ids are a no-op)."""
        ...

    def find(self, request: DirectoryRequest) -> DirectoryResult:
        """Run one search.  Raises `InvalidCursor`, `IndexUnavailable` or `IndexRebuilding`."""
        ...

    def count(self) -> int: ...

    def document_ids(self) -> set[int]:
        """Every record id in the live index."""
        ...

    def is_healthy(self) -> bool: ...

    def health(self) -> tuple[bool, str | None]: ...

    def needs_rebuild(self) -> bool: ...

    def begin_rebuild(self, *, resume: bool = False) -> IndexRebuild: ...


def open_directory(directory: Path, kind: DirectoryKind, *, writable: bool = True) -> DirectoryIndex:
    """Open the index of `kind` records under `directory`; the only place that picks an implementation."""
    from search.whoosh_directory import open_whoosh_directory

    return open_whoosh_directory(directory, kind, writable=writable)


class AsyncDirectoryIndex(AsyncSearchEngine):
    """A `DirectoryIndex` whose calls run in worker threads (the lifecycle calls are inherited)."""

    def __init__(self, index: DirectoryIndex, *, limiter: anyio.CapacityLimiter | None = None) -> None:
        super().__init__(index, limiter=limiter)  # type: ignore[arg-type]
        self.index = index

    async def find(self, request: DirectoryRequest) -> DirectoryResult:
        return await anyio.to_thread.run_sync(self.index.find, request, limiter=self._limiter)


@dataclass
class DirectoryIndexes:
    """The two directory indexes of a process."""

    counterparties: AsyncDirectoryIndex
    events: AsyncDirectoryIndex

    @classmethod
    def open(cls, root: Path, *, writable: bool) -> DirectoryIndexes:
        """Open both indexes under `root` (`root/counterparties`, `root/events`)."""
        return cls(
            counterparties=AsyncDirectoryIndex(
                open_directory(root / "counterparties", "counterparties", writable=writable)
            ),
            events=AsyncDirectoryIndex(open_directory(root / "events", "events", writable=writable)),
        )

    def each(self) -> tuple[tuple[DirectoryKind, AsyncDirectoryIndex], ...]:
        return (("counterparties", self.counterparties), ("events", self.events))

    async def close(self) -> None:
        await self.counterparties.close()
        await self.events.close()
