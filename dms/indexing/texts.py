"""Extracted text, cached by the SHA-256 of the bytes it came from.

Derived data, kept beside the index (never in the database): a metadata change or a rebuild then
re-indexes without parsing the file again, and deleting the cache only costs time. Each text
notes the version of the extractor that read it (`search.formats.extractor_version`): one read by
an older version is read again from the file, unless the file is gone.
"""

from __future__ import annotations

import gzip
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import anyio

from search.extraction import Extraction


class TextCache:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, sha256: str) -> Path:
        return self.directory / sha256[:2] / f"{sha256}.json.gz"

    def read(self, sha256: str, *, extractor: int | None = None) -> Extraction | None:
        """The cached extraction, or None when there is none, it cannot be read, or another version
        of the extractor than `extractor` made it (None: any version will do) (blocking)."""
        try:
            data = json.loads(gzip.decompress(self._path(sha256).read_bytes()))
            if extractor is not None and data.get("extractor", 1) != extractor:
                return None
            return Extraction(data["text"], data["status"], data.get("error"), bool(data.get("truncated")))
        except (OSError, ValueError, KeyError, EOFError):
            return None

    def write(self, sha256: str, extraction: Extraction, *, extractor: int = 1) -> None:
        """Cache an extraction, atomically (blocking); a timeout is not kept."""
        if extraction.status == "timeout":
            # A timeout may be the machine's fault, not the file's: let a later pass try again.
            return
        payload = {
            "extractor": extractor,
            "text": extraction.text,
            "status": extraction.status,
            "error": extraction.error,
            "truncated": extraction.truncated,
        }
        data = gzip.compress(json.dumps(payload, ensure_ascii=False).encode(), compresslevel=5, mtime=0)
        path = self._path(sha256)
        # A thread writes one file at a time: with the process id, its id makes the temporary name
        # unique among all writers without asking the file system for a random one.
        temp = path.with_name(f"{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
        try:
            try:
                temp.write_bytes(data)
            except FileNotFoundError:
                path.parent.mkdir(parents=True, exist_ok=True)
                temp.write_bytes(data)
            os.replace(temp, path)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise

    def keys(self, *, older_than: float) -> Iterator[str]:
        """The SHA-256 of every cached text last written before `older_than` (a timestamp; blocking)."""
        if not self.directory.is_dir():
            return
        for path in self.directory.glob("*/*.json.gz"):
            try:
                if path.stat().st_mtime < older_than:
                    yield path.name.removesuffix(".json.gz")
            except FileNotFoundError:
                continue

    def forget(self, sha256: str) -> None:
        """Delete the cached text of these bytes (blocking): the words of a purged document go too."""
        self._path(sha256).unlink(missing_ok=True)

    async def get(self, sha256: str, *, extractor: int | None = None) -> Extraction | None:
        return await anyio.to_thread.run_sync(lambda: self.read(sha256, extractor=extractor))

    async def put(self, sha256: str, extraction: Extraction, *, extractor: int = 1) -> None:
        await anyio.to_thread.run_sync(lambda: self.write(sha256, extraction, extractor=extractor))
