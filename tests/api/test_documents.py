"""Documents as a document manager uses them: upload, check out, check in, download, trash."""

from __future__ import annotations

import hashlib

from tests.api.helpers import (
    CREATE_DOCUMENT,
    SET_DOCUMENT_PERMISSIONS,
    check_in,
    create_binder,
    create_document,
    me_id,
    ref_mutation,
    set_binder_access,
)

CHECK_OUT = ref_mutation("checkOutDocument")
CANCEL = ref_mutation("cancelCheckOut")
BREAK = ref_mutation("breakLock", "BreakLockInput")
DELETE = ref_mutation("deleteDocument")
RESTORE = ref_mutation("restoreDocument")
PURGE = "mutation($input: DocumentRefInput!) { purgeDocument(input: $input) { deletedId userErrors { code } } }"

CONTRACT = "Umowa dostawy nr FV/2026/0012 — zażółć gęślą jaźń.\n".encode()


async def shared_binder(alice, bob, access="WRITE"):
    """A root binder of alice's in which bob has `access`."""
    binder = await create_binder(alice, "Umowy")
    await set_binder_access(alice, binder["id"], [(await me_id(alice), "MANAGE"), (await me_id(bob), access)])
    return binder


async def test_created_document_has_version_1_0_with_its_hash_and_true_type(alice):
    binder = await create_binder(alice, "Umowy")
    document = await create_document(alice, binder["id"], "Umowa dostawy", CONTRACT, filename="../../etc/umowa.txt")
    version = document["currentVersion"]
    assert version["number"] == "1.0"
    assert version["sha256"] == hashlib.sha256(CONTRACT).hexdigest()
    assert version["size"] == len(CONTRACT)
    assert version["mimeType"] == "text/plain"
    assert version["filename"] == "umowa.txt"
    assert version["createdBy"]["username"] == "alice"
    assert document["binder"]["path"] == "/Umowy"


async def test_executable_named_pdf_is_stored_with_its_true_type(alice):
    binder = await create_binder(alice, "Skany")
    elf = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 200
    document = await create_document(alice, binder["id"], "Faktura", elf, filename="faktura.pdf")
    assert document["currentVersion"]["mimeType"] != "application/pdf"


async def test_check_out_then_check_in_makes_minor_then_major_versions(alice):
    binder = await create_binder(alice, "Umowy")
    document = await create_document(alice, binder["id"], "Umowa", CONTRACT)
    out = (await alice.gql(CHECK_OUT, input={"documentId": document["id"]})).payload("checkOutDocument")
    assert out["userErrors"] == []
    assert out["document"]["lock"]["holder"]["username"] == "alice"
    result = await check_in(alice, document["id"], b"second", comment="poprawki")
    payload = result.payload("checkInDocument")
    assert payload["userErrors"] == []
    assert payload["document"]["currentVersion"]["number"] == "1.1"
    assert payload["document"]["currentVersion"]["comment"] == "poprawki"
    assert payload["document"]["lock"] is None
    major = (await check_in(alice, document["id"], b"third", major=True)).payload("checkInDocument")
    assert major["document"]["currentVersion"]["number"] == "2.0"


async def test_the_lock_lease_setting_gives_every_check_out_its_expiry(alice, settings, services):
    from dataclasses import replace
    from datetime import datetime, timedelta

    from kartoteka.app import build_services

    built = build_services(settings.model_copy(update={"lock_ttl": timedelta(minutes=15)}))
    await built.db.engine.dispose()
    await built.blobs.close()
    assert built.limits.lock_ttl == timedelta(minutes=15)

    binder = await create_binder(alice, "Umowy")
    document = await create_document(alice, binder["id"], "Umowa", CONTRACT)
    services.limits = built.limits  # the running app's settings, as `kartoteka serve` would build them
    lock = (await alice.gql(CHECK_OUT, input={"documentId": document["id"]})).payload("checkOutDocument")["document"]
    locked_at, expires_at = (datetime.fromisoformat(lock["lock"][k]) for k in ("lockedAt", "expiresAt"))
    assert expires_at - locked_at == timedelta(minutes=15)
    services.limits = replace(built.limits, lock_ttl=None)
    await alice.gql(CANCEL, input={"documentId": document["id"]})
    lock = (await alice.gql(CHECK_OUT, input={"documentId": document["id"]})).payload("checkOutDocument")["document"]
    assert lock["lock"]["expiresAt"] is None


