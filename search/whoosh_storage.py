"""Index files read in place from a memory map, never copied into memory.

Whoosh reads a segment (one compound file holding the segment's terms, postings, stored fields
and columns) from a memory map, but its ``BufferFile`` wraps each part in a ``BytesIO``, which
copies the part: every open segment reader held a private copy of its whole segment. A server's
memory grew with the index (an index of 72 MB held 112 MB of copies at once) and never shrank while
searchers were open. Here each file is mapped once and read in place: reads copy only the bytes
they return, the mapped pages belong to the page cache and are shared by every reader and process.
"""

from __future__ import annotations

import mmap
import os
from array import array
from io import BytesIO
from typing import Any

from whoosh.fields import Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile
from whoosh.index import _DEF_INDEX_NAME, FileIndex
from whoosh.system import IS_LITTLE


class MappedRange:
    """A read-only, seekable file over `[start, end)` of a memory map (what ``pickle.load`` needs)."""

    __slots__ = ("_end", "_map", "_pos", "_start")

    def __init__(self, mapping: mmap.mmap, start: int, end: int) -> None:
        self._map = mapping
        self._start = start
        self._end = end
        self._pos = start

    def read(self, size: int | None = -1) -> bytes:
        pos = self._pos
        end = self._end if size is None or size < 0 else min(pos + size, self._end)
        self._pos = end
        return self._map[pos:end]

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(memoryview(buffer)))
        memoryview(buffer)[: len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        pos = self._pos
        limit = self._end if size is None or size < 0 else min(pos + size, self._end)
        newline = self._map.find(b"\n", pos, limit)
        end = limit if newline < 0 else newline + 1
        self._pos = end
        return self._map[pos:end]

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_SET:
            pos = self._start + offset
        elif whence == os.SEEK_CUR:
            pos = self._pos + offset
        else:
            pos = self._end + offset
        self._pos = max(self._start, pos)
        return self._pos - self._start

    def tell(self) -> int:
        return self._pos - self._start

    def close(self) -> None:
        """Nothing to release: the map is unmapped when no range refers to it any more."""


class MappedFile(StructFile):
    """A ``StructFile`` reading a part of a memory-mapped file in place."""

    def __init__(self, mapping: mmap.mmap, start: int, length: int, name: str | None = None, **kwargs: Any) -> None:
        reader = MappedRange(mapping, start, start + length)
        super().__init__(reader, name=name, **kwargs)
        self._map = mapping
        self._start = start
        # Whoosh reads a few bytes at a time (varints, one posting block): straight to the range.
        self.read = reader.read  # type: ignore[method-assign]
        self.seek = reader.seek  # type: ignore[method-assign]
        self.tell = reader.tell  # type: ignore[method-assign]

    def subset(self, offset: int, length: int, name: str | None = None) -> MappedFile:
        # Compound storage (with mmap turned off) opens each part of a segment through this.
        return MappedFile(self._map, self._start + offset, length, name=name or self._name)

    def get(self, position: int, length: int) -> bytes:
        start = self._start + position
        return self._map[start : start + length]

    def get_array(self, position: int, typecode: str, length: int) -> array:
        values = array(typecode)
        values.frombytes(self.get(position, length * values.itemsize))
        if IS_LITTLE:
            values.byteswap()
        return values


class MappedStorage(FileStorage):
    """A ``FileStorage`` whose files open as ``MappedFile``.

    ``supports_mmap`` is off so that compound segments open their parts through
    ``MappedFile.subset`` instead of Whoosh's copying ``BufferFile``.
    """

    def __init__(self, path: str, *, readonly: bool = False) -> None:
        super().__init__(path, supports_mmap=False, readonly=readonly)

    def open_file(self, name: str, **kwargs: Any) -> StructFile:
        path = self._fpath(name)
        with open(path, "rb") as file:
            size = os.fstat(file.fileno()).st_size
            if size == 0:  # an empty file cannot be mapped
                return StructFile(BytesIO(), name=name, **kwargs)
            mapping = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        return MappedFile(mapping, 0, size, name=name, **kwargs)


def open_index_dir(path: str, *, readonly: bool = False) -> FileIndex:
    """Whoosh's ``open_dir``, reading through a ``MappedStorage``."""
    return MappedStorage(path, readonly=readonly).open_index(_DEF_INDEX_NAME)


def create_index_dir(path: str, schema: Schema) -> FileIndex:
    """Whoosh's ``create_in``, the index then read through a ``MappedStorage``."""
    return MappedStorage(path).create_index(schema, _DEF_INDEX_NAME)
