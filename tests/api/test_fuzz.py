"""Schemathesis fuzzes every root field of the schema as logged-in users, over real data.

No answer may be a 5xx, and none may carry a masked internal error: ErrorPolicy turns an unexpected
exception into INTERNAL_SERVER_ERROR, and each of those is a defect in the layer that raised it.
Generation runs in a worker thread (Hypothesis is synchronous); each request goes to the ASGI app on
the test's event loop, so the app and its database connections stay on one loop.
"""

from __future__ import annotations

import json
import logging
import os
import traceback
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.from_thread
import graphql
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.graphql import nodes

from schema.schema import SCHEMA_FILE
from tests.api.helpers import create_binder, create_document, me_id, set_binder_access
from tests.conftest import Client, logged_in

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

# Enough examples per root field that the whole run makes well over 1,000 requests (~80 fields, and
# Hypothesis stops early for a field with few possible queries, such as `me`);
# KARTOTEKA_FUZZ_EXAMPLES=200 explores much further on a developer's machine.
EXAMPLES_PER_FIELD = int(os.environ.get("KARTOTEKA_FUZZ_EXAMPLES", "16"))
# CI replays the same operations on every build, so a red build always points at the change that caused
# it; elsewhere each run explores new ones (set KARTOTEKA_FUZZ_RANDOM=1 to explore in CI too).
DERANDOMIZE = os.environ.get("CI") == "true" and not os.environ.get("KARTOTEKA_FUZZ_RANDOM")
MINIMUM_OPERATIONS = 1000

ERRORS = "userErrors { field message code }"


def ok(result: Any, field_name: str) -> dict[str, Any]:
    payload = result.payload(field_name)
    assert payload["userErrors"] == [], payload["userErrors"]
    return payload


async def seed(admin: Client, alice: Client) -> list[str]:
    """Binders, documents, counterparties, cases, events and tasks, some of them out of alice's reach."""
    ids: list[str] = [await me_id(admin), await me_id(alice)]
    event_type = ok(
        await admin.gql(
            "mutation($i: CreateEventTypeInput!) { createEventType(input: $i) { eventType { id } %s } }" % ERRORS,
            i={"name": "Rozmowa", "numberPattern": "R/{YYYY}/{MM}/{N}", "numberReset": "MONTHLY"},
        ),
        "createEventType",
    )["eventType"]["id"]
    counterparty_type = ok(
        await admin.gql(
            "mutation($i: CreateCounterpartyTypeInput!) { createCounterpartyType(input: $i) { counterpartyType { id } %s } }"
            % ERRORS,
            i={"name": "Hurtownia", "fields": [{"key": "limit", "label": "Limit", "kind": "NUMBER"}]},
        ),
        "createCounterpartyType",
    )["counterpartyType"]["id"]
    dictionary = ok(
        await admin.gql(
            "mutation($i: CreateDictionaryInput!) { createDictionary(input: $i) { dictionary { id } %s } }" % ERRORS,
            i={"name": "Branże", "kind": "SEGMENTATION"},
        ),
        "createDictionary",
    )["dictionary"]["id"]
    ids += [event_type, counterparty_type, dictionary]

    private = await create_binder(admin, "Zarząd")
    private_document = await create_document(admin, private["id"], "Uchwała", b"tajne", filename="uchwala.txt")
    ids += [private["id"], private_document["id"], private_document["currentVersion"]["id"]]

    shelf = await create_binder(alice, "Umowy")
    child = await create_binder(alice, "2026", shelf["id"])
    await set_binder_access(alice, shelf["id"], [(await me_id(alice), "MANAGE"), (await me_id(admin), "READ")])
    ids += [shelf["id"], child["id"]]
    for number, (binder, name) in enumerate([(shelf, "umowa.txt"), (child, "faktura.pdf"), (child, "notatka.txt")]):
        document = await create_document(alice, binder["id"], f"Dokument {number}", b"tresc %d" % number, filename=name)
        ids += [document["id"], document["currentVersion"]["id"]]

    for name, nip in (("Hurtownia Kowalski", "5260250274"), ("Biuro Nowak", None)):
        counterparty = ok(
            await alice.gql(
                "mutation($i: CreateCounterpartyInput!) { createCounterparty(input: $i) { counterparty { id } %s } }"
                % ERRORS,
                i={"name": name, "nip": nip, "typeId": counterparty_type},
            ),
            "createCounterparty",
        )["counterparty"]["id"]
        person = ok(
            await alice.gql(
                "mutation($i: AddContactPersonInput!) { addContactPerson(input: $i) { contactPerson { id } %s } }"
                % ERRORS,
                i={"counterpartyId": counterparty, "name": "Jan Kowalski"},
            ),
            "addContactPerson",
        )["contactPerson"]["id"]
        case = ok(
            await alice.gql(
                "mutation($i: CreateCaseInput!) { createCase(input: $i) { case { id } %s } }" % ERRORS,
                i={"counterpartyId": counterparty, "title": "Reklamacja"},
            ),
            "createCase",
        )["case"]["id"]
        event = ok(
            await alice.gql(
                "mutation($i: RegisterEventInput!) { registerEvent(input: $i) { event { id } %s } }" % ERRORS,
                i={"typeId": event_type, "counterpartyId": counterparty, "caseId": case, "note": "telefon"},
            ),
            "registerEvent",
        )["event"]["id"]
        task = ok(
            await alice.gql(
                "mutation($i: CreateTaskInput!) { createTask(input: $i) { task { id } %s } }" % ERRORS,
                i={"title": "Oddzwonić", "eventId": event, "counterpartyId": counterparty},
            ),
            "createTask",
        )["task"]["id"]
        ids += [counterparty, person, case, event, task]
    return ids


