"""The ASGI application factory: wires settings, database, blob store and routes together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.authentication import AuthenticationError
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect, HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match, Mount, Route
from starlette.staticfiles import StaticFiles

from auth.backend import AuthenticatedUser, BearerTokenBackend, TokenCheckUnavailable
from auth.signing import Signer
from auth.tokens import token_digest
from dms.db import check_database, create_engine, is_unavailable
from dms.events.openings import card_openings
from dms.identity import service as identity
from dms.indexing.directory import DirectoryIndexer
from dms.indexing.indexer import Indexer
from dms.indexing.texts import TextCache
from dms.times import use_business_zone
from dms.uow import Database
from kartoteka.body_limit import BodyLimitMiddleware
from kartoteka.graphiql import STATIC_DIR, STATIC_PATH, offline_graphiql_html
from kartoteka.graphql_view import PREFLIGHT_HEADER_NAMES, KartotekaGraphQL
from kartoteka.logs import current_request
from kartoteka.metrics import Metrics, metrics_endpoint
from kartoteka.observability import ObservabilityMiddleware
from kartoteka.security_headers import (
    SecurityHeadersMiddleware,
    content_security_policy,
    inline_script_hashes,
    security_headers,
)
from kartoteka.settings import Settings
from resolvers import files, uploads
from resolvers.context import Limits, Services
from schema.schema import build_schema
from search import lemmas, sgjp
from search.directory import DirectoryIndexes
from search.engine import open_engine
from search.extraction import Extractor
from search.service import AsyncSearchEngine
from storage.base import BlobStore
from storage.factory import open_blob_store

log = logging.getLogger("kartoteka.app")

# Multipart framing and the other fields of an upload request on top of the file itself.
MULTIPART_OVERHEAD = 1024 * 1024


def build_services(settings: Settings, *, blobs: BlobStore | None = None) -> Services:
    """The process-wide collaborators; raises ValueError with one line for a bad setting."""
    use_business_zone(settings.time_zone)
    engine = create_engine(settings.resolved_database_url)
    if blobs is None and settings.storage_url is None:
        # The embedded default owns its blob directory; a configured one must already exist.
        (settings.data_dir / "blobs").mkdir(parents=True, exist_ok=True)
    if blobs is None:
        blobs = open_blob_store(
            settings.resolved_storage_url,
            s3_endpoint=settings.s3_endpoint,
            s3_access_key=settings.s3_access_key,
            s3_secret_key=settings.s3_secret_key,
            s3_secure=settings.s3_secure,
            s3_region=settings.s3_region,
            s3_public_endpoint=settings.s3_public_endpoint,
        )
    secret = settings.resolved_secret_key()
    return Services(
        db=Database(engine),
        blobs=blobs,
        download_signer=Signer(secret, "download"),
        upload_signer=Signer(secret, "upload"),
        public_url=settings.public_url,
        limits=Limits(
            max_upload_bytes=settings.max_upload_bytes,
            max_page_size=settings.max_page_size,
            default_page_size=settings.default_page_size,
            lock_ttl=settings.lock_ttl,
            token_ttl_seconds=settings.token_ttl_seconds,
            download_url_ttl_seconds=settings.download_url_ttl_seconds,
            staged_upload_ttl_seconds=settings.staged_upload_ttl_seconds,
            redirect_downloads=settings.download_redirect_to_storage,
            login_max_failures=settings.login_max_failures,
            login_window_seconds=settings.login_window_seconds,
        ),
    )


def build_search(settings: Settings, services: Services, *, writer: bool) -> Indexer | None:
    """Open the index (for writing when this process runs the indexer) and, if so, the indexer."""
    index_dir = settings.resolved_index_dir
    index_dir.mkdir(parents=True, exist_ok=True)
    engine = AsyncSearchEngine(open_engine(index_dir / "whoosh", writable=writer))
    services.search = engine
    services.directory = DirectoryIndexes.open(index_dir / "directory", writable=writer)
    if not writer:
        return None
    return Indexer(
        db=services.db,
        blobs=services.blobs,
        engine=engine,
        extractor=Extractor(workers=settings.extraction_workers),
        texts=TextCache(index_dir / "texts"),
        directory=DirectoryIndexer(services.db, services.directory),
    )


async def client_disconnected(_request: Request, _exc: Exception) -> Response:
    """A client that goes away while sending its body (a cancelled upload) is no failure of ours:
    nothing was stored, and there is nobody left to answer; the access log shows the 400."""
    log.info("the client disconnected before its request body was complete")
    return JSONResponse({"error": "the request body was not received whole"}, status_code=400)


def _authentication_failed(connection: HTTPConnection, error: AuthenticationError) -> Response:
    """A token that could not be checked: GraphQL clients read JSON errors, with a code to act on."""
    # Answered before routing: name the route for the access line and metrics all the same, or
    # a database outage would count under "unmatched" rather than the route it hit.
    for route in connection.scope["app"].routes:
        if route.matches(connection.scope)[0] == Match.FULL:
            connection.scope["route"] = route
            break
    if isinstance(error, TokenCheckUnavailable):
        log.warning("a token could not be checked: the database is unavailable")
        request = current_request()
        body = {
            "message": "the database is unavailable; try again shortly",
            "extensions": {"code": "DATABASE_UNAVAILABLE", "requestId": request.request_id if request else None},
        }
        return JSONResponse({"errors": [body]}, status_code=503, headers={"Retry-After": "5"})
    return JSONResponse({"errors": [{"message": str(error)}]}, status_code=400)


#: How often a server that only reads the index tries to take over writing it.
TAKE_OVER_POLL_SECONDS = 2.0


#: How long /healthz waits for the file store (the database check has its own 10 s).
HEALTH_CHECK_SECONDS = 5.0


def _index_report(ok: bool, note: str | None) -> dict[str, Any]:
    """An index's part of /healthz: a stale one (another version's) answers, with a note."""
    if note is None:
        return {"ok": ok}
    return {"ok": ok, "error" if not ok else "note": note}


def create_app(
    settings: Settings,
    *,
    services: Services | None = None,
    indexer: Indexer | None = None,
    take_over: Callable[[], Indexer | None] | None = None,
) -> Starlette:
    """The ASGI app. With `indexer`, it also drains the outbox while it runs (the embedded default).

    With `take_over` instead (another process wrote the index when it started), it tries that
    now and then, in a worker thread, and runs the indexer it returns once it returns one.
    """
    services = services or build_services(settings)

    async def resolve_token(token: str) -> AuthenticatedUser | None:
        try:
            async with services.db.sessions() as session:
                actor = await identity.actor_for_token(session, token)
        except Exception as exc:
            if is_unavailable(exc):
                raise TokenCheckUnavailable("the database is unavailable") from exc
            raise
        if actor is None:
            return None
        return AuthenticatedUser(actor, actor.username, token_digest(token))

    metrics = Metrics()
    graphql = KartotekaGraphQL(
        build_schema(
            max_depth=settings.max_query_depth,
            max_tokens=settings.max_query_tokens,
            max_cost=settings.max_query_cost,
            default_page_size=settings.default_page_size,
            max_page_size=settings.max_page_size,
            introspection=settings.introspection,
            observers=[metrics.graphql_extension()],
        ),
        services=services,
        multipart_uploads_enabled=True,
        graphql_ide="graphiql",
    )

    # The embedded indexer's loop, while the app runs one: health reports it when it has ended.
    running: dict[str, asyncio.Task[None]] = {}

    storage_check: list[asyncio.Task[None]] = []

    async def check_storage() -> None:
        """The store's check, bounded: an endpoint that stops answering (rather than refusing)
        would hold the probe for the SDK's read timeout. A check still running from an earlier
        probe is waited for again instead of starting another thread."""
        if not storage_check or storage_check[0].done():
            storage_check[:] = [asyncio.ensure_future(services.blobs.check(create=False))]
            # Its failure is reported by whichever probe waits for it; one none waits for is dropped.
            storage_check[0].add_done_callback(lambda task: task.cancelled() or task.exception())
        try:
            await asyncio.wait_for(asyncio.shield(storage_check[0]), HEALTH_CHECK_SECONDS)
        except TimeoutError:
            raise TimeoutError(f"the file store did not answer within {HEALTH_CHECK_SECONDS:g} s") from None

    async def healthz(_request: Request) -> Response:
        report: dict[str, Any] = {}
        healthy = True
        for name, check in (
            ("database", check_database(services.db.engine)),
            ("storage", check_storage()),
        ):
            try:
                await check
                report[name] = {"ok": True}
            except Exception as exc:
                healthy = False
                report[name] = {
                    "ok": False,
                    "error": str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
                }
        search = services.search
        if search is None:
            report["index"] = {"ok": False, "error": "search is not configured"}
        else:
            report["index"] = _index_report(*await search.health())
        if services.directory is not None:
            # The counterparty and event indexes: searchCounterparties / searchEvents answer from them.
            kinds = {kind: await index.health() for kind, index in services.directory.each()}
            report["directory_indexes"] = {
                "ok": all(ok for ok, _ in kinds.values()),
                **{kind: ok for kind, (ok, _) in kinds.items()},
                **{f"{kind}_note": note for kind, (_, note) in kinds.items() if note},
            }
        if (task := running.get("indexer")) is not None:
            # It outlives failures (it retries), so an ended loop is a bug: nothing gets indexed.
            report["indexer"] = {"ok": not task.done()}
        parts = ("index", "directory_indexes", "indexer")
        healthy = healthy and all(report[part]["ok"] for part in parts if part in report)
        return JSONResponse({"ok": healthy, **report}, status_code=200 if healthy else 503)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        stop = asyncio.Event()
        # Before the first request, not in it: the first start on a machine compiles the Polish
        # dictionary (about 25 s); every later one loads it in a few hundredths of a second.
        await anyio.to_thread.run_sync(lemmas.load)
        await anyio.to_thread.run_sync(sgjp.load)
        working: list[Indexer] = []

        def start(worker: Indexer) -> None:
            working.append(worker)
            running["indexer"] = asyncio.create_task(worker.run(poll_seconds=settings.indexer_poll_seconds, stop=stop))
            services.on_commit = worker.wake

        async def stand_by(take: Callable[[], Indexer | None]) -> None:
            # Else nobody would drain the outbox once the other indexer stopped, until a restart.
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), TAKE_OVER_POLL_SECONDS)
                if stop.is_set():
                    return
                if (worker := await anyio.to_thread.run_sync(take)) is not None:
                    log.warning("took over the search index", extra={"index": str(settings.resolved_index_dir)})
                    start(worker)
                    return

        if indexer is not None:
            start(indexer)
        standby = asyncio.create_task(stand_by(take_over)) if indexer is None and take_over is not None else None
        try:
            yield
        finally:
            stop.set()
            if standby is not None:
                await standby
            if (task := running.get("indexer")) is not None:
                await task
            for worker in working:
                await anyio.to_thread.run_sync(worker.extractor.close)
            if services.search is not None:
                await services.search.close()
            if services.directory is not None:
                await services.directory.close()
            # "Card opened" events are buffered off the read path: write the last ones down.
            await card_openings(services.db).drain()
            await services.blobs.close()
            await services.db.engine.dispose()

    middleware = [
        Middleware(
            BodyLimitMiddleware,
            max_upload_bytes=settings.max_upload_bytes + MULTIPART_OVERHEAD,
            max_file_bytes=settings.max_upload_bytes,
            max_query_bytes=settings.max_query_bytes,
            idle_seconds=settings.body_idle_timeout_seconds,
        ),
        Middleware(
            AuthenticationMiddleware, backend=BearerTokenBackend(resolve_token), on_error=_authentication_failed
        ),
    ]
    if settings.cors_origins:
        middleware.insert(
            0,
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                # PUT: the bytes of a staged upload to the uploadUrl requestUpload hands out.
                allow_methods=["GET", "HEAD", "POST", "PUT", "OPTIONS"],
                # The CSRF guard's three headers (kartoteka.graphql_view.PREFLIGHT_HEADERS), each usable;
                # a download's conditional and partial requests.
                allow_headers=[
                    "Authorization",
                    "Content-Type",
                    "X-Request-ID",
                    *PREFLIGHT_HEADER_NAMES,
                    "Range",
                    "If-Range",
                    "If-None-Match",
                ],
                # What a script needs of a download (a type, a length, the ETag are readable anyway).
                expose_headers=["X-Request-ID", "Content-Disposition", "Content-Range", "Content-Length", "ETag"],
            ),
        )
    # Outside CORS and the body limit, so their own answers (preflights, 413) carry the headers too.
    csp = settings.content_security_policy or content_security_policy(inline_script_hashes(offline_graphiql_html()))
    middleware.insert(0, Middleware(SecurityHeadersMiddleware, headers=security_headers(csp)))
    # Outermost, so every other layer's log lines carry the request id and the access line sees all.
    middleware.insert(0, Middleware(ObservabilityMiddleware, metrics=metrics))
    metrics_routes = (
        [Route("/metrics", metrics_endpoint(metrics, services.db, token=settings.metrics_token), methods=["GET"])]
        if settings.metrics_enabled
        else []
    )
    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/files/{token}/{filename}", files.download, methods=["GET", "HEAD"]),
            Route("/uploads/{token}", uploads.receive, methods=["PUT"]),
            Route("/healthz", healthz, methods=["GET"]),
            *metrics_routes,
            Mount(STATIC_PATH, StaticFiles(directory=STATIC_DIR), name="graphiql-static"),
        ],
        middleware=middleware,
        exception_handlers={ClientDisconnect: client_disconnected},
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.settings = settings
    app.state.metrics = metrics
    return app
