"""One indexer per index directory, kept by the operating system.

Whoosh allows one writer, and two indexers draining one outbox into one index lose updates
(each writes its own segments; the last to commit its table of contents wins). The lock is an
exclusive `flock` on a file in the index directory, held while the indexer runs: the kernel
drops it when the process ends, however it ends, so a crashed indexer never blocks the next.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO


class IndexerLock:
    def __init__(self, directory: Path, name: str = "indexer.lock") -> None:
        self.path = directory / name
        self._file: IO[str] | None = None

    def try_acquire(self) -> bool:
        """Take the lock if no other process holds it; True when this process holds it now."""
        if self._file is not None:
            return True
        file = self.path.open("a+")
        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.close()
            return False
        file.seek(0)
        file.truncate()
        file.write(f"{os.getpid()}\n")
        file.flush()
        self._file = file
        return True

    def holder(self) -> str:
        """The process id the holder wrote (for messages), or "?"."""
        try:
            return self.path.read_text().strip() or "?"
        except OSError:
            return "?"

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None
