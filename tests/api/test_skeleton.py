"""The walking skeleton: the endpoint answers, refuses bad input clearly, and keeps its schema file."""

from __future__ import annotations

from strawberry.extensions.validation_cache import _get_validate_cache

from schema.schema import QUERY_CACHE_SIZE, SCHEMA_FILE, schema_sdl
from tests.api.helpers import me_id


async def test_typename_answers_without_logging_in(anonymous):
    result = await anonymous.gql("{ __typename }")
    assert result.status == 200
    assert result.data == {"__typename": "Query"}


async def test_anonymous_request_for_data_is_refused_as_unauthenticated(anonymous):
    result = await anonymous.gql("{ documents { totalCount } }")
    assert result.error_codes == ["UNAUTHENTICATED"]


async def test_graphiql_is_served_to_a_browser(http):
    response = await http.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_healthz_reports_each_backend(http, indexer):
    from tests.conftest import drain

    before = await http.get("/healthz")
    assert before.status_code == 503
    assert before.json()["index"]["ok"] is False
    assert before.json()["directory_indexes"]["ok"] is False
    await drain(indexer)
    response = await http.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["database"]["ok"] and body["storage"]["ok"] and body["index"]["ok"]
    assert body["directory_indexes"] == {"ok": True, "counterparties": True, "events": True}


async def test_an_index_built_by_another_version_answers_and_healthz_says_so_without_failing(
    http, indexer, services, monkeypatch
):
    from tests.conftest import drain

    await drain(indexer)
    # As after an upgrade: this server's analysis is newer than the index's, until the indexer rebuilds it.
    monkeypatch.setattr(services.search.engine, "schema_version", services.search.engine.schema_version + 1)

    response = await http.get("/healthz")

    assert response.status_code == 200
    index = response.json()["index"]
    assert index["ok"] is True and "another version" in index["note"]
    assert await services.search.needs_rebuild()


async def test_a_file_store_that_stops_answering_fails_healthz_in_bounded_time(http, services, monkeypatch):
    import asyncio

    import kartoteka.app

    checks: list[str] = []

    async def hanging(**_options: object) -> None:
        checks.append("check")
        await asyncio.Event().wait()  # as an endpoint that accepts and never answers

    monkeypatch.setattr(kartoteka.app, "HEALTH_CHECK_SECONDS", 0.1)
    monkeypatch.setattr(services.blobs, "check", hanging)

    first, second = await http.get("/healthz"), await http.get("/healthz")

    for response in (first, second):
        assert response.status_code == 503
        assert "did not answer" in response.json()["storage"]["error"]
    assert checks == ["check"]  # the second probe waits for the first's check, starts none


async def test_malformed_json_is_a_4xx(http):
    response = await http.post("/graphql", content=b"{not json", headers={"Content-Type": "application/json"})
    assert 400 <= response.status_code < 500