async def test_second_check_out_is_refused_with_the_holder_named(alice, bob):
    binder = await shared_binder(alice, bob)
    document = await create_document(alice, binder["id"], "Umowa", CONTRACT)
    await alice.gql(CHECK_OUT, input={"documentId": document["id"]})
    refused = (await bob.gql(CHECK_OUT, input={"documentId": document["id"]})).payload("checkOutDocument")
    assert [e["code"] for e in refused["userErrors"]] == ["DOCUMENT_LOCKED"]
    assert "alice" in refused["userErrors"][0]["message"]


async def test_only_the_lock_holder_checks_in(alice, bob):
    binder = await shared_binder(alice, bob)
    document = await create_document(alice, binder["id"], "Umowa", CONTRACT)
    await alice.gql(CHECK_OUT, input={"documentId": document["id"]})
    result = await check_in(bob, document["id"], b"bob's version")
    assert result.codes("checkInDocument") == ["NOT_LOCK_HOLDER"]
    versions = await alice.gql(
        "query($id: ID!) { node(id: $id) { ... on Document { versions { totalCount } } } }", id=document["id"]
    )
    assert versions.data["node"]["versions"]["totalCount"] == 1


async def test_check_in_without_check_out_takes_and_releases_the_lock(alice):
    binder = await create_binder(alice, "Umowy")
    document = await create_document(alice, binder["id"], "Umowa", CONTRACT)
    payload = (await check_in(alice, document["id"], b"direct")).payload("checkInDocument")
    assert payload["userErrors"] == []
    assert payload["document"]["currentVersion"]["number"] == "1.1"
    assert payload["document"]["lock"] is None


async def test_stale_expected_version_is_a_conflict(alice):
    binder = await create_binder(alice, "Umowy")
    document = await create_document(alice, binder["id"], "Umowa", CONTRACT)
    await check_in(alice, document["id"], b"1.1")
    result = await check_in(alice, document["id"], b"from 1.0", expectedVersion="1.0")
    assert result.payload("checkInDocument")["userErrors"] == [
        {
            "code": "CONFLICT",
            "field": ["expectedVersion"],
            "message": "the document has a newer version (1.1) than the one you edited",
        }
    ]
    ahead = await check_in(alice, document["id"], b"from 9.0", expectedVersion="9.0")
    assert ahead.payload("checkInDocument")["userErrors"][0]["message"] == (
        "the document has no version 9.0; its newest is 1.1"
    )


async def test_cancelling_without_a_check_out_says_not_checked_out(alice):
    binder = await create_binder(alice, "Umowy")
    document = await create_document(alice, binder["id"], "Umowa", CONTRACT)
    result = await alice.gql(CANCEL, input={"documentId": document["id"]})
    assert result.codes("cancelCheckOut") == ["NOT_CHECKED_OUT"]


async def test_a_holder_whose_write_was_taken_away_may_still_give_the_lock_up(alice, bob):
    binder = await create_binder(alice, "Umowy")
    await set_binder_access(alice, binder["id"], [(await me_id(alice), "MANAGE"), (await me_id(bob), "WRITE")])
    document = await create_document(alice, binder["id"], "Umowa", CONTRACT)
    assert (await bob.gql(CHECK_OUT, input={"documentId": document["id"]})).payload("checkOutDocument")[
        "userErrors"
    ] == []
    narrowed = await alice.gql(
        SET_DOCUMENT_PERMISSIONS, target=document["id"], entries=[{"principalId": await me_id(bob), "access": "READ"}]
    )
    assert narrowed.payload("setDocumentPermissions")["userErrors"] == []
    # Still a reader: he may neither check in nor take a lock, but he may let go of his own.
    assert (await check_in(bob, document["id"], b"nowa")).codes("checkInDocument") == ["PERMISSION_DENIED"]
    assert (await alice.gql(CANCEL, input={"documentId": document["id"]})).codes("cancelCheckOut") == [
        "NOT_LOCK_HOLDER"
    ]
    released = await bob.gql(CANCEL, input={"documentId": document["id"]})
    assert released.payload("cancelCheckOut")["userErrors"] == []
    assert (await bob.gql(CHECK_OUT, input={"documentId": document["id"]})).codes("checkOutDocument") == [
        "PERMISSION_DENIED"
    ]


