"""/metrics as Prometheus scrapes it: operations by name, bytes moved, indexing backlog, check-outs."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from kartoteka.app import create_app
from kartoteka.metrics import MAX_OPERATION_LABELS, Metrics
from kartoteka.settings import Settings
from tests.api.helpers import create_binder, create_document
from tests.conftest import drain

CONTENT = "Protokół odbioru nr 12/2026 — zażółć gęślą jaźń.\n".encode() * 40


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def scrape(http: httpx.AsyncClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = await http.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return samples(response.text)


def value(scraped: dict, name: str, **labels: str) -> float:
    return scraped.get((name, frozenset(labels.items())), 0.0)


async def test_operations_bytes_backlog_and_locks_are_counted(alice, http, indexer):
    binder = await create_binder(alice, "Protokoły")
    document = await create_document(alice, binder["id"], "Protokół odbioru", CONTENT)
    before = await scrape(http)
    assert value(before, "kartoteka_outbox_depth") >= 1
    assert value(before, "kartoteka_index_lag_seconds") >= 0
    assert value(before, "kartoteka_database_reachable") == 1
    assert value(before, "kartoteka_upload_bytes_total") > len(CONTENT)  # the file plus its multipart framing

    checked_out = await alice.gql(
        "mutation CheckOutProtocol($id: ID!) { checkOutDocument(input: {documentId: $id}) { userErrors { code } } }",
        id=document["id"],
    )
    assert checked_out.payload("checkOutDocument")["userErrors"] == []
    download = await http.get(document["currentVersion"]["downloadUrl"])
    assert download.content == CONTENT
    await drain(indexer)

    after = await scrape(http)
    assert value(after, "kartoteka_document_locks") == 1
    assert value(after, "kartoteka_outbox_depth") == 0
    assert value(after, "kartoteka_index_lag_seconds") == 0
    assert value(after, "kartoteka_download_bytes_total") == len(CONTENT)
    operation = {"operation": "CheckOutProtocol", "type": "mutation", "outcome": "ok"}
    assert value(after, "kartoteka_graphql_operations_total", **operation) == 1
    assert value(after, "kartoteka_graphql_operation_duration_seconds_count", operation="CheckOutProtocol") == 1
    # An unnamed operation is known by its root fields.
    unnamed = {"operation": "anonymous:createBinder", "type": "mutation", "outcome": "ok"}
    assert value(after, "kartoteka_graphql_operations_total", **unnamed) == 1
    download_route = {"route": "/files/{token}/{filename}", "method": "GET", "status": "200"}
    assert value(after, "kartoteka_http_requests_total", **download_route) == 1

    cancelled = await alice.gql(
        "mutation($id: ID!) { cancelCheckOut(input: {documentId: $id}) { userErrors { code } } }", id=document["id"]
    )
    assert cancelled.payload("cancelCheckOut")["userErrors"] == []
    assert value(await scrape(http), "kartoteka_document_locks") == 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_failed_operation_is_counted_as_an_error(alice, http):
    await alice.gql("query Broken { noSuchField }")
    scraped = await scrape(http)
    assert value(scraped, "kartoteka_graphql_operations_total", operation="Broken", type="query", outcome="error") == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_response_carries_the_request_id_and_keeps_a_plain_one_from_the_caller(http):
    fresh = await http.get("/healthz")
    assert len(fresh.headers["x-request-id"]) == 16
    kept = await http.get("/healthz", headers={"X-Request-ID": "proxy-1234.abc"})
    assert kept.headers["x-request-id"] == "proxy-1234.abc"
    replaced = await http.get("/healthz", headers={"X-Request-ID": "two words <script>"})
    assert len(replaced.headers["x-request-id"]) == 16  # not a plain token: replaced by our own


def test_invented_operation_names_cannot_grow_the_label_set_without_bound():
    metrics = Metrics()
    names = [metrics.operation_label(f"Operation{i}") for i in range(MAX_OPERATION_LABELS + 5)]
    assert names[:MAX_OPERATION_LABELS] == [f"Operation{i}" for i in range(MAX_OPERATION_LABELS)]
    assert set(names[MAX_OPERATION_LABELS:]) == {"other"}
    assert metrics.operation_label("Operation3") == "Operation3"  # a known name stays itself
    assert metrics.operation_label(None) == "anonymous"
    assert metrics.operation_label("not a name") == "invalid"


async def _get_metrics(settings: Settings, services, headers: dict[str, str] | None = None) -> httpx.Response:
    app = create_app(settings, services=services)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.9", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://kartoteka.test") as client:
        return await client.get("/metrics", headers=headers or {})


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_metrics_can_be_switched_off(settings, services):
    assert (await _get_metrics(settings.model_copy(update={"metrics_enabled": False}), services)).status_code == 404


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_with_a_metrics_token_a_scrape_must_present_it(settings, services):
    protected = settings.model_copy(update={"metrics_token": "scrape-secret-123"})
    assert (await _get_metrics(protected, services)).status_code == 401
    wrong = await _get_metrics(protected, services, {"Authorization": "Bearer scrape-secret-124"})
    assert wrong.status_code == 401
    right = await _get_metrics(protected, services, {"Authorization": "Bearer scrape-secret-123"})
    assert right.status_code == 200 and "kartoteka_outbox_depth" in right.text


async def test_the_backlog_counts_counterparty_cards_waiting_for_their_index(admin, http, indexer):
    await drain(indexer)
    assert value(await scrape(http), "kartoteka_outbox_depth") == 0

    created = await admin.gql('mutation { createCounterparty(input: {name: "Hurtownia Żak"}) { userErrors { code } } }')
    assert created.payload("createCounterparty")["userErrors"] == []

    assert value(await scrape(http), "kartoteka_outbox_depth") >= 1
    await drain(indexer)
    assert value(await scrape(http), "kartoteka_outbox_depth") == 0
