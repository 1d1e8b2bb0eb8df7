"""Whoosh indexes of counterparty cards and events (`search.directory`).

They reuse the document engine's machinery by subclassing `WhooshEngine` (generations, atomic
swap, self-healing stamps, the searcher pool), its tokenizer (so terms are exactly those of
`search.analysis`) and its query translator; only the schema, the record mapping and the search
differ.  Besides `search.whoosh_engine`, the only module that imports `whoosh`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from whoosh import query as wq
from whoosh.fields import ID, KEYWORD, TEXT, Schema
from whoosh.index import FileIndex

from search import analysis
from search.directory import (
    CounterpartyRecord,
    DirectoryHit,
    DirectoryKind,
    DirectoryRequest,
    DirectoryResult,
    EventRecord,
)
from search.errors import IndexUnavailable, SearchError
from search.paging import Candidate, decode_cursor, encode_cursor, page
from search.query import Phrase, Prefix, QueryNode, Term
from search.whoosh_engine import (
    ExactListTokenizer,
    KartotekaTokenizer,
    WhooshEngine,
    _column_values,
    _digits,
    _or,
    _Translator,
    write_batched,
)
from search.whoosh_queries import BoundedPrefix

#: Bump when a directory schema or the way records map onto it changes.  The stamps differ from the
#: document index's, so no index is ever taken for another kind.
COUNTERPARTY_SCHEMA_VERSION = 2
EVENT_SCHEMA_VERSION = 1
# Whole tax numbers are long; a shorter run of digits is more likely part of a name or a note.
_MIN_TAX_DIGITS = 6

Fields = tuple[tuple[str, float], ...]


def _text(stored: bool = False) -> TEXT:
    return TEXT(analyzer=KartotekaTokenizer(), phrase=True, stored=stored)


def counterparty_schema() -> Schema:
    return Schema(
        id=ID(unique=True, stored=True, sortable=True),
        name=_text(),
        short_name=_text(),
        tax=_text(),
        # Each tax id as digits only, for prefix matching of a partial NIP in any spelling.
        tax_digits=KEYWORD(),
        persons=_text(),
        contacts=_text(),
        addresses=_text(),
        deleted=ID(),
    )


def event_schema() -> Schema:
    return Schema(
        id=ID(unique=True, stored=True, sortable=True),
        number=_text(),
        title=_text(),
        fields=_text(),
        note=_text(),
        counterparty_id=ID(),
        access=KEYWORD(analyzer=ExactListTokenizer()),
    )


def _counterparty_document(record: CounterpartyRecord) -> dict[str, Any]:
    digits = {d for d in (_digits(value) for value in record.tax_ids) if d}
    return {
        "id": str(record.counterparty_id),
        "name": record.name,
        "short_name": record.short_name,
        "tax": "\n".join(record.tax_ids),
        "tax_digits": " ".join(sorted(digits)),
        "persons": "\n".join(record.persons),
        "contacts": "\n".join(record.contacts),
        "addresses": "\n".join(record.addresses),
        "deleted": "1" if record.deleted else "0",
    }


def _event_document(record: EventRecord) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": str(record.event_id),
        "number": record.number,
        "title": record.title,
        "fields": "\n".join(record.fields),
        "note": record.note,
        "access": "\x1f".join(record.access_tokens),
    }
    if record.counterparty_id is not None:
        doc["counterparty_id"] = str(record.counterparty_id)
    return doc


class _DirectoryTranslator(_Translator):
    """The document translator with this index's fields: operators are translated by the base class."""

    def __init__(self, defaults: Fields, fielded: dict[str, Fields], tax_digits: str | None) -> None:
        self.defaults = defaults
        self.fielded = fielded
        self.tax_digits = tax_digits

    def translate(self, node: QueryNode) -> wq.Query:
        if not isinstance(node, Term | Phrase | Prefix):
            return super().translate(node)
        if node.field == "nip":
            return self.tax_id(node)
        fields = self.defaults if node.field is None else self.fielded.get(node.field, ())
        # A field this index does not have matches nothing (rather than being refused).
        queries = [self.text(node, name, boost) for name, boost in fields]
        if node.field is None:
            queries.append(self.tax_id(node))
        return _or(queries)

    def tax_id(self, node: Term | Phrase | Prefix) -> wq.Query:
        """Something that looks like a tax number matches the tax ids starting with its digits.

        A prefix, not a whole term: "526-025", "5260250274" and "PL 526 025 02 74" (as a phrase)
        all find NIP 5260250274.
        """
        if self.tax_digits is None:
            return wq.NullQuery
        text = node.text if isinstance(node, Term | Prefix) else "".join(node.words)
        digits = _digits(text)
        if len(digits) < _MIN_TAX_DIGITS or len(digits) < len(text.strip()) * 0.6:
            return wq.NullQuery
        return BoundedPrefix(self.tax_digits, digits, boost=3.0, quietly=isinstance(node, Term | Phrase))


def _counterparty_filters(request: DirectoryRequest) -> tuple[wq.Query | None, wq.Query | None]:
    return wq.Term("deleted", "1" if request.deleted else "0"), None


