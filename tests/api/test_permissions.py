"""Every permission rule, from the side of the user who must be refused."""

from __future__ import annotations

from tests.api.helpers import (
    CREATE_BINDER,
    SET_BINDER_PERMISSIONS,
    SET_DOCUMENT_PERMISSIONS,
    check_in,
    create_binder,
    create_document,
    me_id,
    ref_mutation,
    set_binder_access,
)

CHECK_OUT = ref_mutation("checkOutDocument")
CANCEL_CHECK_OUT = ref_mutation("cancelCheckOut")
DELETE = ref_mutation("deleteDocument")
NODE = "query($id: ID!) { node(id: $id) { id } }"
MOVE_BINDER = "mutation($b: ID!, $p: ID) { moveBinder(input: {binderId: $b, parentId: $p}) { userErrors { code } } }"
CONTENT = b"Poufna umowa"


async def private_document(owner):
    binder = await create_binder(owner, "Poufne")
    document = await create_document(owner, binder["id"], "Poufna umowa", CONTENT)
    return binder, document


async def test_a_user_without_access_sees_nothing_of_the_binder_or_its_documents(alice, bob):
    binder, document = await private_document(alice)
    assert (await bob.gql(NODE, id=document["id"])).data["node"] is None
    assert (await bob.gql(NODE, id=binder["id"])).data["node"] is None
    version_id = document["currentVersion"]["id"]
    assert (await bob.gql(NODE, id=version_id)).data["node"] is None
    lists = await bob.gql("{ documents { totalCount edges { node { id } } } binders { id } trash { totalCount } }")
    assert lists.data == {
        "documents": {"totalCount": 0, "edges": []},
        "binders": [],
        "trash": {"totalCount": 0},
    }
    filtered = await bob.gql("query($b: ID!) { documents(filter: {binderId: $b}) { totalCount } }", b=binder["id"])
    assert filtered.error_codes == ["NOT_FOUND"]


async def test_mutations_on_an_unreadable_document_answer_not_found(alice, bob):
    binder, document = await private_document(alice)
    for name in ("checkOutDocument", "cancelCheckOut", "deleteDocument", "restoreDocument"):
        result = await bob.gql(ref_mutation(name), input={"documentId": document["id"]})
        assert result.codes(name) == ["NOT_FOUND"], name
    result = await check_in(bob, document["id"], b"sneaky")
    assert result.codes("checkInDocument") == ["NOT_FOUND"]
    sub = await bob.gql(
        'mutation($p: ID) { createBinder(input: {name: "x", parentId: $p}) { userErrors { code } } }',
        p=binder["id"],
    )
    assert sub.codes("createBinder") == ["NOT_FOUND"]
    perms = await bob.gql(SET_BINDER_PERMISSIONS, target=binder["id"], entries=[])
    assert perms.codes("setBinderPermissions") == ["NOT_FOUND"]
    perms = await bob.gql(SET_DOCUMENT_PERMISSIONS, target=document["id"], entries=[])
    assert perms.codes("setDocumentPermissions") == ["NOT_FOUND"]


async def test_a_reader_may_read_and_download_but_not_change(alice, bob, http):
    binder, document = await private_document(alice)
    await set_binder_access(alice, binder["id"], [(await me_id(alice), "MANAGE"), (await me_id(bob), "READ")])
    seen = await bob.gql(
        "query($id: ID!) { node(id: $id) { ... on Document { title currentVersion { downloadUrl }"
        " viewerCan { read write checkOut breakLock } } } }",
        id=document["id"],
    )
    node = seen.data["node"]
    assert node["title"] == "Poufna umowa"
    assert node["viewerCan"] == {"read": True, "write": False, "checkOut": False, "breakLock": False}
    assert (await http.get(node["currentVersion"]["downloadUrl"])).content == CONTENT
    assert (await bob.gql(CHECK_OUT, input={"documentId": document["id"]})).codes("checkOutDocument") == [
        "PERMISSION_DENIED"
    ]
    assert (await bob.gql(DELETE, input={"documentId": document["id"]})).codes("deleteDocument") == [
        "PERMISSION_DENIED"
    ]
    perms = await bob.gql(SET_BINDER_PERMISSIONS, target=binder["id"], entries=[])
    assert perms.codes("setBinderPermissions") == ["PERMISSION_DENIED"]
    assert (await alice.gql(CHECK_OUT, input={"documentId": document["id"]})).codes("checkOutDocument") == []
    broken = await bob.gql(
        "mutation($i: BreakLockInput!) { breakLock(input: $i) { userErrors { code message } } }",
        i={"documentId": document["id"], "reason": "urlop"},
    )
    assert [(e["code"], "MANAGE" in e["message"]) for e in broken.payload("breakLock")["userErrors"]] == [
        ("PERMISSION_DENIED", True)
    ]


