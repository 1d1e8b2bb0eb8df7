"""Working with a card over GraphQL: its details, cases, tasks, events, the report, delete and restore."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from dms.events.openings import card_openings
from resolvers.ids import encode_id
from tests.api.helpers import create_binder, create_document, me_id, set_binder_access
from tests.api.test_crm import (
    ERRORS,
    REGISTER,
    create_counterparty,
    create_dictionary,
    create_event_type,
    ok,
    sqlite_only,
)

DETAILS = """
query($id: ID!) { counterparty(id: $id) {
  addresses(history: true) { id city uses isCurrent validTo previousId }
  contactPersons { name position availability contactMethods { kind value label } }
  bankAccounts { iban ibanFormatted }
  blocks(history: true) { reason inForce }
  isBlocked
} }"""


@sqlite_only
async def test_card_details_are_kept_with_their_history(alice, services):
    card = (await create_counterparty(alice, "ACME"))["id"]
    add = "mutation($i: AddAddressInput!) { addAddress(input: $i) { address { id } %s } }" % ERRORS
    seat = ok(
        await alice.gql(add, i={"counterpartyId": card, "uses": ["REGISTERED_SEAT"], "city": "Łódź"}), "addAddress"
    )
    change = "mutation($i: ChangeAddressInput!) { changeAddress(input: $i) { address { id } %s } }" % ERRORS
    ok(
        await alice.gql(change, i={"addressId": seat["address"]["id"], "uses": ["REGISTERED_SEAT"], "city": "Kraków"}),
        "changeAddress",
    )
    person = "mutation($i: AddContactPersonInput!) { addContactPerson(input: $i) { contactPerson { id } %s } }" % ERRORS
    methods = [
        {"kind": "EMAIL", "value": "jan@acme.pl", "label": "służbowy"},
        {"kind": "MOBILE", "value": "600 100 200"},
    ]
    ok(
        await alice.gql(
            person,
            i={
                "counterpartyId": card,
                "name": "Jan Kowalski",
                "position": "Prezes",
                "availability": "pn–pt 9–15",
                "contactMethods": methods,
            },
        ),
        "addContactPerson",
    )
    account = "mutation($i: AddBankAccountInput!) { addBankAccount(input: $i) { bankAccount { id } %s } }" % ERRORS
    ok(await alice.gql(account, i={"counterpartyId": card, "iban": "PL61109010140000071219812874"}), "addBankAccount")
    block = "mutation($i: AddBlockInput!) { addBlock(input: $i) { block { id } %s } }" % ERRORS
    blocked = ok(await alice.gql(block, i={"counterpartyId": card, "reason": "Bez sprzedaży na kredyt"}), "addBlock")
    seen = (await alice.gql(DETAILS, id=card)).data["counterparty"]
    assert [(a["city"], a["isCurrent"]) for a in seen["addresses"]] == [("Kraków", True), ("Łódź", False)]
    assert seen["addresses"][0]["previousId"] == seat["address"]["id"]
    assert seen["contactPersons"][0]["contactMethods"][1] == {"kind": "MOBILE", "value": "600 100 200", "label": None}
    assert seen["bankAccounts"][0]["ibanFormatted"] == "PL61 1090 1014 0000 0712 1981 2874"
    assert seen["isBlocked"] is True
    lift = "mutation($i: BlockRefInput!) { liftBlock(input: $i) { block { inForce } %s } }" % ERRORS
    ok(await alice.gql(lift, i={"blockId": blocked["block"]["id"]}), "liftBlock")
    assert (await alice.gql(lift, i={"blockId": blocked["block"]["id"]})).codes("liftBlock") == ["CONFLICT"]
    after = (await alice.gql(DETAILS, id=card)).data["counterparty"]
    assert after["isBlocked"] is False and after["blocks"][0]["inForce"] is False
    await card_openings(services.db).drain()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    """Sets "now" wherever the address services and lists read it (the SQL list and isCurrent)."""

    def set_now(moment: datetime) -> None:
        for module in ("dms.counterparties.details", "dms.counterparties.queries"):
            monkeypatch.setattr(f"{module}.utcnow", lambda: moment)

    return set_now


CARD_ADDRESSES = """
query($id: ID!) { counterparty(id: $id) {
  addresses { city isCurrent }
  history: addresses(history: true) { city isCurrent validTo }
} }"""


# Not SQLite only: which addresses are current is decided in SQL.
async def test_an_address_changed_with_a_future_date_stays_current_until_that_date(alice, clock):
    today = datetime(2026, 12, 3, 9, tzinfo=UTC)
    clock(today)
    card = (await create_counterparty(alice, "ACME"))["id"]
    add = "mutation($i: AddAddressInput!) { addAddress(input: $i) { address { id } %s } }" % ERRORS
    seat = ok(
        await alice.gql(add, i={"counterpartyId": card, "uses": ["REGISTERED_SEAT", "TAX"], "city": "Warszawa"}),
        "addAddress",
    )["address"]["id"]
    change = "mutation($i: ChangeAddressInput!) { changeAddress(input: $i) { address { id } %s } }" % ERRORS
    moving = {"uses": ["REGISTERED_SEAT", "TAX"], "city": "Poznań", "validFrom": "2027-06-01T00:00:00Z"}
    poznan = ok(await alice.gql(change, i={"addressId": seat, **moving}), "changeAddress")["address"]["id"]

    seen = (await alice.gql(CARD_ADDRESSES, id=card)).data["counterparty"]
    assert seen["addresses"] == [{"city": "Warszawa", "isCurrent": True}]
    assert seen["history"] == [
        {"city": "Poznań", "isCurrent": False, "validTo": None},
        {"city": "Warszawa", "isCurrent": True, "validTo": "2027-06-01T00:00:00+00:00"},
    ]
    again = await alice.gql(change, i={"addressId": seat, "uses": ["TAX"], "city": "Kraków"})
    assert again.codes("changeAddress") == ["CONFLICT"]
    second_seat = await alice.gql(add, i={"counterpartyId": card, "uses": ["REGISTERED_SEAT"], "city": "Kraków"})
    assert second_seat.payload("addAddress")["userErrors"][0]["field"] == ["uses"]
    assert second_seat.codes("addAddress") == ["CONFLICT"]

    clock(datetime(2027, 6, 1, tzinfo=UTC))
    seen = (await alice.gql(CARD_ADDRESSES, id=card)).data["counterparty"]
    assert seen["addresses"] == [{"city": "Poznań", "isCurrent": True}]
    assert [(a["city"], a["isCurrent"]) for a in seen["history"]] == [("Poznań", True), ("Warszawa", False)]

    # Two changes in a row, the second one backdated: Gdańsk has been the address for a day.
    clock(datetime(2027, 7, 1, tzinfo=UTC))
    backdated = {"uses": ["REGISTERED_SEAT"], "city": "Gdańsk", "validFrom": "2027-06-30T00:00:00Z"}
    ok(await alice.gql(change, i={"addressId": poznan, **backdated}), "changeAddress")
    seen = (await alice.gql(CARD_ADDRESSES, id=card)).data["counterparty"]
    assert seen["addresses"] == [{"city": "Gdańsk", "isCurrent": True}]
    assert [(a["city"], a["isCurrent"]) for a in seen["history"]] == [
        ("Gdańsk", True),
        ("Poznań", False),
        ("Warszawa", False),
    ]


@sqlite_only
async def test_invalid_details_are_validation_errors_naming_the_field(alice):
    card = (await create_counterparty(alice, "ACME"))["id"]
    account = "mutation($i: AddBankAccountInput!) { addBankAccount(input: $i) { bankAccount { id } %s } }" % ERRORS
    refused = await alice.gql(account, i={"counterpartyId": card, "iban": "PL61109010140000071219812875"})
    assert [(e["code"], e["field"]) for e in refused.payload("addBankAccount")["userErrors"]] == [
        ("VALIDATION", ["iban"])
    ]
    person = "mutation($i: AddContactPersonInput!) { addContactPerson(input: $i) { contactPerson { id } %s } }" % ERRORS
    refused = await alice.gql(
        person, i={"counterpartyId": card, "name": "Jan", "contactMethods": [{"kind": "EMAIL", "value": "jan"}]}
    )
    assert refused.payload("addContactPerson")["userErrors"][0]["field"] == ["contactMethods", "0", "value"]
    methods = [
        {"kind": "PHONE", "value": "22 100 20 30"},
        {"kind": "EMAIL", "value": "jan@firma.pl", "label": "x" * 101},
    ]
    refused = await alice.gql(person, i={"counterpartyId": card, "name": "Jan", "contactMethods": methods})
    assert refused.payload("addContactPerson")["userErrors"][0]["field"] == ["contactMethods", "1", "label"]
    for site in ("javascript:alert(document.cookie)", "ftp://firma.pl", "https://", "http://firma.pl:99999"):
        refused = await alice.gql(
            person, i={"counterpartyId": card, "name": "Jan", "contactMethods": [{"kind": "WEBSITE", "value": site}]}
        )
        assert refused.payload("addContactPerson")["userErrors"][0]["field"] == ["contactMethods", "0", "value"], site
    for site in ("https://firma.pl/kontakt", "www.firma.pl", "HTTP://FIRMA.PL"):
        accepted = await alice.gql(
            person, i={"counterpartyId": card, "name": "Jan", "contactMethods": [{"kind": "WEBSITE", "value": site}]}
        )
        ok(accepted, "addContactPerson")
    address = "mutation($i: AddAddressInput!) { addAddress(input: $i) { address { id } %s } }" % ERRORS
    for country in ("XX", "POL", "P1"):
        refused = await alice.gql(
            address, i={"counterpartyId": card, "uses": ["SHIPPING"], "city": "X", "country": country}
        )
        assert [(e["code"], e["field"]) for e in refused.payload("addAddress")["userErrors"]] == [
            ("VALIDATION", ["country"])
        ], country
    ok(
        await alice.gql(address, i={"counterpartyId": card, "uses": ["SHIPPING"], "city": "Wien", "country": "at"}),
        "addAddress",
    )
    unknown = await alice.gql(account, i={"counterpartyId": "nonsense", "iban": "PL61109010140000071219812874"})
    assert [(e["code"], e["field"]) for e in unknown.payload("addBankAccount")["userErrors"]] == [
        ("NOT_FOUND", ["counterpartyId"])
    ]


@sqlite_only
async def test_a_timeline_of_no_kinds_is_empty_and_of_all_kinds_by_default(alice, services):
    card = (await create_counterparty(alice, "ACME"))["id"]
    binder = await create_binder(alice, "Umowy")
    await create_document(alice, binder["id"], "Umowa", b"x", counterpartyId=card)
    query = "query($id: ID!, $k: [TimelineKind!]) { counterparty(id: $id) { timeline(kinds: $k) { totalCount } } }"

    async def count(kinds: list[str] | None) -> int:
        return (await alice.gql(query, id=card, k=kinds)).data["counterparty"]["timeline"]["totalCount"]

    assert await count([]) == 0
    await card_openings(services.db).drain()  # opening the card is on its timeline too, once recorded
    assert await count(["DOCUMENT"]) == 1
    assert await count(None) == await count(["DOCUMENT", "EVENT"]) > 1


@sqlite_only
async def test_a_lifted_block_still_to_come_is_history_only(alice):
    card = (await create_counterparty(alice, "ACME"))["id"]
    block = "mutation($i: AddBlockInput!) { addBlock(input: $i) { block { id } %s } }" % ERRORS
    future = {"validFrom": "2099-01-01T00:00:00Z", "validTo": "2099-02-01T00:00:00Z"}
    added = ok(await alice.gql(block, i={"counterpartyId": card, "reason": "Inwentaryzacja", **future}), "addBlock")
    listed = "query($id: ID!, $h: Boolean!) { counterparty(id: $id) { blocks(history: $h) { reason } } }"
    assert (await alice.gql(listed, id=card, h=False)).data["counterparty"]["blocks"] == [{"reason": "Inwentaryzacja"}]
    lift = "mutation($i: BlockRefInput!) { liftBlock(input: $i) { %s } }" % ERRORS
    ok(await alice.gql(lift, i={"blockId": added["block"]["id"]}), "liftBlock")
    assert (await alice.gql(listed, id=card, h=False)).data["counterparty"]["blocks"] == []
    assert (await alice.gql(listed, id=card, h=True)).data["counterparty"]["blocks"] == [{"reason": "Inwentaryzacja"}]
    assert (await alice.gql(lift, i={"blockId": added["block"]["id"]})).codes("liftBlock") == ["CONFLICT"]


@sqlite_only
async def test_a_card_holds_each_bank_account_once_until_it_is_removed(alice):
    card = (await create_counterparty(alice, "ACME"))["id"]
    add = "mutation($i: AddBankAccountInput!) { addBankAccount(input: $i) { bankAccount { id } %s } }" % ERRORS
    first = ok(
        await alice.gql(add, i={"counterpartyId": card, "iban": "PL61109010140000071219812874"}), "addBankAccount"
    )
    again = await alice.gql(add, i={"counterpartyId": card, "iban": "pl61 1090 1014 0000 0712 1981 2874"})
    assert [(e["code"], e["field"]) for e in again.payload("addBankAccount")["userErrors"]] == [("CONFLICT", ["iban"])]
    other = (await create_counterparty(alice, "Beta"))["id"]
    ok(await alice.gql(add, i={"counterpartyId": other, "iban": "PL61109010140000071219812874"}), "addBankAccount")
    remove = "mutation($id: ID!) { removeBankAccount(input: {bankAccountId: $id}) { %s } }" % ERRORS
    ok(await alice.gql(remove, id=first["bankAccount"]["id"]), "removeBankAccount")
    ok(await alice.gql(add, i={"counterpartyId": card, "iban": "PL61109010140000071219812874"}), "addBankAccount")
    accounts = (await alice.gql(DETAILS, id=card)).data["counterparty"]["bankAccounts"]
    assert [a["iban"] for a in accounts] == ["PL61109010140000071219812874"]


@sqlite_only
async def test_a_deleted_card_leaves_the_list_and_comes_back_when_restored(alice):
    card = (await create_counterparty(alice, "ACME"))["id"]
    ref = "mutation($id: ID!) { %s(input: {counterpartyId: $id}) { counterparty { id } %s } }"
    ok(await alice.gql(ref % ("deleteCounterparty", ERRORS), id=card), "deleteCounterparty")
    listing = "query($d: Boolean!) { counterparties(filter: {deleted: $d}) { totalCount } }"
    assert (await alice.gql(listing, d=False)).data["counterparties"]["totalCount"] == 0
    assert (await alice.gql(listing, d=True)).data["counterparties"]["totalCount"] == 1
    assert (await alice.gql(ref % ("deleteCounterparty", ERRORS), id=card)).codes("deleteCounterparty") == ["NOT_FOUND"]
    ok(await alice.gql(ref % ("restoreCounterparty", ERRORS), id=card), "restoreCounterparty")
    assert (await alice.gql(listing, d=False)).data["counterparties"]["totalCount"] == 1


async def test_a_document_keeps_showing_its_card_while_the_card_is_deleted(alice):
    card = (await create_counterparty(alice, "ACME"))["id"]
    binder = await create_binder(alice, "Umowy")
    document = await create_document(alice, binder["id"], "Umowa", b"x", counterpartyId=card)
    ref = "mutation($id: ID!) { deleteCounterparty(input: {counterpartyId: $id}) { %s } }" % ERRORS
    ok(await alice.gql(ref, id=card), "deleteCounterparty")
    shown = await alice.gql(
        "query($id: ID!) { node(id: $id) { ... on Document { counterparty { id deletedAt } } } }", id=document["id"]
    )
    assert shown.data["node"]["counterparty"]["id"] == card
    assert shown.data["node"]["counterparty"]["deletedAt"] is not None


@sqlite_only
async def test_a_document_in_a_case_cannot_move_to_another_counterparty_while_the_case_stays(alice):
    acme, other = [(await create_counterparty(alice, name))["id"] for name in ("ACME", "Beta")]
    create_case = "mutation($i: CreateCaseInput!) { createCase(input: $i) { case { id } %s } }" % ERRORS
    case = ok(await alice.gql(create_case, i={"counterpartyId": acme, "title": "Reklamacja"}), "createCase")["case"]
    binder = await create_binder(alice, "Reklamacje")
    document = await create_document(alice, binder["id"], "Protokół", b"x", counterpartyId=acme, caseId=case["id"])
    update = (
        "mutation($i: UpdateDocumentInput!) { updateDocument(input: $i) { document { counterparty { name } case { id } } %s } }"
        % ERRORS
    )

    shown = await alice.gql("query($id: ID!) { node(id: $id) { ... on Document { case { id } } } }", id=document["id"])
    assert shown.data["node"]["case"] == {"id": case["id"]}

    moved = await alice.gql(update, i={"documentId": document["id"], "counterpartyId": other})
    assert [(e["code"], e["field"]) for e in moved.payload("updateDocument")["userErrors"]] == [
        ("VALIDATION", ["counterpartyId"])
    ]
    # Leaving the case too, or leaving the counterparty unset, is fine.
    both = ok(
        await alice.gql(update, i={"documentId": document["id"], "counterpartyId": other, "caseId": None}),
        "updateDocument",
    )
    assert both["document"] == {"counterparty": {"name": "Beta"}, "case": None}


@sqlite_only
async def test_a_document_filed_into_a_case_is_about_the_cases_counterparty(alice):
    acme = (await create_counterparty(alice, "ACME"))["id"]
    create_case = "mutation($i: CreateCaseInput!) { createCase(input: $i) { case { id } %s } }" % ERRORS
    case = ok(await alice.gql(create_case, i={"counterpartyId": acme, "title": "Windykacja"}), "createCase")["case"]
    binder = await create_binder(alice, "Windykacja")
    document = await create_document(alice, binder["id"], "Wezwanie do zapłaty", b"x", caseId=case["id"])
    card = "query($id: ID!) { counterparty(id: $id) { documents { edges { node { title } } } } }"
    listed = (await alice.gql(card, id=acme)).data["counterparty"]["documents"]["edges"]
    assert [edge["node"]["title"] for edge in listed] == ["Wezwanie do zapłaty"]
    update = "mutation($i: UpdateDocumentInput!) { updateDocument(input: $i) { document { id } %s } }" % ERRORS
    kept_in_case = await alice.gql(update, i={"documentId": document["id"], "counterpartyId": None})
    assert [(e["code"], e["field"]) for e in kept_in_case.payload("updateDocument")["userErrors"]] == [
        ("VALIDATION", ["counterpartyId"])
    ]
    ok(
        await alice.gql(update, i={"documentId": document["id"], "counterpartyId": None, "caseId": None}),
        "updateDocument",
    )
    assert (await alice.gql(card, id=acme)).data["counterparty"]["documents"]["edges"] == []


@sqlite_only
async def test_a_case_gathers_documents_and_events_and_tasks_land_in_my_tasks(admin, alice, bob):
    card = (await create_counterparty(alice, "ACME"))["id"]
    create_case = (
        "mutation($i: CreateCaseInput!) { createCase(input: $i) { case { id number status owner { username } } %s } }"
        % ERRORS
    )
    case = ok(await alice.gql(create_case, i={"counterpartyId": card, "title": "Reklamacja dostawy"}), "createCase")[
        "case"
    ]
    assert case["status"] == "OPEN" and case["owner"]["username"] == "alice"
    binder = await create_binder(alice, "Reklamacje")
    document = await create_document(alice, binder["id"], "Protokół", b"x", counterpartyId=card)
    call = await create_event_type(admin, "Telefon")
    event = ok(await alice.gql(REGISTER, input={"typeId": call, "counterpartyId": card}), "registerEvent")["event"]
    move = "mutation($i: MoveToCaseInput!) { moveToCase(input: $i) { case { id } %s } }" % ERRORS
    # Leaving caseId out is not taking them out of their case: that is said with null.
    forgotten = (await alice.gql(move, i={"documentIds": [document["id"]]})).data["moveToCase"]["userErrors"]
    assert [(error["field"], error["code"]) for error in forgotten] == [(["caseId"], "VALIDATION")]
    ok(
        await alice.gql(move, i={"caseId": case["id"], "documentIds": [document["id"]], "eventIds": [event["id"]]}),
        "moveToCase",
    )
    task = (
        "mutation($i: CreateTaskInput!) { createTask(input: $i) { task { id assignee { username } counterparty { name } } %s } }"
        % ERRORS
    )
    created = ok(
        await alice.gql(
            task,
            i={"title": "Oddzwonić", "assigneeId": await me_id(bob), "eventId": event["id"], "dueOn": "2030-01-15"},
        ),
        "createTask",
    )
    assert created["task"]["counterparty"]["name"] == "ACME"
    seen = await alice.gql(
        """query($id: ID!) { case(id: $id) { title documents { totalCount edges { node { title } } }
           events { edges { node { id tasks { title } } } } counterparty { name } } }""",
        id=case["id"],
    )
    found = seen.data["case"]
    assert found["documents"]["edges"][0]["node"]["title"] == "Protokół"
    assert found["events"]["edges"][0]["node"]["tasks"] == [{"title": "Oddzwonić"}]
    bobs = (await bob.gql("{ myTasks { totalCount edges { node { title dueOn event { id } } } } }")).data["myTasks"]
    assert bobs["edges"][0]["node"] == {"title": "Oddzwonić", "dueOn": "2030-01-15", "event": {"id": event["id"]}}
    assert (await alice.gql("{ myTasks { totalCount } }")).data["myTasks"]["totalCount"] == 0
    done = "mutation($i: UpdateTaskInput!) { updateTask(input: $i) { task { status } %s } }" % ERRORS
    ok(await bob.gql(done, i={"taskId": created["task"]["id"], "status": "DONE"}), "updateTask")
    assert (await bob.gql("{ myTasks { totalCount } }")).data["myTasks"]["totalCount"] == 0


@sqlite_only
async def test_the_event_report_groups_counts_and_sums_by_type_and_user(admin, alice, bob):
    trip = await create_event_type(admin, "Delegacja", hasSettlements=True, colour="#FF9800")
    call = await create_event_type(admin, "Telefon")
    lines = [{"description": "km", "quantity": "100", "unitPrice": "0.8358"}]
    for client in (alice, alice, bob):
        ok(await client.gql(REGISTER, input={"typeId": trip, "settlements": lines}), "registerEvent")
    ok(await bob.gql(REGISTER, input={"typeId": call}), "registerEvent")
    query = """query($f: EventReportFilter, $g: [ReportGrouping!]) { eventReport(filter: $f, groupBy: $g) {
      totalEvents settlementTotal rows { type { name colour } user { username } events settlementLines settlementTotal } } }"""
    report = (await alice.gql(query, f={"typeIds": [trip, call]}, g=["TYPE", "USER"])).data["eventReport"]
    assert report["totalEvents"] == 4 and report["settlementTotal"] == "250.74"
    rows = {(r["type"]["name"], r["user"]["username"]): (r["events"], r["settlementTotal"]) for r in report["rows"]}
    assert rows == {
        ("Delegacja", "alice"): (2, "167.16"),
        ("Delegacja", "bob"): (1, "83.58"),
        ("Telefon", "bob"): (1, "0.00"),
    }
    assert report["rows"][0]["type"]["colour"] == "#ff9800"
    only_bob = (await alice.gql(query, f={"userIds": [await me_id(bob)]}, g=[])).data["eventReport"]
    assert only_bob["rows"] == [
        {"type": None, "user": None, "events": 2, "settlementLines": 1, "settlementTotal": "83.58"}
    ]


# Both backends: the access filtering in the report's SQL is the point.
async def test_the_event_report_does_not_count_events_about_documents_the_viewer_may_not_read(admin, alice, bob):
    card = (await create_counterparty(alice, "ACME"))["id"]
    shared = await create_binder(alice, "Wspólny")
    await set_binder_access(alice, shared["id"], [(await me_id(alice), "MANAGE"), (await me_id(bob), "READ")])
    private = await create_binder(alice, "Prywatny")
    await create_document(alice, shared["id"], "Umowa", b"x", counterpartyId=card)
    for title in ("Tajne 1", "Tajne 2", "Tajne 3"):
        await create_document(alice, private["id"], title, b"x", counterpartyId=card)
    trip = await create_event_type(admin, "Delegacja", hasSettlements=True)
    lines = [{"description": "km", "quantity": "100", "unitPrice": "0.8358"}]
    ok(await bob.gql(REGISTER, input={"typeId": trip, "counterpartyId": card, "settlements": lines}), "registerEvent")
    query = """{ eventReport(groupBy: [TYPE]) { totalEvents settlementTotal rows { type { code } events } }
      events(first: 100) { totalCount edges { node { type { code } } } } }"""

    def counted(data: dict[str, Any]) -> tuple[int, str, dict[str, int]]:
        report = data["eventReport"]
        per_type = {row["type"]["code"]: row["events"] for row in report["rows"]}
        return report["totalEvents"], report["settlementTotal"], per_type

    bobs = (await bob.gql(query)).data
    total, settled, per_type = counted(bobs)
    assert per_type.get("auto_document_added") == 1
    assert total == bobs["events"]["totalCount"] == 2 and settled == "83.58"
    assert Counter(edge["node"]["type"]["code"] for edge in bobs["events"]["edges"]) == per_type
    total, settled, per_type = counted((await admin.gql(query)).data)
    assert per_type.get("auto_document_added") == 4
    assert total == 5 and settled == "83.58"


async def test_a_task_cannot_reach_an_event_about_a_document_its_user_may_not_read(alice, bob):
    card = (await create_counterparty(alice, "ACME"))["id"]
    private = await create_binder(alice, "Kadry")
    await create_document(alice, private["id"], "Umowa o pracę Kowalski", b"x", counterpartyId=card)
    events = "{ events(first: 10) { edges { node { id details } } } }"
    event = (await alice.gql(events)).data["events"]["edges"][0]["node"]
    assert event["details"]["title"] == "Umowa o pracę Kowalski"
    create = "mutation($i: CreateTaskInput!) { createTask(input: $i) { task { id event { details } } %s } }" % ERRORS

    refused = (await bob.gql(create, i={"title": "x", "eventId": event["id"]})).data["createTask"]
    assert refused["task"] is None
    assert [error["code"] for error in refused["userErrors"]] == ["NOT_FOUND"]
    mine = ok(await bob.gql(create, i={"title": "Oddzwonić"}), "createTask")["task"]
    update = "mutation($i: UpdateTaskInput!) { updateTask(input: $i) { task { id } %s } }" % ERRORS
    moved = (await bob.gql(update, i={"taskId": mine["id"], "eventId": event["id"]})).data["updateTask"]
    assert [error["code"] for error in moved["userErrors"]] == ["NOT_FOUND"]

    # Alice's task on that event: bob sees the task (tasks are open to all), not the event.
    alices = ok(await alice.gql(create, i={"title": "Podpisać", "eventId": event["id"]}), "createTask")["task"]
    assert alices["event"]["details"]["title"] == "Umowa o pracę Kowalski"
    seen = await bob.gql("query($id: ID!) { node(id: $id) { ... on Task { title event { id } } } }", id=alices["id"])
    assert seen.data["node"] == {"title": "Podpisać", "event": None}


@sqlite_only
async def test_dictionaries_and_types_are_listed_for_everyone_and_changed_only_by_an_administrator(admin, alice):
    industry = await create_dictionary(admin, "Branża", "SEGMENTATION", ["IT", "Handel"])
    listed = (
        await alice.gql("{ dictionaries(kind: SEGMENTATION) { edges { node { name entries { name code } } } } }")
    ).data
    assert listed["dictionaries"]["edges"][0]["node"]["entries"] == [
        {"name": "IT", "code": "it"},
        {"name": "Handel", "code": "handel"},
    ]
    retire = (
        "mutation($i: UpdateDictionaryEntryInput!) { updateDictionaryEntry(input: $i) { entry { active } %s } }"
        % ERRORS
    )
    refused = await alice.gql(retire, i={"entryId": industry["entries"][0]["id"], "active": False})
    assert refused.codes("updateDictionaryEntry") == ["PERMISSION_DENIED"]
    ok(await admin.gql(retire, i={"entryId": industry["entries"][0]["id"], "active": False}), "updateDictionaryEntry")
    trip = await create_event_type(admin, "Delegacja")
    update = (
        "mutation($i: UpdateEventTypeInput!) { updateEventType(input: $i) { eventType { numberPattern } %s } }" % ERRORS
    )
    assert (await alice.gql(update, i={"typeId": trip, "numberPattern": "D/{N}"})).codes("updateEventType") == [
        "PERMISSION_DENIED"
    ]
    bad = await admin.gql(update, i={"typeId": trip, "numberPattern": "D/{N}", "numberReset": "MONTHLY"})
    assert [(e["code"], e["field"]) for e in bad.payload("updateEventType")["userErrors"]] == [
        ("VALIDATION", ["numberPattern"])
    ]
    no_colour = await admin.gql(update, i={"typeId": trip, "colour": None})
    assert [(e["code"], e["field"]) for e in no_colour.payload("updateEventType")["userErrors"]] == [
        ("VALIDATION", ["colour"])
    ]
    types = (await alice.gql("{ eventTypes { edges { node { name numberReset hasSettlements } } } }")).data[
        "eventTypes"
    ]
    assert types["edges"] == [{"node": {"name": "Delegacja", "numberReset": "NEVER", "hasSettlements": False}}]


async def test_a_settlement_amount_is_a_number_as_people_write_it(admin, alice):
    trip = await create_event_type(admin, "Delegacja", hasSettlements=True)
    card = (await create_counterparty(alice, "ACME"))["id"]
    for quantity in ("1_000", "1e2", "\u0661\u0662", "NaN", "12,5"):
        lines = [{"description": "km", "quantity": quantity, "unitPrice": "0.84"}]
        refused = await alice.gql(REGISTER, input={"typeId": trip, "counterpartyId": card, "settlements": lines})
        # Refused while the variables are read, as every malformed scalar is: nothing is registered.
        assert refused.body["data"] is None and "a Decimal is a" in refused.body["errors"][0]["message"], quantity
    lines = [{"description": "km", "quantity": "100", "unitPrice": "0.8358"}]
    ok(await alice.gql(REGISTER, input={"typeId": trip, "counterpartyId": card, "settlements": lines}), "registerEvent")


async def test_a_task_linked_to_rows_that_do_not_exist_is_refused_with_not_found(alice):
    create = "mutation($i: CreateTaskInput!) { createTask(input: $i) { task { id } %s } }" % ERRORS
    task = ok(await alice.gql(create, i={"title": "Oddzwonić"}), "createTask")["task"]
    update = "mutation($i: UpdateTaskInput!) { updateTask(input: $i) { task { id } %s } }" % ERRORS
    for field, kind in (("eventId", "Event"), ("caseId", "Case"), ("counterpartyId", "Counterparty")):
        refused = (await alice.gql(update, i={"taskId": task["id"], field: encode_id(kind, 999999)})).data
        assert [(error["field"], error["code"]) for error in refused["updateTask"]["userErrors"]] == [
            ([field], "NOT_FOUND")
        ], field
