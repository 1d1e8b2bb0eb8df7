"""An explicit null in a mutation's input, one nullable field at a time, for every mutation in the schema.

In an update a field left out keeps its value and an explicit null clears it; a field that cannot be
cleared refuses null with a VALIDATION userError naming it. (The document side's inputs declare
`= null` defaults, so there a null and a field left out are the same thing: the value is kept.) Never
an internal error, and never a NULL stored where none may be (the database's NOT NULL would turn that
into an internal error too). The mutations and their nullable fields, nested inputs included, are read
from the committed schema: a new one is covered as soon as VALID_INPUTS gives it a valid input, and
this test says so until it does.
"""

from __future__ import annotations

import copy
import itertools
import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import graphql
from graphql import GraphQLInputObjectType, get_named_type, get_nullable_type, is_list_type, is_non_null_type
from stdnum import iban as std_iban

from schema.schema import SCHEMA_FILE
from tests.api.helpers import create_binder, create_document, me_id
from tests.api.test_crm import ERRORS, create_counterparty, create_dictionary, create_event_type, ok, sqlite_only
from tests.api.test_fuzz import logged_causes
from tests.conftest import Client, GraphQLResult

SCHEMA = graphql.build_schema(SCHEMA_FILE.read_text())


class Multipart(Enum):
    """Stands for the file a multipart request carries in that input field (an Enum: copies are itself)."""

    FILE = "file"


UPLOAD = Multipart.FILE

CUSTOM_FIELD = {"key": "policy", "label": "Numer polisy", "kind": "TEXT", "pattern": "[A-Z]{2}\\d{4}"}
SETTLEMENT = {"description": "Kilometrówka", "quantity": "12.5", "unitPrice": "0.8358", "unit": "km"}
CONTACT_METHOD = {"kind": "EMAIL", "value": "jan@acme.pl", "label": "służbowy"}


@dataclass
class World:
    """The objects the mutations refer to, by role, as global ids."""

    ids: dict[str, str]
    serial: Iterator[int] = field(default_factory=itertools.count)

    def unique(self, prefix: str) -> str:
        """A name nobody has used yet (types, dictionaries and their codes are unique)."""
        return f"{prefix} {next(self.serial)}"

    def iban(self) -> str:
        """A valid Polish account number nobody has used yet (a card holds each account once)."""
        bban = f"10901014{next(self.serial):016d}"
        return f"PL{std_iban.calc_check_digits(f'PL00{bban}')}{bban}"


# A valid input of each mutation that has nullable input fields; each request sets one of them to null.
VALID_INPUTS: dict[str, Callable[[World], dict[str, Any]]] = {
    "createBinder": lambda w: {"name": w.unique("Segregator")},
    "moveBinder": lambda w: {"binderId": w.ids["child_binder"]},
    "requestUpload": lambda w: {"filename": "skan.pdf", "size": 1024},
    "createDocument": lambda w: {"binderId": w.ids["binder"], "title": "Pismo", "file": UPLOAD},
    "createDocumentFromTemplate": lambda w: {"templateId": w.ids["template"], "binderId": w.ids["binder"]},
    "updateDocument": lambda w: {"documentId": w.ids["document"]},
    "checkInDocument": lambda w: {"documentId": w.ids["document"], "file": UPLOAD},
    "revertDocument": lambda w: {"documentId": w.ids["document"], "versionNumber": "1.0"},
    "updateDocumentType": lambda w: {"typeId": w.ids["document_type"]},
    "createCounterparty": lambda w: {"name": "Hurtownia Nowak"},
    "updateCounterparty": lambda w: {"counterpartyId": w.ids["counterparty"]},
    # Shipping places, of which a card may have many at once: each request adds or changes one more.
    "addAddress": lambda w: {"counterpartyId": w.ids["counterparty"], "uses": ["SHIPPING"], "city": "Łódź"},
    "changeAddress": lambda w: {"addressId": w.ids["address"], "uses": ["SHIPPING"], "city": "Kraków"},
    "addContactPerson": lambda w: {
        "counterpartyId": w.ids["counterparty"],
        "name": "Jan Kowalski",
        "contactMethods": [CONTACT_METHOD],
    },
    "updateContactPerson": lambda w: {"contactPersonId": w.ids["contact_person"], "contactMethods": [CONTACT_METHOD]},
    "addBankAccount": lambda w: {"counterpartyId": w.ids["counterparty"], "iban": w.iban()},
    "addBlock": lambda w: {"counterpartyId": w.ids["counterparty"], "reason": "Bez sprzedaży na kredyt"},
    "createCounterpartyType": lambda w: {"name": w.unique("Hurtownia"), "fields": [CUSTOM_FIELD]},
    "updateCounterpartyType": lambda w: {"typeId": w.ids["counterparty_type"], "fields": [CUSTOM_FIELD]},
    "createDictionary": lambda w: {"name": w.unique("Grupa"), "kind": "GROUP"},
    "addDictionaryEntry": lambda w: {"dictionaryId": w.ids["dictionary"], "name": w.unique("Branża")},
    "updateDictionaryEntry": lambda w: {"entryId": w.ids["dictionary_entry"]},
    "createEventType": lambda w: {"name": w.unique("Spotkanie"), "fields": [CUSTOM_FIELD]},
    "updateEventType": lambda w: {"typeId": w.ids["event_type"], "fields": [CUSTOM_FIELD]},
    "registerEvent": lambda w: {"typeId": w.ids["settled_event_type"], "settlements": [SETTLEMENT]},
    "createCase": lambda w: {"counterpartyId": w.ids["counterparty"], "title": "Reklamacja"},
    "updateCase": lambda w: {"caseId": w.ids["case"]},
    "moveToCase": lambda w: {"caseId": w.ids["case"], "eventIds": [w.ids["event"]]},
    "createTask": lambda w: {"title": "Oddzwonić"},
    "updateTask": lambda w: {"taskId": w.ids["task"]},
}