async def test_access_is_inherited_down_the_tree_and_the_nearest_entry_wins(alice, bob):
    root = await create_binder(alice, "Firma")
    middle = await create_binder(alice, "Umowy", root["id"])
    leaf = await create_binder(alice, "2026", middle["id"])
    assert leaf["path"] == "/Firma/Umowy/2026"
    document = await create_document(alice, leaf["id"], "Umowa", CONTENT)
    bob_id = await me_id(bob)
    await set_binder_access(alice, root["id"], [(await me_id(alice), "MANAGE"), (bob_id, "READ")])
    assert (await bob.gql(NODE, id=document["id"])).data["node"] is not None
    await set_binder_access(alice, middle["id"], [(bob_id, "NONE")])
    assert (await bob.gql(NODE, id=document["id"])).data["node"] is None
    top = await bob.gql("{ binders { name } }")
    assert top.data["binders"] == [{"name": "Firma"}]


async def test_a_group_grant_reaches_its_members_and_membership_changes_count_at_once(alice, bob, db):
    from dms.actor import SYSTEM
    from dms.identity import service as identity

    binder, document = await private_document(alice)
    async with db.sessions() as session:
        group = await identity.create_group(session, SYSTEM, "Księgowość")
        await session.commit()
        group_id = group.id
    from resolvers.ids import encode_id

    await set_binder_access(
        alice, binder["id"], [(await me_id(alice), "MANAGE"), (encode_id("Group", group_id), "READ")]
    )
    assert (await bob.gql(NODE, id=document["id"])).data["node"] is None
    async with db.sessions() as session:
        await identity.add_member(session, SYSTEM, "Księgowość", "bob")
        await session.commit()
    assert (await bob.gql(NODE, id=document["id"])).data["node"] is not None
    async with db.sessions() as session:
        await identity.remove_member(session, SYSTEM, "Księgowość", "bob")
        await session.commit()
    assert (await bob.gql(NODE, id=document["id"])).data["node"] is None


async def test_a_document_entry_narrows_but_never_widens(alice, bob):
    binder, document = await private_document(alice)
    other = await create_document(alice, binder["id"], "Inna", b"x")
    bob_id = await me_id(bob)
    await set_binder_access(alice, binder["id"], [(await me_id(alice), "MANAGE"), (bob_id, "READ")])
    widened = await alice.gql(
        SET_DOCUMENT_PERMISSIONS, target=document["id"], entries=[{"principalId": bob_id, "access": "MANAGE"}]
    )
    assert widened.payload("setDocumentPermissions")["userErrors"] == []
    can = await bob.gql(
        "query($id: ID!) { node(id: $id) { ... on Document { viewerCan { write manage } } } }",
        id=document["id"],
    )
    assert can.data["node"]["viewerCan"] == {"write": False, "manage": False}
    await alice.gql(SET_DOCUMENT_PERMISSIONS, target=other["id"], entries=[{"principalId": bob_id, "access": "NONE"}])
    assert (await bob.gql(NODE, id=other["id"])).data["node"] is None
    listing = await bob.gql("{ documents { totalCount } }")
    assert listing.data["documents"]["totalCount"] == 1


