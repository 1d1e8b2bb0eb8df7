"""The GraphQL HTTP endpoint: Strawberry's ASGI view with our context, CSRF guard and media types."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

from cross_web import HTTPException
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from auth.backend import AuthenticatedUser
from kartoteka.graphiql import offline_graphiql_html
from kartoteka.logs import current_request
from resolvers.context import RequestContext, Services
from resolvers.loaders import Loaders
from resolvers.received_form import ReceivingRequestAdapter, close_form
from resolvers.upload_map import UploadMapError, place_files

GRAPHQL_RESPONSE = "application/graphql-response+json"
# A multipart request must carry one of these, or a bearer token: a browser cannot send any of
# them cross-site without a CORS preflight, so a form on another site cannot post uploads with
# the victim's credentials. (A bearer token is never attached by the browser on its own, unlike
# cookies or HTTP Basic credentials; every upload needs one, so API clients pass as they are.)
PREFLIGHT_HEADER_NAMES = ("Apollo-Require-Preflight", "X-Requested-With", "GraphQL-Preflight")
PREFLIGHT_HEADERS = tuple(name.lower() for name in PREFLIGHT_HEADER_NAMES)


def _could_come_from_a_form(request: Request) -> bool:
    """Whether a page on another site could have made the browser send this request as it is."""
    if any(header in request.headers for header in PREFLIGHT_HEADERS):
        return False
    scheme, _, _ = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() != "bearer"


class KartotekaGraphQL(GraphQL):
    # Multipart forms: files hashed as they are received (storing them then reads them once).
    request_adapter_class = ReceivingRequestAdapter

    def __init__(self, *args: Any, services: Services, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.services = services

    async def get_context(self, request: Request | WebSocket, response: Any) -> RequestContext:  # type: ignore[override]
        user = request.scope.get("user")
        actor = user.principal if isinstance(user, AuthenticatedUser) else None
        if actor is not None and request.client is not None:
            actor = dataclasses.replace(actor, address=request.client.host)
        logged = current_request()
        if logged is not None and actor is not None:
            logged.user_id = actor.user_id
        context = RequestContext(services=self.services, request=request, actor=actor)  # type: ignore[arg-type]
        if logged is not None:
            context.request_id = logged.request_id  # one id in the logs, the response header and error payloads
        context.loaders = Loaders(self.services.db, actor)
        return context

    async def render_graphql_ide(self, request: Request) -> Response:
        # Strawberry's page loads its scripts from a CDN; ours come from /static/graphiql (works offline).
        return HTMLResponse(offline_graphiql_html(request.scope.get("root_path", "")))

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            refusal = self._refuse(Request(scope, receive))
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    def _refuse(self, request: Request) -> Response | None:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type == "multipart/form-data" and _could_come_from_a_form(request):
            return request_error(
                400,
                "multipart requests need a bearer token (Authorization: Bearer …) or one of the headers"
                f" {', '.join(PREFLIGHT_HEADER_NAMES)} (CSRF guard)",
            )
        return None

    async def run(self, request: Any, **kwargs: Any) -> Response:  # type: ignore[override]
        try:
            response = await super().run(request, **kwargs)
        except HTTPException as exc:
            # Strawberry answers these in plain text; a GraphQL client reads JSON errors.
            response = request_error(exc.status_code, exc.reason)
        except StarletteHTTPException as exc:  # the multipart reader's refusals
            response = request_error(exc.status_code, exc.detail)
        finally:
            form = getattr(request.state, "received_form", None) if isinstance(request, Request) else None
            if form is not None:
                await close_form(form)
        if isinstance(request, Request) and GRAPHQL_RESPONSE in request.headers.get("accept", ""):
            return _as_graphql_response(response)
        return response

    async def parse_multipart(self, request: Any) -> dict[str, Any]:
        try:
            form = await request.get_form_data()
        except ValueError as exc:
            raise HTTPException(400, "Unable to parse the multipart body") from exc
        received = form.form
        for part in ("operations", "map"):
            count = len(received.getlist(part))
            if count != 1:
                missing = f"has no {part!r} part" if count == 0 else f"has {count} parts named {part!r}"
                raise HTTPException(400, f"the multipart request {missing} (GraphQL multipart request spec)")
        operations, files_map = received["operations"], received["map"]
        if not isinstance(operations, str | bytes) or not isinstance(files_map, str | bytes):
            raise HTTPException(400, "the operations and the map are text parts of the form")
        try:
            placement = json.loads(files_map)
        except (ValueError, RecursionError) as exc:
            raise HTTPException(400, f"the map part is not JSON: {exc}") from exc
        if _has_lone_surrogate(placement):
            raise HTTPException(400, "the map holds text that is not valid Unicode (a lone surrogate escape)")
        if isinstance(placement, dict):
            for name in placement:
                if len(received.getlist(name)) > 1:
                    raise HTTPException(400, f"the multipart request has several parts named {name!r}")
        files = {name: value for name, value in form.files.items() if isinstance(value, UploadFile)}
        try:
            return place_files(self.parse_json(operations), placement, files)
        except UploadMapError as exc:
            raise HTTPException(400, str(exc)) from exc

    def parse_json(self, data: str | bytes) -> Any:
        try:
            parsed = super().parse_json(data)
        except RecursionError as exc:
            raise HTTPException(400, "the JSON body is nested too deeply") from exc
        except UnicodeDecodeError as exc:
            raise HTTPException(400, "the body is not UTF-8 text (a compressed body is not accepted)") from exc
        except ValueError as exc:
            # json.loads refuses an integer of over 4,300 digits (Python's conversion limit).
            raise HTTPException(400, f"Unable to parse request body as JSON: {exc}") from exc
        if isinstance(parsed, list):
            raise HTTPException(400, "batched operations are not accepted: send one operation per request")
        if not isinstance(parsed, dict):
            raise HTTPException(400, "a GraphQL request body is a JSON object with a query")
        if _has_lone_surrogate(parsed):
            # JSON may escape half of a UTF-16 pair ("\\ud800"); no database or file can store it.
            raise HTTPException(400, "the request holds text that is not valid Unicode (a lone surrogate escape)")
        return parsed

    def encode_json(self, data: object) -> str:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


_SURROGATE = re.compile("[\ud800-\udfff]")


def _has_lone_surrogate(value: Any) -> bool:
    # json.loads joins escaped surrogate pairs into one character: any surrogate left is alone.
    # Walked with a stack, not recursion: a body may nest lists hundreds deep.
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item) is not None:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def request_error(status: int, message: str) -> JSONResponse:
    """A request refused before it ran, as GraphQL over HTTP has it: a 4xx with the errors in JSON."""
    return JSONResponse({"errors": [{"message": message}]}, status_code=status)


def _as_graphql_response(response: Response) -> Response:
    """GraphQL over HTTP: a request that never executed (parse, validation) is a 4xx in the new media type."""
    if response.media_type != "application/json" or not isinstance(response.body, bytes | memoryview):
        return response
    try:
        payload = json.loads(bytes(response.body))
    except ValueError:
        return response
    status = response.status_code
    never_executed = (
        isinstance(payload, dict)
        and payload.get("data") is None
        and payload.get("errors")
        and all("path" not in error for error in payload["errors"])
    )
    if status == 200 and never_executed:
        status = 400
    headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-type")}
    return Response(bytes(response.body), status_code=status, headers=headers, media_type=GRAPHQL_RESPONSE)
