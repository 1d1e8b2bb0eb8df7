"""Large files: reserve an upload, PUT the bytes apart from GraphQL, then make them a version."""

from __future__ import annotations

import hashlib

from tests.api.helpers import DOCUMENT_FIELDS, create_binder, create_document

REQUEST = """
mutation($input: RequestUploadInput!) { requestUpload(input: $input) { uploadId uploadUrl expiresAt userErrors { field code } } }"""
CREATE = (
    "mutation($input: CreateDocumentInput!) { createDocument(input: $input) { document { %s } userErrors { field code } } }"
    % DOCUMENT_FIELDS
)
CHECK_IN = (
    "mutation($input: CheckInDocumentInput!) { checkInDocument(input: $input) { document { %s } userErrors { field code } } }"
    % DOCUMENT_FIELDS
)
BIG = ("Umowa ramowa — " * 5000).encode()


async def staged(client, http, content: bytes, *, declared_size: int | None = None, sha256: str | None = None) -> str:
    result = await client.gql(
        REQUEST,
        input={"filename": "umowa-ramowa.txt", "size": declared_size or len(content), "sha256": sha256},
    )
    slot = result.payload("requestUpload")
    assert slot["userErrors"] == []
    response = await http.put(slot["uploadUrl"], content=content)
    assert response.status_code == 200, response.text
    return slot["uploadId"]


async def test_a_staged_upload_becomes_version_1_0(alice, http):
    binder = await create_binder(alice, "Umowy")
    upload_id = await staged(alice, http, BIG, sha256=hashlib.sha256(BIG).hexdigest())
    result = await alice.gql(
        CREATE, input={"binderId": binder["id"], "title": "Umowa ramowa", "stagedUploadId": upload_id}
    )
    document = result.payload("createDocument")["document"]
    assert document["currentVersion"]["sha256"] == hashlib.sha256(BIG).hexdigest()
    assert document["currentVersion"]["filename"] == "umowa-ramowa.txt"
    assert (await http.get(document["currentVersion"]["downloadUrl"])).content == BIG


async def test_a_staged_upload_can_be_checked_in_but_only_once(alice, http):
    binder = await create_binder(alice, "Umowy")
    document = await create_document(alice, binder["id"], "Umowa", b"v1")
    upload_id = await staged(alice, http, BIG)
    first = await alice.gql(CHECK_IN, input={"documentId": document["id"], "stagedUploadId": upload_id})
    assert first.payload("checkInDocument")["document"]["currentVersion"]["number"] == "1.1"
    again = await alice.gql(CHECK_IN, input={"documentId": document["id"], "stagedUploadId": upload_id})
    assert again.codes("checkInDocument") == ["CONFLICT"]


async def test_an_upload_whose_bytes_never_arrived_cannot_become_a_version_until_they_do(alice, http):
    binder = await create_binder(alice, "Umowy")
    document = await create_document(alice, binder["id"], "Umowa", b"v1")
    slot = (await alice.gql(REQUEST, input={"filename": "umowa.txt", "size": 10})).payload("requestUpload")
    refused_put = await http.put(slot["uploadUrl"], content=b"x" * 5)
    assert refused_put.status_code == 400

    for attempt in (
        alice.gql(CREATE, input={"binderId": binder["id"], "title": "Umowa", "stagedUploadId": slot["uploadId"]}),
        alice.gql(CHECK_IN, input={"documentId": document["id"], "stagedUploadId": slot["uploadId"]}),
    ):
        result = await attempt
        (payload,) = result.data.values()
        assert payload["document"] is None
        assert payload["userErrors"] == [{"field": ["stagedUploadId"], "code": "VALIDATION"}]
    listed = await alice.gql("query($b: ID!) { documents(filter: {binderId: $b}) { totalCount } }", b=binder["id"])
    assert listed.data["documents"]["totalCount"] == 1

    # Nothing was used up: once the bytes arrive, the same upload becomes the version.
    assert (await http.put(slot["uploadUrl"], content=b"y" * 10)).status_code == 200
    checked_in = await alice.gql(CHECK_IN, input={"documentId": document["id"], "stagedUploadId": slot["uploadId"]})
    assert checked_in.payload("checkInDocument")["document"]["currentVersion"]["number"] == "1.1"


async def test_bytes_beyond_the_declared_size_are_refused(alice, http):
    result = await alice.gql(REQUEST, input={"filename": "a.txt", "size": 10})
    slot = result.payload("requestUpload")
    response = await http.put(slot["uploadUrl"], content=b"x" * 11)
    assert response.status_code == 413


async def test_fewer_bytes_than_declared_are_refused(alice, http):
    result = await alice.gql(REQUEST, input={"filename": "a.txt", "size": 10})
    response = await http.put(result.payload("requestUpload")["uploadUrl"], content=b"x" * 9)
    assert response.status_code == 400


async def test_a_declared_hash_that_does_not_match_is_refused(alice, http):
    result = await alice.gql(REQUEST, input={"filename": "a.txt", "size": 3, "sha256": "0" * 64})
    response = await http.put(result.payload("requestUpload")["uploadUrl"], content=b"abc")
    assert response.status_code == 400


async def test_an_upload_larger_than_the_limit_cannot_be_requested(alice, services):
    result = await alice.gql(REQUEST, input={"filename": "a.bin", "size": services.limits.max_upload_bytes + 1})
    assert result.codes("requestUpload") == ["UPLOAD_TOO_LARGE"]


async def test_someone_elses_staged_upload_is_not_found(alice, bob, http):
    upload_id = await staged(alice, http, b"alice's bytes")
    binder = await create_binder(bob, "Bob")
    result = await bob.gql(CREATE, input={"binderId": binder["id"], "title": "x", "stagedUploadId": upload_id})
    assert result.codes("createDocument") == ["NOT_FOUND"]


async def test_a_forged_upload_url_is_refused(alice, http):
    result = await alice.gql(REQUEST, input={"filename": "a.txt", "size": 3})
    url = result.payload("requestUpload")["uploadUrl"]
    assert (await http.put(url[:-3] + "abc", content=b"abc")).status_code == 403


async def test_both_a_file_and_a_staged_upload_is_a_validation_error(alice, http):
    binder = await create_binder(alice, "Umowy")
    upload_id = await staged(alice, http, b"abc")
    result = await alice.upload(
        CREATE,
        {"input": {"binderId": binder["id"], "title": "x", "file": None, "stagedUploadId": upload_id}},
        {"input.file": ("a.txt", b"abc")},
    )
    assert result.codes("createDocument") == ["VALIDATION"]
