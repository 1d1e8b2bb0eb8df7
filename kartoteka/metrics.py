"""Prometheus metrics: GraphQL operations, HTTP requests, bytes moved, indexing backlog, check-outs."""

from __future__ import annotations

import hmac
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator

from graphql import FieldNode, get_operation_ast
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from auth.tokens import parse_authorization
from dms.stats import OperationalStats, operational_stats
from dms.uow import Database
from kartoteka.logs import current_request

log = logging.getLogger("kartoteka.metrics")

# Operation names are chosen by clients: past this many distinct ones, new names are counted as
# "other" so that a client inventing names cannot grow the label set (and the scrape) without bound.
MAX_OPERATION_LABELS = 200
_OPERATION_NAME = re.compile(r"^(anonymous:)?[_A-Za-z][_0-9A-Za-z+]{0,99}$")


class _OperationalStatsCollector(Collector):
    """Gauges read from the database at scrape time (the handler fetches them just before rendering)."""

    def __init__(self) -> None:
        self.latest: OperationalStats | None = None

    def describe(self) -> Iterable[Metric]:
        return []  # nothing to describe before the first scrape; keeps registration from collecting

    def collect(self) -> Iterator[Metric]:
        stats = self.latest
        yield GaugeMetricFamily(
            "kartoteka_database_reachable",
            "1 when the last scrape could read the operational figures from the database, else 0.",
            value=0 if stats is None else 1,
        )
        if stats is None:
            return
        yield GaugeMetricFamily(
            "kartoteka_outbox_depth",
            "Changes waiting for the indexer (rows in the document and directory outboxes).",
            stats.outbox_depth,
        )
        yield GaugeMetricFamily(
            "kartoteka_index_lag_seconds",
            "Age of the oldest change waiting for the indexer; 0 when the outbox is empty.",
            stats.index_lag_seconds,
        )
        yield GaugeMetricFamily(
            "kartoteka_document_locks", "Documents checked out right now (unexpired locks).", stats.active_locks
        )


class Metrics:
    """One process's metrics in a registry of their own (several apps in one process never collide)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self.graphql_operations = Counter(
            "kartoteka_graphql_operations",
            "GraphQL operations by operation name, type (query, mutation) and outcome (ok, error).",
            ["operation", "type", "outcome"],
            registry=self.registry,
        )
        self.graphql_duration = Histogram(
            "kartoteka_graphql_operation_duration_seconds",
            "Time from parsing to result of a GraphQL operation, by operation name.",
            ["operation"],
            registry=self.registry,
        )
        self.http_requests = Counter(
            "kartoteka_http_requests",
            "HTTP requests by route, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.http_duration = Histogram(
            "kartoteka_http_request_duration_seconds",
            "Time to answer an HTTP request, body included, by route.",
            ["route"],
            registry=self.registry,
        )
        self.upload_bytes = Counter(
            "kartoteka_upload_bytes",
            "Bytes received in upload requests (multipart GraphQL requests and staged-upload PUTs).",
            registry=self.registry,
        )
        self.download_bytes = Counter(
            "kartoteka_download_bytes",
            "Bytes of document content sent by the /files/ route (presigned storage redirects not included).",
            registry=self.registry,
        )
        self.operational = _OperationalStatsCollector()
        self.registry.register(self.operational)
        self._operation_labels: set[str] = set()

    def operation_label(self, name: str | None) -> str:
        """The label for a client's operation name: the name itself, within bounds."""
        if not name:
            return "anonymous"
        if not _OPERATION_NAME.match(name):
            return "invalid"
        if name not in self._operation_labels:
            if len(self._operation_labels) >= MAX_OPERATION_LABELS:
                return "other"
            self._operation_labels.add(name)
        return name

    def label_for(self, context: ExecutionContext) -> str:
        """An operation's label: its name, or for an unnamed one `anonymous:` and its root fields."""
        if context.operation_name:
            return self.operation_label(context.operation_name)
        document = context.graphql_document
        operation = get_operation_ast(document) if document is not None else None
        if operation is None:
            return "anonymous"
        # Root field names (not aliases) of a valid document come from the schema; those of an invalid one
        # are bounded by MAX_OPERATION_LABELS like any client-chosen name.
        fields = sorted({s.name.value for s in operation.selection_set.selections if isinstance(s, FieldNode)})
        return self.operation_label("anonymous:" + "+".join(fields)) if fields else "anonymous"

    def graphql_extension(self) -> type[SchemaExtension]:
        """A schema extension that counts and times every operation and names it in the request's logs."""
        metrics = self

        class ObserveOperations(SchemaExtension):
            def on_execute(self) -> Iterator[None]:
                # The document is parsed by now: later log lines of this request name the operation.
                request = current_request()
                if request is not None:
                    request.operation = metrics.label_for(self.execution_context)
                yield

            def on_operation(self) -> Iterator[None]:
                started = time.perf_counter()
                yield
                context = self.execution_context
                name = metrics.label_for(context)
                try:
                    kind = context.operation_type.value
                except Exception:  # no parsable document, or no operation of that name in it
                    kind = "unknown"
                failed = bool(context.pre_execution_errors) or bool(context.result and context.result.errors)
                metrics.graphql_operations.labels(name, kind, "error" if failed else "ok").inc()
                metrics.graphql_duration.labels(name).observe(time.perf_counter() - started)
                request = current_request()
                if request is not None:
                    request.operation = name

        return ObserveOperations


def metrics_endpoint(metrics: Metrics, db: Database, *, token: str | None) -> Callable[[Request], Awaitable[Response]]:
    """`GET /metrics` in the Prometheus text format; with `token`, only for `Authorization: Bearer <token>`."""

    async def endpoint(request: Request) -> Response:
        if token is not None:
            given = parse_authorization(request.headers.get("authorization")) or ""
            if not hmac.compare_digest(given.encode(), token.encode()):
                return PlainTextResponse("metrics need the metrics token", 401, {"WWW-Authenticate": "Bearer"})
        try:
            metrics.operational.latest = await operational_stats(db)
        except Exception as exc:
            # A scrape still answers with what the process knows; the database gauge tells the rest.
            metrics.operational.latest = None
            log.warning("operational figures unavailable", extra={"error": type(exc).__name__})
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return endpoint
