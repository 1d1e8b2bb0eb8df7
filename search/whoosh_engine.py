"""The Whoosh implementation of `SearchEngine` — the only module that imports `whoosh`.

Layout of the index directory::

    CURRENT                 name of the live generation, replaced atomically
    gen-<stamp>/            a complete Whoosh index + kartoteka-index.json
    building-<stamp>/       a rebuild in progress (renamed to gen-… on swap)

Whoosh indexes exactly the terms of `search.analysis` (its analyzer just
wraps `iter_tokens`), and queries are our own tree translated here, so the
matching rules are the same for any engine.
"""

from __future__ import annotations

import bisect
import contextlib
import json
import logging
import os
import shutil
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import whoosh
from whoosh import query as wq
from whoosh.analysis import IDTokenizer, LowercaseFilter, Tokenizer
from whoosh.analysis import Token as WhooshToken
from whoosh.columns import NumericColumn
from whoosh.fields import COLUMN, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.index import FileIndex
from whoosh.searching import Searcher

from search import analysis, whoosh_matches, whoosh_parallel
from search.errors import IndexRebuilding, IndexUnavailable, SearchError
from search.highlight import Highlighter
from search.paging import MISSING_DATE, Candidate, decode_cursor, encode_cursor, page, rank_facet
from search.query import And, InBinders, MatchAll, Not, Or, Phrase, Prefix, QueryNode, Term
from search.records import Hit, IndexRecord, SearchRequest, SearchResult
from search.whoosh_parallel import PARALLEL_MIN_DOCUMENTS, open_writer, parallel_enabled, write_parallel
from search.whoosh_queries import AdjacentPhrase, AndNot, BoundedPrefix
from search.whoosh_storage import create_index_dir, open_index_dir

R = TypeVar("R")

log = logging.getLogger("kartoteka.search")

#: Bump when the Whoosh schema or the way records map onto it changes (an older index is rebuilt
#: on start). 2: the case field holds the case's number too. 3: the description is searched (in
#: place of a number field documents never had).
WHOOSH_SCHEMA_VERSION = 3
SCHEMA_VERSION = WHOOSH_SCHEMA_VERSION * 1000 + analysis.ANALYSIS_VERSION

CURRENT_FILE = "CURRENT"
STAMP_FILE = "kartoteka-index.json"
GENERATION_PREFIX = "gen-"
BUILDING_PREFIX = "building-"
#: How much of the content is stored (compressed) for highlighting.
HIGHLIGHT_CHARS = 200_000
#: Documents per commit of a backlog.  A big commit is split between the writer processes, each
#: writing one segment: 4,000 makes segments of 2,000 documents, one merge level above segments of
#: 500 (each level costs a rewrite of every document, as much work as writing it in the first place).
BATCH_SIZE = 4000
WRITER_LOCK_TIMEOUT = 10.0
WRITER_MEMORY_MB = 256

# Query field → index field for fields analysed with our analyzer.
_TEXT_FIELDS = {
    "title": "title",
    "content": "content",
    "filename": "filename",
    "counterparty": "counterparty",
    "case": "case",
    "binder": "binder",
    "tags": "tags",
    "description": "description",
}
# Query field → index field for exact, case-insensitive values.
_EXACT_FIELDS = {"type": "document_type", "status": "status"}
# What an unfielded word searches, with boosts: a match in the title says more than one
# somewhere in the content, and someone wrote the description to say what the document is.
_DEFAULT_FIELDS = (
    ("title", 3.0),
    ("counterparty", 2.0),
    ("tags", 2.0),
    ("description", 1.5),
    ("filename", 1.5),
    ("case", 1.0),
    ("content", 1.0),
)
_MIN_NIP_DIGITS = 6
_EPOCH = datetime(1970, 1, 1)


