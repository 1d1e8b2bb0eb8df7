"""`node(id:)` finds every kind of Node by the id the API handed out, and hides what the viewer may not see."""

from __future__ import annotations

from typing import Any

from resolvers.ids import encode_id
from tests.api.test_crm import ERRORS, create_counterparty, ok, sqlite_only
from tests.conftest import Client

NODE = "query($id: ID!) { node(id: $id) { __typename id } }"


async def node(client: Client, global_id: str) -> dict[str, Any] | None:
    return (await client.gql(NODE, id=global_id)).data["node"]


async def card_with_details(client: Client) -> dict[str, str]:
    card = (await create_counterparty(client, "Hurtownia Łąka"))["id"]
    address = "mutation($i: AddAddressInput!) { addAddress(input: $i) { address { id } %s } }" % ERRORS
    account = "mutation($i: AddBankAccountInput!) { addBankAccount(input: $i) { bankAccount { id } %s } }" % ERRORS
    block = "mutation($i: AddBlockInput!) { addBlock(input: $i) { block { id } %s } }" % ERRORS
    return {
        "Counterparty": card,
        "Address": ok(
            await client.gql(address, i={"counterpartyId": card, "uses": ["REGISTERED_SEAT"], "city": "Łódź"}),
            "addAddress",
        )["address"]["id"],
        "BankAccount": ok(
            await client.gql(account, i={"counterpartyId": card, "iban": "PL61109010140000071219812874"}),
            "addBankAccount",
        )["bankAccount"]["id"],
        "CounterpartyBlock": ok(
            await client.gql(block, i={"counterpartyId": card, "reason": "Bez kredytu kupieckiego"}), "addBlock"
        )["block"]["id"],
    }


@sqlite_only
async def test_a_cards_address_bank_account_and_block_are_nodes(alice, bob):
    ids = await card_with_details(alice)
    for type_name, global_id in ids.items():
        assert await node(bob, global_id) == {"__typename": type_name, "id": global_id}
    for type_name in ("Address", "BankAccount", "CounterpartyBlock", "DocumentType", "AuditEntry"):
        assert await node(alice, encode_id(type_name, 999)) is None


@sqlite_only
async def test_a_removed_bank_account_is_no_node(alice):
    ids = await card_with_details(alice)
    remove = "mutation($id: ID!) { removeBankAccount(input: {bankAccountId: $id}) { %s } }" % ERRORS
    ok(await alice.gql(remove, id=ids["BankAccount"]), "removeBankAccount")
    assert await node(alice, ids["BankAccount"]) is None


@sqlite_only
async def test_a_document_type_is_a_node_for_everyone_and_an_audit_entry_for_administrators_only(admin, alice):
    create = "mutation($i: CreateDocumentTypeInput!) { createDocumentType(input: $i) { documentType { id } %s } }"
    kind = ok(await admin.gql(create % ERRORS, i={"code": "FV", "name": "Faktura VAT"}), "createDocumentType")
    type_id = kind["documentType"]["id"]
    assert await node(alice, type_id) == {"__typename": "DocumentType", "id": type_id}
    entries = (await admin.gql("{ auditLog(first: 1) { edges { node { id } } } }")).data["auditLog"]["edges"]
    entry_id = entries[0]["node"]["id"]
    assert await node(admin, entry_id) == {"__typename": "AuditEntry", "id": entry_id}
    assert await node(alice, entry_id) is None
