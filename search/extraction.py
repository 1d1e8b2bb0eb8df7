"""Plain text from the bytes of a document, safely: parsing happens in a child process.

The indexer must never crash or stall on one bad file.  So:

* the input is checked against `ExtractionLimits.max_input_bytes` before any
  parsing (streams are spooled to a temporary file in chunks, never held whole);
* parsing runs in a worker process (`search.extract_worker`) with an
  address-space cap; a file that takes longer than `timeout_seconds` gets the
  worker killed and status "timeout", and the next file gets a fresh worker;
* every outcome is an `Extraction` with a status; nothing is raised for a bad file.

Workers are reused between files (starting Python and the parsers for each of
20,000 documents would dominate indexing time).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
from collections import deque
from collections.abc import AsyncIterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any, Literal

import anyio
import anyio.to_thread

from search.extract_worker import TEST_MIME_PREFIX
from search.formats import kind_for, split_mime

ExtractionStatus = Literal["ok", "empty", "unsupported", "failed", "too_large", "timeout"]
Source = str | os.PathLike[str] | bytes | IO[bytes]

_MiB = 1024 * 1024
_CHUNK = _MiB
_STARTUP_TIMEOUT = 60.0
_PACKAGE_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class ExtractionLimits:
    """Bounds on one extraction.  `max_memory_bytes` caps the worker process itself."""

    max_input_bytes: int = 100 * _MiB
    max_output_chars: int = 2_000_000
    timeout_seconds: float = 30.0
    max_memory_bytes: int = 1024 * _MiB
    max_unpacked_bytes: int = 200 * _MiB
    max_email_depth: int = 3
    max_pdf_pages: int = 2000
    #: Files one worker handles before it is replaced (guards against slow leaks in parsers).
    max_files_per_worker: int = 500


DEFAULT_LIMITS = ExtractionLimits()


@dataclass(frozen=True)
class Extraction:
    """The outcome for one file.

    status: "ok" (text found; `truncated` says whether it was cut at the
    output limit), "empty" (readable but no text, e.g. a scanned PDF),
    "unsupported" (no extractor for the MIME type: index metadata only),
    "failed" (damaged or encrypted file), "too_large" (input or unpacked
    size, or memory, over the limits), "timeout".  `error` explains anything
    but a clean "ok"; it never contains document text.
    """

    text: str
    status: ExtractionStatus
    error: str | None = None
    truncated: bool = False


class _Worker:
    """One worker process and the threads that read its output."""

    def __init__(self, memory_bytes: int, test_hooks: bool) -> None:
        command = [sys.executable, "-m", "search.extract_worker", "--memory", str(memory_bytes)]
        if test_hooks:
            command.append("--test-hooks")
        # cwd makes `search` importable in the child exactly as in the parent
        # (for -m, the working directory heads sys.path); paths sent are absolute.
        self.process = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=_PACKAGE_ROOT,
            close_fds=True,
        )
        self.replies: queue.Queue[bytes | None] = queue.Queue()
        self.stderr_tail: deque[str] = deque(maxlen=20)
        self.files = 0
        threading.Thread(target=self._read_replies, name="extract-worker-out", daemon=True).start()
        threading.Thread(target=self._read_stderr, name="extract-worker-err", daemon=True).start()
        ready = self._reply(_STARTUP_TIMEOUT)
        if ready is None or json.loads(ready).get("ready") is not True:
            self.kill()
            raise RuntimeError("the extraction worker did not start: " + " | ".join(self.stderr_tail))

    def _read_replies(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.replies.put(line)
        self.replies.put(None)

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.stderr_tail.append(line.decode("utf-8", errors="replace").rstrip())

    def _reply(self, timeout: float) -> bytes | None:
        try:
            return self.replies.get(timeout=timeout)
        except queue.Empty:
            return None

    def request(self, message: dict[str, Any], timeout: float) -> Extraction:
        self.files += 1
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(message).encode("utf-8") + b"\n")
            self.process.stdin.flush()
        except OSError:
            self.kill()
            return Extraction("", "failed", "the extraction worker is gone")
        try:
            line = self.replies.get(timeout=timeout)
        except queue.Empty:
            self.kill()
            return Extraction("", "timeout", f"extraction took longer than {timeout:g} s")
        if line is None:
            code = self.process.wait()
            return Extraction("", "failed", f"the extraction worker died (exit code {code})")
        reply = json.loads(line)
        return Extraction(
            text=str(reply.get("text", "")),
            status=reply.get("status", "failed"),
            error=reply.get("error"),
            truncated=bool(reply.get("truncated", False)),
        )

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            with contextlib.suppress(OSError):
                if stream is not None:
                    stream.close()

    def stop(self) -> None:
        """Ask the worker to finish (stdin closed), killing it if it does not."""
        with contextlib.suppress(OSError):
            if self.process.stdin is not None:
                self.process.stdin.close()
        try:
            self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            pass
        self.kill()


class Extractor:
    """A pool of extraction workers.  Thread-safe; `extract` blocks, `extract_async` does not.

    `test_hooks` lets tests send ``x-kartoteka-test/sleep|allocate|exit`` to
    simulate a hanging, memory-hungry or crashing parser.
    """

    def __init__(
        self, limits: ExtractionLimits = DEFAULT_LIMITS, *, workers: int = 1, test_hooks: bool = False
    ) -> None:
        self.limits = limits
        self._test_hooks = test_hooks
        self._slots: queue.LifoQueue[_Worker | None] = queue.LifoQueue()
        for _ in range(max(1, workers)):
            self._slots.put(None)
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._closed = False

    def __enter__(self) -> Extractor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop every worker; further calls start new ones."""
        with self._lock:
            workers, self._all = list(self._all), set()
        for worker in workers:
            worker.stop()

    def extract(self, source: Source, mime_type: str, *, limits: ExtractionLimits | None = None) -> Extraction:
        """Extract the text of `source` (a path, bytes, or a binary stream) of `mime_type`.

        Never raises for a bad file: the outcome is in `Extraction.status`.
        The worker's memory cap is this extractor's `limits.max_memory_bytes`;
        the other limits may be overridden per call.
        """
        limits = limits or self.limits
        main, _charset = split_mime(mime_type)
        hooked = self._test_hooks and main.startswith(TEST_MIME_PREFIX)
        if not hooked and kind_for(main) is None:
            return Extraction("", "unsupported", f"no text extractor for {main or 'an unknown type'}")
        try:
            with _materialised(source, limits.max_input_bytes) as path:
                if path is None:
                    return Extraction("", "too_large", f"the file is larger than {limits.max_input_bytes} bytes")
                return self._run({"path": str(path), "mime": mime_type, "limits": _worker_limits(limits)}, limits)
        except OSError as error:
            # The source itself cannot be read (missing file, broken stream).
            return Extraction("", "failed", f"cannot read the file: {error.strerror or error}")

    def _run(self, message: dict[str, Any], limits: ExtractionLimits) -> Extraction:
        worker = self._slots.get()
        try:
            if worker is not None and (not worker.alive or worker.files >= limits.max_files_per_worker):
                self._retire(worker)
                worker = None
            if worker is None:
                worker = self._start()
            result = worker.request(message, limits.timeout_seconds)
            if result.status in ("timeout", "too_large") or not worker.alive:
                # A killed or memory-starved worker is not worth keeping.
                self._retire(worker)
                worker = None
            return result
        except RuntimeError as error:
            return Extraction("", "failed", str(error))
        finally:
            self._slots.put(worker)

    def _start(self) -> _Worker:
        worker = _Worker(self.limits.max_memory_bytes, self._test_hooks)
        with self._lock:
            self._all.add(worker)
        return worker

    def _retire(self, worker: _Worker) -> None:
        with self._lock:
            self._all.discard(worker)
        worker.stop()

    async def extract_async(
        self,
        source: Source | AsyncIterable[bytes],
        mime_type: str,
        *,
        limits: ExtractionLimits | None = None,
    ) -> Extraction:
        """`extract` without blocking the event loop; also accepts an async byte stream (e.g. from storage)."""
        limits = limits or self.limits
        if not isinstance(source, AsyncIterable):
            return await anyio.to_thread.run_sync(lambda: self.extract(source, mime_type, limits=limits))
        if kind_for(split_mime(mime_type)[0]) is None:
            return Extraction("", "unsupported", f"no text extractor for {mime_type or 'an unknown type'}")
        spooled = await _spool_async(source, limits.max_input_bytes)
        if spooled is None:
            return Extraction("", "too_large", f"the file is larger than {limits.max_input_bytes} bytes")
        try:
            return await anyio.to_thread.run_sync(lambda: self.extract(spooled, mime_type, limits=limits))
        finally:
            await anyio.to_thread.run_sync(lambda: _remove_spool(spooled))