async def test_admins_manage_everything(alice, admin):
    _binder, document = await private_document(alice)
    assert (await admin.gql(NODE, id=document["id"])).data["node"] is not None
    out = await admin.gql(CHECK_OUT, input={"documentId": document["id"]})
    assert out.payload("checkOutDocument")["userErrors"] == []


async def test_setting_permissions_to_a_missing_principal_is_not_found_on_that_field(alice):
    binder, _ = await private_document(alice)
    from resolvers.ids import encode_id

    # A user that does not exist, a group that does not exist, an id of something else, garbage:
    # all the same answer.
    for principal in (encode_id("User", 999), encode_id("Group", 999), binder["id"], "garbage"):
        result = await alice.gql(
            SET_BINDER_PERMISSIONS, target=binder["id"], entries=[{"principalId": principal, "access": "READ"}]
        )
        errors = result.payload("setBinderPermissions")["userErrors"]
        assert [(e["code"], e["field"]) for e in errors] == [("NOT_FOUND", ["entries", "0", "principalId"])], principal


async def test_a_hidden_binder_or_document_is_not_found_on_the_input_field_that_named_it(alice, bob):
    hidden_binder, hidden_document = await private_document(alice)
    own = await create_binder(bob, "Moje")
    attempts = {
        "createBinder": await bob.gql(
            'mutation($p: ID) { createBinder(input: {name: "Nowy", parentId: $p}) { userErrors { field code } } }',
            p=hidden_binder["id"],
        ),
        "moveBinder": await bob.gql(
            "mutation($b: ID!, $p: ID) { moveBinder(input: {binderId: $b, parentId: $p}) { userErrors { field code } } }",
            b=own["id"],
            p=hidden_binder["id"],
        ),
        "setBinderPermissions": await bob.gql(SET_BINDER_PERMISSIONS, target=hidden_binder["id"], entries=[]),
        "setDocumentPermissions": await bob.gql(SET_DOCUMENT_PERMISSIONS, target=hidden_document["id"], entries=[]),
    }
    expected = {
        "createBinder": ["parentId"],
        "moveBinder": ["parentId"],
        "setBinderPermissions": ["targetId"],
        "setDocumentPermissions": ["targetId"],
    }
    for mutation, result in attempts.items():
        errors = result.payload(mutation)["userErrors"]
        assert [(e["code"], e["field"]) for e in errors] == [("NOT_FOUND", expected[mutation])], mutation


async def test_moving_a_binder_changes_what_it_inherits(alice, bob):
    open_root = await create_binder(alice, "Otwarte")
    closed_root = await create_binder(alice, "Zamknięte")
    moving = await create_binder(alice, "Projekt", closed_root["id"])
    document = await create_document(alice, moving["id"], "Plan", CONTENT)
    await set_binder_access(alice, open_root["id"], [(await me_id(alice), "MANAGE"), (await me_id(bob), "READ")])
    assert (await bob.gql(NODE, id=document["id"])).data["node"] is None
    moved = await alice.gql(
        "mutation($b: ID!, $p: ID) { moveBinder(input: {binderId: $b, parentId: $p}) { binder { path } userErrors { code } } }",
        b=moving["id"],
        p=open_root["id"],
    )
    assert moved.payload("moveBinder")["binder"]["path"] == "/Otwarte/Projekt"
    assert (await bob.gql(NODE, id=document["id"])).data["node"] is not None


async def test_a_binder_cannot_move_below_itself(alice):
    root = await create_binder(alice, "A")
    child = await create_binder(alice, "B", root["id"])
    result = await alice.gql(MOVE_BINDER, b=root["id"], p=child["id"])
    assert result.codes("moveBinder") == ["VALIDATION"]


async def test_a_binder_with_documents_cannot_be_deleted(alice):
    binder, _ = await private_document(alice)
    result = await alice.gql(
        "mutation($b: ID!) { deleteBinder(input: {binderId: $b}) { deletedId userErrors { code } } }",
        b=binder["id"],
    )
    assert result.codes("deleteBinder") == ["CONFLICT"]


