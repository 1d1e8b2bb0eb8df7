"""Security headers, CORS, introspection, the CSRF guard and request limits, on every route."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from kartoteka.app import create_app
from kartoteka.security_headers import inline_script_hashes
from tests.api.helpers import create_binder, create_document

# The HTTP layer does not depend on the database backend.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

SECURITY_HEADERS = ("content-security-policy", "x-content-type-options", "referrer-policy", "x-frame-options")


async def client_for(settings: Any, services: Any, **changes: Any) -> httpx.AsyncClient:
    app = create_app(settings.model_copy(update=changes), services=services)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://kartoteka.test")


def assert_secured(response: httpx.Response) -> None:
    for header in SECURITY_HEADERS:
        assert header in response.headers, (response.request.url, response.status_code, header)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"


async def test_every_route_answers_with_the_security_headers(http, alice, settings):
    binder = await create_binder(alice, "Umowy")
    document = await create_document(alice, binder["id"], "Umowa", b"tresc")
    asset = re.search(
        r'src="(/static/graphiql/[^"]+)"', (await http.get("/graphql", headers={"Accept": "text/html"})).text
    )
    assert asset is not None
    responses = [
        await http.post("/graphql", json={"query": "{ __typename }"}),
        await http.get("/graphql", headers={"Accept": "text/html"}),
        await http.get(document["currentVersion"]["downloadUrl"]),
        await http.get("/files/forged/x.txt"),
        await http.put("/uploads/forged", content=b"x"),
        await http.get("/healthz"),
        await http.get(asset.group(1)),
        await http.get("/no-such-route"),
        await http.post("/graphql", content=b"x" * (settings.max_query_bytes + 1)),
    ]
    assert [r.status_code for r in responses] == [200, 200, 200, 403, 403, 503, 200, 404, 413]
    for response in responses:
        assert_secured(response)


async def test_graphiql_runs_under_the_content_security_policy(http):
    page = await http.get("/graphql", headers={"Accept": "text/html"})
    policy = dict(
        (directive.split(" ", 1)[0], directive.split(" ", 1)[1])
        for directive in page.headers["content-security-policy"].split("; ")
    )
    # Every inline script is allowed by its hash, and nothing else inline runs.
    hashes = inline_script_hashes(page.text)
    assert hashes
    for digest in hashes:
        assert digest in policy["script-src"].split()
    assert "'unsafe-inline'" not in policy["script-src"]
    # Every asset comes from the app itself: 'self' is all the policy allows.
    for url in re.findall(r'<(?:script|link)[^>]*\b(?:src|href)="([^"]+)"', page.text):
        assert url.startswith(("/", "data:")), url
    assert policy["connect-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"


async def test_the_content_security_policy_is_one_setting(settings, services):
    async with await client_for(settings, services, content_security_policy="default-src 'none'") as client:
        response = await client.get("/healthz")
    assert response.headers["content-security-policy"] == "default-src 'none'"


async def test_cors_is_closed_by_default(http, alice):
    preflight = await http.options(
        "/graphql",
        headers={
            "Origin": "https://evil.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert "access-control-allow-origin" not in preflight.headers
    simple = await http.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Origin": "https://evil.example", **alice.headers}
    )
    assert "access-control-allow-origin" not in simple.headers


async def preflight(client: httpx.AsyncClient, path: str, method: str, headers: str | None = None) -> httpx.Response:
    """A browser's CORS preflight from the allowed origin."""
    asked = {"Origin": "https://crm.example.com", "Access-Control-Request-Method": method}
    if headers is not None:
        asked["Access-Control-Request-Headers"] = headers
    return await client.options(path, headers=asked)


async def test_cors_opens_for_the_configured_origins_only(settings, services):
    async with await client_for(settings, services, cors_origins=["https://crm.example.com"]) as client:
        allowed = await preflight(client, "/graphql", "POST", "authorization,content-type")
        uploads = [
            await preflight(client, "/graphql", "POST", f"authorization,{header}")
            for header in ("apollo-require-preflight", "x-requested-with", "graphql-preflight")
        ]
        refused = await client.options(
            "/graphql",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        answered = await client.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"Origin": "https://crm.example.com"}
        )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://crm.example.com"
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    assert_secured(allowed)
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    assert answered.headers["access-control-allow-origin"] == "https://crm.example.com"
    assert "x-request-id" in answered.headers["access-control-expose-headers"].lower()
    # A browser app may send any of the CSRF guard's headers with its uploads.
    assert [response.status_code for response in uploads] == [200, 200, 200]


async def test_cors_lets_a_browser_app_put_a_staged_upload_and_read_a_download_in_parts(settings, services):
    origin = {"Origin": "https://crm.example.com"}
    async with await client_for(settings, services, cors_origins=["https://crm.example.com"]) as client:
        put = await preflight(client, "/uploads/some-token", "PUT", "content-type")
        ranged = await preflight(client, "/files/some-token/umowa.pdf", "GET", "range,if-range,if-none-match")
        answered = await client.get("/files/some-token/umowa.pdf", headers=origin)
    assert put.status_code == 200 and "PUT" in put.headers["access-control-allow-methods"]
    assert ranged.status_code == 200
    exposed = answered.headers["access-control-expose-headers"].lower()
    assert all(header in exposed for header in ("content-disposition", "content-range", "etag"))


INTROSPECTION = "{ __schema { queryType { name } } }"


