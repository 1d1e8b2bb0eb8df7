"""One indexer per index directory: the lock, as the processes that share a directory see it."""

from __future__ import annotations

import os
from pathlib import Path

from search.indexer_lock import IndexerLock


def test_one_holder_at_a_time_and_the_next_may_take_over(tmp_path: Path) -> None:
    first, second = IndexerLock(tmp_path), IndexerLock(tmp_path)
    assert first.try_acquire()
    assert first.try_acquire()  # holding it already
    assert not second.try_acquire()
    assert second.holder() == str(os.getpid())

    first.release()
    assert second.try_acquire()
    assert not first.try_acquire()
    second.release()
