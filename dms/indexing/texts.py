"""Extracted text, cached by the SHA-256 of the bytes it came from.

Derived data, kept beside the index (never in the database): a metadata change or a rebuild then
re-indexes without parsing the file again, and deleting the cache only costs time. A text read
by older extractors (`EXTRACTORS_VERSION`) is read again from the file, unless the file is gone.
"""

from __future__ import annotations

import gzip
import json
import os
import threading
from pathlib import Path

import anyio

from search.extraction import Extraction
from search.formats import EXTRACTORS_VERSION


class TextCache:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, sha256: str) -> Path:
        return self.directory / sha256[:2] / f"{sha256}.json.gz"

    def read(self, sha256: str, *, outdated_too: bool = False) -> Extraction | None:
        """The cached extraction, or None when there is none, it cannot be read, or (unless
        `outdated_too`) older extractors made it (blocking)."""
        try:
            data = json.loads(gzip.decompress(self._path(sha256).read_bytes()))
            if not outdated_too and data.get("extractors", 1) != EXTRACTORS_VERSION:
                return None
            return Extraction(data["text"], data["status"], data.get("error"), bool(data.get("truncated")))
        except (OSError, ValueError, KeyError, EOFError):
            return None

    def write(self, sha256: str, extraction: Extraction) -> None:
        """Cache an extraction, atomically (blocking); a timeout is not kept."""
        if extraction.status == "timeout":
            # A timeout may be the machine's fault, not the file's: let a later pass try again.
            return
        payload = {
            "extractors": EXTRACTORS_VERSION,
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

    async def get(self, sha256: str, *, outdated_too: bool = False) -> Extraction | None:
        return await anyio.to_thread.run_sync(lambda: self.read(sha256, outdated_too=outdated_too))

    async def put(self, sha256: str, extraction: Extraction) -> None:
        await anyio.to_thread.run_sync(self.write, sha256, extraction)