async def test_viewer_can_says_who_may_trash_restore_purge_and_move(alice, bob):
    binder = await shared_binder(alice, bob)  # bob writes, alice manages
    document = await create_document(alice, binder["id"], "Umowa", CONTRACT)
    query = "query($id: ID!) { node(id: $id) { ... on Document { viewerCan { write trash restore purge move } } } }"

    async def can(client) -> dict:
        return (await client.gql(query, id=document["id"])).data["node"]["viewerCan"]

    assert await can(bob) == {"write": True, "trash": True, "restore": False, "purge": False, "move": False}
    await alice.gql(CHECK_OUT, input={"documentId": document["id"]})
    assert (await can(bob))["trash"] is False  # checked out: it stays until the lock goes
    await alice.gql(CANCEL, input={"documentId": document["id"]})
    assert (await bob.gql(DELETE, input={"documentId": document["id"]})).codes("deleteDocument") == []
    assert await can(bob) == {"write": False, "trash": False, "restore": True, "purge": False, "move": False}
    assert await can(alice) == {"write": False, "trash": False, "restore": True, "purge": True, "move": False}


async def test_lock_refusals_name_the_document_as_their_field(alice, bob):
    binder = await shared_binder(alice, bob, access="READ")
    document = await create_document(alice, binder["id"], "Umowa", CONTRACT)

    def refusal(result, mutation):
        return [(e["code"], e["field"]) for e in result.payload(mutation)["userErrors"]]

    read_only = await bob.gql(CHECK_OUT, input={"documentId": document["id"]})
    assert refusal(read_only, "checkOutDocument") == [("PERMISSION_DENIED", ["documentId"])]
    not_out = await alice.gql(CANCEL, input={"documentId": document["id"]})
    assert refusal(not_out, "cancelCheckOut") == [("NOT_CHECKED_OUT", ["documentId"])]
    await alice.gql(CHECK_OUT, input={"documentId": document["id"]})
    await set_binder_access(alice, binder["id"], [(await me_id(alice), "MANAGE"), (await me_id(bob), "WRITE")])
    locked = await bob.gql(CHECK_OUT, input={"documentId": document["id"]})
    assert refusal(locked, "checkOutDocument") == [("DOCUMENT_LOCKED", ["documentId"])]
    not_holder = await bob.gql(CANCEL, input={"documentId": document["id"]})
    assert refusal(not_holder, "cancelCheckOut") == [("NOT_LOCK_HOLDER", ["documentId"])]


async def test_a_lock_broken_needs_a_reason_of_reasonable_length(alice):
    binder = await create_binder(alice, "Umowy")
    document = await create_document(alice, binder["id"], "Umowa", CONTRACT)
    await alice.gql(CHECK_OUT, input={"documentId": document["id"]})
    for reason in ("  ", "x" * 1001):
        refused = await alice.gql(BREAK, input={"documentId": document["id"], "reason": reason})
        assert [(e["code"], e["field"]) for e in refused.payload("breakLock")["userErrors"]] == [
            ("VALIDATION", ["reason"])
        ]
    purge = "mutation($input: DocumentRefInput!) { purgeDocument(input: $input) { userErrors { code field } } }"
    not_trashed = await alice.gql(purge, input={"documentId": document["id"]})
    assert not_trashed.payload("purgeDocument")["userErrors"] == [{"code": "CONFLICT", "field": ["documentId"]}]


async def test_a_check_out_broken_under_its_holder_cannot_silently_replace_a_newer_version(alice, bob, admin):
    binder = await shared_binder(alice, bob)
    document = await create_document(alice, binder["id"], "Umowa", CONTRACT)
    await bob.gql(CHECK_OUT, input={"documentId": document["id"]})
    await alice.gql(BREAK, input={"documentId": document["id"], "reason": "pilna poprawka klienta"})
    await admin.gql(CHECK_OUT, input={"documentId": document["id"]})
    assert (await check_in(admin, document["id"], b"poprawka")).codes("checkInDocument") == []

    refused = await check_in(bob, document["id"], b"stara kopia boba")
    assert [(e["code"], e["field"]) for e in refused.payload("checkInDocument")["userErrors"]] == [
        ("CONFLICT", ["documentId"])
    ]
    assert "pilna poprawka klienta" in refused.payload("checkInDocument")["userErrors"][0]["message"]
    # Having brought his changes onto 1.1, bob says so; from then on he checks in as anyone.
    merged = await check_in(bob, document["id"], b"scalone", expectedVersion="1.1")
    assert merged.codes("checkInDocument") == []
    assert (await check_in(bob, document["id"], b"dalej")).codes("checkInDocument") == []


async def test_a_revert_by_someone_whose_check_out_was_broken_names_what_it_restores_and_goes_through(
    alice, bob, admin
):
    binder = await shared_binder(alice, bob)
    document = await create_document(alice, binder["id"], "Umowa", CONTRACT)
    await bob.gql(CHECK_OUT, input={"documentId": document["id"]})
    await alice.gql(BREAK, input={"documentId": document["id"], "reason": "pilna poprawka"})
    assert (await check_in(admin, document["id"], b"poprawka")).codes("checkInDocument") == []

    reverted = await bob.gql(
        ref_mutation("revertDocument", "RevertDocumentInput"),
        input={"documentId": document["id"], "versionNumber": "1.0"},
    )

    assert reverted.codes("revertDocument") == []
    assert reverted.payload("revertDocument")["document"]["currentVersion"]["number"] == "1.2"


