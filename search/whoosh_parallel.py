"""Writing a backlog into a Whoosh index on every core.

Whoosh turns documents into postings in pure Python, so one writer uses one core however many the
machine has.  For a big batch the documents are split between worker processes, each writing a
segment of its own, while this process holds the index lock and applies the deletions that make
the batch an update; then it commits their segments in one new generation: readers see all of the
batch or none of it.

Merging old segments, which Whoosh does inside the commit that asks for it (a merge of 16,000
documents holds the index for 45 s), runs in a merge process in the background instead, unless
it is small: a commit launches it, and a later commit (or the idle indexer's `settle`), finding
it done, puts the merged segment in place of its sources, carrying over the deletions made
meanwhile.  Every writer of our indexes is an `IndexWriter`, so every commit follows this policy.

Whoosh's own ``MpWriter`` starts new processes for every commit, blocks forever when a worker
dies with the job queue full, and drops a failed worker's documents without a word.  A persistent
pool with futures does none of that: a worker's failure fails the commit, and the index stays as
it was.
"""

from __future__ import annotations

import copy
import logging
import multiprocessing
import os
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from whoosh.codec import default_codec
from whoosh.codec.base import Segment
from whoosh.codec.whoosh3 import W3Codec, W3Segment
from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC, FileIndex, LockError, clean_files
from whoosh.reading import SegmentReader

from search.errors import IndexUnavailable
from search.whoosh_storage import MappedStorage
from search.whoosh_writer import INLINE_LIMIT, FastSegmentWriter

#: Batches smaller than this are written in this process: handing documents to other processes
#: and committing their segments costs more than it saves on a few documents.
PARALLEL_MIN_DOCUMENTS = 400
#: Worker processes; each writes one segment per batch.
WORKERS = max(1, min(2, os.cpu_count() or 1))

#: Merges of at most this many documents are done within the commit (a fraction of a second):
#: a process of its own would cost more, and small deployments then never start one.
INLINE_MERGE_DOCUMENTS = 200
#: A merge starts when this many segments of one size class (1-9, 10-99, … documents) exist; it
#: takes them and any smaller ones, so each document is rewritten about once per tenfold growth.
MERGE_FACTOR = 10

log = logging.getLogger("kartoteka.search")

_pool: ProcessPoolExecutor | None = None
_merge_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def parallel_enabled() -> bool:
    return WORKERS > 1


def _new_pool(workers: int) -> ProcessPoolExecutor:
    # Not fork: the server has threads (event loop, thread pools, SQLite) whose locks a forked
    # child would inherit in whatever state they were.  The fork server starts clean, with this
    # module (and so Whoosh and our analyzer) already imported.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__, "search.whoosh_engine"])
    return ProcessPoolExecutor(workers, mp_context=context)


def _executor() -> ProcessPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = _new_pool(WORKERS)
        return _pool


def _merger() -> ProcessPoolExecutor:
    # Apart from the writers, so a long merge never holds up the next batch's segments.
    global _merge_pool
    with _pool_lock:
        if _merge_pool is None:
            _merge_pool = _new_pool(1)
        return _merge_pool


def _forget_pool(pool: ProcessPoolExecutor) -> None:
    global _pool, _merge_pool
    with _pool_lock:
        if _pool is pool:
            _pool = None
        if _merge_pool is pool:
            _merge_pool = None
    pool.shutdown(wait=False, cancel_futures=True)


def shutdown() -> None:
    """Stop the worker processes (they start again when needed); a merge under way is abandoned.

    The merge process is killed rather than awaited: a long merge would otherwise hold up the
    server's exit, and its half-written files are cleaned up by the next commit anyway.
    """
    global _pool, _merge_pool
    with _pool_lock:
        pool, merge_pool, _pool, _merge_pool = _pool, _merge_pool, None, None
        _merges.clear()
    if merge_pool is not None:
        # ProcessPoolExecutor has no public way to stop a running job before Python 3.14.
        for process in list(getattr(merge_pool, "_processes", {}).values()):
            process.terminate()
        merge_pool.shutdown(wait=True, cancel_futures=True)
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


# -- background merges ---------------------------------------------------------------------


class _NamedSegmentCodec(W3Codec):
    """The standard codec, except that the new segment gets a name chosen beforehand.

    The parent names a merge's segment before it starts, so its commits keep the files being
    written (Whoosh deletes every segment file the index does not list).  The segment itself is
    given the plain codec: the index never refers to this class.
    """

    def __init__(self, segid: str) -> None:
        super().__init__(inlinelimit=INLINE_LIMIT)
        self.segid = segid

    def new_segment(self, storage: Any, indexname: str) -> W3Segment:
        return W3Segment(default_codec(), indexname, segid=self.segid)


class _OwnTemporaryFiles(MappedStorage):
    """The index directory, with temporary files in a directory of their own.

    Whoosh's writers share one temporary directory, and every commit deletes it: a merge that
    outlives commits must keep its temporary files elsewhere.
    """

    def __init__(self, path: str, tag: str) -> None:
        super().__init__(path)
        self.tag = tag

    def temp_storage(self, name: str | None = None) -> FileStorage:
        return super().temp_storage(f"{name}.{self.tag}" if name else None)