async def test_only_managers_see_a_binders_entries(alice, bob):
    binder, _ = await private_document(alice)
    await set_binder_access(alice, binder["id"], [(await me_id(alice), "MANAGE"), (await me_id(bob), "WRITE")])
    query = "query($id: ID!) { node(id: $id) { ... on Binder { permissions { access principal { ... on User { username } } } } } }"
    as_owner = await alice.gql(query, id=binder["id"])
    entries = {(e["principal"]["username"], e["access"]) for e in as_owner.data["node"]["permissions"]}
    assert entries == {("alice", "MANAGE"), ("bob", "WRITE")}
    as_bob = await bob.gql(query, id=binder["id"])
    assert as_bob.data["node"] == {"permissions": []}


ENTRIES = """query($id: ID!) { node(id: $id) { ... on Binder {
  permissions { access principal { ... on User { username } ... on Group { name } } } } } }"""
SET_AND_SHOW = """
mutation($target: ID!, $entries: [PermissionEntryInput!]!) {
  setBinderPermissions(input: {targetId: $target, entries: $entries}) {
    binder { id permissions { access principal { ... on User { username } } } } userErrors { code }
  }
}"""


def entry_set(permissions):
    return {(e["principal"].get("username") or e["principal"].get("name"), e["access"]) for e in permissions}


async def test_a_manager_who_leaves_themselves_out_of_the_entries_keeps_managing(alice, bob, admin):
    binder, document = await private_document(alice)
    bob_id = await me_id(bob)
    granted = await alice.gql(SET_AND_SHOW, target=binder["id"], entries=[{"principalId": bob_id, "access": "READ"}])
    payload = granted.payload("setBinderPermissions")
    assert payload["userErrors"] == []
    assert entry_set(payload["binder"]["permissions"]) == {("bob", "READ"), ("alice", "MANAGE")}
    assert (await bob.gql(NODE, id=document["id"])).data["node"] is not None
    assert (await alice.gql(CHECK_OUT, input={"documentId": document["id"]})).codes("checkOutDocument") == []
    # Emptied as well: the manager stays, nobody else.
    emptied = await alice.gql(SET_AND_SHOW, target=binder["id"], entries=[])
    assert entry_set(emptied.payload("setBinderPermissions")["binder"]["permissions"]) == {("alice", "MANAGE")}
    assert (await bob.gql(NODE, id=document["id"])).data["node"] is None
    # An admin manages everything anyway: the list is exactly what they sent.
    await set_binder_access(admin, binder["id"], [(bob_id, "READ")])
    assert entry_set((await admin.gql(ENTRIES, id=binder["id"])).data["node"]["permissions"]) == {("bob", "READ")}
    assert (await alice.gql(NODE, id=binder["id"])).data["node"] is None


async def test_a_manager_who_names_themselves_with_less_gets_what_they_asked_for(alice, bob):
    binder, _ = await private_document(alice)
    alice_id, bob_id = await me_id(alice), await me_id(bob)
    stepped_down = await alice.gql(
        SET_AND_SHOW,
        target=binder["id"],
        entries=[{"principalId": bob_id, "access": "MANAGE"}, {"principalId": alice_id, "access": "READ"}],
    )
    assert stepped_down.payload("setBinderPermissions")["userErrors"] == []
    entries = entry_set((await bob.gql(ENTRIES, id=binder["id"])).data["node"]["permissions"])
    assert entries == {("bob", "MANAGE"), ("alice", "READ")}
    again = await alice.gql(SET_BINDER_PERMISSIONS, target=binder["id"], entries=[])
    assert again.codes("setBinderPermissions") == ["PERMISSION_DENIED"]