class KartotekaTokenizer(Tokenizer):
    """A Whoosh analyzer yielding exactly the terms of `search.analysis.iter_tokens`.

    Pickled into the index schema by class path, so it must not move without
    a schema version bump.
    """

    def __call__(  # type: ignore[override]
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[WhooshToken]:
        token = WhooshToken(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for ours in analysis.iter_tokens(value):
            token.text = ours.term
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = ours.term
            if positions:
                token.pos = start_pos + ours.position
            if chars:
                token.startchar = start_char + ours.start
                token.endchar = start_char + ours.end
            yield token

    def term_positions(self, value: str) -> dict[str, list[int]]:
        """Each term of `value` with its positions, for `search.whoosh_writer.FastSegmentWriter`."""
        return analysis.term_positions(value)


class ExactListTokenizer(Tokenizer):
    """Yields each element of a ``\\x1f``-separated list as one exact term (access tokens)."""

    def __call__(  # type: ignore[override]
        self, value: str, positions: bool = False, chars: bool = False, mode: str = "", **kwargs: Any
    ) -> Iterator[WhooshToken]:
        token = WhooshToken(positions, chars, mode=mode, **kwargs)
        for i, item in enumerate(value.split("\x1f")):
            if not item:
                continue
            token.text = item
            token.boost = 1.0
            token.stopped = False
            if positions:
                token.pos = i
            if chars:
                token.startchar, token.endchar = 0, 0
            yield token


def build_schema() -> Schema:
    def text(stored: bool = False) -> TEXT:
        return TEXT(analyzer=KartotekaTokenizer(), phrase=True, stored=stored)

    def date_field() -> NUMERIC:
        return NUMERIC(bits=64, signed=True)

    return Schema(
        id=ID(unique=True, stored=True, sortable=True),
        title=text(stored=True),
        content=text(),
        content_stored=STORED(),
        filename=text(),
        description=text(stored=True),
        counterparty=text(),
        counterparty_id=ID(sortable=True),
        nip=ID(),
        case=text(),
        case_id=ID(),
        binder=text(),
        binder_ids=KEYWORD(),
        tags=text(),
        document_type=ID(analyzer=IDTokenizer() | LowercaseFilter(), sortable=True),
        status=ID(analyzer=IDTokenizer() | LowercaseFilter()),
        extraction_status=ID(),
        access=KEYWORD(analyzer=ExactListTokenizer()),
        date=date_field(),
        created_at=date_field(),
        received_at=date_field(),
        updated_at=date_field(),
        date_sort=COLUMN(NumericColumn("q", default=MISSING_DATE)),
        year=ID(sortable=True),
    )


def _micros(value: datetime | date) -> int:
    """Microseconds since the epoch, UTC; naive datetimes are taken as UTC, dates as midnight."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return (value - _EPOCH) // timedelta(microseconds=1)


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _document(record: IndexRecord, highlight_chars: int) -> dict[str, Any]:
    """The Whoosh document for a record; absent values are left out (Whoosh rejects None)."""
    doc: dict[str, Any] = {
        "id": str(record.document_id),
        "title": record.title,
        "content": record.content,
        "content_stored": zlib.compress(record.content[:highlight_chars].encode("utf-8"), 6),
        "filename": record.filename,
        "description": record.description,
        "counterparty": record.counterparty_name,
        "case": record.case_title,
        "binder": record.binder_path,
        "binder_ids": " ".join(str(i) for i in {record.binder_id, *record.binder_ancestor_ids}),
        "tags": "\n".join(record.tags),
        "extraction_status": record.extraction_status or "ok",
        "access": "\x1f".join(record.access_tokens),
        "date_sort": _micros(record.date) if record.date is not None else MISSING_DATE,
    }
    if record.document_type:
        doc["document_type"] = record.document_type
    if record.status:
        doc["status"] = record.status
    if record.counterparty_id is not None:
        doc["counterparty_id"] = str(record.counterparty_id)
    if nip := _digits(record.counterparty_nip):
        doc["nip"] = nip
    if record.case_id is not None:
        doc["case_id"] = str(record.case_id)
    if record.date is not None:
        doc["date"] = _micros(record.date)
    for name in ("created_at", "received_at", "updated_at"):
        value = getattr(record, name)
        if value is not None:
            doc[name] = _micros(value)
    if (year := record.facet_year) is not None:
        doc["year"] = str(year)
    return doc


class _Translator:
    """Our query tree → a Whoosh query."""

    def translate(self, node: QueryNode) -> wq.Query:
        if isinstance(node, MatchAll):
            return wq.Every()
        if isinstance(node, And):
            positive = [self.translate(c) for c in node.children if not isinstance(c, Not)]
            negative = [self.translate(c.child) for c in node.children if isinstance(c, Not)]
            if any(q is wq.NullQuery for q in positive):
                return wq.NullQuery  # a part that matches nothing: so does the whole
            base: wq.Query = _and(positive) if positive else wq.Every()
            excluded = _or(negative)
            return base if excluded is wq.NullQuery else AndNot(base, excluded)
        if isinstance(node, Or):
            return _or([self.translate(c) for c in node.children])
        if isinstance(node, Not):
            excluded = self.translate(node.child)
            return wq.Every() if excluded is wq.NullQuery else AndNot(wq.Every(), excluded)
        if isinstance(node, InBinders):
            return self.in_binders(node)
        fields = _DEFAULT_FIELDS if node.field is None else ((node.field, 1.0),)
        queries = [self.leaf(node, name, boost) for name, boost in fields]
        if node.field is None and isinstance(node, Term | Prefix):
            queries.append(self.nip(node))
        return _or(queries)

    def in_binders(self, node: InBinders) -> wq.Query:
        """Documents in the given subtrees (through each document's binder and its ancestors), all scored alike."""
        parts: list[wq.Query] = []
        for subtree in node.subtrees:
            inside: wq.Query = wq.Term("binder_ids", str(subtree.binder_id))
            if subtree.excluding:
                inside = AndNot(inside, _or([wq.Term("binder_ids", str(b)) for b in subtree.excluding]))
            parts.append(inside)
        found = _or(parts)
        # A filter, not a word: it adds the same to every document's score.
        return found if found is wq.NullQuery else wq.ConstantScoreQuery(found, 1.0)

    def leaf(self, node: Term | Phrase | Prefix, name: str, boost: float) -> wq.Query:
        if name == "nip":
            return self.nip(node)
        if name in _EXACT_FIELDS:
            field = _EXACT_FIELDS[name]
            if isinstance(node, Prefix):
                return BoundedPrefix(field, node.text.lower())
            value = node.text if isinstance(node, Term) else " ".join(node.words)
            return wq.Term(field, value.lower())
        return self.text(node, _TEXT_FIELDS[name], boost)

    def text(self, node: Term | Phrase | Prefix, field: str, boost: float) -> wq.Query:
        """`node` on one index field analysed by `KartotekaTokenizer` (any engine over such fields reuses it)."""
        if isinstance(node, Prefix):
            prefix = analysis.prefix_term(node.text)
            return BoundedPrefix(field, prefix, boost=boost) if prefix else wq.NullQuery
        texts = (node.text,) if isinstance(node, Term) else node.words
        words = [w for text in texts for w in analysis.query_words(text)]
        if not words:
            return wq.NullQuery
        if len(words) == 1:
            word = words[0]
            whole = _or([wq.Term(field, t, boost=boost) for t in word.alternatives])
            if not word.parts:
                return whole
            return _or([whole, self.sequence(field, word.parts, boost)])
        return self.sequence(field, [p for w in words for p in w.positions], boost)

    def sequence(self, field: str, positions: Iterable[tuple[str, ...]], boost: float) -> wq.Query:
        steps = [_or([wq.Term(field, t) for t in alternatives]) for alternatives in positions]
        return AdjacentPhrase(steps, boost=boost) if len(steps) > 1 else steps[0]

    def nip(self, node: Term | Phrase | Prefix) -> wq.Query:
        text = node.text if isinstance(node, Term | Prefix) else "".join(node.words)
        digits = _digits(text)
        # Only something that looks like a tax number searches the NIP field.
        if len(digits) < _MIN_NIP_DIGITS or len(digits) < len(text.strip()) * 0.6:
            return wq.NullQuery
        return BoundedPrefix("nip", digits) if isinstance(node, Prefix) else wq.Term("nip", digits, boost=3.0)


def _or(queries: list[wq.Query]) -> wq.Query:
    queries = [q for q in queries if q is not wq.NullQuery]
    if not queries:
        return wq.NullQuery
    if len(queries) == 1:
        return queries[0]
    union = wq.Or(queries)
    # Whoosh would pick its array union for indexes under 5,000 documents, which allocates and
    # clears a 2,048-slot array in Python per union: milliseconds per query word, whatever it finds.
    union.matcher_type = wq.Or.DEFAULT_MATCHER
    return union


def _and(queries: list[wq.Query]) -> wq.Query:
    return queries[0] if len(queries) == 1 else wq.And(queries)


def _filters(request: SearchRequest) -> wq.Query | None:
    """The request's filters other than access (see `whoosh_matches`), as a query all of whose documents pass."""
    parts: list[wq.Query] = []
    if request.counterparty_id is not None:
        parts.append(wq.Term("counterparty_id", str(request.counterparty_id)))
    if request.binder_id is not None:
        parts.append(wq.Term("binder_ids", str(request.binder_id)))
    if request.document_type:
        parts.append(wq.Term("document_type", request.document_type.lower()))
    if request.status:
        parts.append(wq.Term("status", request.status.lower()))
    if request.date_from is not None or request.date_to is not None:
        low = _micros(request.date_from) if request.date_from is not None else None
        high = request.date_to
        if high is not None and not isinstance(high, datetime):
            # A bare date as the upper bound means "up to the end of that day".
            high = datetime(high.year, high.month, high.day) + timedelta(days=1, microseconds=-1)
        parts.append(wq.NumericRange(request.date_field, low, _micros(high) if high is not None else None))
    return _and(parts) if parts else None


class WhooshRebuild:
    """A fresh Whoosh index built in a side directory (see `SearchEngine.begin_rebuild`)."""

    def __init__(self, engine: WhooshEngine, path: Path, *, resume: bool = False) -> None:
        self._engine = engine
        self.path = path
        if resume:
            # Only a side index of this very schema and analysis may be continued.
            if json.loads((path / BUILD_MARKER).read_text()) != _build_stamp(engine.schema_version):
                raise SearchError("the interrupted rebuild was made by another version")
            self._index = open_index_dir(str(path))
        else:
            self._index = create_index_dir(str(path), engine.new_schema())
            _write_atomically(path / BUILD_MARKER, json.dumps(_build_stamp(engine.schema_version)))
        self._done = False

    def resumed_after(self) -> int:
        """The highest document id already in this side index (0 when it is new).

        The indexer writes in ascending id order and commits batch by batch, so every id up to
        this one is in: an interrupted rebuild continues from here.
        """
        with self._index.searcher() as searcher:
            if searcher.doc_count() == 0:
                return 0
            reader = searcher.reader()
            ids = _column_values(reader, "id", list(reader.all_doc_ids()))
            return max((int(value) for value in ids if value is not None), default=0)

    def upsert(self, records: Iterable[IndexRecord]) -> int:
        if self._done:
            raise SearchError("this rebuild is finished")
        return self._engine.write_records(self._index, records)

    def swap(self) -> None:
        if self._done:
            raise SearchError("this rebuild is finished")
        self._done = True
        try:
            self._engine._swap_in(self)
        except BaseException:
            # The live index is untouched unless CURRENT was replaced, which is the last step.
            self._engine._forget_rebuild(self)
            shutil.rmtree(self.path, ignore_errors=True)
            raise

    def abort(self) -> None:
        if self._done:
            return
        self._done = True
        self._engine._forget_rebuild(self)
        shutil.rmtree(self.path, ignore_errors=True)

    def suspend(self) -> None:
        if self._done:
            return
        self._done = True
        self._engine._forget_rebuild(self)


def write_batched(
    index: FileIndex,
    records: Iterable[R],
    key: Callable[[R], int],
    document: Callable[[R], dict[str, Any]],
) -> int:
    """Replace records by `key` (the index's unique "id"), committing every `BATCH_SIZE` records."""
    written = 0
    batch: dict[int, R] = {}

    def flush() -> None:
        if len(batch) >= PARALLEL_MIN_DOCUMENTS and parallel_enabled():
            documents = [document(record) for record in batch.values()]
            write_parallel(index, documents, unique="id", timeout=WRITER_LOCK_TIMEOUT, limitmb=WRITER_MEMORY_MB)
            batch.clear()
            return
        writer = open_writer(index, timeout=WRITER_LOCK_TIMEOUT, limitmb=WRITER_MEMORY_MB)
        try:
            for record in batch.values():
                writer.update_document(**document(record))
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        batch.clear()

    for record in records:
        # Whoosh's update_document cannot see documents added earlier in the
        # same writer, so a repeated id within a batch is collapsed here.
        batch[key(record)] = record
        written += 1
        if len(batch) >= BATCH_SIZE:
            flush()
    if batch:
        flush()
    return written


class WhooshEngine:
    """`SearchEngine` on a Whoosh index directory.  Thread-safe; one writing process at a time."""

    schema_version = SCHEMA_VERSION

    def __init__(self, *, highlight_chars: int = HIGHLIGHT_CHARS) -> None:
        self.highlight_chars = highlight_chars
        self._root: Path | None = None
        self._writable = False
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._live: tuple[str, FileIndex] | None = None
        self._idle: list[tuple[str, Searcher]] = []
        self._rebuild: WhooshRebuild | None = None
        self._closed = False
        self._translator = _Translator()
        self._segments = whoosh_matches.SegmentCache()

    # -- lifecycle -------------------------------------------------------

    def open(self, directory: Path, *, writable: bool = True) -> None:
        directory = Path(directory)
        if writable:
            directory.mkdir(parents=True, exist_ok=True)
        self._root = directory
        self._writable = writable
        self._closed = False

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
            self._live = None
        for _generation, searcher in idle:
            searcher.close()
        self._segments.clear()
        if self._rebuild is not None:
            self._rebuild.abort()
        whoosh_parallel.shutdown()

    @property
    def root(self) -> Path:
        if self._root is None:
            raise IndexUnavailable("The search engine is not open.")
        return self._root

    # -- generations -----------------------------------------------------

    def _current_name(self) -> str | None:
        try:
            name = (self.root / CURRENT_FILE).read_text(encoding="utf-8").strip()
        except (FileNotFoundError, NotADirectoryError, UnicodeDecodeError):
            return None
        # Never follow a pointer outside the index directory.
        return name if name.startswith(GENERATION_PREFIX) and "/" not in name and "\\" not in name else None

    def _unavailable(self) -> IndexUnavailable:
        building = self._rebuild is not None or any(self.root.glob(BUILDING_PREFIX + "*"))
        if building:
            return IndexRebuilding("The search index is being rebuilt; please try again shortly.")
        return IndexUnavailable("There is no search index yet; it must be rebuilt.")

    def _live_index(self) -> tuple[str, FileIndex]:
        if self._closed:
            raise IndexUnavailable("The search engine is closed.")
        name = self._current_name()
        if name is None:
            raise self._unavailable()
        with self._lock:
            if self._live is not None and self._live[0] == name:
                return self._live
            try:
                index = open_index_dir(str(self.root / name), readonly=not self._writable)
            except Exception as error:  # any damage to the files surfaces as some exception
                raise IndexUnavailable("The search index cannot be opened; it must be rebuilt.") from error
            self._live = (name, index)
            return self._live

    @contextlib.contextmanager
    def _searcher(self) -> Iterator[Searcher]:
        name, index = self._live_index()
        searcher: Searcher | None = None
        stale: list[Searcher] = []
        with self._lock:
            while self._idle and searcher is None:
                generation, candidate = self._idle.pop()
                if generation == name:
                    searcher = candidate
                else:
                    stale.append(candidate)
        try:
            if searcher is not None and not searcher.up_to_date():
                # Not Searcher.refresh(): it reuses the readers of unchanged
                # segments and so misses deletions committed since.
                stale.append(searcher)
                searcher = None
            if searcher is None:
                searcher = index.searcher(weighting=whoosh_matches.CachedLengthBM25F(self._segments))
                # What the cache holds of segments merged away is of no use to any new search.
                self._segments.keep_only({segment_id for _, _, segment_id in whoosh_matches.leaves(searcher)})
        except Exception as error:
            raise IndexUnavailable("The search index cannot be read; it must be rebuilt.") from error
        finally:
            for old in stale:
                old.close()
        try:
            yield searcher
        finally:
            with self._lock:
                keep = not self._closed and self._live is not None and self._live[0] == name
                if keep:
                    self._idle.append((name, searcher))
            if not keep:
                searcher.close()

    def _writable_index(self) -> FileIndex:
        if not self._writable:
            raise IndexUnavailable("This search engine was opened read-only.")
        name, index = self._live_index()
        if not self._stamp_is_current(self.root / name):
            # Writing today's fields into an index of another schema would fail
            # or mix formats; the rebuild (and an outbox replay) will cover it.
            raise IndexRebuilding("The search index has an older schema and must be rebuilt first.")
        return index

    def _stamp_version(self, path: Path) -> object:
        try:
            stamp = json.loads((path / STAMP_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return stamp.get("schema_version") if isinstance(stamp, dict) else None

    def _stamp_is_current(self, path: Path) -> bool:
        try:
            stamp = json.loads((path / STAMP_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return (
            isinstance(stamp, dict)
            and stamp.get("engine") == "whoosh"
            and stamp.get("schema_version") == self.schema_version
        )

    # -- health and rebuild ----------------------------------------------

    def is_healthy(self) -> bool:
        return self.health() == (True, None)

    def health(self) -> tuple[bool, str | None]:
        """Whether the live index answers searches, and what is wrong with it, if anything.

        One stamped by another version of the analysis (after an upgrade) still answers, in the
        old way, until the indexer has rebuilt it: that is a note, not a failure, or every server
        of an upgraded deployment would report itself unhealthy for the whole rebuild.
        """
        name = self._current_name()
        if name is None:
            return False, "there is no index yet"
        try:
            index = open_index_dir(str(self.root / name), readonly=True)
            with index.searcher() as searcher:
                searcher.doc_count()
                for hit in searcher.search(wq.Every(), limit=1):
                    hit.fields()
                searcher.search(wq.Term("content", "kartoteka"), limit=1).scored_length()
        except Exception:  # corrupt files fail in many ways; any failure means rebuild
            return False, "the index cannot be read; the indexer rebuilds it"
        if not self._stamp_is_current(self.root / name):
            return True, (
                f"built by another version (schema {self._stamp_version(self.root / name)}, this server's"
                f" {self.schema_version}); the indexer rebuilds it, searches answer from it meanwhile"
            )
        return True, None

    def needs_rebuild(self) -> bool:
        return not self.is_healthy()

    def begin_rebuild(self, *, resume: bool = False) -> WhooshRebuild:
        if not self._writable:
            raise IndexUnavailable("This search engine was opened read-only.")
        with self._lock:
            if self._rebuild is not None:
                raise SearchError("A rebuild is already running.")
            leftovers = sorted(self.root.glob(BUILDING_PREFIX + "*")) if self.root.is_dir() else []
            if resume and leftovers:
                # The newest rebuild that died with its process goes on where it stopped.
                newest = leftovers.pop()
                try:
                    self._rebuild = WhooshRebuild(self, newest, resume=True)
                except Exception:
                    leftovers.append(newest)
                else:
                    for leftover in leftovers:
                        shutil.rmtree(leftover, ignore_errors=True)
                    return self._rebuild
            for leftover in leftovers:
                # A rebuild that died with its process; only one indexer writes.
                shutil.rmtree(leftover, ignore_errors=True)
            path = self.root / f"{BUILDING_PREFIX}{_generation_stamp()}"
            # The whole index directory may have been deleted: healing starts from nothing.
            path.mkdir(parents=True)
            self._rebuild = WhooshRebuild(self, path)
            return self._rebuild

    def _forget_rebuild(self, rebuild: WhooshRebuild) -> None:
        with self._lock:
            if self._rebuild is rebuild:
                self._rebuild = None

    def _swap_in(self, rebuild: WhooshRebuild) -> None:
        stamp = {
            "engine": "whoosh",
            "schema_version": self.schema_version,
            "analysis_version": analysis.ANALYSIS_VERSION,
            "whoosh_version": whoosh.versionstring(),
            "built_at": datetime.now(UTC).isoformat(),
        }
        _write_atomically(rebuild.path / STAMP_FILE, json.dumps(stamp, indent=2))
        generation = GENERATION_PREFIX + rebuild.path.name.removeprefix(BUILDING_PREFIX)
        os.replace(rebuild.path, self.root / generation)
        previous = self._current_name()
        _write_atomically(self.root / CURRENT_FILE, generation + "\n")
        self._forget_rebuild(rebuild)
        # The previous generation stays one more round: other processes may
        # still be reading it until they notice the new CURRENT.
        keep = {generation, previous}
        for old in self.root.glob(GENERATION_PREFIX + "*"):
            if old.name not in keep:
                shutil.rmtree(old, ignore_errors=True)

    # -- writing ---------------------------------------------------------

    def new_schema(self) -> Schema:
        """The Whoosh schema of a fresh index; engines of other records (`search.whoosh_directory`) give theirs."""
        return build_schema()

    def write_records(self, index: FileIndex, records: Iterable[Any]) -> int:
        """Replace records by id in `index`, in batched commits; overridden together with `new_schema`."""
        return write_batched(index, records, lambda r: r.document_id, lambda r: _document(r, self.highlight_chars))

    def upsert(self, records: Iterable[IndexRecord]) -> int:
        index = self._writable_index()
        with self._write_lock:
            return self.write_records(index, records)

    def settle(self) -> bool:
        settled = False
        try:
            index = self._writable_index()
            if whoosh_parallel.needs_settling(index):
                with self._write_lock:
                    # A commit of nothing: the merge policy puts a finished merge in place, or starts one.
                    open_writer(index, timeout=0).commit()
                settled = True
            self._warm()
        except IndexUnavailable:
            return False  # missing or being rebuilt (healing's business), or another writer holds it
        except Exception:
            # Housekeeping only: a damaged index is for the indexer's health check to find.
            log.warning("settling the search index failed", exc_info=True)
            return False
        return settled

    def _warm(self) -> None:
        """Read what searches need of new segments (a merge's above all) before a search has to.

        Only where searches run (the embedded indexer shares the engine with the API); a
        separate indexer process never searches, and caches nothing.
        """
        if not self._segments.used:
            return
        fields = [_TEXT_FIELDS[name] for name, _ in _DEFAULT_FIELDS]
        with self._searcher() as searcher:
            whoosh_matches.warm(searcher, self._segments, fields)

    def delete(self, document_ids: Iterable[int]) -> int:
        index = self._writable_index()
        ids = {int(i) for i in document_ids}
        if not ids:
            return 0
        with self._write_lock:
            writer = open_writer(index, timeout=WRITER_LOCK_TIMEOUT)
            try:
                for document_id in ids:
                    writer.delete_by_term("id", str(document_id))
            except BaseException:
                writer.cancel()
                raise
            writer.commit()
        return len(ids)

    # -- reading ---------------------------------------------------------

    def count(self) -> int:
        with self._searcher() as searcher:
            return searcher.doc_count()

    def document_ids(self) -> set[int]:
        with self._searcher() as searcher:
            reader = searcher.reader()
            if searcher.doc_count() == 0:
                return set()
            ids = reader.column_reader("id")
            return {int(ids[docnum]) for docnum in reader.all_doc_ids()}

    def search(self, request: SearchRequest) -> SearchResult:
        if request.after is not None:
            decode_cursor(request.after, request.sort)  # refuse a bad cursor even when nothing matches
        if request.access.shows_nothing:
            return SearchResult(0, (), {name: [] for name in sorted(request.facets)}, None, False)
        whoosh_query = self._translator.translate(request.query)
        filters = _filters(request)
        if filters is not None:
            # Filters join the query itself (scores from the query alone) so Whoosh skips
            # through both, rather than collecting every document a filter admits first.
            whoosh_query = wq.Require(whoosh_query, filters)
        with self._searcher() as searcher:
            try:
                return self._run(searcher, request, whoosh_query)
            except SearchError:
                raise
            except Exception as error:  # damaged segment files show up only when read
                raise IndexUnavailable("The search index cannot be read; it must be rebuilt.") from error

    def _run(self, searcher: Searcher, request: SearchRequest, whoosh_query: wq.Query) -> SearchResult:
        matches = whoosh_matches.collect(
            searcher,
            whoosh_query,
            request.access,
            request.facets,
            self._segments,
            scored=request.sort == "relevance",
        )
        chosen, has_next = page(
            matches.candidates, request.sort, request.after, request.limit, scale=matches.best_score
        )
        marks = (
            Highlighter.for_query(request.query, (None, "title")),
            Highlighter.for_query(request.query, (None, "content")),
            Highlighter.for_query(request.query, (None, "description")),
        )
        hits = tuple(self._hit(searcher, request, c, marks, matches.best_score) for c in chosen)
        facets = {name: rank_facet(matches.facet_counts[name], request.facet_limit) for name in sorted(request.facets)}
        next_cursor = hits[-1].cursor if hits and has_next else None
        return SearchResult(matches.total, hits, facets, next_cursor, has_next)

    def _hit(
        self,
        searcher: Searcher,
        request: SearchRequest,
        candidate: Candidate,
        marks: tuple[Highlighter, Highlighter, Highlighter],
        best_score: float,
    ) -> Hit:
        # Shown, and kept in the cursor, relative to the best match the viewer may read. A raw BM25
        # score weighs each word by how rare it is in the whole index, documents the viewer may not
        # read included: the score of a document one can read would tell how often a word occurs
        # in ones one cannot.
        cursor = encode_cursor(candidate, request.sort, scale=best_score)
        score = candidate.score / best_score if best_score > 0 else 0.0
        title_marks, content_marks, description_marks = marks
        if not request.highlight or not any(marks):
            return Hit(candidate.document_id, score, cursor)
        stored = searcher.stored_fields(candidate.ref)
        fragments: list[str] = []
        if content_marks and stored.get("content_stored"):
            content = zlib.decompress(stored["content_stored"]).decode("utf-8", errors="replace")
            fragments = content_marks.fragments(content)
        if not fragments and description_marks and stored.get("description"):
            # Matched in the description rather than the text: that is the passage to show.
            fragments = description_marks.fragments(stored["description"])
        title = title_marks.mark_all(stored.get("title", "")) if title_marks else None
        return Hit(candidate.document_id, score, cursor, tuple(fragments), title)


def _column_values(reader: Any, fieldname: str, docnums: list[int]) -> list[Any]:
    """Column values of `docnums`, segment by segment.

    Whoosh's multi-segment column reader skips segments that lack the column and then reads a
    document's value from the wrong segment (or fails on an empty list): a segment whose documents
    all lack a value has no column at all. So each segment is asked on its own.
    """
    leaves = list(reader.leaf_readers()) if hasattr(reader, "leaf_readers") else [(reader, 0)]
    offsets = [offset for _, offset in leaves]
    columns: dict[int, Any] = {}
    values = []
    for docnum in docnums:
        index = max(0, bisect.bisect_right(offsets, docnum) - 1)
        leaf, offset = leaves[index]
        if index not in columns:
            columns[index] = leaf.column_reader(fieldname) if leaf.has_column(fieldname) else None
        column = columns[index]
        values.append(column[docnum - offset] if column is not None else None)
    return values


BUILD_MARKER = "building.json"


def _build_stamp(schema_version: int = SCHEMA_VERSION) -> dict[str, Any]:
    return {"schema_version": schema_version, "analysis_version": analysis.ANALYSIS_VERSION}


def _generation_stamp() -> str:
    return f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{time.time_ns() % 1_000_000_000:09d}"


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    with contextlib.suppress(OSError):
        # Make the rename itself durable (POSIX); not possible everywhere.
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