def _event_filters(request: DirectoryRequest) -> tuple[wq.Query | None, wq.Query | None]:
    """(allow, deny) as for documents: visible with any allowed token and none of the denied."""
    access = request.access
    parts: list[wq.Query] = []
    if not access.unrestricted:
        if not access.any_of_tokens:
            return wq.NullQuery, None
        parts.append(_or([wq.Term("access", t) for t in sorted(access.any_of_tokens)]))
    if request.counterparty_id is not None:
        parts.append(wq.Term("counterparty_id", str(request.counterparty_id)))
    allow = (parts[0] if len(parts) == 1 else wq.And(parts)) if parts else None
    deny = _or([wq.Term("access", t) for t in sorted(access.none_of_tokens)]) if access.none_of_tokens else None
    return allow, deny


@dataclass(frozen=True)
class _Kind:
    """What sets one kind of directory index apart: schema, record mapping, filters, fields searched."""

    schema_version: int
    schema: Callable[[], Schema]
    document: Callable[[Any], dict[str, Any]]
    filters: Callable[[DirectoryRequest], tuple[wq.Query | None, wq.Query | None]]
    translator: _DirectoryTranslator


_NAMES: Fields = (("name", 4.0), ("short_name", 4.0))
_KINDS: dict[DirectoryKind, _Kind] = {
    "counterparties": _Kind(
        schema_version=2_000_000 + COUNTERPARTY_SCHEMA_VERSION * 1000 + analysis.ANALYSIS_VERSION,
        schema=counterparty_schema,
        document=_counterparty_document,
        filters=_counterparty_filters,
        translator=_DirectoryTranslator(
            defaults=(*_NAMES, ("tax", 3.0), ("persons", 1.5), ("contacts", 1.0), ("addresses", 1.0)),
            fielded={
                "name": _NAMES,
                "counterparty": _NAMES,
                "title": _NAMES,
                "content": (("persons", 1.0), ("contacts", 1.0), ("addresses", 1.0)),
            },
            tax_digits="tax_digits",
        ),
    ),
    "events": _Kind(
        schema_version=3_000_000 + EVENT_SCHEMA_VERSION * 1000 + analysis.ANALYSIS_VERSION,
        schema=event_schema,
        document=_event_document,
        filters=_event_filters,
        translator=_DirectoryTranslator(
            defaults=(("number", 3.0), ("title", 2.0), ("fields", 1.5), ("note", 1.0)),
            fielded={
                "number": (("number", 1.0),),
                "title": (("title", 1.0),),
                "content": (("note", 1.0), ("fields", 1.0)),
            },
            tax_digits=None,
        ),
    ),
}


class WhooshDirectoryIndex(WhooshEngine):
    """One kind of directory record in a Whoosh index; see `search.directory.DirectoryIndex`."""

    def __init__(self, kind: DirectoryKind) -> None:
        super().__init__()
        self.kind = _KINDS[kind]
        self.listing: str = kind
        self.schema_version = self.kind.schema_version

    def new_schema(self) -> Schema:
        return self.kind.schema()

    def write_records(self, index: FileIndex, records: Iterable[Any]) -> int:
        return write_batched(index, records, lambda r: r.record_id, self.kind.document)

    def find(self, request: DirectoryRequest) -> DirectoryResult:
        if request.after is not None:
            decode_cursor(request.after, "relevance", self.listing)  # refuse a bad cursor even when nothing matches
        allow, deny = self.kind.filters(request)
        if allow is wq.NullQuery:
            return DirectoryResult(0, (), None, False)
        whoosh_query = self.kind.translator.translate(request.query)
        options: dict[str, Any] = {"limit": None}
        if allow is not None:
            options["filter"] = allow
        if deny is not None:
            options["mask"] = deny
        with self._searcher() as searcher:
            try:
                results = searcher.search(whoosh_query, **options)
                candidates: list[Candidate] = []
                if results.top_n:  # an empty index has no columns to read
                    docnums = [docnum for _, docnum in results.top_n]
                    ids = _column_values(searcher.reader(), "id", docnums)
                    candidates = [
                        Candidate(int(ids[i]), float(score or 0.0), 0, docnum)
                        for i, (score, docnum) in enumerate(results.top_n)
                    ]
            except SearchError:
                raise
            except Exception as error:  # damaged segment files show up only when read
                raise IndexUnavailable("The search index cannot be read; it must be rebuilt.") from error
        # Cursors relative to the best match, as in document search: events about unreadable
        # documents weigh in the raw scores.
        best = max((c.score for c in candidates), default=0.0)
        chosen, has_next = page(candidates, "relevance", request.after, request.limit, self.listing, scale=best)
        hits = tuple(
            DirectoryHit(c.document_id, c.score, encode_cursor(c, "relevance", self.listing, scale=best))
            for c in chosen
        )
        return DirectoryResult(len(candidates), hits, hits[-1].cursor if hits and has_next else None, has_next)


def open_whoosh_directory(directory: Path, kind: DirectoryKind, *, writable: bool = True) -> WhooshDirectoryIndex:
    index = WhooshDirectoryIndex(kind)
    index.open(directory, writable=writable)
    return index