async def test_narrowing_a_document_for_a_group_of_the_manager_does_not_narrow_the_manager(alice, bob, db):
    from dms.actor import SYSTEM
    from dms.identity import service as identity
    from resolvers.ids import encode_id

    async with db.sessions() as session:
        group = await identity.create_group(session, SYSTEM, "Księgowość")
        for member in ("alice", "bob"):
            await identity.add_member(session, SYSTEM, "Księgowość", member)
        await session.commit()
        group_id = encode_id("Group", group.id)
    binder, document = await private_document(alice)
    await set_binder_access(alice, binder["id"], [(await me_id(bob), "WRITE")])
    narrowed = await alice.gql(
        SET_DOCUMENT_PERMISSIONS, target=document["id"], entries=[{"principalId": group_id, "access": "READ"}]
    )
    assert narrowed.payload("setDocumentPermissions")["userErrors"] == []
    assert (await bob.gql(CHECK_OUT, input={"documentId": document["id"]})).codes("checkOutDocument") == [
        "PERMISSION_DENIED"
    ]
    assert (await alice.gql(CHECK_OUT, input={"documentId": document["id"]})).codes("checkOutDocument") == []
    entries = await alice.gql(
        "query($id: ID!) { node(id: $id) { ... on Document { permissions { access"
        " principal { ... on User { username } ... on Group { name } } } } } }",
        id=document["id"],
    )
    assert entry_set(entries.data["node"]["permissions"]) == {("Księgowość", "READ"), ("alice", "MANAGE")}
    # Named with less, the manager gets what they asked for.
    await alice.gql(CANCEL_CHECK_OUT, input={"documentId": document["id"]})
    stepped_down = await alice.gql(
        SET_DOCUMENT_PERMISSIONS,
        target=document["id"],
        entries=[{"principalId": group_id, "access": "READ"}, {"principalId": await me_id(alice), "access": "READ"}],
    )
    assert stepped_down.payload("setDocumentPermissions")["userErrors"] == []
    assert (await alice.gql(CHECK_OUT, input={"documentId": document["id"]})).codes("checkOutDocument") == [
        "PERMISSION_DENIED"
    ]


async def test_a_manager_below_a_binder_they_inherit_gets_no_entry_of_their_own(alice, bob):
    root = await create_binder(alice, "Firma")
    child = await create_binder(alice, "Umowy", root["id"])
    await set_binder_access(alice, child["id"], [(await me_id(bob), "READ")])
    entries = entry_set((await alice.gql(ENTRIES, id=child["id"])).data["node"]["permissions"])
    assert entries == {("bob", "READ")}


async def test_a_reader_lists_documents_with_their_entries_and_sees_none_of_them(alice, bob):
    binder, document = await private_document(alice)
    await set_binder_access(alice, binder["id"], [(await me_id(alice), "MANAGE"), (await me_id(bob), "WRITE")])
    narrowed = await alice.gql(
        SET_DOCUMENT_PERMISSIONS, target=document["id"], entries=[{"principalId": await me_id(bob), "access": "READ"}]
    )
    assert narrowed.payload("setDocumentPermissions")["userErrors"] == []
    query = "{ documents { edges { node { title permissions { access } binder { permissions { access } } } } } }"
    as_owner = await alice.gql(query)
    assert as_owner.data["documents"]["edges"][0]["node"]["permissions"] == [{"access": "READ"}]
    as_bob = await bob.gql(query)
    assert as_bob.data["documents"]["edges"] == [
        {"node": {"title": "Poufna umowa", "permissions": [], "binder": {"permissions": []}}}
    ]


async def test_only_admins_read_the_audit_log_and_it_names_permission_changes(alice, admin):
    binder, _ = await private_document(alice)
    await set_binder_access(alice, binder["id"], [(await me_id(alice), "MANAGE")])
    refused = await alice.gql("{ auditLog { totalCount } }")
    assert refused.error_codes == ["PERMISSION_DENIED"]
    log = await admin.gql(
        'query($o: ID) { auditLog(filter: {objectId: $o, action: "permissions.set"}) { totalCount edges { node { actor { username } details } } } }',
        o=binder["id"],
    )
    entries = log.data["auditLog"]
    assert entries["totalCount"] == 1
    assert entries["edges"][0]["node"]["actor"]["username"] == "alice"
    granted = entries["edges"][0]["node"]["details"]["entries"]
    assert [entry["principal"] for entry in granted] == [await me_id(alice)]


