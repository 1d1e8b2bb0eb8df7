"""The extraction worker: a child process that turns files into text, one request at a time.

Started by `search.extraction` as ``python -m search.extract_worker --memory N``.
It caps its own address space (RLIMIT_AS) so a decompression bomb or a
pathological PDF fails with MemoryError instead of starving the machine; the
parent enforces the wall-clock limit by killing it.

Protocol: one JSON object per line.  The worker first writes
``{"ready": true}``; then, for each request ``{"path", "mime", "limits"}`` on
stdin, it writes ``{"status", "text", "error", "truncated"}`` on stdout.  It
exits when stdin closes or its parent goes away.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import threading
import time
from typing import Any, BinaryIO

from search import formats

TEST_MIME_PREFIX = "x-kartoteka-test/"
_MAX_ERROR = 500


def _limit_resources(memory_bytes: int) -> None:
    try:
        import resource
    except ImportError:  # not on POSIX: rely on the parent's timeout alone
        return
    if memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    with contextlib.suppress(OSError):
        # Extraction is background work; requests being served come first.
        os.nice(5)


def _watch_parent() -> None:
    """Exit when the parent dies, even in the middle of a long parse."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _test_hook(mime: str, memory_bytes: int, sink: formats.TextSink) -> None:
    """Simulate misbehaving parsers: hang, eat memory, or crash the process."""
    action = mime.removeprefix(TEST_MIME_PREFIX)
    if action == "sleep":
        time.sleep(3600)
    elif action == "allocate":
        hog = bytearray(max(memory_bytes, 1) * 2)
        sink.add(str(len(hog)))
    elif action == "exit":
        os._exit(3)


def handle(request: dict[str, Any], *, memory_bytes: int = 0, test_hooks: bool = False) -> dict[str, Any]:
    """Extract one file as the request describes; never raises."""
    mime = str(request.get("mime", ""))
    limits = request.get("limits", {})
    sink = formats.TextSink(max_chars=int(limits.get("max_output_chars", 1_000_000)))
    budget = formats.Budget(
        max_unpacked_bytes=int(limits.get("max_unpacked_bytes", 200 * 1024 * 1024)),
        max_email_depth=int(limits.get("max_email_depth", 3)),
        max_pdf_pages=int(limits.get("max_pdf_pages", 2000)),
    )
    status, error = "ok", None
    try:
        if test_hooks and mime.startswith(TEST_MIME_PREFIX):
            _test_hook(mime, memory_bytes, sink)
        else:
            with open(request["path"], "rb") as source:
                formats.extract(source.read(), mime, sink, budget)
    except formats.OutputFull:
        pass
    except formats.TooLarge as exc:
        status, error = "too_large", str(exc)
    except MemoryError:
        status, error = "too_large", "the file needs more memory than extraction may use"
    except RecursionError:
        status, error = "failed", "the file is nested too deeply"
    except formats.ExtractionFailed as exc:
        status, error = "failed", str(exc)
    except Exception as exc:  # a parser choking on a damaged file: record it, keep serving
        status, error = "failed", f"{type(exc).__name__}: {exc}"
    text = sink.text() if status == "ok" else ""
    if status == "ok" and not text.strip():
        status = "empty"
    if sink.truncated and status == "ok":
        error = sink.cut_reason or f"text truncated to {sink.max_chars} characters"
    return {
        "status": status,
        "text": text,
        "error": error[:_MAX_ERROR] if error else None,
        "truncated": sink.truncated,
    }


def _send(out: BinaryIO, message: dict[str, Any]) -> None:
    out.write(json.dumps(message, ensure_ascii=False).encode("utf-8", errors="replace") + b"\n")
    out.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--memory", type=int, default=0, help="address-space cap in bytes (0: none)")
    parser.add_argument("--test-hooks", action="store_true", help="honour x-kartoteka-test/* MIME types")
    args = parser.parse_args(argv)

    # Keep the protocol channel private: anything a library prints goes to stderr.
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    _limit_resources(args.memory)
    _watch_parent()
    _send(out, {"ready": True})
    for line in sys.stdin.buffer:
        try:
            request = json.loads(line)
        except ValueError:
            _send(out, {"status": "failed", "text": "", "error": "malformed request", "truncated": False})
            continue
        _send(out, handle(request, memory_bytes=args.memory, test_hooks=args.test_hooks))
    return 0


if __name__ == "__main__":
    sys.exit(main())
