"""A backlog is written by worker processes: all of it lands, once, in one commit, or none of it does."""

from __future__ import annotations

import os
from concurrent.futures.process import BrokenProcessPool

import pytest

from search import whoosh_parallel
from search.engine import IndexUnavailable, SearchEngine
from search.whoosh_parallel import PARALLEL_MIN_DOCUMENTS
from tests.search.conftest import find, record

BACKLOG = PARALLEL_MIN_DOCUMENTS + 37

pytestmark = pytest.mark.skipif(not whoosh_parallel.parallel_enabled(), reason="one core: nothing runs in parallel")


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
