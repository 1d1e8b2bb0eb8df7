"""Collecting a search's visible matches segment by segment, with what each segment knows cached.

Whoosh segments never change once written (a deletion only marks documents, and its
matchers skip them), so three things are read once per segment and kept until the segment
is merged away:

* the columns every search needs for each match — document id, date, and the facet
  values — as flat arrays, instead of a Whoosh column lookup per match per column;
* for each access filter (one per set of readable binders), which of the segment's
  documents it admits, as one byte per document;
* each field's document lengths, which BM25 asks for at every posting it scores, through
  five calls into Whoosh's column readers each time.

The access test is then an array lookup on each match of the query (or, for a user who may
read only a few of a segment's documents, a skip from one of them to the next). Intersecting
the query with an OR of the user's access tokens instead made Whoosh leapfrog two wide
matcher trees in Python, which cost more than everything else in a search.
"""

from __future__ import annotations

import itertools
import threading
from array import array
from collections import Counter, OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from whoosh import query as wq
from whoosh.matching import ListMatcher, wrappers
from whoosh.scoring import BM25F, BM25FScorer
from whoosh.searching import Searcher

from search.paging import MISSING_DATE, Candidate
from search.records import AccessFilter

#: Facet name → the column its values come from.
FACET_COLUMNS = {"document_type": "document_type", "counterparty": "counterparty_id", "year": "year"}
#: Bytes of access maps kept across searches (one byte per document per segment per filter).
ACCESS_CACHE_BYTES = 64 * 1024 * 1024
#: Below this share of a segment's documents, a user's readable ones are skipped to rather than tested.
SPARSE_ACCESS = 0.05
#: Matches between prunings of a matcher tree.
REPLACE_EVERY = 10


@dataclass(frozen=True, slots=True)
class FacetColumn:
    """A column of short values as one small integer per document and the table of values."""

    codes: array
    values: tuple[str | None, ...]


@dataclass(frozen=True, slots=True)
class SegmentColumns:
    ids: array
    dates: array
    facets: dict[str, FacetColumn]


@dataclass(frozen=True, slots=True)
class AccessMap:
    """Which documents of a segment one access filter admits: a byte each, and, when they are
    few, their numbers, so the query skips to them instead of walking every match."""

    admitted: bytearray
    few: array | None

    @property
    def size(self) -> int:
        return len(self.admitted) + (len(self.few) * self.few.itemsize if self.few is not None else 0)


@dataclass(slots=True)
class Matches:
    """The visible matches of one search: how many, candidates for paging (made as they are
    read, never all kept), and facet counts over all of them."""

    total: int
    candidates: Iterable[Candidate]
    facet_counts: dict[str, dict[str, int]]
    #: The highest score among them (0.0 unscored or none).
    best_score: float = 0.0


def _column(reader: Any, name: str) -> Iterator[Any]:
    count = reader.doc_count_all()
    if not reader.has_column(name):
        # A segment whose documents all lack a value has no column at all.
        return iter([None] * count)
    return iter(reader.column_reader(name))


def _read_columns(reader: Any) -> SegmentColumns:
    ids = array("q", (int(value) if value else 0 for value in _column(reader, "id")))
    dates = array("q", (MISSING_DATE if value is None else int(value) for value in _column(reader, "date_sort")))
    facets = {}
    for column in FACET_COLUMNS.values():
        table: dict[str | None, int] = {None: 0}
        codes = array("I", (table.setdefault(value or None, len(table)) for value in _column(reader, column)))
        facets[column] = FacetColumn(codes, tuple(table))
    return SegmentColumns(ids, dates, facets)


