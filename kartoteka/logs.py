"""Structured logs: one JSON object a line, never a secret or document text.

Every line written while a request is served carries that request's id, the user's id and the
GraphQL operation name: the request middleware opens a `RequestLogContext`, inner layers fill it in
as they learn who is asking and what, and `RequestContextFilter` copies it onto each record.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# uvicorn adds `color_message`, the same text with terminal colour codes: no use in a JSON line.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime", "color_message"}


@dataclass
class RequestLogContext:
    """What every log line of one request says about it; mutable so inner layers can fill it in."""

    request_id: str
    user_id: int | None = None
    operation: str | None = None


# A mutable holder rather than three variables: what an inner task or coroutine learns (the user, the
# operation) must be visible to the middleware's own access line written after the request.
_current: contextvars.ContextVar[RequestLogContext | None] = contextvars.ContextVar("kartoteka_request", default=None)


def current_request() -> RequestLogContext | None:
    """The log context of the request being served, if any."""
    return _current.get()


@contextmanager
def request_log_context(request_id: str) -> Iterator[RequestLogContext]:
    """Open the log context of one request for the code running inside the block."""
    context = RequestLogContext(request_id=request_id)
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


class RequestContextFilter(logging.Filter):
    """Adds request_id, user_id and operation of the current request to every record that lacks them."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = _current.get()
        if context is not None:
            for key in ("request_id", "user_id", "operation"):
                if getattr(record, key, None) is None:
                    setattr(record, key, getattr(context, key))
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_") and value is not None:
                payload[key] = value
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str, ensure_ascii=False)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    # On the handler, not a logger: handler filters also see records propagated from other loggers.
    handler.addFilter(RequestContextFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Migrations run at every start; their step-by-step chatter is not news.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))
    # The S3 client retries on its own; a failure that matters surfaces as our own error.
    logging.getLogger("urllib3").setLevel(logging.ERROR)
    # aiosqlite's DEBUG lines repeat every SQL statement with its bound parameters: document titles,
    # token digests, password hashes. They never belong in a log, whatever the level.
    logging.getLogger("aiosqlite").setLevel(max(logging.INFO, root.level))
