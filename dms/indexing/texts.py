"""Extracted text, cached by the SHA-256 of the bytes it came from.

Derived data, kept beside the index (never in the database): a metadata change or a rebuild then
re-indexes without parsing the file again, and deleting the cache only costs time.
"""

from __future__ import annotations

import gzip
import json
import os
import tempfile
from pathlib import Path

import anyio

from search.extraction import Extraction


class TextCache:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, sha256: str) -> Path:
        return self.directory / sha256[:2] / f"{sha256}.json.gz"

    def _read(self, sha256: str) -> Extraction | None:
        try:
            with gzip.open(self._path(sha256), "rt", encoding="utf-8") as handle:
                data = json.load(handle)
            return Extraction(data["text"], data["status"], data.get("error"), bool(data.get("truncated")))
        except (OSError, ValueError, KeyError, EOFError):
            return None

    def _write(self, sha256: str, extraction: Extraction) -> None:
        path = self._path(sha256)
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "text": extraction.text,
            "status": extraction.status,
            "error": extraction.error,
            "truncated": extraction.truncated,
        }
        fd, temp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=5) as out:
                out.write(json.dumps(payload, ensure_ascii=False).encode())
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    async def get(self, sha256: str) -> Extraction | None:
        return await anyio.to_thread.run_sync(self._read, sha256)

    async def put(self, sha256: str, extraction: Extraction) -> None:
        # A timeout may be the machine's fault, not the file's: let a later pass try again.
        if extraction.status != "timeout":
            await anyio.to_thread.run_sync(self._write, sha256, extraction)