async def test_a_check_out_broken_with_nothing_checked_in_since_may_still_be_checked_in(alice, bob):
    binder = await shared_binder(alice, bob)
    document = await create_document(alice, binder["id"], "Umowa", CONTRACT)
    await bob.gql(CHECK_OUT, input={"documentId": document["id"]})
    await alice.gql(BREAK, input={"documentId": document["id"], "reason": "Bob is on holiday"})

    assert (await check_in(bob, document["id"], b"po urlopie")).codes("checkInDocument") == []


async def test_a_writer_cannot_break_a_lock_but_a_manager_can_and_it_is_in_the_history(alice, bob, admin):
    binder = await shared_binder(alice, bob)
    document = await create_document(alice, binder["id"], "Umowa", CONTRACT)
    await bob.gql(CHECK_OUT, input={"documentId": document["id"]})
    refused = await bob.gql(BREAK, input={"documentId": document["id"], "reason": "mine"})
    assert refused.codes("breakLock") == ["PERMISSION_DENIED"]
    broken = await alice.gql(BREAK, input={"documentId": document["id"], "reason": "Bob is on holiday"})
    assert broken.payload("breakLock")["userErrors"] == []
    assert broken.payload("breakLock")["document"]["lock"] is None
    history = await bob.gql(
        "query($id: ID!) { node(id: $id) { ... on Document { history { edges { node { action details actor { username } } } } } } }",
        id=document["id"],
    )
    actions = [edge["node"] for edge in history.data["node"]["history"]["edges"]]
    assert actions[-1]["action"] == "lock_broken"
    assert actions[-1]["details"]["reason"] == "Bob is on holiday"
    assert actions[-1]["details"]["former_holder"] == "bob"
    assert actions[-1]["details"]["former_holder_id"] == await me_id(bob)
    audit = await admin.gql(
        'query($o: ID) { auditLog(filter: {objectId: $o, action: "lock.broken"}) { edges { node { details } } } }',
        o=document["id"],
    )
    [entry] = audit.data["auditLog"]["edges"]
    assert (entry["node"]["details"]["holder"], entry["node"]["details"]["holder_id"]) == ("bob", await me_id(bob))


async def test_download_streams_the_bytes_with_range_and_safe_headers(alice, http):
    binder = await create_binder(alice, "Umowy")
    document = await create_document(alice, binder["id"], "Umowa", CONTRACT, filename="Umowa_zażółć.txt")
    url = document["currentVersion"]["downloadUrl"]
    whole = await http.get(url)
    assert whole.status_code == 200
    assert whole.content == CONTRACT
    assert whole.headers["x-content-type-options"] == "nosniff"
    assert whole.headers["etag"] == f'"{hashlib.sha256(CONTRACT).hexdigest()}"'
    assert "filename*=UTF-8''Umowa_za%C5%BC%C3%B3%C5%82%C4%87.txt" in whole.headers["content-disposition"]
    assert 'filename="Umowa_zazolc.txt"' in whole.headers["content-disposition"]  # for clients without filename*
    assert whole.headers["content-disposition"].startswith("attachment")
    part = await http.get(url, headers={"Range": "bytes=0-4"})
    assert part.status_code == 206
    assert part.content == CONTRACT[:5]
    assert part.headers["content-range"] == f"bytes 0-4/{len(CONTRACT)}"
    beyond = await http.get(url, headers={"Range": f"bytes={len(CONTRACT) + 10}-"})
    assert beyond.status_code == 416


async def test_a_resumed_download_gets_the_rest_only_while_the_copy_it_resumes_is_still_the_file(alice, http):
    binder = await create_binder(alice, "Umowy")
    document = await create_document(alice, binder["id"], "Umowa", CONTRACT)
    url = document["currentVersion"]["downloadUrl"]
    etag = (await http.head(url)).headers["etag"]

    resumed = await http.get(url, headers={"Range": "bytes=5-", "If-Range": etag})
    assert (resumed.status_code, resumed.content) == (206, CONTRACT[5:])
    # Another copy, a weak tag, or a date (no Last-Modified is sent): the whole file instead.
    for stale in ('"0123"', f"W/{etag}", "Wed, 21 Oct 2015 07:28:00 GMT"):
        whole = await http.get(url, headers={"Range": "bytes=5-", "If-Range": stale})
        assert (whole.status_code, whole.content) == (200, CONTRACT), stale
        assert "content-range" not in whole.headers


