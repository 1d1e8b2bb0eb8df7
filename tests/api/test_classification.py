"""Document types and workflow states, configured by admins and obeyed by every document."""

from __future__ import annotations

from resolvers.ids import encode_id
from tests.api.helpers import create_binder, create_document

CREATE_TYPE = """
mutation($i: CreateDocumentTypeInput!) { createDocumentType(input: $i) { documentType { id code name requiredFields } userErrors { field code } } }"""
UPDATE = """
mutation($i: UpdateDocumentInput!) { updateDocument(input: $i) { document { status documentType { code } } userErrors { field code } } }"""
HISTORY = """
query($id: ID!) { node(id: $id) { ... on Document { history { edges { node { action details actor { username } } } } } } }"""


async def test_only_admins_configure_types_and_states(alice):
    refused = await alice.gql(CREATE_TYPE, i={"code": "invoice", "name": "Faktura"})
    assert refused.codes("createDocumentType") == ["PERMISSION_DENIED"]
    states = await alice.gql(
        'mutation { setDocumentStatuses(input: {statuses: [{code: "x", name: "X"}]}) { userErrors { code } } }'
    )
    assert states.codes("setDocumentStatuses") == ["PERMISSION_DENIED"]


async def test_a_type_requiring_a_counterparty_refuses_a_document_without_one(admin):
    created = await admin.gql(CREATE_TYPE, i={"code": "invoice", "name": "Faktura", "requiredFields": ["counterparty"]})
    type_id = created.payload("createDocumentType")["documentType"]["id"]
    binder = await create_binder(admin, "Faktury")
    result = await admin.upload(
        "mutation($input: CreateDocumentInput!) { createDocument(input: $input) { document { id } userErrors { field code } } }",
        {"input": {"binderId": binder["id"], "title": "FV 1", "file": None, "documentTypeId": type_id}},
        {"input.file": ("fv.txt", b"faktura")},
    )
    assert result.payload("createDocument")["userErrors"] == [{"field": ["counterpartyId"], "code": "VALIDATION"}]
    counterparty = await admin.gql('mutation { createCounterparty(input: {name: "ACME"}) { counterparty { id } } }')
    cp_id = counterparty.payload("createCounterparty")["counterparty"]["id"]
    document = await create_document(
        admin, binder["id"], "FV 1", b"faktura", documentTypeId=type_id, counterpartyId=cp_id
    )
    assert document["id"]


async def test_requiring_an_unknown_field_is_a_validation_error(admin):
    result = await admin.gql(CREATE_TYPE, i={"code": "invoice", "name": "Faktura", "requiredFields": ["colour"]})
    assert result.codes("createDocumentType") == ["VALIDATION"]


async def test_set_statuses_answers_the_states_as_stored(admin):
    result = await admin.gql(
        "mutation($s: [DocumentStatusInput!]!) { setDocumentStatuses(input: {statuses: $s}) "
        "{ statuses { code name } userErrors { code } } }",
        s=[{"code": "NEW", "name": "  Nowy\u0000 "}, {"code": "done", "name": "Zamknięty\tostatecznie"}],
    )
    assert result.payload("setDocumentStatuses")["statuses"] == [
        {"code": "new", "name": "Nowy"},
        {"code": "done", "name": "Zamknięty ostatecznie"},
    ]
    assert (await admin.gql("{ documentStatuses { code name } }")).data["documentStatuses"] == [
        {"code": "new", "name": "Nowy"},
        {"code": "done", "name": "Zamknięty ostatecznie"},
    ]


async def test_a_new_document_starts_in_the_first_state_and_status_changes_keep_their_comment(admin):
    await admin.gql(
        'mutation { setDocumentStatuses(input: {statuses: [{code: "received", name: "Wpłynął"},'
        ' {code: "approved", name: "Zatwierdzony"}]}) { userErrors { code } } }'
    )
    binder = await create_binder(admin, "Faktury")
    document = await create_document(admin, binder["id"], "FV 1", b"faktura")
    listed = await admin.gql("query($id: ID!) { node(id: $id) { ... on Document { status } } }", id=document["id"])
    assert listed.data["node"]["status"] == "received"
    unknown = await admin.gql(UPDATE, i={"documentId": document["id"], "status": "paid"})
    assert unknown.codes("updateDocument") == ["VALIDATION"]
    changed = await admin.gql(
        UPDATE, i={"documentId": document["id"], "status": "approved", "statusComment": "Sprawdzone z zamówieniem"}
    )
    assert changed.payload("updateDocument")["document"]["status"] == "approved"
    history = await admin.gql(HISTORY, id=document["id"])
    entry = history.data["node"]["history"]["edges"][-1]["node"]
    assert entry["action"] == "status_changed"
    assert entry["details"] == {"from": "received", "to": "approved", "comment": "Sprawdzone z zamówieniem"}
    assert entry["actor"]["username"] == "admin"