async def test_introspection_is_on_by_default_for_graphiql(http):
    response = await http.post("/graphql", json={"query": INTROSPECTION})
    assert response.json()["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_introspection_can_be_switched_off_for_production(settings, services, alice):
    async with await client_for(settings, services, introspection=False) as client:
        schema = await client.post("/graphql", json={"query": INTROSPECTION})
        typed = await client.post("/graphql", json={"query": '{ __type(name: "Document") { name } }'})
        plain = await client.post("/graphql", json={"query": "{ __typename }"}, headers=alice.headers)
    assert schema.json().get("data") is None
    assert "introspection" in schema.json()["errors"][0]["message"].lower()
    assert typed.json().get("data") is None
    assert plain.json()["data"] == {"__typename": "Query"}


async def test_a_cross_site_form_cannot_run_a_mutation(http, alice):
    """A form on another site can POST urlencoded, multipart or text/plain bodies, or make a GET;
    the browser adds what it holds for the site on its own (cookies, HTTP Basic credentials), but
    never a bearer token."""
    logout = "mutation { logout { userErrors { code } } }"
    multipart = {"data": {"operations": json.dumps({"query": logout}), "map": "{}"}, "files": {"0": ("a.txt", b"a")}}
    ambient = {"Cookie": "session=abc", "Authorization": "Basic YWxpY2U6c2VjcmV0"}
    attempts = [
        await http.post("/graphql", **multipart),
        await http.post("/graphql", **multipart, headers=ambient),
        await http.post("/graphql", data={"query": logout}, headers=alice.headers),
        await http.post(
            "/graphql",
            content=json.dumps({"query": logout}).encode(),
            headers={**alice.headers, "Content-Type": "text/plain"},
        ),
        await http.get("/graphql", params={"query": logout}, headers=alice.headers),
    ]
    assert [400 <= r.status_code < 500 for r in attempts] == [True] * len(attempts), [
        (r.status_code, r.text[:100]) for r in attempts
    ]
    assert [r.json()["errors"][0]["message"] for r in attempts[:2]] == [
        "multipart requests need a bearer token (Authorization: Bearer …) or one of the headers"
        " Apollo-Require-Preflight, X-Requested-With, GraphQL-Preflight (CSRF guard)"
    ] * 2
    assert (await alice.gql("{ me { username } }")).data == {"me": {"username": "alice"}}


async def test_an_api_client_uploads_with_its_bearer_token_and_no_other_header(http, alice):
    """What a plain client of the GraphQL multipart request spec sends (requests, httpx, gql, curl -F)."""
    binder = await create_binder(alice, "Umowy")
    operations = {
        "query": "mutation($input: CreateDocumentInput!) { createDocument(input: $input) {"
        " document { currentVersion { size } } userErrors { code } } }",
        "variables": {"input": {"binderId": binder["id"], "title": "Umowa", "file": None}},
    }
    response = await http.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.input.file"]})},
        files={"0": ("umowa.txt", "Umowa dostawy zażółć".encode())},
        headers={"Authorization": alice.headers["Authorization"]},
    )
    assert response.json()["data"]["createDocument"] == {"document": {"currentVersion": {"size": 24}}, "userErrors": []}


async def test_a_multipart_request_with_a_preflight_header_goes_through(alice):
    binder = await create_binder(alice, "Umowy")
    document = await create_document(alice, binder["id"], "Umowa", b"tresc")
    assert document["currentVersion"]["size"] == 5


def _routes(token_url: str, download_url: str) -> list[tuple[str, str]]:
    return [
        ("POST", "/graphql"),
        ("GET", "/graphql"),
        ("GET", download_url),
        ("PUT", token_url),
        ("GET", "/healthz"),
        ("GET", "/static/graphiql/README.md"),
        ("POST", "/no-such-route"),
    ]


async def staged_upload_url(client) -> str:
    result = await client.gql(
        "mutation($i: RequestUploadInput!) { requestUpload(input: $i) { uploadUrl userErrors { code } } }",
        i={"filename": "a.bin", "size": 10},
    )
    return result.payload("requestUpload")["uploadUrl"]


async def test_every_route_refuses_a_declared_body_over_its_limit(http, alice, settings):
    binder = await create_binder(alice, "Umowy")
    document = await create_document(alice, binder["id"], "Umowa", b"tresc")
    upload_url = await staged_upload_url(alice)
    over = settings.max_upload_bytes + 2 * 1024 * 1024  # above even the multipart allowance
    for method, url in _routes(upload_url, document["currentVersion"]["downloadUrl"]):
        # Only the header is needed: the body is refused before a byte of it is read.
        request = http.build_request(method, url, headers={"Content-Length": str(over)}, content=b"")
        request.headers["Content-Length"] = str(over)
        response = await http.send(request)
        assert response.status_code == 413, (method, url, response.status_code)
        assert_secured(response)


async def chunks(total: int, size: int = 256 * 1024) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        yield b"x" * min(size, total - sent)
        sent += size


async def test_a_streamed_body_is_cut_off_at_the_limit_and_leaves_nothing(http, alice, settings, services):
    upload_url = await staged_upload_url(alice)
    over = settings.max_upload_bytes + 2 * 1024 * 1024
    # No Content-Length: the limit is enforced while the body streams in.
    response = await http.put(upload_url, content=chunks(over))
    assert response.status_code in (400, 413), response.text
    graphql = await http.post(
        "/graphql", content=chunks(settings.max_query_bytes + 1), headers={"Content-Type": "application/json"}
    )
    assert graphql.status_code == 413
    assert [key async for key in services.blobs.keys()] == []
    assert [p for p in (settings.data_dir / "blobs").rglob("*") if p.is_file()] == []


async def test_a_long_query_string_is_refused_on_every_route(settings, services):
    # httpx refuses URLs over 64 KiB itself, so the limit is lowered to show it on every route.
    async with await client_for(settings, services, max_query_bytes=1000) as client:
        for url in ("/graphql", "/healthz", "/files/a/b", "/static/graphiql/README.md"):
            response = await client.get(url, params={"query": "{ __typename }" + " " * 1000})
            assert response.status_code == 414, url
            assert_secured(response)