async def test_every_download_is_in_the_download_history(alice, http):
    binder = await create_binder(alice, "Umowy")
    document = await create_document(alice, binder["id"], "Umowa", CONTRACT)
    await http.get(document["currentVersion"]["downloadUrl"])
    await http.get(document["currentVersion"]["downloadUrl"], headers={"Range": "bytes=0-4"})
    result = await alice.gql(
        "query($id: ID!) { node(id: $id) { ... on Document { downloads { totalCount edges { node {"
        " user { username } version { number } byteCount } } } } } }",
        id=document["id"],
    )
    downloads = result.data["node"]["downloads"]
    assert downloads["totalCount"] == 2
    assert [edge["node"] for edge in downloads["edges"]] == [
        {"user": {"username": "alice"}, "version": {"number": "1.0"}, "byteCount": count}
        for count in (5, len(CONTRACT))
    ]


async def test_a_head_request_shows_the_headers_and_is_not_recorded_as_a_download(alice, http):
    binder = await create_binder(alice, "Umowy")
    document = await create_document(alice, binder["id"], "Umowa", CONTRACT)

    response = await http.head(document["currentVersion"]["downloadUrl"])

    assert response.status_code == 200
    assert response.headers["content-length"] == str(len(CONTRACT))
    assert response.content == b""
    result = await alice.gql(
        "query($id: ID!) { node(id: $id) { ... on Document { downloads { totalCount } } } }", id=document["id"]
    )
    assert result.data["node"]["downloads"]["totalCount"] == 0


async def test_a_forged_download_url_is_refused(alice, http):
    binder = await create_binder(alice, "Umowy")
    document = await create_document(alice, binder["id"], "Umowa", CONTRACT)
    url = document["currentVersion"]["downloadUrl"]
    prefix, token, name = url.rsplit("/", 2)
    forged = f"{prefix}/{token[:-2]}xx/{name}"
    assert (await http.get(forged)).status_code == 403


async def test_a_download_url_stops_working_when_access_is_withdrawn(alice, bob, http):
    binder = await shared_binder(alice, bob, access="READ")
    document = await create_document(alice, binder["id"], "Umowa", CONTRACT)
    as_bob = await bob.gql(
        "query($id: ID!) { node(id: $id) { ... on Document { currentVersion { downloadUrl } } } }",
        id=document["id"],
    )
    url = as_bob.data["node"]["currentVersion"]["downloadUrl"]
    assert (await http.get(url)).status_code == 200
    await set_binder_access(alice, binder["id"], [(await me_id(alice), "MANAGE")])
    assert (await http.get(url)).status_code == 404


async def test_an_oversize_upload_is_refused_and_leaves_nothing(alice, services):
    binder = await create_binder(alice, "Umowy")
    too_big = b"x" * (services.limits.max_upload_bytes + 1)
    result = await alice.upload(
        "mutation($input: CreateDocumentInput!) { createDocument(input: $input) { document { id } userErrors { code } } }",
        {"input": {"binderId": binder["id"], "title": "big", "file": None}},
        {"input.file": ("big.bin", too_big)},
    )
    assert result.codes("createDocument") == ["UPLOAD_TOO_LARGE"]
    assert [key async for key in services.blobs.keys()] == []
    listing = await alice.gql("{ documents { totalCount } }")
    assert listing.data["documents"]["totalCount"] == 0


async def test_trash_restore_and_purge(alice):
    binder = await create_binder(alice, "Umowy")
    document = await create_document(alice, binder["id"], "Umowa", CONTRACT)
    assert (await alice.gql(DELETE, input={"documentId": document["id"]})).payload("deleteDocument")["userErrors"] == []
    listing = await alice.gql("{ documents { totalCount } trash { totalCount } }")
    assert listing.data == {"documents": {"totalCount": 0}, "trash": {"totalCount": 1}}
    assert (await alice.gql(RESTORE, input={"documentId": document["id"]})).payload("restoreDocument")[
        "userErrors"
    ] == []
    await alice.gql(DELETE, input={"documentId": document["id"]})
    purged = await alice.gql(PURGE, input={"documentId": document["id"]})
    assert purged.payload("purgeDocument")["userErrors"] == []
    gone = await alice.gql("query($id: ID!) { node(id: $id) { id } }", id=document["id"])
    assert gone.data["node"] is None