def _worker_limits(limits: ExtractionLimits) -> dict[str, int]:
    """The limits the worker enforces itself (time and memory are enforced from outside)."""
    return {
        "max_output_chars": limits.max_output_chars,
        "max_unpacked_bytes": limits.max_unpacked_bytes,
        "max_email_depth": limits.max_email_depth,
        "max_pdf_pages": limits.max_pdf_pages,
    }


@contextlib.contextmanager
def _materialised(source: Source, max_bytes: int) -> Iterator[Path | None]:
    """A file path holding `source`, or None when it is larger than `max_bytes`."""
    if isinstance(source, str | os.PathLike):
        # Absolute for the worker, without resolving links (a system call per path component).
        path = Path(os.path.abspath(source))
        yield None if path.stat().st_size > max_bytes else path
        return
    directory = Path(tempfile.mkdtemp(prefix="kartoteka-extract-"))
    target = directory / "input"
    try:
        with open(target, "wb") as out:
            if isinstance(source, bytes):
                if len(source) > max_bytes:
                    yield None
                    return
                out.write(source)
            else:
                written = 0
                while chunk := source.read(_CHUNK):
                    written += len(chunk)
                    if written > max_bytes:
                        break
                    out.write(chunk)
                if written > max_bytes:
                    yield None
                    return
        yield target
    finally:
        shutil.rmtree(directory, ignore_errors=True)