def _merge_job(directory: str, indexname: str, sources: list[Segment], segid: str, limitmb: int) -> Segment:
    """In the merge process: the live documents of `sources`, in order, as one new segment."""
    storage = _OwnTemporaryFiles(directory, segid)
    index = storage.open_index(indexname)
    writer = FastSegmentWriter(index, _lk=False, limitmb=limitmb, codec=_NamedSegmentCodec(segid))
    try:
        for source in sources:
            reader = SegmentReader(storage, writer.schema, source)
            try:
                writer.add_reader(reader)
            finally:
                reader.close()
        return writer._finalize_segment()
    except BaseException:
        writer._close_segment()
        raise
    finally:
        writer._tempstorage.destroy()


@dataclass
class _Merge:
    future: Future[Segment]
    segment_name: str  # the merged segment's id, known before it exists
    sources: list[str]  # segment ids, in merge order
    doc_counts: dict[str, int]
    deleted: dict[str, frozenset[int]]  # deletions each source had when the merge started


#: Merges under way, by (index directory, index name).
_merges: dict[tuple[str, str], _Merge] = {}


class _InFlight:
    """Stands for a segment being written, so that cleaning the index leaves its files alone."""

    def __init__(self, name: str) -> None:
        self.name = name

    def segment_id(self) -> str:
        return self.name


def _merged_in(merge: _Merge, merged: Segment, segments: list[Segment], storage: FileStorage) -> list[Segment] | None:
    """`segments` with the merge's sources replaced by `merged`, or None when it no longer fits."""
    by_id = {segment.segment_id(): segment for segment in segments}
    if any(source not in by_id for source in merge.sources):
        return None  # another writer merged or dropped a source meanwhile
    if merged.compound and not storage.file_exists(merged.make_filename(merged.COMPOUND_EXT)):
        return None
    offset = 0
    for source_id in merge.sources:
        before = merge.deleted[source_id]
        now = set(by_id[source_id].deleted_docs()) - before
        if now:
            live = [d for d in range(merge.doc_counts[source_id]) if d not in before]
            rank = {docnum: i for i, docnum in enumerate(live)}
            for docnum in now:
                merged.delete_document(offset + rank[docnum])
        offset += merge.doc_counts[source_id] - len(before)
    if offset != merged.doc_count_all():
        return None
    gone = set(merge.sources)
    return [segment for segment in segments if segment.segment_id() not in gone] + [merged]


def _background_merge_policy(writer: IndexWriter, segments: list[Segment]) -> list[Segment]:
    """Whoosh merge policy: put a finished background merge in place; start the next merge (a small one right here)."""
    storage = writer.storage
    key = (storage.folder, writer.indexname)
    with _pool_lock:
        merge = _merges.get(key)
        if merge is not None and merge.future.done():
            del _merges[key]
        elif merge is not None:
            return segments
    if merge is not None:
        try:
            merged = merge.future.result()
        except Exception:
            log.warning("a background merge of the search index failed; it will be tried again", exc_info=True)
        else:
            replaced = _merged_in(merge, merged, segments, storage)
            if replaced is None:
                log.warning("a background merge of the search index no longer fitted the index; dropped")
            else:
                segments = replaced
    if chosen := _to_merge(segments):
        if sum(segment.doc_count() for segment in chosen) <= INLINE_MERGE_DOCUMENTS:
            return _merge_inline(writer, segments, chosen)
        _start_merge(writer, chosen)
    return segments


def _merge_inline(writer: IndexWriter, segments: list[Segment], chosen: list[Segment]) -> list[Segment]:
    """Merge a few small segments into the writer's own new segment, as Whoosh itself would."""
    for segment in chosen:
        reader = SegmentReader(writer.storage, writer.schema, segment)
        try:
            writer.add_reader(reader)
        finally:
            reader.close()
    merged = {segment.segment_id() for segment in chosen}
    return [segment for segment in segments if segment.segment_id() not in merged]


def _tier(segment: Segment) -> int:
    return len(str(max(segment.doc_count(), 1)))  # tenfold size classes: 1-9, 10-99, 100-999, …


def _to_merge(segments: list[Segment]) -> list[Segment]:
    """The segments to merge next: every segment up to the smallest size class that has filled up.

    Merging only like-sized segments rewrites each document about once per tenfold growth of the
    index, never the whole index over and over.
    """
    by_size = sorted(segments, key=lambda s: s.doc_count())
    tiers = [_tier(segment) for segment in by_size]
    for tier in sorted(set(tiers)):
        upto = sum(1 for t in tiers if t <= tier)
        if tiers.count(tier) >= MERGE_FACTOR:
            return by_size[:upto]
    return []


def merging(index: FileIndex) -> bool:
    """True while a background merge of `index` is under way."""
    with _pool_lock:
        merge = _merges.get((index.storage.folder, index.indexname))
    return merge is not None and not merge.future.done()