async def test_a_trashed_document_is_restored_before_anything_else_is_done_with_it(alice, bob):
    binder = await shared_binder(alice, bob, access="READ")
    document = await create_document(alice, binder["id"], "Umowa", CONTRACT)
    await alice.gql(DELETE, input={"documentId": document["id"]})
    for mutation in (CHECK_OUT, DELETE):
        refused = await alice.gql(mutation, input={"documentId": document["id"]})
        name = mutation.split("(input")[0].split()[-1]
        assert [(e["code"], e["message"]) for e in refused.payload(name)["userErrors"]] == [
            ("CONFLICT", "the document is in the trash; restore it first")
        ]
    # A reader may not restore it: what he is told is that he may not change it at all.
    as_reader = await bob.gql(CHECK_OUT, input={"documentId": document["id"]})
    assert as_reader.codes("checkOutDocument") == ["PERMISSION_DENIED"]
    stranger = await alice.gql(CHECK_OUT, input={"documentId": "RG9jdW1lbnQ6OTk5OTk"})
    assert stranger.codes("checkOutDocument") == ["NOT_FOUND"]


async def test_a_purged_documents_ids_and_download_link_never_name_another_document(alice, http):
    binder = await create_binder(alice, "Umowy")
    purged = await create_document(alice, binder["id"], "Umowa poufna", CONTRACT)
    link = purged["currentVersion"]["downloadUrl"]
    await alice.gql(DELETE, input={"documentId": purged["id"]})
    result = await alice.gql(PURGE, input={"documentId": purged["id"]})
    assert result.payload("purgeDocument")["userErrors"] == []

    newer = await create_document(alice, binder["id"], "Inna umowa", b"Inna tresc", filename="inna.txt")
    assert newer["id"] != purged["id"]
    assert newer["currentVersion"]["id"] != purged["currentVersion"]["id"]
    assert (await http.get(link)).status_code == 404
    gone = await alice.gql("query($id: ID!) { node(id: $id) { id } }", id=purged["id"])
    assert gone.data["node"] is None


async def test_the_trash_lists_the_latest_trashed_first_page_by_page(alice):
    binder = await create_binder(alice, "Umowy")
    documents = [await create_document(alice, binder["id"], f"Umowa {n}", CONTRACT) for n in range(4)]
    for document in (documents[2], documents[0], documents[3], documents[1]):
        await alice.gql(DELETE, input={"documentId": document["id"]})
    query = (
        "query($after: String) { trash(first: 3, after: $after) { edges { node { title } } pageInfo { endCursor } } }"
    )
    first = (await alice.gql(query, after=None)).data["trash"]
    second = (await alice.gql(query, after=first["pageInfo"]["endCursor"])).data["trash"]
    titles = [edge["node"]["title"] for page in (first, second) for edge in page["edges"]]
    assert titles == ["Umowa 1", "Umowa 3", "Umowa 0", "Umowa 2"]


async def test_a_client_that_has_the_bytes_gets_304_and_no_download_is_recorded(alice, http):
    binder = await create_binder(alice, "Umowy")
    document = await create_document(alice, binder["id"], "Umowa", CONTRACT)
    url = document["currentVersion"]["downloadUrl"]
    etag = f'"{hashlib.sha256(CONTRACT).hexdigest()}"'
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        response = await http.get(url, headers={"If-None-Match": header, "Range": "bytes=0-4"})
        assert (response.status_code, response.content, response.headers["etag"]) == (304, b"", etag), header
    changed = await http.get(url, headers={"If-None-Match": '"other"'})
    assert (changed.status_code, changed.content) == (200, CONTRACT)
    downloads = await alice.gql(
        "query($id: ID!) { node(id: $id) { ... on Document { downloads { totalCount } } } }", id=document["id"]
    )
    assert downloads.data["node"]["downloads"]["totalCount"] == 1


async def test_revert_makes_a_new_version_with_the_old_bytes(alice):
    binder = await create_binder(alice, "Umowy")
    document = await create_document(alice, binder["id"], "Umowa", CONTRACT)
    await check_in(alice, document["id"], b"changed")
    result = await alice.gql(
        ref_mutation("revertDocument", "RevertDocumentInput"),
        input={"documentId": document["id"], "versionNumber": "1.0"},
    )
    version = result.payload("revertDocument")["document"]["currentVersion"]
    assert version["number"] == "1.2"
    assert version["sha256"] == hashlib.sha256(CONTRACT).hexdigest()


