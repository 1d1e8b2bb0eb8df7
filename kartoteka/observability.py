"""Per-request observation: a request id, the log context, one access line and the HTTP metrics.

The access line names the route template (`/files/{token}/{filename}`), never the path itself:
download and upload paths carry signed tokens, and a query string may carry anything.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from auth.backend import AuthenticatedUser
from kartoteka.logs import request_log_context
from kartoteka.metrics import Metrics

log = logging.getLogger("kartoteka.http")

REQUEST_ID_HEADER = "X-Request-ID"
# A caller's own request id is kept (so a proxy's id ties its logs to ours) if it is a plain token.
_ACCEPTED_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
DOWNLOAD_ROUTE = "/files/{token}/{filename}"
UPLOAD_ROUTE = "/uploads/{token}"
# Probes that run every few seconds: their access lines are DEBUG, not news.
_QUIET_ROUTES = frozenset({"/healthz", "/metrics"})


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            if _ACCEPTED_REQUEST_ID.match(candidate):
                return candidate
    return uuid.uuid4().hex[:16]


def _route(scope: Scope) -> str:
    route = scope.get("route")
    return getattr(route, "path", None) or "unmatched"


def _is_upload(scope: Scope) -> bool:
    if scope["path"].startswith("/uploads/"):
        return True
    for name, value in scope["headers"]:
        if name == b"content-type":
            return value.split(b";")[0].strip().lower() == b"multipart/form-data"
    return False


class ObservabilityMiddleware:
    """Outermost middleware: everything logged inside a request carries its id, user and operation."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        started = time.perf_counter()
        status = 500
        received = 0
        sent = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
            return message

        async def observing_send(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, request_id)
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        with request_log_context(request_id) as context:
            try:
                await self.app(scope, counting_receive, observing_send)
            finally:
                route = _route(scope)
                elapsed = time.perf_counter() - started
                user = scope.get("user")
                if context.user_id is None and isinstance(user, AuthenticatedUser):
                    context.user_id = getattr(user.principal, "user_id", None)
                self.metrics.http_requests.labels(route, scope["method"], str(status)).inc()
                self.metrics.http_duration.labels(route).observe(elapsed)
                if _is_upload(scope):
                    self.metrics.upload_bytes.inc(received)
                if route == DOWNLOAD_ROUTE and scope["method"] == "GET":
                    self.metrics.download_bytes.inc(sent)
                log.log(
                    logging.DEBUG if route in _QUIET_ROUTES and status < 400 else logging.INFO,
                    "request",
                    extra={
                        "method": scope["method"],
                        "route": route,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 1),
                        "request_bytes": received,
                        "response_bytes": sent,
                    },
                )
