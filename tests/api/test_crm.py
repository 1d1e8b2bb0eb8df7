"""The counterparty card over GraphQL, as a salesperson and an administrator use it."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from dms.counterparties.models import CounterpartyType
from dms.events.openings import card_openings
from tests.api.helpers import create_binder, create_document, me_id, set_binder_access
from tests.conftest import Client

ERRORS = "userErrors { field message code }"

# The services' tests run every rule on both backends; here the GraphQL layer runs on SQLite, except
# where the SQL itself is the point (text folding, access filtering in the timeline, query counts).
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

CREATE = (
    """
mutation($input: CreateCounterpartyInput!) {
  createCounterparty(input: $input) { counterparty { id name shortName nip regon vatNumber } %s }
}"""
    % ERRORS
)

UPDATE = (
    """
mutation($input: UpdateCounterpartyInput!) {
  updateCounterparty(input: $input) {
    counterparty { id name nip customFields { key value } categories { name } segmentation { name } }
    %s
  }
}"""
    % ERRORS
)

CARD = """
query($id: ID!) { counterparty(id: $id) {
  id name
  timeline { totalCount edges { node {
    __typename
    ... on Event { type { name automaticKind } details user { username } }
    ... on Document { title }
  } } }
} }"""

CREATE_TYPE = (
    """
mutation($input: CreateCounterpartyTypeInput!) {
  createCounterpartyType(input: $input) { counterpartyType { id name fields { key kind required } } %s }
}"""
    % ERRORS
)

CREATE_DICTIONARY = (
    """
mutation($input: CreateDictionaryInput!) { createDictionary(input: $input) { dictionary { id code } %s } }
"""
    % ERRORS
)

ADD_ENTRY = (
    """
mutation($input: AddDictionaryEntryInput!) { addDictionaryEntry(input: $input) { entry { id code name } %s } }
"""
    % ERRORS
)

CREATE_EVENT_TYPE = (
    """
mutation($input: CreateEventTypeInput!) { createEventType(input: $input) { eventType { id name } %s } }
"""
    % ERRORS
)

REGISTER = (
    """
