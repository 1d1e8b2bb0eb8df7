"""Index files read in place behave as the files Whoosh wrote: positions, pickles, parts, arrays."""

from __future__ import annotations

import pickle
from array import array
from pathlib import Path

from search.whoosh_storage import MappedStorage


def _storage(tmp_path: Path, name: str, content: bytes) -> MappedStorage:
    (tmp_path / name).write_bytes(content)
    return MappedStorage(str(tmp_path))


def test_a_part_of_a_file_reads_as_a_file_of_its_own(tmp_path: Path) -> None:
    whole = _storage(tmp_path, "seg", b"HEADER" + b"first line\nsecond" + b"TRAILER").open_file("seg")
    part = whole.subset(6, 17)
    assert part.read() == b"first line\nsecond"  # not a byte of what surrounds it
    part.seek(0)
    assert part.file.readline() == b"first line\n"
    assert part.tell() == 11
    assert part.read(100) == b"second"  # a read past the end stops at the end
    assert part.read(1) == b""
    part.seek(-6, 2)
    assert part.read(3) == b"sec"
    part.seek(-1, 1)
    assert part.read(1) == b"c"
    assert part.get(0, 5) == b"first"


def test_pickles_and_arrays_read_back_as_written(tmp_path: Path) -> None:
    numbers = array("I", [1, 70_000, 2**31])
    stored = array("I", numbers)
    stored.byteswap()  # Whoosh writes arrays big-endian
    content = b"xx" + pickle.dumps({"terms": ["umowa", "faktura"]}) + stored.tobytes()
    file = _storage(tmp_path, "seg", content).open_file("seg")
    file.seek(2)
    assert file.read_pickle() == {"terms": ["umowa", "faktura"]}
    assert file.get_array(len(content) - 12, "I", 3) == numbers


def test_an_empty_file_opens(tmp_path: Path) -> None:
    assert _storage(tmp_path, "empty", b"").open_file("empty").read() == b""