def json_object(fields: dict[str, graphql.ValueNode]) -> graphql.ObjectValueNode:
    return nodes.Object(
        [graphql.ObjectFieldNode(name=graphql.NameNode(value=key), value=value) for key, value in fields.items()]
    )


@dataclass
class Findings:
    operations: int = 0
    failures: list[str] = field(default_factory=list)


def defects(status: int, text: str) -> list[str]:
    """What is wrong with one answer: a 5xx, a body that is not GraphQL JSON, or an internal error."""
    if status >= 500:
        return [f"HTTP {status}: {text[:500]}"]
    try:
        body = json.loads(text)
    except ValueError:
        return [] if 400 <= status < 500 else [f"HTTP {status} with a body that is not JSON: {text[:200]}"]
    found = []
    for error in (body.get("errors") or []) if isinstance(body, dict) else []:
        if (error.get("extensions") or {}).get("code") == "INTERNAL_SERVER_ERROR":
            found.append(f"masked internal error at {error.get('path')}")
    return found


async def test_no_generated_operation_meets_a_server_error(admin, alice, http, caplog):
    ids = await seed(admin, alice)
    real_ids = st.sampled_from(ids)
    schemathesis.graphql.scalar("ID", st.one_of(real_ids, real_ids, real_ids, st.text(max_size=40)).map(nodes.String))
    schemathesis.graphql.scalar("Upload", st.just(nodes.Null) | st.text(max_size=10).map(nodes.String))
    schemathesis.graphql.scalar(
        "Decimal",
        st.one_of(st.decimals(allow_nan=False, allow_infinity=False).map(str), st.text(max_size=12)).map(nodes.String),
    )
    schemathesis.graphql.scalar(
        "JSON",
        st.one_of(
            st.dictionaries(
                st.from_regex(r"[a-z][a-z_]{0,7}", fullmatch=True), st.text(max_size=8).map(nodes.String), max_size=3
            ).map(json_object),
            st.text(max_size=10).map(nodes.String),
            st.integers().map(nodes.Int),
        ),
    )
    schema = schemathesis.graphql.from_path(SCHEMA_FILE)
    tokens = {"alice": alice.token, "admin": admin.token}
    findings = Findings()

    async def send(who: str, query: str) -> tuple[int, str]:
        response = await http.post(
            "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {tokens[who]}"}
        )
        if '"logout"' in response.text:
            # A fuzzed logout revokes the token it was sent with; log in again to keep fuzzing as that user.
            tokens[who] = (await logged_in(http, who)).token
        return response.status_code, response.text

    def fuzz() -> None:
        for result in schema.get_all_operations():
            operation = result.ok()

            @settings(
                max_examples=EXAMPLES_PER_FIELD,
                derandomize=DERANDOMIZE,
                deadline=None,
                database=None,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(), who=st.sampled_from(sorted(tokens)))
            def run(case: Any, who: str) -> None:
                status, text = anyio.from_thread.run(send, who, case.body)
                findings.operations += 1
                findings.failures += [
                    f"{case.operation.label} as {who}: {d}\n{case.body}" for d in defects(status, text)
                ]

            run()

    await anyio.to_thread.run_sync(fuzz)
    assert findings.operations >= MINIMUM_OPERATIONS
    assert not findings.failures, "\n\n".join([*findings.failures[:10], *logged_causes(caplog.records)])


def logged_causes(records: list[logging.LogRecord]) -> list[str]:
    """Each distinct exception ErrorPolicy masked, with the frame of ours that raised it."""
    causes = set()
    for record in records:
        if record.name != "kartoteka.graphql" or not record.exc_info or record.exc_info[1] is None:
            continue
        error = record.exc_info[1]
        ours = [frame for frame in traceback.extract_tb(error.__traceback__) if "/.venv/" not in frame.filename]
        where = f"{ours[-1].filename}:{ours[-1].lineno}" if ours else "?"
        causes.add(f"{type(error).__name__}: {error} at {where}")
    return sorted(causes)
