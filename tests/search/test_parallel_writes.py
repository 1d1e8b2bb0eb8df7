"""A backlog is written by worker processes: all of it lands, once, in one commit, or none of it does."""

from __future__ import annotations

import os
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import pytest

from search import whoosh_parallel
from search.engine import IndexUnavailable, SearchEngine
from search.whoosh_parallel import MERGE_FACTOR, PARALLEL_MIN_DOCUMENTS
from tests.search.conftest import find, record

BACKLOG = PARALLEL_MIN_DOCUMENTS + 37


@pytest.fixture(autouse=True)
def two_writers(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Two writer processes whatever the machine's cores, so these tests never depend on it."""
    whoosh_parallel.shutdown()
    monkeypatch.setattr(whoosh_parallel, "WORKERS", 2)
    yield
    whoosh_parallel.shutdown()


def backlog(word: str, count: int = BACKLOG, first: int = 1) -> list:
    return [record(i, f"Faktura {i}", f"{word} numer {i} zamówienie") for i in range(first, first + count)]


def test_a_backlog_is_indexed_whole_and_updates_replace(build, engine: SearchEngine) -> None:
    build([record(1, "Umowa najmu")])
    assert engine.upsert(backlog("kontrahent")) == BACKLOG
    assert find(engine, "kontrahenta").total == BACKLOG
    # Writing the same documents again replaces them: nothing is found twice, the old words are gone.
    engine.upsert(backlog("dostawca"))
    assert find(engine, "dostawcy").total == BACKLOG
    assert find(engine, "kontrahenta").total == 0
    assert find(engine, "faktura").total == BACKLOG
    assert find(engine, "umowa").total == 0  # document 1 was replaced by the backlog's first one


def _die() -> None:
    os._exit(1)


def test_a_dead_worker_fails_the_batch_and_leaves_the_index_as_it_was(build, engine: SearchEngine) -> None:
    build([record(1, "Umowa najmu")])
    pool = whoosh_parallel._executor()
    with pytest.raises(BrokenProcessPool):
        pool.submit(_die).result()
    with pytest.raises(IndexUnavailable):
        engine.upsert(backlog("kontrahent", first=2))
    assert find(engine, "kontrahenta").total == 0
    assert find(engine, "umowa").total == 1
    # The lock was released and a new pool started: the retried batch goes in.
    assert engine.upsert(backlog("kontrahent", first=2)) == BACKLOG
    assert find(engine, "kontrahenta").total == BACKLOG


def test_a_failing_document_fails_the_batch_without_a_trace(build, engine: SearchEngine, monkeypatch) -> None:
    build([record(1, "Umowa najmu")])
    real = whoosh_parallel._split

    def with_a_bad_field(documents, parts):
        parts_ = real(documents, parts)
        parts_[-1][-1] = {**parts_[-1][-1], "no_such_field": "x"}
        return parts_

    monkeypatch.setattr(whoosh_parallel, "_split", with_a_bad_field)
    with pytest.raises(Exception, match="no_such_field"):
        engine.upsert(backlog("kontrahent", first=2))
    monkeypatch.setattr(whoosh_parallel, "_split", real)
    assert find(engine, "kontrahenta").total == 0
    assert engine.upsert(backlog("kontrahent", first=2)) == BACKLOG
    assert find(engine, "kontrahenta").total == BACKLOG


# -- background merges -----------------------------------------------------------------------


class HeldMerges:
    """Stands in for the merge process: a job runs, and its result arrives, only when the test says."""

    def __init__(self) -> None:
        self.jobs: list[tuple[Future, Any, tuple]] = []
        self.results: list[tuple[Future, Any]] = []

    def submit(self, function: Any, *args: Any) -> Future:
        future: Future = Future()
        self.jobs.append((future, function, args))
        return future

    def run(self) -> None:
        """Do the merges now (their files appear), without telling the index yet."""
        for future, function, args in self.jobs:
            try:
                self.results.append((future, function(*args)))
            except Exception as error:
                future.set_exception(error)
        self.jobs.clear()

    def deliver(self) -> None:
        for future, result in self.results:
            future.set_result(result)
        self.results.clear()


@pytest.fixture
def held(monkeypatch) -> HeldMerges:
    held = HeldMerges()
    monkeypatch.setattr(whoosh_parallel, "_merger", lambda: held)
    monkeypatch.setattr(whoosh_parallel, "INLINE_MERGE_DOCUMENTS", 0)
    return held


def segments(engine: SearchEngine) -> int:
    return len(engine._live_index()[1]._segments())  # type: ignore[attr-defined]


def until_a_merge_starts(engine: SearchEngine, held: HeldMerges) -> list[int]:
    """One-document commits until the index has enough segments for a merge; their ids."""
    ids = []
    for document_id in range(1, 3 * MERGE_FACTOR):
        engine.upsert([record(document_id, f"Faktura {document_id}", "kontrahent alfa")])
        ids.append(document_id)
        if held.jobs:
            return ids
    raise AssertionError("no merge started")


def test_a_merge_keeps_what_changed_while_it_ran(build, engine: SearchEngine, held: HeldMerges) -> None:
    build([])
    ids = until_a_merge_starts(engine, held)
    held.run()
    # While the merge is under way: one merged document is updated, one deleted, one added.
    engine.upsert([record(1, "Faktura 1", "dostawca beta")])
    engine.delete([2])
    engine.upsert([record(500, "Faktura 500", "kontrahent alfa")])
    before = segments(engine)
    held.deliver()
    engine.upsert([record(501, "Faktura 501", "kontrahent alfa")])

    assert segments(engine) < before
    expected = {*ids, 500, 501} - {1, 2}
    assert {hit.document_id for hit in find(engine, "kontrahenta", limit=100).hits} == expected
    assert find(engine, "kontrahenta").total == len(expected)
    assert {hit.document_id for hit in find(engine, "dostawcy").hits} == {1}
    assert engine.count() == len(expected) + 1


def test_a_failed_merge_changes_nothing_and_is_tried_again(build, engine: SearchEngine, held, monkeypatch) -> None:
    build([])
    monkeypatch.setattr(whoosh_parallel, "_merge_job", lambda *args: (_ for _ in ()).throw(OSError("disk full")))
    ids = until_a_merge_starts(engine, held)
    held.run()
    before = segments(engine)
    engine.upsert([record(500, "Faktura 500", "kontrahent alfa")])
    assert find(engine, "kontrahenta", limit=100).total == len(ids) + 1
    assert held.jobs, "the next commit starts the merge again"
    assert segments(engine) == before + 1


def test_a_merge_overtaken_by_another_writer_is_dropped(build, engine: SearchEngine, held: HeldMerges) -> None:
    build([])
    ids = until_a_merge_starts(engine, held)
    held.run()
    # Another process's plain Whoosh writer merges everything (and cleans away the merge's files).
    other = engine._live_index()[1].writer()  # type: ignore[attr-defined]
    other.commit(optimize=True)
    held.deliver()
    engine.upsert([record(500, "Faktura 500", "kontrahent alfa")])
    assert find(engine, "kontrahenta", limit=100).total == len(ids) + 1
    assert segments(engine) == 2


def test_an_idle_index_puts_a_finished_merge_in_place(build, engine: SearchEngine, held: HeldMerges) -> None:
    build([])
    ids = until_a_merge_starts(engine, held)
    assert engine.settle() is False, "nothing finished yet"
    held.run()
    held.deliver()
    before = segments(engine)
    assert engine.settle() is True
    assert segments(engine) < before
    assert find(engine, "kontrahenta", limit=100).total == len(ids)
    assert engine.settle() is False


class Sized:
    def __init__(self, documents: int) -> None:
        self.documents = documents

    def doc_count(self) -> int:
        return self.documents


def chosen(*sizes: int) -> list[int]:
    return sorted(s.documents for s in whoosh_parallel._to_merge([Sized(n) for n in sizes]))  # type: ignore[misc]


def test_merges_take_like_sized_segments_and_what_is_smaller() -> None:
    assert chosen(*[500] * (MERGE_FACTOR - 1), 5_000) == []
    assert chosen(*[500] * MERGE_FACTOR, 50_000) == [500] * MERGE_FACTOR
    # Behind after a backlog: the whole filled-up class goes in one merge, with anything smaller.
    assert chosen(3, *[700] * (MERGE_FACTOR + 5), 20_000) == [3, *[700] * (MERGE_FACTOR + 5)]
    # Big segments are not rewritten because small ones came along.
    assert chosen(*[5_000] * (MERGE_FACTOR - 1), 200, 300) == []


def test_small_merges_happen_within_the_commit(build, engine: SearchEngine, held: HeldMerges, monkeypatch) -> None:
    monkeypatch.setattr(whoosh_parallel, "INLINE_MERGE_DOCUMENTS", 1_000)
    build([])
    for document_id in range(1, 3 * MERGE_FACTOR):
        engine.upsert([record(document_id, f"Faktura {document_id}", "kontrahent alfa")])
        assert segments(engine) <= MERGE_FACTOR + 1
    engine.delete([1])
    assert not held.jobs, "no process was needed"
    assert find(engine, "kontrahenta", limit=100).total == 3 * MERGE_FACTOR - 2


def test_settling_a_missing_or_damaged_index_is_a_no_op(build, engine: SearchEngine) -> None:
    assert engine.settle() is False  # never built
    build([record(1, "Umowa")])
    generation = engine._live_index()[1].storage.folder  # type: ignore[attr-defined]
    for toc in [name for name in os.listdir(generation) if name.endswith(".toc")]:
        os.remove(os.path.join(generation, toc))
    assert engine.settle() is False
