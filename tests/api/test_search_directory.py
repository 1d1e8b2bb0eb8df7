"""searchCounterparties and searchEvents as their users use them: Polish words, NIPs, only what they may see."""

from __future__ import annotations

from typing import Any

from tests.api.helpers import create_binder, create_document, me_id, set_binder_access
from tests.conftest import drain

SEARCH_CARDS = """
query($q: String!, $first: Int, $after: String, $deleted: Boolean! = false) {
  searchCounterparties(query: $q, first: $first, after: $after, deleted: $deleted) {
    totalCount
    pageInfo { hasNextPage endCursor hasPreviousPage }
    edges { cursor node { id name } }
  }
}"""

SEARCH_EVENTS = """
query($q: String!, $first: Int, $after: String, $counterpartyId: ID) {
  searchEvents(query: $q, first: $first, after: $after, counterpartyId: $counterpartyId) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id note } }
  }
}"""


def ok(result: Any, field: str) -> dict[str, Any]:
    payload = result.payload(field)
    assert payload["userErrors"] == [], payload
    return payload


async def create_card(client: Any, name: str, **extra: Any) -> str:
    result = await client.gql(
        "mutation($input: CreateCounterpartyInput!) { createCounterparty(input: $input) "
        "{ counterparty { id } userErrors { code message } } }",
        input={"name": name, **extra},
    )
    return ok(result, "createCounterparty")["counterparty"]["id"]


async def create_event_type(admin: Any, name: str) -> str:
    result = await admin.gql(
        "mutation($input: CreateEventTypeInput!) { createEventType(input: $input) "
        "{ eventType { id } userErrors { code message } } }",
        input={"name": name},
    )
    return ok(result, "createEventType")["eventType"]["id"]


async def register_event(client: Any, type_id: str, counterparty_id: str, note: str | None) -> str:
    result = await client.gql(
        "mutation($input: RegisterEventInput!) { registerEvent(input: $input) "
        "{ event { id } userErrors { code message } } }",
        input={"typeId": type_id, "counterpartyId": counterparty_id, "note": note},
    )
    return ok(result, "registerEvent")["event"]["id"]


async def names(client: Any, query: str, **variables: Any) -> list[str]:
    result = await client.gql(SEARCH_CARDS, q=query, **variables)
    return [edge["node"]["name"] for edge in result.data["searchCounterparties"]["edges"]]


async def test_cards_are_found_by_inflected_names_nip_spellings_and_contact_persons(alice: Any, indexer: Any) -> None:
    kowalski = await create_card(alice, "Kowalski i Synowie", nip="5260250274")
    other = await create_card(alice, "Żółty Dom")
    result = await alice.gql(
        "mutation($input: AddContactPersonInput!) { addContactPerson(input: $input) "
        "{ contactPerson { id } userErrors { code message } } }",
        input={"counterpartyId": other, "name": "Tomasz Kowalski", "position": "kierownik zakupów"},
    )
    ok(result, "addContactPerson")
    await drain(indexer)

    # The card named so comes before the card that only has a Kowalski among its people.
    assert await names(alice, "kowalskiego") == ["Kowalski i Synowie", "Żółty Dom"]
    assert await names(alice, "zolty") == ["Żółty Dom"]
    # A contact person named in another case, as a letter would: "do Tomasza Kowalskiego".
    assert await names(alice, "Tomasza Kowalskiego") == ["Żółty Dom"]
    for spelling in ("5260250274", "526-025-02-74", "526 025 02 74", "PL5260250274", "nip:526025"):
        assert await names(alice, spelling) == ["Kowalski i Synowie"], spelling

    first = (await alice.gql(SEARCH_CARDS, q="kowalski", first=1)).data["searchCounterparties"]
    assert first["totalCount"] == 2 and first["pageInfo"]["hasNextPage"]
    after = first["pageInfo"]["endCursor"]
    second = (await alice.gql(SEARCH_CARDS, q="kowalski", first=1, after=after)).data["searchCounterparties"]
    assert [e["node"]["name"] for e in second["edges"]] == ["Żółty Dom"]
    assert second["pageInfo"] == {
        "hasNextPage": False,
        "endCursor": second["edges"][0]["cursor"],
        "hasPreviousPage": True,
    }

    # A change is found once the indexer has drained the outbox; a deleted card only among the deleted.
    result = await alice.gql(
        "mutation($input: UpdateCounterpartyInput!) { updateCounterparty(input: $input) "
        "{ counterparty { id } userErrors { code message } } }",
        input={"counterpartyId": kowalski, "name": "Nowak i Wspólnicy"},
    )
    ok(result, "updateCounterparty")
    result = await alice.gql(
        "mutation($input: CounterpartyRefInput!) { deleteCounterparty(input: $input) "
        "{ counterparty { id } userErrors { code message } } }",
        input={"counterpartyId": other},
    )
    ok(result, "deleteCounterparty")
    await drain(indexer)
    assert await names(alice, "nowakowi wspolnicy") == ["Nowak i Wspólnicy"]
    assert await names(alice, "kowalski") == []
    assert await names(alice, "kowalski", deleted=True) == ["Żółty Dom"]


