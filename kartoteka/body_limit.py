"""Request body limits on every route, enforced while the body streams in (not after): its size,
and how long it may go without a byte."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(Exception):
    pass


class BodyStalled(Exception):
    pass


class BodyLimitMiddleware:
    """413 for a declared Content-Length over the limit; a body that grows past it is cut off.

    Uploads (multipart GraphQL requests, staged-upload PUTs) may be as large as the upload limit;
    a GraphQL query is small; nothing else takes a body worth speaking of.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_upload_bytes: int,
        max_query_bytes: int,
        max_other_bytes: int = 64 * 1024,
        idle_seconds: float | None = None,
        max_file_bytes: int | None = None,
    ) -> None:
        self.app = app
        # The file limit users set (KARTOTEKA_MAX_UPLOAD_BYTES), named when an upload's body is
        # refused: max_upload_bytes adds room for the rest of a multipart body.
        self.max_file_bytes = max_file_bytes
        # A body that sends nothing for this long is given up (408): uvicorn itself waits forever,
        # and each such request holds a connection, and an upload its temporary file.
        self.idle_seconds = idle_seconds
        self.max_upload_bytes = max_upload_bytes
        self.max_query_bytes = max_query_bytes
        self.max_other_bytes = max_other_bytes

    def _limit(self, scope: Scope) -> tuple[int, bool]:
        """The body limit of the request, and whether it is an upload's."""
        path: str = scope["path"]
        headers = dict(scope["headers"])
        if path.startswith("/uploads/"):
            return self.max_upload_bytes, True
        if path.startswith("/graphql"):
            content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
            if content_type == b"multipart/form-data":
                return self.max_upload_bytes, True
            return self.max_query_bytes, False
        return self.max_other_bytes, False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if len(scope.get("query_string", b"")) > self.max_query_bytes:
            # A GraphQL GET carries its query in the URL: the same limit as in a body, on every route.
            await self._refuse(
                scope,
                receive,
                send,
                414,
                f"the query string is longer than {self.max_query_bytes} bytes",
                "URI_TOO_LONG",
            )
            return
        limit, upload = self._limit(scope)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse_body(scope, receive, send, limit, upload=upload)
            return
        received = 0
        started = False
        body_done = False

        async def limited_receive() -> Message:
            nonlocal received, body_done
            if body_done or self.idle_seconds is None:
                # After the body only a disconnect comes, whenever it does (a download may be long).
                message = await receive()
            else:
                try:
                    # A deadline on this task, not wait_for's new task per piece of the body.
                    async with asyncio.timeout(self.idle_seconds):
                        message = await receive()
                except TimeoutError:
                    raise BodyStalled() from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                body_done = not message.get("more_body", False)
                if received > limit:
                    raise BodyTooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse_body(scope, receive, send, limit, upload=upload)
        except BodyStalled:
            if not started:
                message = f"no part of the request body came for {self.idle_seconds:g} s"
                await self._refuse(scope, receive, send, 408, message, "REQUEST_TIMEOUT")

    async def _refuse_body(self, scope: Scope, receive: Receive, send: Send, limit: int, *, upload: bool) -> None:
        if upload and self.max_file_bytes is not None:
            message, code = f"the file is larger than the limit of {self.max_file_bytes} bytes", "UPLOAD_TOO_LARGE"
        else:
            message, code = f"the request body is larger than {limit} bytes", "PAYLOAD_TOO_LARGE"
        await self._refuse(scope, receive, send, 413, message, code)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, message: str, code: str) -> None:
        # Shaped like a GraphQL error (clients read `extensions.code`); `code` stays for older clients.
        error = {"message": message, "code": code, "extensions": {"code": code}}
        response: Any = JSONResponse({"errors": [error]}, status_code=status, headers={"Connection": "close"})
        await response(scope, receive, send)
