"""The counterparty card costs the same number of SQL statements whatever hangs on it (DataLoaders)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from dms.events.openings import card_openings
from tests.api.helpers import create_binder, create_document, me_id
from tests.api.test_crm import REGISTER, create_counterparty, create_dictionary, create_event_type, ok
from tests.conftest import Client

CARD = """
query($id: ID!) { counterparty(id: $id) {
  id name nip nipFormatted regon vatNumber notes isBlocked createdAt
  type { name fields { key label kind required } }
  customFields { key label value }
  categories { name } groups { name } segmentation { name dictionary { name } }
  accountManager { username }
  blocks { reason validFrom validTo inForce createdBy { username } }
  addresses { uses street postalCode city country validFrom isCurrent }
  contactPersons { name position responsibilities availability contactMethods { kind value label } }
  bankAccounts { iban ibanFormatted bankName }
  documents(first: 20) { totalCount edges { node {
    title currentVersion { number size } lock { holder { username } } counterparty { name }
  } } }
  timeline(first: 5) { totalCount edges { cursor node {
    __typename
    ... on Event {
      number occurredAt registeredAt note details
      type { name colour automaticKind } user { username } registeredBy { username }
      contactPerson { name } settlements { description total } settlementTotal customFields { key value }
    }
    ... on Document { title currentVersion { number } }
  } } }
} }"""

ADD_PERSON = """mutation($input: AddContactPersonInput!) { addContactPerson(input: $input) { contactPerson { id } userErrors { code } } }"""
ADD_ADDRESS = (
    """mutation($input: AddAddressInput!) { addAddress(input: $input) { address { id } userErrors { code } } }"""
)
ADD_ACCOUNT = """mutation($input: AddBankAccountInput!) { addBankAccount(input: $input) { bankAccount { id } userErrors { code } } }"""
ADD_BLOCK = """mutation($input: AddBlockInput!) { addBlock(input: $input) { block { id } userErrors { code } } }"""
CREATE_TYPE = """mutation($input: CreateCounterpartyTypeInput!) { createCounterpartyType(input: $input) { counterpartyType { id } userErrors { code } } }"""


@contextmanager
def counting(engine: Any) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "PRAGMA", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")):
            statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def full_card(admin: Client, client: Client, documents: int, events: int) -> str:
    """A card with everything on it: type and custom values, dictionaries, people, addresses, accounts,
    a block, `documents` documents and then `events` events with settlements (so the timeline's
    first page holds events on both cards)."""
    kind = ok(
        await admin.gql(
            CREATE_TYPE,
            input={"name": f"Typ {documents}", "fields": [{"key": "note", "label": "Uwagi", "kind": "TEXT"}]},
        ),
        "createCounterpartyType",
    )["counterpartyType"]["id"]
    category = (await create_dictionary(admin, f"Kategorie {documents}", "CATEGORY", ["Dostawca", "Klient"]))["entries"]
    segment = (await create_dictionary(admin, f"Branża {documents}", "SEGMENTATION", ["IT"]))["entries"]
    card = await create_counterparty(
        client,
        f"ACME {documents}",
        typeId=kind,
        customFields={"note": "ważny"},
        categoryIds=[e["id"] for e in category],
        segmentIds=[segment[0]["id"]],
        accountManagerId=await me_id(client),
    )
    person_ids = []
    for name in ("Jan Kowalski", "Anna Nowak"):
        methods = [
            {"kind": "EMAIL", "value": f"{name.split()[0].lower()}@acme.pl"},
            {"kind": "PHONE", "value": "+48 600 100 200"},
        ]
        person = await client.gql(
            ADD_PERSON, input={"counterpartyId": card["id"], "name": name, "contactMethods": methods}
        )
        person_ids.append(ok(person, "addContactPerson")["contactPerson"]["id"])
    for uses in (["REGISTERED_SEAT"], ["CORRESPONDENCE", "SHIPPING"]):
        ok(
            await client.gql(
                ADD_ADDRESS, input={"counterpartyId": card["id"], "uses": uses, "city": "Łódź", "postalCode": "90-001"}
            ),
            "addAddress",
        )
    ok(
        await client.gql(
            ADD_ACCOUNT, input={"counterpartyId": card["id"], "iban": "PL61 1090 1014 0000 0712 1981 2874"}
        ),
        "addBankAccount",
    )
    ok(
        await client.gql(ADD_BLOCK, input={"counterpartyId": card["id"], "reason": "Bez sprzedaży na kredyt"}),
        "addBlock",
    )
    binder = await create_binder(client, f"Dokumenty {documents}")
    for index in range(documents):
        await create_document(
            client, binder["id"], f"Dokument {index}", f"treść {index}".encode(), counterpartyId=card["id"]
        )
    trip = await create_event_type(admin, f"Delegacja {documents}", hasSettlements=True, numberPattern="D/{N}")
    for index in range(events):
        line = {"description": "km", "quantity": str(10 + index), "unitPrice": "0.8358"}
        registered = await client.gql(
            REGISTER,
            input={
                "typeId": trip,
                "counterpartyId": card["id"],
                "contactPersonId": person_ids[index % 2],
                "settlements": [line],
            },
        )
        ok(registered, "registerEvent")
    return card["id"]


async def statements_for_card(client: Client, services: Any, card_id: str) -> tuple[int, dict[str, Any]]:
    openings = card_openings(services.db)
    openings.delay = 60  # keep the recorded opening out of the count; drained below
    with counting(services.db.engine) as statements:
        result = await client.gql(CARD, id=card_id)
    await openings.drain()
    return len(statements), result.data["counterparty"]


async def test_the_card_query_costs_the_same_statements_with_20_documents_as_with_3(admin, alice, services):
    small_card = await full_card(admin, alice, documents=3, events=6)
    large_card = await full_card(admin, alice, documents=20, events=12)
    small, small_data = await statements_for_card(alice, services, small_card)
    large, large_data = await statements_for_card(alice, services, large_card)
    assert len(small_data["documents"]["edges"]) == 3
    assert len(large_data["documents"]["edges"]) == 20
    assert len(large_data["timeline"]["edges"]) == 5
    assert len(large_data["contactPersons"]) == 2 and len(large_data["addresses"]) == 2
    assert large_data["contactPersons"][0]["contactMethods"][0]["kind"] == "EMAIL"
    assert small == large
    print(f"card query: {large} SQL statements")
    assert [e["node"]["__typename"] for e in small_data["timeline"]["edges"]] == ["Event"] * 5
    assert large <= 30