mutation($input: RegisterEventInput!) {
  registerEvent(input: $input) {
    event {
      id number occurredAt registeredAt note
      user { username } registeredBy { username }
      settlements { description quantity unit unitPrice total } settlementTotal
      customFields { key value }
    }
    %s
  }
}"""
    % ERRORS
)


def ok(result: Any, field: str) -> dict[str, Any]:
    payload = result.payload(field)
    assert payload["userErrors"] == [], payload["userErrors"]
    return payload


async def create_counterparty(client: Client, name: str, **extra: Any) -> dict[str, Any]:
    return ok(await client.gql(CREATE, input={"name": name, **extra}), "createCounterparty")["counterparty"]


async def create_dictionary(admin: Client, name: str, kind: str, entries: list[str]) -> dict[str, Any]:
    dictionary = ok(await admin.gql(CREATE_DICTIONARY, input={"name": name, "kind": kind}), "createDictionary")
    created = []
    for entry in entries:
        payload = ok(
            await admin.gql(ADD_ENTRY, input={"dictionaryId": dictionary["dictionary"]["id"], "name": entry}),
            "addDictionaryEntry",
        )
        created.append(payload["entry"])
    return {"id": dictionary["dictionary"]["id"], "entries": created}


async def create_event_type(admin: Client, name: str, **extra: Any) -> str:
    payload = ok(await admin.gql(CREATE_EVENT_TYPE, input={"name": name, **extra}), "createEventType")
    return payload["eventType"]["id"]


def openings_wait(services: Any) -> Any:
    """The buffer of card openings, held back until the test drains it (so timing never decides)."""
    openings = card_openings(services.db)
    openings.delay = 60
    return openings


async def open_card(client: Client, services: Any, card_id: str) -> dict[str, Any]:
    """Open the card, then wait until the recorded opening is written (the test's flush hook)."""
    openings = openings_wait(services)
    result = await client.gql(CARD, id=card_id)
    await openings.drain()
    return result.data["counterparty"]


@sqlite_only
async def test_a_card_is_created_with_its_tax_ids_normalised(alice):
    card = await create_counterparty(
        alice, "Łódź Sp. z o.o.", nip="123-456-32-18", regon="123456785", vatNumber="DE 136 695 976", shortName="Łódź"
    )
    assert (card["nip"], card["regon"], card["vatNumber"]) == ("1234563218", "123456785", "DE136695976")


@sqlite_only
async def test_a_polish_vat_number_is_the_nip_with_pl_in_front(alice):
    card = await create_counterparty(alice, "Orlen", nip="7740001454", vatNumber="PL 774-000-14-54")
    assert card["vatNumber"] == "PL7740001454"
    other = await alice.gql(CREATE, input={"name": "ACME", "nip": "1234563218", "vatNumber": "PL5260250274"})
    assert [(e["code"], e["field"]) for e in other.payload("createCounterparty")["userErrors"]] == [
        ("VALIDATION", ["vatNumber"])
    ]
    moved = await alice.gql(UPDATE, input={"counterpartyId": card["id"], "nip": "5260250274"})
    assert [(e["code"], e["field"]) for e in moved.payload("updateCounterparty")["userErrors"]] == [
        ("VALIDATION", ["nip"])
    ]
    both = await alice.gql(
        UPDATE, input={"counterpartyId": card["id"], "nip": "5260250274", "vatNumber": "PL5260250274"}
    )
    assert both.payload("updateCounterparty")["counterparty"]["nip"] == "5260250274"
    ok(
        await alice.gql(CREATE, input={"name": "Müller", "nip": "1234563218", "vatNumber": "DE136695976"}),
        "createCounterparty",
    )


@sqlite_only
async def test_a_greek_vat_number_is_kept_with_el_as_vies_writes_it(alice):
    for given in ("GR094259216", "EL 094259216"):
        card = await create_counterparty(alice, f"Ελληνική {given}", vatNumber=given)
        assert card["vatNumber"] == "EL094259216"


@sqlite_only
async def test_an_invalid_tax_id_is_a_validation_error_naming_the_field(alice):
    for field, value in (
        ("nip", "123-456-32-19"),
        ("nip", "000-000-00-00"),
        ("regon", "123456786"),
        ("vatNumber", "PL1234563219"),
    ):
        result = await alice.gql(CREATE, input={"name": "ACME", field: value})
        assert result.payload("createCounterparty")["userErrors"][0]["code"] == "VALIDATION"
        assert result.payload("createCounterparty")["userErrors"][0]["field"] == [field]


@sqlite_only
async def test_a_second_active_card_with_the_same_nip_is_a_conflict(alice, bob):
    await create_counterparty(alice, "ACME", nip="1234563218")
    result = await bob.gql(CREATE, input={"name": "ACME 2", "nip": "123-456-32-18"})
    assert [(e["code"], e["field"]) for e in result.payload("createCounterparty")["userErrors"]] == [
        ("CONFLICT", ["nip"])
    ]


async def test_text_filter_finds_polish_names_without_diacritics_and_nips_with_dashes(alice):
    await create_counterparty(alice, "Łódź Sp. z o.o.", nip="1234563218")
    await create_counterparty(alice, "Gdańsk SA")
    query = "query($t: String) { counterparties(filter: {text: $t}) { totalCount edges { node { name } } } }"
    for text in ("lodz", "ŁÓDŹ", "łódź sp", "123-456-32", "1234563218"):
        found = (await alice.gql(query, t=text)).data["counterparties"]
        assert [e["node"]["name"] for e in found["edges"]] == ["Łódź Sp. z o.o."], text


async def test_text_filter_finds_eu_vat_numbers_with_or_without_their_country_code(alice):
    await create_counterparty(alice, "Müller GmbH", vatNumber="DE 136 695 976")
    await create_counterparty(alice, "Dupont SARL")
    query = "query($t: String) { counterparties(filter: {text: $t}) { edges { node { name } } } }"
    for text in ("DE136695976", "de 136-695", "136695976", "136 695"):
        found = (await alice.gql(query, t=text)).data["counterparties"]
        assert [e["node"]["name"] for e in found["edges"]] == ["Müller GmbH"], text
    for text in ("FR136695976", "695976"):
        assert (await alice.gql(query, t=text)).data["counterparties"]["edges"] == [], text


@sqlite_only
async def test_only_an_administrator_configures_types_and_dictionaries(alice):
    refused = await alice.gql(CREATE_TYPE, input={"name": "Ubezpieczyciel"})
    assert refused.codes("createCounterpartyType") == ["PERMISSION_DENIED"]
    refused = await alice.gql(CREATE_DICTIONARY, input={"name": "Branża", "kind": "SEGMENTATION"})
    assert refused.codes("createDictionary") == ["PERMISSION_DENIED"]
    refused = await alice.gql(CREATE_EVENT_TYPE, input={"name": "Telefon"})
    assert refused.codes("createEventType") == ["PERMISSION_DENIED"]


@sqlite_only
async def test_custom_fields_follow_the_cards_type(admin, alice):
    insurer = ok(
        await admin.gql(
            CREATE_TYPE,
            input={
                "name": "Ubezpieczyciel",
                "fields": [
                    {
                        "key": "policy",
                        "label": "Numer polisy",
                        "kind": "TEXT",
                        "required": True,
                        "pattern": "[A-Z]{2}\\d{4}",
                    },
                    {"key": "limit", "label": "Limit", "kind": "DECIMAL"},
                ],
            },
        ),
        "createCounterpartyType",
    )["counterpartyType"]
    card = await create_counterparty(alice, "PZU")
    missing = await alice.gql(UPDATE, input={"counterpartyId": card["id"], "typeId": insurer["id"]})
    assert [(e["code"], e["field"]) for e in missing.payload("updateCounterparty")["userErrors"]] == [
        ("VALIDATION", ["customFields", "policy"])
    ]
    wrong = await alice.gql(
        UPDATE, input={"counterpartyId": card["id"], "typeId": insurer["id"], "customFields": {"policy": "x1"}}
    )
    assert wrong.payload("updateCounterparty")["userErrors"][0]["field"] == ["customFields", "policy"]
    done = ok(
        await alice.gql(
            UPDATE,
            input={
                "counterpartyId": card["id"],
                "typeId": insurer["id"],
                "customFields": {"policy": "AB1234", "limit": "1000.50"},
            },
        ),
        "updateCounterparty",
    )
    assert done["counterparty"]["customFields"] == [
        {"key": "policy", "value": "AB1234"},
        {"key": "limit", "value": "1000.50"},
    ]


@sqlite_only
async def test_a_pattern_re2_refuses_is_a_user_error_when_defined_and_when_a_value_meets_it(admin, alice, db):
    field = {"key": "ref", "label": "Sygnatura", "kind": "TEXT", "pattern": "(\\d+)-\\1"}
    refused = await admin.gql(CREATE_TYPE, input={"name": "Sąd", "fields": [field]})
    assert [(e["code"], e["field"]) for e in refused.payload("createCounterpartyType")["userErrors"]] == [
        ("VALIDATION", ["fields", "0", "pattern"])
    ]
    court = ok(
        await admin.gql(CREATE_TYPE, input={"name": "Sąd", "fields": [{**field, "pattern": "\\d+-\\d+"}]}),
        "createCounterpartyType",
    )["counterpartyType"]
    # A definition stored before patterns were checked with RE2, which cannot compile it.
    async with db.write_sessions() as session:
        stale = [{"key": "ref", "label": "Sygnatura", "kind": "text", "required": False, "pattern": "(\\d+)-\\1"}]
        await session.execute(update(CounterpartyType).where(CounterpartyType.name == "Sąd").values(fields=stale))
        await session.commit()
    card = await create_counterparty(alice, "Sąd Rejonowy")
    result = await alice.gql(
        UPDATE, input={"counterpartyId": card["id"], "typeId": court["id"], "customFields": {"ref": "12-12"}}
    )
    errors = result.payload("updateCounterparty")["userErrors"]
    assert [(e["code"], e["field"]) for e in errors] == [("VALIDATION", ["customFields", "ref"])]
    assert "administrator" in errors[0]["message"]


@sqlite_only
async def test_categories_groups_and_segmentation_are_filterable(admin, alice):
    categories = await create_dictionary(admin, "Kategorie", "CATEGORY", ["Dostawca", "Klient"])
    industry = await create_dictionary(admin, "Branża", "SEGMENTATION", ["IT", "Handel"])
    priority = await create_dictionary(admin, "Priorytet", "SEGMENTATION", ["Wysoki", "Niski"])
    supplier, customer = categories["entries"]
    it, trade = industry["entries"]
    high, _low = priority["entries"]
    a = await create_counterparty(alice, "A", categoryIds=[supplier["id"]], segmentIds=[it["id"], high["id"]])
    await create_counterparty(alice, "B", categoryIds=[customer["id"]], segmentIds=[trade["id"], high["id"]])
    query = "query($f: CounterpartyFilter) { counterparties(filter: $f) { edges { node { name } } } }"

    async def names(**filter: Any) -> list[str]:
        return [e["node"]["name"] for e in (await alice.gql(query, f=filter)).data["counterparties"]["edges"]]

    assert await names(categoryIds=[supplier["id"]]) == ["A"]
    assert await names(segmentIds=[high["id"]]) == ["A", "B"]
    assert await names(segmentIds=[high["id"], trade["id"]]) == ["B"]
    assert await names(segmentIds=[it["id"], trade["id"]]) == ["A", "B"]
    two_industries = await alice.gql(UPDATE, input={"counterpartyId": a["id"], "segmentIds": [it["id"], trade["id"]]})
    assert two_industries.payload("updateCounterparty")["userErrors"][0]["code"] == "VALIDATION"


@sqlite_only
async def test_deleting_and_restoring_a_card_are_recorded_on_it(alice, services):
    card = await create_counterparty(alice, "ACME")
    for mutation in ("deleteCounterparty", "restoreCounterparty"):
        done = await alice.gql(
            "mutation($id: ID!) { %s(input: {counterpartyId: $id}) { %s } }" % (mutation, ERRORS), id=card["id"]
        )
        ok(done, mutation)
    timeline = (await open_card(alice, services, card["id"]))["timeline"]["edges"]
    changes = [
        e["node"]["details"]["changes"] for e in timeline if e["node"]["type"]["automaticKind"] == "DATA_CHANGED"
    ]
    assert changes == [{"card": "restored"}, {"card": "deleted"}]  # newest first


@sqlite_only
async def test_opening_and_changing_a_card_are_recorded_as_events(alice, services):
    card = await create_counterparty(alice, "ACME")
    ok(
        await alice.gql(UPDATE, input={"counterpartyId": card["id"], "name": "ACME SA", "nip": "1234563218"}),
        "updateCounterparty",
    )
    opened = await open_card(alice, services, card["id"])
    assert opened["timeline"]["totalCount"] == 1  # the opening is written after the read
    reopened = await open_card(alice, services, card["id"])
    kinds = [edge["node"]["type"]["automaticKind"] for edge in reopened["timeline"]["edges"]]
    assert kinds == ["CARD_OPENED", "DATA_CHANGED"]
    changed = reopened["timeline"]["edges"][1]["node"]
    assert changed["details"]["fields"] == ["name", "nip"]
    assert changed["details"]["changes"]["name"] == {"from": "ACME", "to": "ACME SA"}
    assert changed["user"]["username"] == "alice"


async def test_a_timeline_may_leave_out_who_opened_the_card(alice, bob, services):
    card = await create_counterparty(alice, "ACME")
    ok(await alice.gql(UPDATE, input={"counterpartyId": card["id"], "name": "ACME SA"}), "updateCounterparty")
    await open_card(alice, services, card["id"])
    await open_card(bob, services, card["id"])
    query = """query($id: ID!, $without: [AutomaticEventKind!]) { counterparty(id: $id) {
      timeline(excludeAutomaticKinds: $without) { totalCount edges { node { ... on Event { type { automaticKind } } } } }
    } }"""

    async def kinds(without: list[str] | None) -> tuple[int, list[str]]:
        timeline = (await alice.gql(query, id=card["id"], without=without)).data["counterparty"]["timeline"]
        return timeline["totalCount"], [edge["node"]["type"]["automaticKind"] for edge in timeline["edges"]]

    assert await kinds(None) == (3, ["CARD_OPENED", "CARD_OPENED", "DATA_CHANGED"])
    assert await kinds(["CARD_OPENED"]) == (1, ["DATA_CHANGED"])
    assert await kinds(["CARD_OPENED", "DATA_CHANGED"]) == (0, [])
    assert await kinds([]) == (3, ["CARD_OPENED", "CARD_OPENED", "DATA_CHANGED"])


@sqlite_only
async def test_a_cards_changes_name_people_and_addresses_by_their_global_ids(alice, services):
    card = await create_counterparty(alice, "ACME")
    alice_id = await me_id(alice)
    ok(
        await alice.gql(UPDATE, input={"counterpartyId": card["id"], "accountManagerId": alice_id}),
        "updateCounterparty",
    )
    add = "mutation($i: AddAddressInput!) { addAddress(input: $i) { address { id } %s } }" % ERRORS
    address = ok(
        await alice.gql(add, i={"counterpartyId": card["id"], "uses": ["SHIPPING"], "city": "Łódź"}), "addAddress"
    )
    timeline = (await open_card(alice, services, card["id"]))["timeline"]["edges"]
    changes = [
        e["node"]["details"]["changes"] for e in timeline if e["node"]["type"]["automaticKind"] == "DATA_CHANGED"
    ]
    assert changes == [
        {"addresses": {"added": address["address"]["id"]}},
        {"accountManager": {"from": None, "to": alice_id}},
    ]


async def test_a_timeline_shows_only_the_documents_the_viewer_may_read(alice, bob, services):
    card = await create_counterparty(alice, "ACME")
    shared = await create_binder(alice, "Wspólny")
    await set_binder_access(alice, shared["id"], [(await me_id(alice), "MANAGE"), (await me_id(bob), "READ")])
    private = await create_binder(alice, "Prywatny")
    await create_document(alice, shared["id"], "Umowa", b"x", counterpartyId=card["id"])
    await create_document(alice, private["id"], "Tajne", b"x", counterpartyId=card["id"])
    openings = openings_wait(services)
    seen_by_bob = (await bob.gql(CARD, id=card["id"])).data["counterparty"]["timeline"]
    seen_by_alice = (await alice.gql(CARD, id=card["id"])).data["counterparty"]["timeline"]
    await openings.drain()
    # Each document brings a "document added" event; the hidden one's event is hidden too.
    assert sorted(str(e["node"].get("title")) for e in seen_by_bob["edges"]) == ["None", "Umowa"]
    assert "Tajne" not in str(seen_by_bob)
    assert seen_by_bob["totalCount"] == 2
    assert seen_by_alice["totalCount"] == 4


@sqlite_only
async def test_a_backdated_event_on_behalf_of_a_colleague_keeps_who_and_when_it_was_registered(admin, alice, bob):
    phone = await create_event_type(admin, "Telefon", numberPattern="TEL/{YYYY}/{N:3}", numberReset="YEARLY")
    card = await create_counterparty(alice, "ACME")
    event = ok(
        await alice.gql(
            REGISTER,
            input={
                "typeId": phone,
                "counterpartyId": card["id"],
                "occurredAt": "2024-03-15T10:00:00+01:00",
                "onBehalfOfId": await me_id(bob),
                "note": "Klient prosi o ofertę",
            },
        ),
        "registerEvent",
    )["event"]
    assert event["occurredAt"].startswith("2024-03-15T09:00:00")
    assert event["registeredAt"] > event["occurredAt"]
    assert (event["user"]["username"], event["registeredBy"]["username"]) == ("bob", "alice")
    assert event["number"] == "TEL/2024/001"


@sqlite_only
async def test_settlements_are_computed_with_decimals_and_refused_on_types_without_them(admin, alice):
    mileage = await create_event_type(admin, "Delegacja", hasSettlements=True)
    call = await create_event_type(admin, "Telefon")
    lines = [
        {"description": "Kilometrówka", "quantity": "123.5", "unit": "km", "unitPrice": "0.8358"},
        {"description": "Konsultacja", "quantity": "1.5", "unit": "h", "unitPrice": "200.10"},
    ]
    event = ok(await alice.gql(REGISTER, input={"typeId": mileage, "settlements": lines}), "registerEvent")["event"]
    assert [line["total"] for line in event["settlements"]] == ["103.22", "300.15"]
    assert event["settlementTotal"] == "403.37"
    refused = await alice.gql(REGISTER, input={"typeId": call, "settlements": lines})
    assert [(e["code"], e["field"]) for e in refused.payload("registerEvent")["userErrors"]] == [
        ("VALIDATION", ["settlements"])
    ]


@sqlite_only
async def test_amounts_and_totals_too_large_for_their_columns_are_validation_errors_naming_the_field(admin, alice):
    mileage = await create_event_type(admin, "Delegacja", hasSettlements=True)
    for quantity, unit_price, field in (
        ("99999999999999", "99999999999999", ["settlements", "0"]),
        ("1", "1" + "0" * 27, ["settlements", "0", "unitPrice"]),
        ("1" + "0" * 30, "1", ["settlements", "0", "quantity"]),
    ):
        line = {"description": "x", "quantity": quantity, "unitPrice": unit_price}
        refused = await alice.gql(REGISTER, input={"typeId": mileage, "settlements": [line]})
        errors = refused.payload("registerEvent")["userErrors"]
        assert [(e["code"], e["field"]) for e in errors] == [("VALIDATION", field)], (quantity, unit_price)


@sqlite_only
async def test_times_without_their_zone_or_out_of_range_are_validation_errors(admin, alice):
    call = await create_event_type(admin, "Telefon")
    for at in ("2026-01-01T00:00:00", "0001-01-01T00:00:00+14:00"):
        refused = await alice.gql(REGISTER, input={"typeId": call, "occurredAt": at})
        errors = refused.payload("registerEvent")["userErrors"]
        assert [(e["code"], e["field"]) for e in errors] == [("VALIDATION", ["occurredAt"])], at
    events = "query($f: EventFilter) { events(filter: $f) { totalCount } }"
    report = "query($f: EventReportFilter) { eventReport(filter: $f) { totalEvents } }"
    for query in (events, report):
        for bad in ({"from": "2026-01-01T00:00:00"}, {"to": "9999-12-31T23:59:59-14:00"}):
            result = await alice.gql(query, f=bad)
            assert result.error_codes == ["VALIDATION"], (query, bad, result.body)
            assert result.body["errors"][0]["extensions"]["field"] == list(bad)
        assert (await alice.gql(query, f={"from": "2026-01-01T00:00:00+01:00"})).body.get("errors") is None
        backwards = await alice.gql(query, f={"from": "2027-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"})
        assert backwards.error_codes == ["VALIDATION"] and backwards.body["errors"][0]["extensions"]["field"] == ["to"]
    audit = "query($f: AuditFilter) { auditLog(filter: $f) { totalCount } }"
    backwards = await admin.gql(audit, f={"since": "2027-01-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"})
    assert backwards.error_codes == ["VALIDATION"]
    # The same rule wherever a client gives a time: a card's block, the audit log's filter.
    card = await create_counterparty(alice, "ACME")
    block = "mutation($i: AddBlockInput!) { addBlock(input: $i) { userErrors { code field } } }"
    for at in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"):
        refused = await alice.gql(block, i={"counterpartyId": card["id"], "reason": "Zaległości", "validFrom": at})
        assert refused.payload("addBlock")["userErrors"] == [{"code": "VALIDATION", "field": ["validFrom"]}], at
    audit = "query($s: DateTime) { auditLog(filter: {since: $s}) { totalCount } }"
    for at in ("2026-01-01T00:00:00", "0001-01-01T00:00:00+14:00"):
        result = await admin.gql(audit, s=at)
        assert result.error_codes == ["VALIDATION"], (at, result.body)


async def test_a_user_who_may_not_change_a_cards_documents_cannot_merge_the_card(admin, alice, bob):
    target = await create_counterparty(bob, "Kowalski i Syn")
    source = await create_counterparty(bob, "Kowalski (duplikat)")
    private = await create_binder(alice, "Kadry")
    shared = await create_binder(alice, "Umowy")
    await set_binder_access(alice, shared["id"], [(await me_id(alice), "MANAGE"), (await me_id(bob), "READ")])
    await create_document(alice, shared["id"], "Umowa", b"x", counterpartyId=source["id"])
    merge = (
        "mutation($input: MergeCounterpartiesInput!) { mergeCounterparties(input: $input) { counterparty { id } %s } }"
        % ERRORS
    )
    documents = "query($id: ID!) { counterparty(id: $id) { deletedAt documents { totalCount } } }"
    wanted = {"targetId": target["id"], "sourceIds": [source["id"]]}

    # bob reads the document but may not change it; a document he cannot even see stops him alike.
    assert (await bob.gql(merge, input=wanted)).codes("mergeCounterparties") == ["PERMISSION_DENIED"]
    await set_binder_access(alice, shared["id"], [(await me_id(alice), "MANAGE"), (await me_id(bob), "WRITE")])
    await create_document(alice, private["id"], "Umowa o pracę", b"x", counterpartyId=source["id"])
    assert (await bob.gql(merge, input=wanted)).codes("mergeCounterparties") == ["PERMISSION_DENIED"]
    unchanged = (await alice.gql(documents, id=source["id"])).data["counterparty"]
    assert unchanged == {"deletedAt": None, "documents": {"totalCount": 2}}

    ok(await admin.gql(merge, input=wanted), "mergeCounterparties")
    assert (await alice.gql(documents, id=target["id"])).data["counterparty"]["documents"]["totalCount"] == 2


async def test_a_user_who_may_not_change_a_cards_documents_cannot_delete_or_restore_the_card(admin, alice, bob):
    card = await create_counterparty(bob, "Żabka Polska")
    private = await create_binder(alice, "Poufne")
    await create_document(alice, private["id"], "Umowa poufna", b"x", counterpartyId=card["id"])
    delete = "mutation($id: ID!) { deleteCounterparty(input: {counterpartyId: $id}) { %s } }" % ERRORS
    restore = "mutation($id: ID!) { restoreCounterparty(input: {counterpartyId: $id}) { %s } }" % ERRORS
    state = "query($id: ID!) { counterparty(id: $id) { deletedAt } }"

    # bob keeps the card, but it holds a document he cannot see: deleting it is not his to do.
    refused = await bob.gql(delete, id=card["id"])
    assert refused.codes("deleteCounterparty") == ["PERMISSION_DENIED"]
    assert "Umowa" not in refused.body
    assert (await alice.gql(state, id=card["id"])).data["counterparty"] == {"deletedAt": None}

    ok(await alice.gql(delete, id=card["id"]), "deleteCounterparty")
    assert (await bob.gql(restore, id=card["id"])).codes("restoreCounterparty") == ["PERMISSION_DENIED"]
    assert (await alice.gql(state, id=card["id"])).data["counterparty"]["deletedAt"] is not None
    ok(await admin.gql(restore, id=card["id"]), "restoreCounterparty")
    # A card with no documents out of reach stays anyone's to delete.
    empty = await create_counterparty(alice, "Nowak")
    ok(await bob.gql(delete, id=empty["id"]), "deleteCounterparty")


@sqlite_only
async def test_merging_moves_the_sources_documents_and_soft_deletes_them(alice, services):
    target = await create_counterparty(alice, "ACME SA")
    source = await create_counterparty(alice, "ACME S.A. (duplikat)", nip="1234563218")
    binder = await create_binder(alice, "Umowy")
    await create_document(alice, binder["id"], "Umowa", b"x", counterpartyId=source["id"])
    merge = (
        """mutation($input: MergeCounterpartiesInput!) {
      mergeCounterparties(input: $input) { counterparty { id nip documents { totalCount } } %s } }"""
        % ERRORS
    )
    merged = ok(
        await alice.gql(merge, input={"targetId": target["id"], "sourceIds": [source["id"]]}), "mergeCounterparties"
    )
    assert merged["counterparty"]["documents"]["totalCount"] == 1
    assert merged["counterparty"]["nip"] == "1234563218"
    gone = (
        await alice.gql("query($id: ID!) { counterparty(id: $id) { deletedAt mergedInto { id } } }", id=source["id"])
    ).data
    assert gone["counterparty"]["mergedInto"]["id"] == target["id"]
    restore = "mutation($id: ID!) { restoreCounterparty(input: {counterpartyId: $id}) { %s } }" % ERRORS
    assert (await alice.gql(restore, id=source["id"])).codes("restoreCounterparty") == ["CONFLICT"]
    await card_openings(services.db).drain()


async def test_adding_documents_records_document_added_and_email_archived_events(alice, services):
    card = await create_counterparty(alice, "ACME")
    binder = await create_binder(alice, "Korespondencja")
    await create_document(alice, binder["id"], "Oferta", b"oferta", counterpartyId=card["id"])
    email = (
        b"From: Jan <jan@acme.pl>\r\nTo: biuro@firma.pl\r\nSubject: Zamowienie\r\n"
        b"Date: Tue, 13 Jan 2026 10:00:00 +0100\r\nMessage-ID: <1@acme.pl>\r\n\r\nProsze o oferte.\r\n"
    )
    await create_document(alice, binder["id"], "E-mail", email, filename="mail.eml", counterpartyId=card["id"])
    openings = openings_wait(services)
    timeline = (await alice.gql(CARD, id=card["id"])).data["counterparty"]["timeline"]
    await openings.drain()
    kinds = sorted(e["node"]["type"]["automaticKind"] for e in timeline["edges"] if e["node"]["__typename"] == "Event")
    assert kinds == ["DOCUMENT_ADDED", "EMAIL_ARCHIVED"]