async def test_a_file_store_that_is_down_refuses_an_upload_and_the_log_says_why(alice, services, monkeypatch, caplog):
    from storage.base import StorageUnavailable

    binder = await create_binder(alice, "Umowy")

    async def unreachable(*_args, **_kwargs):
        raise StorageUnavailable("S3 endpoint 127.0.0.1:9 is unreachable: connection refused")

    monkeypatch.setattr(services.blobs, "put_file", unreachable)
    monkeypatch.setattr(services.blobs, "put", unreachable)
    result = await alice.upload(
        "mutation($input: CreateDocumentInput!) { createDocument(input: $input) { document { id } userErrors { code } } }",
        {"input": {"binderId": binder["id"], "title": "Umowa", "file": None}},
        {"input.file": ("umowa.txt", CONTRACT)},
    )

    assert result.codes("createDocument") == ["STORAGE_UNAVAILABLE"]
    assert any("127.0.0.1:9 is unreachable" in str(getattr(r, "error", "")) for r in caplog.records)


async def test_bytes_missing_from_storage_are_not_reverted_to_nor_copied_from_a_template(alice, services):
    binder = await create_binder(alice, "Wzorce")
    template = await create_document(alice, binder["id"], "Wzór umowy", CONTRACT, isTemplate=True)
    await check_in(alice, template["id"], b"nowy wzor")
    await services.blobs.delete(hashlib.sha256(b"nowy wzor").hexdigest())  # damage, as fsck would find it
    await services.blobs.delete(hashlib.sha256(CONTRACT).hexdigest())
    reverted = await alice.gql(
        "mutation($input: RevertDocumentInput!) { revertDocument(input: $input) {"
        " document { currentVersion { number } } userErrors { code field message } } }",
        input={"documentId": template["id"], "versionNumber": "1.0"},
    )
    errors = reverted.payload("revertDocument")["userErrors"]
    assert [(e["code"], e["field"]) for e in errors] == [("CONFLICT", ["versionNumber"])]
    assert "fsck" in errors[0]["message"]
    copied = await alice.gql(
        "mutation($i: CreateDocumentFromTemplateInput!) { createDocumentFromTemplate(input: $i) {"
        " document { id } userErrors { code field } } }",
        i={"templateId": template["id"], "binderId": binder["id"]},
    )
    assert copied.payload("createDocumentFromTemplate")["userErrors"] == [{"code": "CONFLICT", "field": ["templateId"]}]
    listed = await alice.gql("query($b: ID!) { documents(filter: {binderId: $b}) { totalCount } }", b=binder["id"])
    assert listed.data["documents"]["totalCount"] == 1
    versions = await alice.gql(
        "query($id: ID!) { node(id: $id) { ... on Document { currentVersion { number } } } }", id=template["id"]
    )
    assert versions.data["node"]["currentVersion"]["number"] == "1.1"


async def test_a_document_from_a_template_starts_with_the_templates_bytes(alice):
    binder = await create_binder(alice, "Wzorce")
    template = await create_document(alice, binder["id"], "Wzór umowy", CONTRACT, isTemplate=True)
    target = await create_binder(alice, "Umowy")
    result = await alice.gql(
        "mutation($i: CreateDocumentFromTemplateInput!) { createDocumentFromTemplate(input: $i) {"
        " document { title isTemplate binder { path } currentVersion { number sha256 }"
        " history { edges { node { action details } } } } userErrors { code } } }",
        i={"templateId": template["id"], "binderId": target["id"], "title": "Umowa z ACME"},
    )
    document = result.payload("createDocumentFromTemplate")["document"]
    assert document["title"] == "Umowa z ACME"
    assert document["isTemplate"] is False
    assert document["binder"]["path"] == "/Umowy"
    assert document["currentVersion"] == {"number": "1.0", "sha256": hashlib.sha256(CONTRACT).hexdigest()}
    created = document["history"]["edges"][0]["node"]
    assert created["action"] == "created" and created["details"]["from_template"] == template["id"]


async def test_a_blank_title_for_a_document_from_a_template_is_the_templates(alice):
    binder = await create_binder(alice, "Wzorce")
    template = await create_document(alice, binder["id"], "Wzór umowy", CONTRACT, isTemplate=True)
    start = (
        "mutation($i: CreateDocumentFromTemplateInput!) { createDocumentFromTemplate(input: $i) {"
        " document { title } userErrors { code } } }"
    )
    for blank in ("", "   "):
        result = await alice.gql(start, i={"templateId": template["id"], "binderId": binder["id"], "title": blank})
        assert result.payload("createDocumentFromTemplate")["document"] == {"title": "Wzór umowy"}, blank


async def test_a_tag_given_twice_in_another_case_is_kept_once_as_first_written(alice):
    binder = await create_binder(alice, "Umowy")
    document = await create_document(
        alice, binder["id"], "Umowa", CONTRACT, tags=["Najem", "najem", " NAJEM ", "Łódź", "łódź"]
    )
    shown = await alice.gql("query($id: ID!) { node(id: $id) { ... on Document { tags } } }", id=document["id"])
    assert shown.data["node"]["tags"] == ["Najem", "Łódź"]