async def _spool_async(source: AsyncIterable[bytes], max_bytes: int) -> Path | None:
    directory = Path(await anyio.to_thread.run_sync(lambda: tempfile.mkdtemp(prefix="kartoteka-extract-")))
    target = directory / "input"
    written = 0
    async with await anyio.open_file(target, "wb") as out:
        async for chunk in source:
            written += len(chunk)
            if written > max_bytes:
                break
            await out.write(chunk)
    if written > max_bytes:
        await anyio.to_thread.run_sync(lambda: _remove_spool(target))
        return None
    return target


def _remove_spool(path: Path) -> None:
    shutil.rmtree(path.parent, ignore_errors=True)


_shared: dict[int, Extractor] = {}
_shared_lock = threading.Lock()


def _shared_extractor(limits: ExtractionLimits) -> Extractor:
    with _shared_lock:
        extractor = _shared.get(limits.max_memory_bytes)
        if extractor is None:
            extractor = Extractor(replace(limits), workers=1)
            _shared[limits.max_memory_bytes] = extractor
        return extractor


@atexit.register
def _close_shared() -> None:
    with _shared_lock:
        extractors = list(_shared.values())
        _shared.clear()
    for extractor in extractors:
        extractor.close()


def extract_text(source: Source, mime_type: str, *, limits: ExtractionLimits = DEFAULT_LIMITS) -> Extraction:
    """Extract the text of one file with a process-wide shared worker (see `Extractor.extract`)."""
    return _shared_extractor(limits).extract(source, mime_type, limits=limits)


async def extract_text_async(
    source: Source | AsyncIterable[bytes], mime_type: str, *, limits: ExtractionLimits = DEFAULT_LIMITS
) -> Extraction:
    """`extract_text` without blocking the event loop."""
    return await _shared_extractor(limits).extract_async(source, mime_type, limits=limits)