async def test_a_parse_error_is_400_for_clients_accepting_graphql_response_json(http):
    response = await http.post(
        "/graphql",
        json={"query": "{ __typename "},
        headers={"Accept": "application/graphql-response+json"},
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/graphql-response+json")


async def test_a_parse_error_stays_200_for_plain_json_clients(http):
    response = await http.post("/graphql", json={"query": "{ __typename "}, headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.json()["errors"]


async def test_too_deep_a_query_is_refused(alice):
    deep = "{ binders { " + "children { " * 20 + "id" + " }" * 20 + " } }"
    # Twice: the second answer comes from the parse and validation caches, and must refuse the same.
    for _ in range(2):
        result = await alice.gql(deep)
        assert result.body["errors"]
        assert "depth" in result.body["errors"][0]["message"].lower()
        assert result.body.get("data") is None


async def test_a_cached_operation_is_still_refused_to_the_anonymous_and_answered_to_the_user(alice, anonymous):
    query = "{ me { username } }"
    assert (await alice.gql(query)).data == {"me": {"username": "alice"}}
    assert (await alice.gql(query)).data == {"me": {"username": "alice"}}
    refused = await anonymous.gql("{ binders { id } }")
    assert refused.error_codes == ["UNAUTHENTICATED"] and refused.body.get("data") is None
    refused_again = await anonymous.gql("{ binders { id } }")
    assert refused_again.error_codes == refused.error_codes


async def test_an_operation_sent_again_is_not_validated_again(alice):
    # Strawberry keeps the cache private; its counters are the only witness that validation was skipped.
    cache = _get_validate_cache(QUERY_CACHE_SIZE)
    query = "query OnlyThisTest { me { username isAdmin } }"
    await alice.gql(query)
    hits = cache.cache_info().hits
    for _ in range(3):
        assert (await alice.gql(query)).data["me"]["username"] == "alice"
    assert cache.cache_info().hits == hits + 3


async def test_an_unknown_global_id_is_null_not_an_error(alice):
    result = await alice.gql('{ node(id: "bm9wZQ") { id } }')
    assert result.data == {"node": None}


async def test_a_page_size_above_the_cap_is_a_clear_error(alice):
    result = await alice.gql("{ documents(first: 100000) { totalCount } }")
    assert result.error_codes == ["VALIDATION"]


async def test_an_invalid_cursor_is_a_clear_error(alice):
    result = await alice.gql('{ documents(after: "%%%") { totalCount } }')
    assert result.error_codes == ["VALIDATION"]


async def test_multipart_without_a_preflight_header_is_refused(http):
    response = await http.post(
        "/graphql",
        data={"operations": '{"query": "{ __typename }"}', "map": "{}"},
        files={"x": ("a.txt", b"a")},
    )
    assert response.status_code == 400


def test_committed_schema_file_matches_the_code():
    assert SCHEMA_FILE.read_text() == schema_sdl(), "run `make schema` and commit schema/schema.graphql"


async def test_a_body_that_is_not_a_graphql_request_is_a_4xx(http):
    for body in (b'{"foo": 1}', b"[1, 2]", b'"just a string"', b"\xff\xfe"):
        response = await http.post("/graphql", content=body, headers={"Content-Type": "application/json"})
        assert 400 <= response.status_code < 500, (body, response.status_code, response.text)


async def test_a_query_larger_than_the_limit_is_refused_before_parsing(http, settings):
    huge = "{ __typename " + " " * settings.max_query_bytes + "}"
    response = await http.post("/graphql", json={"query": huge})
    assert response.status_code == 413
    # Where a GraphQL client looks for the reason.
    assert response.json()["errors"][0]["extensions"] == {"code": "PAYLOAD_TOO_LARGE"}


async def test_batched_operations_are_refused(http):
    response = await http.post("/graphql", json=[{"query": "{ __typename }"}, {"query": "{ __typename }"}])
    assert 400 <= response.status_code < 500


async def test_an_alias_bomb_is_refused(alice):
    bomb = "{ " + " ".join(f"a{i}: me {{ username }}" for i in range(100)) + " }"
    result = await alice.gql(bomb)
    assert result.body["errors"]
    assert "alias" in result.body["errors"][0]["message"].lower()
    assert result.body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"


async def test_a_query_deeper_than_the_limit_is_refused_with_its_code(alice):
    deep = "{ me { " + "groups { members { " * 6 + "username" + " } }" * 6 + " } }"
    result = await alice.gql(deep)
    assert "depth" in result.body["errors"][0]["message"]
    assert result.body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"


async def test_other_routes_take_no_large_bodies(http):
    response = await http.post("/healthz", content=b"x" * 100_000)
    assert response.status_code in (405, 413)


async def test_several_operations_need_an_operation_name(alice):
    document = "query A { me { username } } query B { me { id } }"

    async def run(**name: str) -> dict:
        response = await alice.http.post("/graphql", json={"query": document, **name}, headers=alice.headers)
        return response.json()

    unnamed = await run()
    assert unnamed["data"] is None
    assert [e["extensions"]["code"] for e in unnamed["errors"]] == ["VALIDATION"]
    assert "operationName" in unnamed["errors"][0]["message"]
    unknown = await alice.http.post("/graphql", json={"query": document, "operationName": "C"}, headers=alice.headers)
    assert unknown.status_code == 400
    assert unknown.json() == {"errors": [{"message": 'Unknown operation named "C".'}]}
    assert (await run(operationName="B"))["data"] == {"me": {"id": await me_id(alice)}}
    single = await alice.http.post("/graphql", json={"query": "query A { me { username } }"}, headers=alice.headers)
    assert single.json()["data"] == {"me": {"username": "alice"}}


async def test_healthz_reports_an_embedded_indexer_whose_loop_has_ended(settings, services, indexer):
    import asyncio

    import httpx

    from kartoteka.app import create_app
    from tests.conftest import drain

    await drain(indexer)

    class EndsAtOnce:
        """An indexer whose loop returns at once, as a bug would end it."""

        extractor = indexer.extractor

        async def run(self, **_options: object) -> None:
            return None

        def wake(self) -> None:
            pass

    app = create_app(settings, services=services, indexer=EndsAtOnce())  # type: ignore[arg-type]
    async with app.router.lifespan_context(app):
        await asyncio.sleep(0)  # the loop's task runs, and ends
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://kartoteka.test") as client:
            response = await client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["indexer"] == {"ok": False}
    assert response.json()["index"]["ok"] is True
