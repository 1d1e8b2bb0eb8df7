"""The query cost limit: connections nested in connections, repeated under aliases, are refused before
they run, while every query a client really sends passes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from graphql import get_introspection_query

from kartoteka.app import create_app
from kartoteka.settings import Settings
from tests.api.helpers import DOCUMENT_FIELDS, create_binder, create_document
from tests.api.test_crm import openings_wait
from tests.api.test_crm_query_counts import CARD, counting, full_card
from tests.conftest import Client, drain

# The limit is decided from the query, the schema and the variables: the backend plays no part.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

MISSING_CARD = "Q291bnRlcnBhcnR5Ojk5OTk5"  # Counterparty:99999

# Each copy: 100 cases, each case's card with 100 cases of its own: some 30 000 fields.
NESTED_CASES = (
    "%s: node(id: $card) { ... on Counterparty { cases(first: 100) { edges { node {"
    " counterparty { cases(first: 100) { edges { node { id } } } } } } } } }"
)


def nested_cases(copies: int) -> str:
    return "query($card: ID!) { " + " ".join(NESTED_CASES % f"a{i}" for i in range(copies)) + " }"


def refusal(result: Any) -> dict[str, Any]:
    assert result.error_codes == ["QUERY_TOO_COMPLEX"], result.body
    assert result.body.get("data") is None
    return result.body["errors"][0]


async def client_for(settings: Settings, services: Any, client: Client, **changes: Any) -> Client:
    app = create_app(settings.model_copy(update=changes), services=services)
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://kartoteka.test")
    return Client(http, client.token, client.username)


async def test_nested_connections_under_29_aliases_are_refused_before_anything_is_read(alice, services):
    attack = nested_cases(29)
    assert len(attack) < 4500  # a small request
    with counting(services.db.engine) as statements:
        result = await alice.gql(attack, card=MISSING_CARD)
    error = refusal(result)
    assert error["extensions"]["cost"] > 8 * error["extensions"]["maxCost"] == 8 * 100_000
    assert "100,000" in error["message"] and f"{error['extensions']['cost']:,}" in error["message"]
    assert "`first`" in error["message"] and "nested" in error["message"]
    # Only the bearer token was looked up: no card, no case.
    assert not [s for s in statements if "cases" in s or "counterparties" in s]


async def test_aliases_add_up(alice, settings, services):
    client = await client_for(settings, services, alice, max_query_cost=50_000)  # under two copies
    assert (await client.gql(nested_cases(1), card=MISSING_CARD)).data == {"a0": None}
    refusal(await client.gql(nested_cases(2), card=MISSING_CARD))


async def test_named_and_inline_fragments_are_followed(alice, settings, services):
    alice = await client_for(settings, services, alice, max_query_cost=50_000)  # under two copies
    spread = """
    query($card: ID!) { a: node(id: $card) { ...Cases } b: node(id: $card) { ...Cases } }
    fragment Cases on Counterparty { cases(first: 100) { edges { node { counterparty { ...Inner } } } } }
    fragment Inner on Counterparty { cases(first: 100) { ... on CaseConnection { edges { node { id } } } } }
    """
    refusal(await alice.gql(spread, card=MISSING_CARD))
    once = spread.replace(" b: node(id: $card) { ...Cases }", "")
    assert (await alice.gql(once, card=MISSING_CARD)).data == {"a": None}


async def test_first_is_counted_from_the_variables_or_else_as_the_default_page(alice, settings, services):
    query = """query($card: ID!, $n: Int) { node(id: $card) { ... on Counterparty {
      cases(first: $n) { edges { node { counterparty { cases(first: $n) { edges { node { id } } } } } } } } } }"""
    cheap = await client_for(settings, services, alice, max_query_cost=1000)
    async with cheap.http:
        assert (await cheap.gql(query, card=MISSING_CARD, n=5)).data == {"node": None}
        assert refusal(await cheap.gql(query, card=MISSING_CARD, n=100))["extensions"]["cost"] > 20_000
        # Left out or null: the resolver gives the default page (50), and so does the estimate.
        for given in ({}, {"n": None}):
            assert refusal(await cheap.gql(query, card=MISSING_CARD, **given))["extensions"]["cost"] > 5_000
        # The operation's own default for the variable counts when the request leaves it out.
        defaulted = query.replace("$n: Int)", "$n: Int = 5)")
        assert (await cheap.gql(defaulted, card=MISSING_CARD)).data == {"node": None}


async def test_the_setting_lowers_and_raises_the_limit(alice, settings, services, monkeypatch):
    page = "{ documents(first: 10) { edges { node { id title } } } }"
    strict = await client_for(settings, services, alice, max_query_cost=20)
    async with strict.http:
        assert refusal(await strict.gql(page))["extensions"] == {"code": "QUERY_TOO_COMPLEX", "cost": 41, "maxCost": 20}
    assert (await alice.gql(page)).data == {"documents": {"edges": []}}
    lenient = await client_for(settings, services, alice, max_query_cost=1_000_000)
    async with lenient.http:
        assert (await lenient.gql(nested_cases(29), card=MISSING_CARD)).data["a28"] is None
    monkeypatch.setenv("KARTOTEKA_MAX_QUERY_COST", "1234")
    assert Settings().max_query_cost == 1234


async def test_graphiqls_introspection_query_passes_whatever_the_limit(alice, anonymous, settings, services):
    introspection = get_introspection_query(descriptions=True, input_value_deprecation=True)
    assert (await anonymous.gql(introspection)).data["__schema"]["queryType"]["name"] == "Query"
    strict = await client_for(settings, services, alice, max_query_cost=5)
    async with strict.http:
        assert (await strict.gql(introspection)).data["__schema"]["types"]
        assert (await strict.gql('{ __type(name: "Document") { fields { name } } }')).data["__type"]["fields"]


async def test_a_deep_query_without_lists_passes(alice):
    outer = await create_binder(alice, "Umowy")
    middle = await create_binder(alice, "2026", outer["id"])
    inner = await create_binder(alice, "Dostawcy", middle["id"])
    document = await create_document(alice, inner["id"], "Umowa", b"tresc")
    deep = """query($id: ID!) { node(id: $id) { ... on Document { binder { parent { parent {
      name parent { name } } } } currentVersion { createdBy { username } } lock { holder { username } } } } }"""
    result = await alice.gql(deep, id=document["id"])
    assert result.data["node"]["binder"]["parent"]["parent"] == {"name": "Umowy", "parent": None}


async def test_the_dearest_client_queries_pass(admin, alice, services, indexer):
    binder = await create_binder(alice, "Faktury")
    card_id = await full_card(admin, alice, documents=3, events=3)
    await create_document(alice, binder["id"], "Faktura", b"Faktura VAT", counterpartyId=card_id)
    await drain(indexer)
    documents = (
        """{ documents(first: 100) { totalCount pageInfo { hasNextPage endCursor }
      edges { cursor node { %s counterparty { id name } case { id title } } } } }"""
        % DOCUMENT_FIELDS
    )
    search = (
        """{ search(query: "faktura", first: 100) { totalCount pageInfo { hasNextPage endCursor }
      edges { cursor node { score highlights document { %s counterparty { id name } } } }
      facets { documentTypes { value count } counterparties { counterpartyId count counterparty { name } }
        years { value count } } } }"""
        % DOCUMENT_FIELDS
    )
    # The card as its page shows it, with the first 50 cases, events and documents.
    card = (
        CARD.rstrip().removesuffix("} }")
        + """
      cases(first: 50) { totalCount edges { node { id number title status openedAt owner { username } } } }
      events(first: 50) { totalCount edges { node { id number occurredAt note type { name colour }
        user { username } contactPerson { name } settlements { description quantity unitPrice total }
        settlementTotal customFields { key label value } } } }
      documentPage: documents(first: 50) { totalCount edges { node { %s } } }
    } }"""
        % DOCUMENT_FIELDS
    )
    assert (await alice.gql(documents)).data["documents"]["totalCount"] >= 4
    assert (await alice.gql(search)).data["search"]["totalCount"] >= 1
    openings = openings_wait(services)
    opened = await alice.gql(card, id=card_id)
    await openings.drain()
    assert opened.data["counterparty"]["events"]["totalCount"] >= 3


async def test_an_address_book_page_of_cards_with_their_people_addresses_and_how_to_reach_them_passes(alice):
    book = """{ counterparties { edges { node { name nip
      addresses { uses street city postalCode country }
      contactPersons { name position contactMethods { kind value } } } } } }"""
    result = await alice.gql(book)
    assert result.body.get("errors") is None, result.body


async def test_a_person_has_at_most_the_contact_methods_the_estimate_counts_on(alice):
    from dms.counterparties.details import MAX_CONTACT_METHODS

    card = await alice.gql('mutation { createCounterparty(input: {name: "ACME"}) { counterparty { id } } }')
    card_id = card.payload("createCounterparty")["counterparty"]["id"]
    add = "mutation($i: AddContactPersonInput!) { addContactPerson(input: $i) { userErrors { field code } } }"
    methods = [{"kind": "PHONE", "value": f"+48 601 234 {n:03d}"} for n in range(MAX_CONTACT_METHODS + 1)]
    refused = await alice.gql(add, i={"counterpartyId": card_id, "name": "Jan Nowak", "contactMethods": methods})
    assert refused.payload("addContactPerson")["userErrors"] == [{"field": ["contactMethods"], "code": "VALIDATION"}]
    kept = await alice.gql(
        add, i={"counterpartyId": card_id, "name": "Jan Nowak", "contactMethods": methods[:MAX_CONTACT_METHODS]}
    )
    assert kept.payload("addContactPerson")["userErrors"] == []


async def test_a_binder_tree_four_levels_deep_passes(alice):
    # Each level counted as 50 binders per binder would make this 19 million fields.
    root = await create_binder(alice, "Umowy")
    year = await create_binder(alice, "2026", root["id"])
    await create_binder(alice, "Dostawcy", year["id"])
    tree = """{ binders { id name path children { id name path children { id name path
      children { id name path } } } } }"""
    result = await alice.gql(tree)
    assert result.body.get("errors") is None, result.body
    (umowy,) = [b for b in result.data["binders"] if b["id"] == root["id"]]
    assert umowy["children"][0]["children"][0]["path"] == "/Umowy/2026/Dostawcy"
    assert umowy["children"][0]["children"][0]["children"] == []
