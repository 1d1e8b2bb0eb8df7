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
from typing import Any

import anyio

from search.extraction import Extraction

#: Extractions of the same bytes that time out before a timeout is the answer kept. Once may be
#: the machine's fault (a busy moment); after that, every metadata change of the document would
#: hold up the indexer for the whole timeout again (anyone's edits could keep it busy).
TIMEOUT_ATTEMPTS = 2


class TextCache:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, sha256: str) -> Path:
        return self.directory / sha256[:2] / f"{sha256}.json.gz"

    def read(self, sha256: str, *, extractor: int | None = None) -> Extraction | None:
        """The cached extraction, or None when there is none, it cannot be read, another version
        of the extractor than `extractor` made it (None: any version will do), or it timed out
        fewer than `TIMEOUT_ATTEMPTS` times (blocking)."""
        data = self._load(sha256)
        if data is None or (extractor is not None and data.get("extractor", 1) != extractor):
            return None
        if data["status"] == "timeout" and data.get("attempts", 1) < TIMEOUT_ATTEMPTS:
            return None
        return Extraction(data["text"], data["status"], data.get("error"), bool(data.get("truncated")))

    def _load(self, sha256: str) -> dict[str, Any] | None:
        try:
            data = json.loads(gzip.decompress(self._path(sha256).read_bytes()))
            if not isinstance(data, dict) or not isinstance(data.get("text"), str) or "status" not in data:
                return None
            return data
        except (OSError, ValueError, EOFError):
            return None

    def write(self, sha256: str, extraction: Extraction, *, extractor: int = 1) -> None:
        """Cache an extraction, atomically (blocking); a timeout with the count of them so far."""
        payload: dict[str, Any] = {
            "extractor": extractor,
            "text": extraction.text,
            "status": extraction.status,
            "error": extraction.error,
            "truncated": extraction.truncated,
        }
        if extraction.status == "timeout":
            earlier = self._load(sha256)
            # Only the same extractor's timeouts count: a new one gets its own tries.
            timed_out = (
                earlier is not None and earlier["status"] == "timeout" and earlier.get("extractor", 1) == extractor
            )
            payload["attempts"] = int(earlier.get("attempts", 1)) + 1 if earlier and timed_out else 1
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