class SegmentCache:
    """Per-segment columns, field lengths and access maps, shared by every search of one index."""

    def __init__(self, *, access_bytes: int = ACCESS_CACHE_BYTES) -> None:
        self._lock = threading.Lock()
        self._columns: dict[str, SegmentColumns] = {}
        self._access: OrderedDict[tuple[str, frozenset[str], frozenset[str]], AccessMap] = OrderedDict()
        self._access_bytes = 0
        self._access_budget = access_bytes
        self._lengths: dict[tuple[str, str], array] = {}
        self._live: frozenset[str] = frozenset()
        #: Whether any search has used the cache (only then is warming it worth its memory).
        self.used = False

    def columns(self, segment_id: str, reader: Any) -> SegmentColumns:
        self.used = True
        with self._lock:
            found = self._columns.get(segment_id)
        if found is None:
            found = _read_columns(reader)  # outside the lock: two searches may both read; both agree
            with self._lock:
                self._columns[segment_id] = found
        return found

    def access(self, segment_id: str, reader: Any, access: AccessFilter) -> AccessMap:
        key = (segment_id, access.any_of_tokens, access.none_of_tokens)
        with self._lock:
            found = self._access.get(key)
            if found is not None:
                self._access.move_to_end(key)
                return found
        admitted = bytearray(reader.doc_count_all())
        for token in sorted(access.any_of_tokens):
            for docnum in _postings(reader, token):
                admitted[docnum] = 1
        for token in sorted(access.none_of_tokens):
            for docnum in _postings(reader, token):
                admitted[docnum] = 0
        count = admitted.count(1)
        few = (
            array("I", (d for d, seen in enumerate(admitted) if seen))
            if count < len(admitted) * SPARSE_ACCESS
            else None
        )
        found = AccessMap(admitted, few)
        with self._lock:
            if key not in self._access:
                self._access[key] = found
                self._access_bytes += found.size
            while self._access_bytes > self._access_budget and len(self._access) > 1:
                _, dropped = self._access.popitem(last=False)
                self._access_bytes -= dropped.size
        return found

    def lengths(self, segment_id: str, reader: Any, fieldname: str) -> array:
        key = (segment_id, fieldname)
        with self._lock:
            found = self._lengths.get(key)
        if found is None:
            length_of = reader.doc_field_length
            found = array("f", (length_of(docnum, fieldname, 1) or 0 for docnum in range(reader.doc_count_all())))
            with self._lock:
                self._lengths[key] = found
        return found

    def keep_only(self, live: set[str]) -> None:
        """Forget segments merged away: whatever the newest searcher does not have.

        A search still running on an older searcher may add back what it reads; that stays
        until the next new searcher.
        """
        with self._lock:
            if live == self._live:
                return
            self._live = frozenset(live)
            for segment_id in [s for s in self._columns if s not in live]:
                del self._columns[segment_id]
            for key in [k for k in self._access if k[0] not in live]:
                self._access_bytes -= self._access.pop(key).size
            for length_key in [k for k in self._lengths if k[0] not in live]:
                del self._lengths[length_key]

    def clear(self) -> None:
        with self._lock:
            self._columns.clear()
            self._access.clear()
            self._access_bytes = 0
            self._lengths.clear()
            self._live = frozenset()


class CachedLengthBM25F(BM25F):
    """Whoosh's BM25F, reading document lengths from the segment cache."""

    def __init__(self, cache: SegmentCache) -> None:
        super().__init__()
        self.cache = cache

    def scorer(self, searcher: Any, fieldname: str, text: str, qf: int = 1) -> Any:
        scorer = super().scorer(searcher, fieldname, text, qf=qf)
        reader = searcher.reader()
        segment = reader.segment() if reader.is_atomic() else None
        if isinstance(scorer, BM25FScorer) and segment is not None:
            scorer.dfl = self.cache.lengths(segment.segment_id(), reader, fieldname).__getitem__
        return scorer


def _postings(reader: Any, token: str) -> Iterable[int]:
    if ("access", token) not in reader:
        return ()
    return reader.postings("access", token).all_ids()


def leaves(searcher: Searcher) -> list[tuple[Searcher, int, str]]:
    """(sub-searcher, document number offset, segment id) of each segment."""
    found = []
    for sub, offset in searcher.leaf_searchers():
        segment = sub.reader().segment()
        # Only an empty index's reader has no segment: a name used once is never found again.
        found.append((sub, offset, segment.segment_id() if segment is not None else f"none-{next(_unnamed)}"))
    return found