async def test_a_permission_change_is_in_the_documents_history_naming_who_got_what(alice, bob):
    _binder, document = await private_document(alice)
    bob_id = await me_id(bob)
    changed = await alice.gql(
        SET_DOCUMENT_PERMISSIONS, target=document["id"], entries=[{"principalId": bob_id, "access": "READ"}]
    )
    assert changed.payload("setDocumentPermissions")["userErrors"] == []
    history = await alice.gql(
        "query($id: ID!) { node(id: $id) { ... on Document { history { edges { node { action details actor { username } } } } } } }",
        id=document["id"],
    )
    entries = [edge["node"] for edge in history.data["node"]["history"]["edges"]]
    (change,) = [entry for entry in entries if entry["action"] == "permissions_changed"]
    assert change["actor"] == {"username": "alice"}
    assert [(e["principal"], e["name"], e["access"]) for e in change["details"]["entries"]] == [(bob_id, "bob", "READ")]


async def test_a_move_names_the_binders_by_their_global_ids(alice):
    source, document = await private_document(alice)
    target = await create_binder(alice, "Archiwum")
    moved = await alice.gql(
        "mutation($i: MoveDocumentInput!) { moveDocument(input: $i) { userErrors { code } } }",
        i={"documentId": document["id"], "binderId": target["id"]},
    )
    assert moved.payload("moveDocument")["userErrors"] == []
    history = await alice.gql(
        "query($id: ID!) { node(id: $id) { ... on Document { history { edges { node { action details } } } } } }",
        id=document["id"],
    )
    (entry,) = [e["node"] for e in history.data["node"]["history"]["edges"] if e["node"]["action"] == "moved"]
    assert entry["details"] == {"from_binder": source["id"], "to_binder": target["id"]}


async def test_a_binder_path_shows_no_name_of_a_binder_the_viewer_may_not_read(alice, bob):
    projects = await create_binder(alice, "Projekty")
    hidden = await create_binder(alice, "Poufne", projects["id"])
    shared = await create_binder(alice, "Wspólne", hidden["id"])
    document = await create_document(alice, shared["id"], "Plan", CONTENT)
    bob_id = await me_id(bob)
    await set_binder_access(alice, shared["id"], [(await me_id(alice), "MANAGE"), (bob_id, "READ")])
    paths = "query($id: ID!) { node(id: $id) { ... on Document { binder { path parent { id } } } } }"

    seen_by_bob = (await bob.gql(paths, id=document["id"])).data["node"]["binder"]
    assert seen_by_bob == {"path": "/Wspólne", "parent": None}
    roots = (await bob.gql("{ binders { name path } }")).data["binders"]
    assert roots == [{"name": "Wspólne", "path": "/Wspólne"}]
    assert (await alice.gql(paths, id=document["id"])).data["node"]["binder"]["path"] == "/Projekty/Poufne/Wspólne"

    # Readable at the top, not in the middle: the path starts below the gap, as `parent` does.
    await set_binder_access(alice, projects["id"], [(await me_id(alice), "MANAGE"), (bob_id, "READ")])
    await set_binder_access(alice, hidden["id"], [(await me_id(alice), "MANAGE"), (bob_id, "NONE")])
    assert (await bob.gql(paths, id=document["id"])).data["node"]["binder"] == {"path": "/Wspólne", "parent": None}
    await set_binder_access(alice, hidden["id"], [(await me_id(alice), "MANAGE")])
    assert (await bob.gql(paths, id=document["id"])).data["node"]["binder"]["path"] == "/Projekty/Poufne/Wspólne"