async def test_a_reader_cannot_change_metadata(alice, bob):
    from tests.api.helpers import me_id, set_binder_access

    binder = await create_binder(alice, "Faktury")
    await set_binder_access(alice, binder["id"], [(await me_id(alice), "MANAGE"), (await me_id(bob), "READ")])
    document = await create_document(alice, binder["id"], "FV 1", b"faktura")
    result = await bob.gql(UPDATE, i={"documentId": document["id"], "status": "approved"})
    assert result.codes("updateDocument") == ["PERMISSION_DENIED"]


DETAILS = """
mutation($i: UpdateDocumentInput!) { updateDocument(input: $i) {
  document { title status description tags receivedOn source counterparty { name } documentType { code } }
  userErrors { field code } } }"""


async def test_null_clears_a_documents_metadata_and_a_field_left_out_stays(admin):
    created = await admin.gql(CREATE_TYPE, i={"code": "invoice", "name": "Faktura"})
    type_id = created.payload("createDocumentType")["documentType"]["id"]
    counterparty = await admin.gql('mutation { createCounterparty(input: {name: "ACME"}) { counterparty { id } } }')
    binder = await create_binder(admin, "Faktury")
    document = await create_document(
        admin,
        binder["id"],
        "FV 1",
        b"faktura",
        documentTypeId=type_id,
        counterpartyId=counterparty.payload("createCounterparty")["counterparty"]["id"],
    )
    filled = {"description": "Za transport", "tags": ["pilne"], "receivedOn": "2026-03-02", "source": "e-mail"}
    set_up = await admin.gql(DETAILS, i={"documentId": document["id"], **filled})
    assert set_up.payload("updateDocument")["userErrors"] == []

    cleared = await admin.gql(
        DETAILS,
        i={
            "documentId": document["id"],
            **{name: None for name in ("description", "tags", "receivedOn", "source", "counterpartyId")},
            "documentTypeId": None,
        },
    )
    after = cleared.payload("updateDocument")["document"]
    assert (after["description"], after["tags"], after["receivedOn"], after["source"]) == (None, [], None, None)
    assert (after["counterparty"], after["documentType"]) == (None, None)
    assert (after["title"], after["status"]) == ("FV 1", set_up.payload("updateDocument")["document"]["status"])

    for field in ("title", "status", "isTemplate"):
        refused = await admin.gql(DETAILS, i={"documentId": document["id"], field: None})
        assert refused.payload("updateDocument")["userErrors"] == [{"field": [field], "code": "VALIDATION"}], field
    history = await admin.gql(HISTORY, id=document["id"])
    changed = [edge["node"]["details"] for edge in history.data["node"]["history"]["edges"]]
    assert {"fields": ["counterpartyId", "description", "documentTypeId", "receivedOn", "source", "tags"]} in changed


SET_STATUSES = "mutation($s: [DocumentStatusInput!]!) { setDocumentStatuses(input: {statuses: $s}) { userErrors { field code message } } }"