_unnamed = itertools.count()


def collect(
    searcher: Searcher,
    query: wq.Query,
    access: AccessFilter,
    facets: Iterable[str],
    cache: SegmentCache,
    *,
    scored: bool,
) -> Matches:
    """Every match of `query` that `access` admits, with facet counts over them.

    Matches are held as arrays of document numbers and scores (12 bytes each); candidates
    are made one at a time as paging asks, so a query matching a million documents does not
    build a million objects. Unscored (date order), Whoosh may walk its matchers the fast way.
    """
    wanted = {name: FACET_COLUMNS[name] for name in sorted(facets)}
    tallies: dict[str, Counter[str]] = {name: Counter() for name in wanted}
    found: list[tuple[int, SegmentColumns, array, array | None]] = []
    total = 0
    context = searcher.context() if scored else searcher.boolean_context()
    for sub, offset, segment_id in leaves(searcher):
        reader = sub.reader()
        matcher = query.matcher(sub, context)
        if not matcher.is_active():
            continue
        admitted = None
        if not access.unrestricted:
            access_map = cache.access(segment_id, reader, access)
            if access_map.few is not None:
                matcher = wrappers.RequireMatcher(matcher, ListMatcher(access_map.few))
            else:
                admitted = access_map.admitted
        columns = cache.columns(segment_id, reader)
        docnums, scores = _scored(matcher, admitted) if scored else (_unscored(matcher, admitted), None)
        if not docnums:
            continue
        total += len(docnums)
        found.append((offset, columns, docnums, scores))
        for name, column in wanted.items():
            facet = columns.facets[column]
            for code, count in Counter(map(facet.codes.__getitem__, docnums)).items():
                if (value := facet.values[code]) is not None:
                    tallies[name][value] += count
    best = max((max(scores) for _, _, _, scores in found if scores), default=0.0)
    return Matches(total, _Candidates(found), {name: dict(tally) for name, tally in tallies.items()}, best)


@dataclass(frozen=True, slots=True)
class _Candidates:
    """The matches as candidates, made anew on each reading (a relevance page reads them twice)."""

    found: list[tuple[int, SegmentColumns, array, array | None]]

    def __iter__(self) -> Iterator[Candidate]:
        return _candidates(self.found)


def _candidates(found: list[tuple[int, SegmentColumns, array, array | None]]) -> Iterator[Candidate]:
    for offset, columns, docnums, scores in found:
        ids, dates = columns.ids, columns.dates
        if scores is None:
            for docnum in docnums:
                yield Candidate(ids[docnum], 0.0, dates[docnum], offset + docnum)
        else:
            for docnum, score in zip(docnums, scores, strict=True):
                yield Candidate(ids[docnum], score, dates[docnum], offset + docnum)


def warm(searcher: Searcher, cache: SegmentCache, fieldnames: Iterable[str]) -> None:
    """Fill the cache for every segment of `searcher`: columns, and lengths of `fieldnames`."""
    for sub, _, segment_id in leaves(searcher):
        reader = sub.reader()
        cache.columns(segment_id, reader)
        for fieldname in fieldnames:
            cache.lengths(segment_id, reader, fieldname)


def _scored(matcher: Any, admitted: bytearray | None) -> tuple[array, array]:
    docnums, scores = array("I"), array("d")
    keep, score_of = docnums.append, scores.append
    countdown = 0
    while True:
        if countdown == 0:
            # As Whoosh's collectors do: prune exhausted branches (a term missing from a segment
            # is a null matcher a union would otherwise ask, for every match, whether it is done).
            matcher = matcher.replace(0)
            countdown = REPLACE_EVERY
        if not matcher.is_active():
            return docnums, scores
        countdown -= 1
        docnum = matcher.id()
        if admitted is None or admitted[docnum]:
            keep(docnum)
            score_of(matcher.score())
        matcher.next()


def _unscored(matcher: Any, admitted: bytearray | None) -> array:
    if admitted is None:
        return array("I", matcher.all_ids())
    return array("I", (docnum for docnum in matcher.all_ids() if admitted[docnum]))