async def test_tags_are_limited_in_number_and_a_bad_one_is_named_by_its_place(alice):
    binder = await create_binder(alice, "Umowy")
    document = await create_document(alice, binder["id"], "Umowa", CONTRACT)
    update = "mutation($i: UpdateDocumentInput!) { updateDocument(input: $i) { userErrors { code field } } }"
    many = await alice.gql(update, i={"documentId": document["id"], "tags": [f"t{n}" for n in range(101)]})
    assert many.payload("updateDocument")["userErrors"] == [{"code": "VALIDATION", "field": ["tags"]}]
    bad = await alice.gql(update, i={"documentId": document["id"], "tags": ["pilne", "x" * 65]})
    assert bad.payload("updateDocument")["userErrors"] == [{"code": "VALIDATION", "field": ["tags", "1"]}]


async def test_free_texts_and_the_date_received_are_bounded_and_named(alice):
    binder = await create_binder(alice, "Umowy")
    document = await create_document(alice, binder["id"], "Umowa", CONTRACT)
    update = "mutation($i: UpdateDocumentInput!) { updateDocument(input: $i) { userErrors { code field } } }"
    for wrong, field in [
        ({"description": "x" * 10_001}, "description"),
        ({"source": "e-mail" * 11}, "source"),
        ({"receivedOn": "0001-01-01"}, "receivedOn"),
        ({"receivedOn": "9999-12-31"}, "receivedOn"),
    ]:
        refused = await alice.gql(update, i={"documentId": document["id"], **wrong})
        assert refused.payload("updateDocument")["userErrors"] == [{"code": "VALIDATION", "field": [field]}], wrong
    created = await alice.upload(
        CREATE_DOCUMENT,
        {"input": {"binderId": binder["id"], "title": "Opis", "description": "x" * 10_001, "file": None}},
        {"input.file": ("opis.txt", b"tresc")},
    )
    assert created.codes("createDocument") == ["VALIDATION"]
    long_comment = await check_in(alice, document["id"], b"nowa", comment="x" * 10_001)
    assert long_comment.payload("checkInDocument")["userErrors"] == [
        {"code": "VALIDATION", "field": ["comment"], "message": "comment is longer than 10000 characters"}
    ]
    versions = "query($id: ID!) { node(id: $id) { ... on Document { versions { totalCount } } } }"
    assert (await alice.gql(versions, id=document["id"])).data["node"]["versions"]["totalCount"] == 1


async def test_an_ordinary_document_is_not_a_template(alice):
    binder = await create_binder(alice, "Umowy")
    ordinary = await create_document(alice, binder["id"], "Umowa", CONTRACT)
    result = await alice.gql(
        "mutation($i: CreateDocumentFromTemplateInput!) { createDocumentFromTemplate(input: $i) { userErrors { code field } } }",
        i={"templateId": ordinary["id"], "binderId": binder["id"]},
    )
    assert result.codes("createDocumentFromTemplate") == ["VALIDATION"]


async def test_a_template_the_user_cannot_read_is_not_found(alice, bob):
    binder = await create_binder(alice, "Wzorce")
    template = await create_document(alice, binder["id"], "Wzór", CONTRACT, isTemplate=True)
    own = await create_binder(bob, "Moje")
    result = await bob.gql(
        "mutation($i: CreateDocumentFromTemplateInput!) { createDocumentFromTemplate(input: $i) { userErrors { code field } } }",
        i={"templateId": template["id"], "binderId": own["id"]},
    )
    assert result.payload("createDocumentFromTemplate")["userErrors"] == [
        {"code": "NOT_FOUND", "field": ["templateId"]}
    ]
    assert result.codes("createDocumentFromTemplate") == ["NOT_FOUND"]


async def test_a_bad_id_in_a_new_documents_metadata_is_a_user_error_on_its_field(alice):
    binder = await create_binder(alice, "Umowy")
    for field in ("documentTypeId", "counterpartyId", "caseId"):
        result = await alice.upload(
            "mutation($input: CreateDocumentInput!) { createDocument(input: $input) { document { id } userErrors { field code } } }",
            {"input": {"binderId": binder["id"], "title": "Umowa", "file": None, field: "garbage"}},
            {"input.file": ("umowa.txt", CONTRACT)},
        )
        assert result.payload("createDocument") == {
            "document": None,
            "userErrors": [{"field": [field], "code": "NOT_FOUND"}],
        }