# The fields an explicit null may not clear (dotted paths, list items by index): each is refused with
# VALIDATION naming it. Every other nullable field takes null: cleared, or (document side) kept.
NOT_CLEARABLE: dict[str, set[str]] = {
    # Neither file nor stagedUploadId: there are no bytes to store.
    "createDocument": {"file"},
    "checkInDocument": {"file"},
    "updateCounterparty": {"name", "customFields"},
    "updateContactPerson": {"name"},
    "updateCounterpartyType": {"name", "active"},
    "updateDictionaryEntry": {"name", "active", "position"},
    "updateEventType": {"name", "colour", "numberReset", "hasSettlements", "active"},
    "updateDocument": {"title", "status", "isTemplate"},
    "updateCase": {"title", "status", "ownerId"},
    "updateTask": {"title", "assigneeId", "status"},
}


async def fresh_address(admin: Client, world: World) -> None:
    """changeAddress turns the address it changes into history: each request gets a current one."""
    add = "mutation($i: AddAddressInput!) { addAddress(input: $i) { address { id } %s } }" % ERRORS
    payload = ok(
        await admin.gql(add, i={"counterpartyId": world.ids["counterparty"], "uses": ["SHIPPING"], "city": "Gdańsk"}),
        "addAddress",
    )
    world.ids["address"] = payload["address"]["id"]


# What must happen before each request of a mutation, beyond its valid input.
BEFORE_EACH: dict[str, Callable[[Client, World], Awaitable[None]]] = {"changeAddress": fresh_address}


def input_type(mutation: str) -> GraphQLInputObjectType:
    root = SCHEMA.mutation_type
    assert root is not None
    args = root.fields[mutation].args
    assert set(args) <= {"input"}, f"{mutation} takes {sorted(args)}: this test knows only `input`"
    named = get_named_type(args["input"].type)
    assert isinstance(named, GraphQLInputObjectType)
    return named


def has_nullable(kind: GraphQLInputObjectType) -> bool:
    for each in kind.fields.values():
        nested = get_named_type(each.type)
        if not is_non_null_type(each.type) or (isinstance(nested, GraphQLInputObjectType) and has_nullable(nested)):
            return True
    return False


def mutations_with_nullable_fields() -> list[str]:
    root = SCHEMA.mutation_type
    assert root is not None
    return [name for name, each in root.fields.items() if "input" in each.args and has_nullable(input_type(name))]


def nullable_paths(kind: GraphQLInputObjectType, value: dict[str, Any], where: tuple[str, ...] = ()) -> Iterator[str]:
    """Each nullable field of the input, as a dotted path; nested inputs through the valid input's example."""
    for name, each in kind.fields.items():
        path = (*where, name)
        if not is_non_null_type(each.type):
            yield ".".join(path)
        nested = get_named_type(each.type)
        if not (isinstance(nested, GraphQLInputObjectType) and has_nullable(nested)):
            continue
        example = value.get(name)
        if is_list_type(get_nullable_type(each.type)):
            example, path = (example[0] if example else None), (*path, "0")
        assert example is not None, (
            f"give {'.'.join(path)} ({nested.name}) an example so its nullable fields are covered"
        )
        yield from nullable_paths(nested, example, path)


def with_null(value: dict[str, Any], path: str) -> dict[str, Any]:
    changed = copy.deepcopy(value)
    *parents, last = path.split(".")
    target: Any = changed
    for step in parents:
        target = target[int(step)] if isinstance(target, list) else target[step]
    target[last] = None
    return changed