async def test_sibling_binder_names_are_one_name_in_any_case_and_unicode_form(alice):
    parent = await create_binder(alice, "Umowy")
    await create_binder(alice, "Żółć", parent["id"])

    for same in ("Żółć", "żÓŁĆ", "Z\u0307o\u0301\u0142c\u0301"):  # the last in NFD
        result = await alice.gql(CREATE_BINDER, name=same, parentId=parent["id"])
        assert result.codes("createBinder") == ["CONFLICT"], same


async def test_a_binder_the_user_may_not_read_does_not_stop_one_of_its_name(alice, bob, admin):
    hidden = await create_binder(alice, "Zwolnienia grupowe 2027")
    shared = await create_binder(alice, "Umowy")
    await set_binder_access(alice, shared["id"], [(await me_id(alice), "MANAGE"), (await me_id(bob), "WRITE")])
    secret = await create_binder(alice, "Poufne płace", shared["id"])
    await set_binder_access(alice, secret["id"], [(await me_id(alice), "MANAGE"), (await me_id(bob), "NONE")])

    # Refusing would tell bob that binders of these names exist.
    assert (await bob.gql(CREATE_BINDER, name="zwolnienia GRUPOWE 2027")).codes("createBinder") == []
    assert (await bob.gql(CREATE_BINDER, name="Poufne płace", parentId=shared["id"])).codes("createBinder") == []
    # Whoever sees both is refused.
    assert (await admin.gql(CREATE_BINDER, name=hidden["name"])).codes("createBinder") == ["CONFLICT"]


RENAME_BINDER = "mutation($b: ID!, $n: String!) { renameBinder(input: {binderId: $b, name: $n}) { binder { path } userErrors { code } } }"
AUDIT = "query($a: String!) { auditLog(first: 10, filter: {action: $a}) { edges { node { objectId details } } } }"


async def test_renaming_a_binder_needs_manage_and_is_audited(alice, bob, admin):
    binder = await create_binder(alice, "Umowy")
    await set_binder_access(alice, binder["id"], [(await me_id(alice), "MANAGE"), (await me_id(bob), "WRITE")])

    assert (await bob.gql(RENAME_BINDER, b=binder["id"], n="Śmieci")).codes("renameBinder") == ["PERMISSION_DENIED"]
    renamed = await alice.gql(RENAME_BINDER, b=binder["id"], n="Umowy 2026")
    assert renamed.payload("renameBinder")["binder"]["path"] == "/Umowy 2026"

    entries = (await admin.gql(AUDIT, a="binder.renamed")).data["auditLog"]["edges"]
    assert [(e["node"]["objectId"], e["node"]["details"]) for e in entries] == [
        (binder["id"], {"from_name": "Umowy", "to_name": "Umowy 2026"})
    ]


async def test_a_binder_move_is_audited_with_both_parents_global_ids(alice, admin):
    first = await create_binder(alice, "Bieżące")
    second = await create_binder(alice, "Archiwum")
    moving = await create_binder(alice, "Projekt", first["id"])
    moved = await alice.gql(MOVE_BINDER, b=moving["id"], p=second["id"])
    assert moved.codes("moveBinder") == []

    entries = (await admin.gql(AUDIT, a="binder.moved")).data["auditLog"]["edges"]
    assert [e["node"]["details"] for e in entries] == [{"from_binder": first["id"], "to_binder": second["id"]}]


async def test_a_reader_sees_that_permissions_changed_but_not_who_was_given_or_refused_what(alice, bob, admin):
    binder = await create_binder(alice, "Umowy")
    await set_binder_access(alice, binder["id"], [(await me_id(alice), "MANAGE"), (await me_id(bob), "READ")])
    document = await create_document(alice, binder["id"], "Umowa zażółć", CONTENT)
    changed = await alice.gql(
        SET_DOCUMENT_PERMISSIONS, target=document["id"], entries=[{"principalId": await me_id(admin), "access": "NONE"}]
    )
    assert changed.payload("setDocumentPermissions")["userErrors"] == []
    query = "query($id: ID!) { node(id: $id) { ... on Document { history { edges { node { action details } } } } } }"

    def permission_changes(result) -> list:
        edges = result.data["node"]["history"]["edges"]
        return [e["node"]["details"] for e in edges if e["node"]["action"] == "permissions_changed"]

    assert permission_changes(await bob.gql(query, id=document["id"])) == [{}]
    (shown,) = permission_changes(await alice.gql(query, id=document["id"]))
    assert shown["entries"][0]["access"] == "NONE"