def needs_settling(index: FileIndex) -> bool:
    """True when a commit, even of nothing, would put a finished merge in place or start one."""
    with _pool_lock:
        merge = _merges.get((index.storage.folder, index.indexname))
    if merge is not None:
        return merge.future.done()
    return bool(_to_merge(index._segments()))


def _start_merge(writer: IndexWriter, sources: list[Segment]) -> None:
    segid = W3Segment._random_id()
    snapshot = copy.deepcopy(sources)  # the process sees the deletions of this moment, whatever comes
    pool = _merger()
    try:
        future = pool.submit(_merge_job, writer.storage.folder, writer.indexname, snapshot, segid, writer.limitmb)
    except BrokenProcessPool:
        _forget_pool(pool)
        return
    merge = _Merge(
        future=future,
        segment_name=f"{writer.indexname}_{segid}",
        sources=[s.segment_id() for s in snapshot],
        doc_counts={s.segment_id(): s.doc_count_all() for s in snapshot},
        deleted={s.segment_id(): frozenset(s.deleted_docs()) for s in snapshot},
    )
    with _pool_lock:
        # Merges of indexes that are gone (a replaced generation, a test's directory) are forgotten.
        for key in [key for key in _merges if not os.path.isdir(key[0])]:
            del _merges[key]
        _merges[(writer.storage.folder, writer.indexname)] = merge


class IndexWriter(FastSegmentWriter):
    """Whoosh's segment writer with merges in the background (see the module's description)."""

    def __init__(self, index: FileIndex, *, timeout: float, limitmb: int) -> None:
        super().__init__(index, timeout=timeout, limitmb=limitmb)
        self.limitmb = limitmb

    def _merge_segments(self, mergetype: Any, optimize: Any, merge: Any) -> list[Segment]:
        return _background_merge_policy(self, self.segments)

    def _commit_toc(self, segments: list[Segment]) -> None:
        TOC(self.schema, segments, self.generation).write(self.storage, self.indexname)
        with _pool_lock:
            merge = _merges.get((self.storage.folder, self.indexname))
        keep: list[Any] = list(segments)
        if merge is not None:
            keep.append(_InFlight(merge.segment_name))
        clean_files(self.storage, self.indexname, self.generation, keep)


def open_writer(index: FileIndex, *, timeout: float, limitmb: int = 128) -> IndexWriter:
    """A writer of `index` (its lock taken), or IndexUnavailable when another process holds the lock."""
    try:
        return IndexWriter(index, timeout=timeout, limitmb=limitmb)
    except LockError as error:
        raise IndexUnavailable("Another process is writing to the search index.") from error


def _write_segment(directory: str, indexname: str, documents: list[dict[str, Any]], limitmb: int) -> Segment:
    """In a worker: write `documents` as one new segment of the index; the parent commits it."""
    index = MappedStorage(directory).open_index(indexname)
    # No lock: the parent holds it for the whole batch.
    writer = FastSegmentWriter(index, _lk=False, limitmb=limitmb)
    try:
        for document in documents:
            writer.add_document(**document)
        return writer._finalize_segment()
    except BaseException:
        # Not cancel(): the temporary storage is shared with the parent's writer, so only this
        # writer's own run files go; its half-written segment is cleaned up at the next commit.
        writer._close_segment()
        raise


def _split(documents: Sequence[dict[str, Any]], parts: int) -> list[list[dict[str, Any]]]:
    size = -(-len(documents) // parts)
    return [list(documents[i : i + size]) for i in range(0, len(documents), size)]


def write_parallel(
    index: FileIndex, documents: Sequence[dict[str, Any]], *, unique: str, timeout: float, limitmb: int
) -> None:
    """Replace `documents` (by their `unique` field) in `index` in one commit, written by the workers."""
    storage = index.storage
    if not isinstance(storage, FileStorage):
        raise TypeError("parallel writing needs an index on disk")
    writer = open_writer(index, timeout=timeout, limitmb=limitmb)
    futures: list[Future[Segment]] = []
    pool = _executor()
    try:
        try:
            futures = [
                pool.submit(_write_segment, storage.folder, index.indexname, part, limitmb)
                for part in _split(documents, WORKERS)
            ]
            # The old versions are deleted while the workers write: the new segments are not
            # this writer's, so the deletions cannot touch them.
            for document in documents:
                writer.delete_by_term(unique, document[unique])
            written = [future.result() for future in futures]
        except BrokenProcessPool as error:
            _forget_pool(pool)
            raise IndexUnavailable("A search index writer process died; the batch will be retried.") from error
        if sum(segment.doc_count_all() for segment in written) != len(documents):
            raise IndexUnavailable("A search index writer process lost documents; the batch will be retried.")
        kept = writer._merge_segments(None, None, None)
        if writer._added:  # small segments merged inline
            kept.append(writer._finalize_segment())
        else:
            writer._close_segment()
        writer._commit_toc(kept + written)
    except BaseException:
        for future in futures:
            future.cancel()
        # Segments the workers finished are left unreferenced, and go at the next commit.
        writer.cancel()
        raise
    writer._finish()