async def send(admin: Client, mutation: str, value: dict[str, Any]) -> GraphQLResult:
    query = "mutation($input: %s!) { %s(input: $input) { %s } }" % (input_type(mutation).name, mutation, ERRORS)
    files = {f"input.{name}": ("pismo.txt", b"tresc pisma") for name, given in value.items() if given is UPLOAD}
    if not files:
        return await admin.gql(query, input=value)
    plain = {name: None if given is UPLOAD else given for name, given in value.items()}
    return await admin.upload(query, {"input": plain}, files)


def defect(result: GraphQLResult, mutation: str, path: str) -> str | None:
    """What is wrong with the answer to `path: null`, or None when it is what the contract says."""
    if result.status != 200 or result.body.get("errors"):
        return f"HTTP {result.status}, errors {result.body.get('errors')}"
    got = [(error["code"], error["field"]) for error in result.body["data"][mutation]["userErrors"]]
    wanted = [("VALIDATION", path.split("."))] if path in NOT_CLEARABLE.get(mutation, set()) else []
    return None if got == wanted else f"userErrors {got}, expected {wanted}"


async def created(admin: Client, mutation: str, made: str, **value: Any) -> str:
    query = "mutation($input: %s!) { %s(input: $input) { %s { id } %s } }" % (
        input_type(mutation).name,
        mutation,
        made,
        ERRORS,
    )
    return ok(await admin.gql(query, input=value), mutation)[made]["id"]


async def world_of(admin: Client) -> World:
    """One of everything the mutations refer to, made as an administrator would."""
    binder = (await create_binder(admin, "Akta"))["id"]
    child = (await create_binder(admin, "Podteczka", binder))["id"]
    document = (await create_document(admin, binder, "Umowa", b"umowa"))["id"]
    template = (await create_document(admin, binder, "Wzór pisma", b"wzor", isTemplate=True))["id"]
    document_type = await created(admin, "createDocumentType", "documentType", code="pismo", name="Pismo")
    counterparty_type = await created(
        admin, "createCounterpartyType", "counterpartyType", name="Hurtownia", fields=[CUSTOM_FIELD]
    )
    counterparty = (await create_counterparty(admin, "ACME", typeId=counterparty_type))["id"]
    person = await created(admin, "addContactPerson", "contactPerson", counterpartyId=counterparty, name="Anna Nowak")
    industry = await create_dictionary(admin, "Branża", "SEGMENTATION", ["IT"])
    settled = await create_event_type(admin, "Delegacja", hasSettlements=True)
    event = await created(admin, "registerEvent", "event", typeId=settled, counterpartyId=counterparty)
    case = await created(admin, "createCase", "case", counterpartyId=counterparty, title="Dostawa")
    task = await created(admin, "createTask", "task", title="Zadzwonić", eventId=event, assigneeId=await me_id(admin))
    world = World(
        ids={
            "binder": binder,
            "child_binder": child,
            "document": document,
            "template": template,
            "document_type": document_type,
            "counterparty_type": counterparty_type,
            "counterparty": counterparty,
            "contact_person": person,
            "dictionary": industry["id"],
            "dictionary_entry": industry["entries"][0]["id"],
            "event_type": await create_event_type(admin, "Telefon"),
            "settled_event_type": settled,
            "event": event,
            "case": case,
            "task": task,
        }
    )
    await fresh_address(admin, world)
    return world


def test_every_mutation_with_nullable_input_fields_has_a_valid_input():
    wanted = set(mutations_with_nullable_fields())
    assert set(VALID_INPUTS) == wanted, {
        "give these a valid input": sorted(wanted - set(VALID_INPUTS)),
        "not in the schema, or without nullable fields": sorted(set(VALID_INPUTS) - wanted),
    }
    unknown = {m: paths for m, paths in NOT_CLEARABLE.items() if m not in wanted}
    assert not unknown, unknown


# The GraphQL layer on SQLite, as its neighbours: the services' NOT NULL columns are the same on both.
@sqlite_only
async def test_an_explicit_null_is_taken_or_refused_as_validation_never_an_internal_error(admin, caplog):
    caplog.set_level(logging.ERROR, logger="kartoteka.graphql")
    world = await world_of(admin)
    tried: set[tuple[str, str]] = set()
    failures = []
    for mutation in mutations_with_nullable_fields():
        make = VALID_INPUTS[mutation]
        for path in nullable_paths(input_type(mutation), make(world)):
            if prepare := BEFORE_EACH.get(mutation):
                await prepare(admin, world)
            result = await send(admin, mutation, with_null(make(world), path))
            tried.add((mutation, path))
            if found := defect(result, mutation, path):
                failures.append(f"{mutation}({path}: null): {found}")
    listed = {(mutation, path) for mutation, paths in NOT_CLEARABLE.items() for path in paths}
    assert listed <= tried, f"NOT_CLEARABLE names fields the schema does not have: {sorted(listed - tried)}"
    assert not failures, "\n".join([*failures, *logged_causes(caplog.records)])