async def test_a_binders_children_come_in_polish_alphabetical_order(alice):
    parent = await create_binder(alice, "Oddziały")
    for name in ("Zamość", "aneksy", "Łódź", "Czersk", "Ćwiczenia", "Lublin", "10 - dziesięć", "2 - dwa"):
        await create_binder(alice, name, parent["id"])

    listed = await alice.gql("query($id: ID!) { binders(parentId: $id) { name } }", id=parent["id"])

    assert [b["name"] for b in listed.data["binders"]] == [
        "2 - dwa",
        "10 - dziesięć",
        "aneksy",
        "Czersk",
        "Ćwiczenia",
        "Lublin",
        "Łódź",
        "Zamość",
    ]


async def test_the_batched_first_pages_of_a_documents_lists_hold_nothing_of_an_unreadable_one(alice, bob, db):
    from dms.actor import Actor
    from resolvers.ids import decode_id
    from resolvers.loaders import Loaders

    _, document = await private_document(alice)
    bob_id = decode_id(await me_id(bob), "User")
    loaders = Loaders(db, Actor(user_id=bob_id, username="bob", is_admin=False))

    for kind in ("versions", "history", "downloads"):
        page = await loaders.first_page(kind, 10).load(decode_id(document["id"], "Document"))
        assert (page.items, page.total_count) == ([], 0), kind


async def test_the_batched_children_and_documents_of_a_binder_hold_nothing_the_reader_may_not_read(alice, bob):
    bob_id = await me_id(bob)
    shared = await create_binder(alice, "Kadry")
    await set_binder_access(alice, shared["id"], [(await me_id(alice), "MANAGE"), (bob_id, "READ")])
    await create_binder(alice, "Płace", shared["id"])
    hidden = await create_binder(alice, "Zwolnienia", shared["id"])
    await set_binder_access(alice, hidden["id"], [(bob_id, "NONE")])
    await create_document(alice, hidden["id"], "Wypowiedzenie Nowak", b"x")
    await create_document(alice, shared["id"], "Regulamin pracy", b"x")
    narrowed = await create_document(alice, shared["id"], "Lista płac", b"x")
    await alice.gql(
        SET_DOCUMENT_PERMISSIONS, target=narrowed["id"], entries=[{"principalId": bob_id, "access": "NONE"}]
    )
    tree = """{ binders { name documents(first: 10) { totalCount edges { node { title } } }
        children { name documents(first: 10) { totalCount } } } }"""

    (kadry,) = (await bob.gql(tree)).data["binders"]
    assert [child["name"] for child in kadry["children"]] == ["Płace"]
    assert kadry["documents"] == {"totalCount": 1, "edges": [{"node": {"title": "Regulamin pracy"}}]}
    (full,) = (await alice.gql(tree)).data["binders"]
    assert [child["name"] for child in full["children"]] == ["Płace", "Zwolnienia"]
    assert full["documents"]["totalCount"] == 2 and full["children"][1]["documents"]["totalCount"] == 1


async def test_the_batched_children_and_documents_of_a_binder_the_reader_lost_are_empty(alice, bob, db):
    from dms.actor import Actor
    from resolvers.ids import decode_id
    from resolvers.loaders import Loaders

    binder, _ = await private_document(alice)
    await create_binder(alice, "Wewnątrz", binder["id"])
    loaders = Loaders(db, Actor(user_id=decode_id(await me_id(bob), "User"), username="bob", is_admin=False))
    binder_id = decode_id(binder["id"], "Binder")

    assert await loaders.binder_children.load(binder_id) == []
    page = await loaders.documents_of("binder", 10).load(binder_id)
    assert (page.items, page.total_count) == ([], 0)