async def test_cards_are_found_by_their_streets_and_cities_present_and_past(alice: Any, indexer: Any) -> None:
    acme = await create_card(alice, "ACME Sp. z o.o.")
    await create_card(alice, "Beta S.A.")
    added = await alice.gql(
        "mutation($input: AddAddressInput!) { addAddress(input: $input) { address { id } userErrors { code } } }",
        input={
            "counterpartyId": acme,
            "uses": ["REGISTERED_SEAT"],
            "street": "ul. Piotrkowska 100",
            "postalCode": "90-001",
            "city": "Łódź",
        },
    )
    seat = ok(added, "addAddress")["address"]["id"]
    await drain(indexer)
    for words in ("Piotrkowskiej", "Łodzi", "90-001", "piotrkowska 100"):
        assert await names(alice, words) == ["ACME Sp. z o.o."], words

    moved = await alice.gql(
        "mutation($input: ChangeAddressInput!) { changeAddress(input: $input) { address { id } userErrors { code } } }",
        input={"addressId": seat, "uses": ["REGISTERED_SEAT"], "street": "ul. Floriańska 3", "city": "Kraków"},
    )
    ok(moved, "changeAddress")
    await drain(indexer)
    assert await names(alice, "Krakowie") == ["ACME Sp. z o.o."]
    assert await names(alice, "Piotrkowskiej") == ["ACME Sp. z o.o."]  # where it used to be


async def test_an_event_about_an_unreadable_document_is_neither_found_nor_counted(
    admin: Any, alice: Any, bob: Any, indexer: Any
) -> None:
    card = await create_card(alice, "Kowalski")
    phone = await create_event_type(admin, "Telefon")
    call = await register_event(alice, phone, card, "Reklamacja poufnej dostawy, oddzwonić")
    # Alice's binder: nobody else may read it, so neither its document nor the event recording it.
    binder = await create_binder(alice, "Poufne")
    await create_document(alice, binder["id"], "Poufna dostawa dla Kowalskiego", b"tajne", counterpartyId=card)
    await drain(indexer)

    mine = (await alice.gql(SEARCH_EVENTS, q="poufna dostawa")).data["searchEvents"]
    assert mine["totalCount"] == 2
    seen = (await bob.gql(SEARCH_EVENTS, q="poufna dostawa")).data["searchEvents"]
    assert seen["totalCount"] == 1
    assert seen["edges"] == [{"node": {"id": call, "note": "Reklamacja poufnej dostawy, oddzwonić"}}]
    only_card = (await bob.gql(SEARCH_EVENTS, q="reklamacji", counterpartyId=card)).data["searchEvents"]
    assert only_card["totalCount"] == 1


async def test_an_event_about_a_document_moved_out_of_sight_is_not_counted_before_the_index_catches_up(
    alice: Any, bob: Any, indexer: Any
) -> None:
    card = await create_card(alice, "Kowalski")
    shared = await create_binder(alice, "Wspólne")
    private = await create_binder(alice, "Kadry")
    await set_binder_access(alice, shared["id"], [(await me_id(alice), "MANAGE"), (await me_id(bob), "READ")])
    document = await create_document(alice, shared["id"], "Aneks płacowy Kowalskiego", b"x", counterpartyId=card)
    await drain(indexer)
    assert (await bob.gql(SEARCH_EVENTS, q="aneks placowy")).data["searchEvents"]["totalCount"] == 1

    move = "mutation($d: ID!, $b: ID!) { moveDocument(input: {documentId: $d, binderId: $b}) { userErrors { code } } }"
    assert (await alice.gql(move, d=document["id"], b=private["id"])).payload("moveDocument")["userErrors"] == []
    seen = (await bob.gql(SEARCH_EVENTS, q="aneks placowy")).data["searchEvents"]
    assert (seen["totalCount"], seen["edges"]) == (0, [])


async def test_star_lists_a_cards_events_even_those_without_a_word(admin: Any, alice: Any, indexer: Any) -> None:
    card = await create_card(alice, "Kowalski")
    other = await create_card(alice, "Nowak")
    visit = await create_event_type(admin, "Wizyta")
    registered = [
        await register_event(alice, visit, counterparty, note)
        for counterparty, note in ((card, None), (card, "Omówiono ofertę"), (other, None))
    ]
    await drain(indexer)

    listed = (await alice.gql(SEARCH_EVENTS, q="*", counterpartyId=card)).data["searchEvents"]
    assert listed["totalCount"] == 2
    assert {edge["node"]["id"] for edge in listed["edges"]} == set(registered[:2])
    assert (await alice.gql(SEARCH_EVENTS, q="*")).data["searchEvents"]["totalCount"] == 3


async def test_a_malformed_query_is_a_validation_error(alice: Any, indexer: Any) -> None:
    await drain(indexer)
    for query in (SEARCH_CARDS, SEARCH_EVENTS):
        assert (await alice.gql(query, q='"unterminated')).error_codes == ["VALIDATION"]
        assert (await alice.gql(query, q="nosuchfield:x")).error_codes == ["VALIDATION"]
        assert (await alice.gql(query, q="kowalski", after="not-a-cursor")).error_codes == ["VALIDATION"]


async def test_a_field_query_names_the_fields_of_what_is_searched(alice: Any, indexer: Any) -> None:
    await create_card(alice, "Budimex SA")
    await create_card(alice, "Mostostal")
    await drain(indexer)
    found = await alice.gql(SEARCH_CARDS, q="name:budimex")
    assert [edge["node"]["name"] for edge in found.data["searchCounterparties"]["edges"]] == ["Budimex SA"]
    # An unknown field is refused with this search's own fields, not the documents'.
    refused = await alice.gql(SEARCH_EVENTS, q="name:budimex")
    assert refused.error_codes == ["VALIDATION"]
    message = refused.body["errors"][0]["message"]
    assert "content, number, title" in message and "filename" not in message
