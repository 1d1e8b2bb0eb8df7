"""Searching reads the index files in place: memory does not grow with the size of the index."""

from __future__ import annotations

import random
import tracemalloc
from pathlib import Path

from search.engine import open_engine, rebuilding
from search.records import IndexRecord
from tests.search.conftest import find, record

MIB = 1024 * 1024


def _archive(documents: int, words_each: int) -> list[IndexRecord]:
    rng = random.Random(4)
    vocabulary = [
        "".join(rng.choice("abcdefghijklmnoprstuwyz") for _ in range(rng.randint(4, 10))) for _ in range(3000)
    ]
    vocabulary[:3] = ["umowa", "faktura", "dostawa"]
    return [
        record(number, f"Dokument {number}", " ".join(rng.choices(vocabulary, k=words_each)))
        for number in range(1, documents + 1)
    ]


def _size(directory: Path) -> int:
    return sum(path.stat().st_size for path in directory.rglob("*") if path.is_file())


def test_open_searchers_hold_no_copy_of_the_index(tmp_path: Path) -> None:
    engine = open_engine(tmp_path / "index")
    with rebuilding(engine) as rebuild:
        rebuild.upsert(_archive(150, 1500))
    engine.close()
    on_disk = _size(tmp_path / "index")
    assert on_disk > 4 * MIB  # big enough for a copy to stand out

    engine = open_engine(tmp_path / "index")
    tracemalloc.start()
    try:
        for word in ("umowa", "faktura", "dostawa umowa", "faktura OR dostawa"):
            assert find(engine, word).total > 0
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
        engine.close()
    # Whoosh's own compound-file reader copied every part of a segment it opened: the whole index.
    assert held < on_disk / 8, f"searching holds {held / MIB:.1f} MiB of an index of {on_disk / MIB:.1f} MiB"
