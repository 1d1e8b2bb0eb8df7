"""Writing a backlog into a Whoosh index on every core.

Whoosh turns documents into postings in pure Python, so one writer uses one core however many the
machine has.  For a big batch the documents are split between worker processes, each writing a
segment of its own, while this process holds the index lock, applies the deletions that make the
batch an update, merges small old segments by Whoosh's usual policy, and finally commits its
segments and theirs in one new generation: readers see all of the batch or none of it.

Whoosh's own ``MpWriter`` starts new processes for every commit, blocks forever when a worker
dies with the job queue full, and drops a failed worker's documents without a word.  A persistent
pool with futures does none of that: a worker's failure fails the commit, and the index stays as
it was.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from whoosh.codec.base import Segment
from whoosh.filedb.filestore import FileStorage
from whoosh.index import FileIndex, LockError
from whoosh.writing import SegmentWriter

from search.errors import IndexUnavailable

#: Batches smaller than this are written in this process: handing documents to other processes
#: and committing their segments costs more than it saves on a few documents.
PARALLEL_MIN_DOCUMENTS = 400
#: Worker processes; each writes one segment per batch.
WORKERS = max(1, min(2, os.cpu_count() or 1))

_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def parallel_enabled() -> bool:
    return WORKERS > 1


def _executor() -> ProcessPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            # Not fork: the server has threads (event loop, thread pools, SQLite) whose locks a
            # forked child would inherit in whatever state they were.  The fork server starts
            # clean, with this module (and so Whoosh and our analyzer) already imported.
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload([__name__, "search.whoosh_engine"])
            _pool = ProcessPoolExecutor(WORKERS, mp_context=context)
        return _pool


def _forget_pool(pool: ProcessPoolExecutor) -> None:
    global _pool
    with _pool_lock:
        if _pool is pool:
            _pool = None
    pool.shutdown(wait=False, cancel_futures=True)


def shutdown() -> None:
    """Stop the worker processes (they are started again when needed)."""
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


def _write_segment(directory: str, indexname: str, documents: list[dict[str, Any]], limitmb: int) -> Segment:
    """In a worker: write `documents` as one new segment of the index; the parent commits it."""
    index = FileStorage(directory).open_index(indexname)
    # No lock: the parent holds it for the whole batch.
    writer = SegmentWriter(index, _lk=False, limitmb=limitmb)
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
    try:
        writer = SegmentWriter(index, timeout=timeout, limitmb=limitmb)
    except LockError as error:
        raise IndexUnavailable("Another process is writing to the search index.") from error
    futures: list[Future[Segment]] = []
    pool = _executor()
    try:
        for document in documents:
            writer.delete_by_term(unique, document[unique])
        try:
            futures = [
                pool.submit(_write_segment, storage.folder, index.indexname, part, limitmb)
                for part in _split(documents, WORKERS)
            ]
            # Merging small old segments is this process's work meanwhile.
            kept = writer._merge_segments(None, None, None)
            written = [future.result() for future in futures]
        except BrokenProcessPool as error:
            _forget_pool(pool)
            raise IndexUnavailable("A search index writer process died; the batch will be retried.") from error
        if sum(segment.doc_count_all() for segment in written) != len(documents):
            raise IndexUnavailable("A search index writer process lost documents; the batch will be retried.")
        if writer._added:
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
