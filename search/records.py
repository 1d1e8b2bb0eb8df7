"""Plain records exchanged with the search layer: what is indexed, what is asked, what comes back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from search.query import MatchAll, QueryNode

SortOrder = Literal["relevance", "date"]
DateField = Literal["date", "created_at", "received_at", "updated_at"]
Facet = Literal["document_type", "counterparty", "year"]
FACETS: frozenset[str] = frozenset({"document_type", "counterparty", "year"})
MAX_LIMIT = 200


@dataclass(frozen=True)
class IndexRecord:
    """Everything the index knows about the current version of one document.

    `binder_ancestor_ids` holds the document's binder and all binders above it,
    so a binder filter finds the whole subtree.  `access_tokens` are opaque
    strings computed by the domain; `AccessFilter` matches against them.
    """

    document_id: int
    title: str
    binder_id: int
    binder_path: str
    content: str = ""
    filename: str = ""
    document_type: str = ""
    status: str = ""
    counterparty_id: int | None = None
    counterparty_name: str = ""
    counterparty_nip: str = ""
    case_id: int | None = None
    case_title: str = ""
    binder_ancestor_ids: tuple[int, ...] = ()
    tags: tuple[str, ...] = ()
    description: str = ""
    created_at: datetime | None = None
    received_at: datetime | None = None
    updated_at: datetime | None = None
    year: int | None = None
    access_tokens: tuple[str, ...] = ()
    extraction_status: str = "ok"

    @property
    def date(self) -> datetime | None:
        """The document's date for sorting and the default date filter: received, else created."""
        return self.received_at or self.created_at or self.updated_at

    @property
    def facet_year(self) -> int | None:
        """The year the year facet counts the document under."""
        if self.year is not None:
            return self.year
        date = self.date
        return date.year if date is not None else None


@dataclass(frozen=True)
class AccessFilter:
    """Which documents the asking user may see; applied inside the index query.

    Either `unrestricted`, or: a document is visible when it carries at least
    one of `any_of_tokens` and none of `none_of_tokens`.  The default filter
    shows nothing, so forgetting to set it fails closed.
    """

    unrestricted: bool = False
    any_of_tokens: frozenset[str] = frozenset()
    none_of_tokens: frozenset[str] = frozenset()

    @classmethod
    def everything(cls) -> AccessFilter:
        """A filter for administrators and the indexer's own checks."""
        return cls(unrestricted=True)

    @classmethod
    def tokens(
        cls, any_of: frozenset[str] | set[str], none_of: frozenset[str] | set[str] = frozenset()
    ) -> AccessFilter:
        return cls(any_of_tokens=frozenset(any_of), none_of_tokens=frozenset(none_of))

    @property
    def shows_nothing(self) -> bool:
        return not self.unrestricted and not self.any_of_tokens


@dataclass(frozen=True)
class SearchRequest:
    """One search: the parsed query, who asks, filters, order and page.

    Date bounds are inclusive and apply to `date_field` ("date" is the
    received date, else the created date).  `after` is the cursor of the last
    hit already shown.  Facets are counted over every match the user may see,
    not just the page.
    """

    query: QueryNode = field(default_factory=MatchAll)
    access: AccessFilter = field(default_factory=AccessFilter)
    counterparty_id: int | None = None
    binder_id: int | None = None
    document_type: str | None = None
    status: str | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None
    date_field: DateField = "date"
    sort: SortOrder = "relevance"
    limit: int = 20
    after: str | None = None
    facets: frozenset[str] = frozenset()
    facet_limit: int = 20
    highlight: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_LIMIT:
            raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")
        unknown = set(self.facets) - FACETS
        if unknown:
            raise ValueError(f"unknown facets: {sorted(unknown)}")
        if self.sort not in ("relevance", "date"):
            raise ValueError(f"unknown sort order: {self.sort!r}")


@dataclass(frozen=True)
class Hit:
    """One matching document.  Highlights are HTML: matched words in <mark>, the rest escaped."""

    document_id: int
    score: float
    cursor: str
    highlights: tuple[str, ...] = ()
    title_highlight: str | None = None


@dataclass(frozen=True)
class SearchResult:
    """A page of hits; `total` and `facets` count every visible match, not only this page."""

    total: int
    hits: tuple[Hit, ...]
    facets: dict[str, list[tuple[str, int]]]
    next_cursor: str | None
    has_next: bool