async def test_a_state_documents_are_in_cannot_be_dropped_from_the_workflow(admin):
    states = [{"code": "received", "name": "Wpłynął"}, {"code": "approved", "name": "Zatwierdzony"}]
    assert (await admin.gql(SET_STATUSES, s=states)).payload("setDocumentStatuses")["userErrors"] == []
    binder = await create_binder(admin, "Faktury")
    document = await create_document(admin, binder["id"], "FV 1", b"faktura")  # starts "received"

    dropped = (await admin.gql(SET_STATUSES, s=states[1:])).payload("setDocumentStatuses")["userErrors"]
    assert [(e["code"], e["field"]) for e in dropped] == [("CONFLICT", ["statuses"])]
    assert "'received' (1)" in dropped[0]["message"]
    listed = await admin.gql("query($id: ID!) { node(id: $id) { ... on Document { status } } }", id=document["id"])
    assert listed.data["node"]["status"] == "received"

    moved = await admin.gql(UPDATE, i={"documentId": document["id"], "status": "approved"})
    assert moved.payload("updateDocument")["userErrors"] == []
    assert (await admin.gql(SET_STATUSES, s=states[1:])).payload("setDocumentStatuses")["userErrors"] == []


async def test_a_type_names_every_field_it_still_needs_and_points_at_the_first_input(admin):
    created = await admin.gql(
        CREATE_TYPE, i={"code": "invoice", "name": "Faktura", "requiredFields": ["case", "counterparty", "receivedOn"]}
    )
    type_id = created.payload("createDocumentType")["documentType"]["id"]
    binder = await create_binder(admin, "Faktury")
    result = await admin.upload(
        "mutation($input: CreateDocumentInput!) { createDocument(input: $input) { userErrors { field code message } } }",
        {"input": {"binderId": binder["id"], "title": "FV 1", "file": None, "documentTypeId": type_id}},
        {"input.file": ("fv.txt", b"faktura")},
    )
    (error,) = result.payload("createDocument")["userErrors"]
    assert (error["code"], error["field"]) == ("VALIDATION", ["caseId"])
    assert all(name in error["message"] for name in ("case", "counterparty", "receivedOn"))


async def test_a_field_required_later_does_not_block_other_edits_of_documents_filed_before(admin):
    created = await admin.gql(CREATE_TYPE, i={"code": "invoice", "name": "Faktura"})
    type_id = created.payload("createDocumentType")["documentType"]["id"]
    other = await admin.gql(CREATE_TYPE, i={"code": "receipt", "name": "Paragon", "requiredFields": ["source"]})
    other_id = other.payload("createDocumentType")["documentType"]["id"]
    binder = await create_binder(admin, "Faktury")
    document = await create_document(admin, binder["id"], "FV 1", b"faktura", documentTypeId=type_id, source="poczta")
    require = "mutation($i: UpdateDocumentTypeInput!) { updateDocumentType(input: $i) { userErrors { code } } }"
    assert (await admin.gql(require, i={"typeId": type_id, "requiredFields": ["counterparty", "source"]})).codes(
        "updateDocumentType"
    ) == []
    renamed = await admin.gql(UPDATE, i={"documentId": document["id"], "title": "FV 1/2026", "status": "approved"})
    assert renamed.codes("updateDocument") == []
    # Clearing a required field, or moving to a type that needs what the document lacks, is refused.
    cleared = await admin.gql(UPDATE, i={"documentId": document["id"], "source": None})
    assert cleared.payload("updateDocument")["userErrors"] == [{"field": ["source"], "code": "VALIDATION"}]
    retyped = await admin.gql(UPDATE, i={"documentId": document["id"], "documentTypeId": other_id, "source": None})
    assert retyped.codes("updateDocument") == ["VALIDATION"]


async def test_a_bad_status_name_is_named_by_its_place_in_the_list(admin):
    result = await admin.gql(
        "mutation($s: [DocumentStatusInput!]!) { setDocumentStatuses(input: {statuses: $s}) "
        "{ userErrors { code field message } } }",
        s=[{"code": "new", "name": "Nowy"}, {"code": "done", "name": "  "}],
    )
    assert result.payload("setDocumentStatuses")["userErrors"] == [
        {"code": "VALIDATION", "field": ["statuses", "1", "name"], "message": "name must not be empty"}
    ]


async def test_a_document_type_that_does_not_exist_is_not_found_when_a_document_is_changed(admin):
    binder = await create_binder(admin, "Faktury")
    document = await create_document(admin, binder["id"], "FV 1", b"faktura")

    refused = await admin.gql(
        UPDATE, i={"documentId": document["id"], "documentTypeId": encode_id("DocumentType", 999999)}
    )

    assert refused.payload("updateDocument")["userErrors"] == [{"field": ["documentTypeId"], "code": "NOT_FOUND"}]
