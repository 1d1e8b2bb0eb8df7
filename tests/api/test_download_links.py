"""Download links: the rules are checked when the link is used, and bytes are never sent before that.

The link names the version's bytes, so the route starts opening them while it checks access;
these tests hold that doing so changes nothing a user can see: refused links get nothing and
leave nothing open, a link whose version no longer has the bytes it names is refused, and links
signed before they named the bytes keep working.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest

from dms.actor import SYSTEM
from dms.identity import service as identity
from resolvers.ids import decode_id, encode_id
from storage.base import StorageUnavailable
from tests.api.helpers import SET_DOCUMENT_PERMISSIONS, create_binder, create_document, me_id, set_binder_access

CONTENT = "Aneks nr 2 do umowy — zażółć gęślą jaźń.\n".encode()
OTHER = b"Zupelnie inna tresc"
DOWNLOAD_URL = "query($id: ID!) { node(id: $id) { ... on Document { currentVersion { downloadUrl } } } }"
DOWNLOADS = "query($id: ID!) { node(id: $id) { ... on Document { downloads { totalCount } } } }"


async def link_of(client, document_id: str) -> str:
    return (await client.gql(DOWNLOAD_URL, id=document_id)).data["node"]["currentVersion"]["downloadUrl"]


async def downloads_of(client, document_id: str) -> int:
    return (await client.gql(DOWNLOADS, id=document_id)).data["node"]["downloads"]["totalCount"]


@pytest.fixture
def opened(services, monkeypatch) -> list[tuple[str, list[str]]]:
    """The key of every blob the store opens, with a record of the stream being closed early."""
    streams: list[tuple[str, list[str]]] = []
    open_blob = services.blobs.open

    async def recording_open(key, byte_range=None):
        stream = await open_blob(key, byte_range)
        closed: list[str] = []
        close = stream.aclose

        async def recording_close():
            closed.append("closed")
            await close()

        stream.aclose = recording_close
        streams.append((key, closed))
        return stream

    monkeypatch.setattr(services.blobs, "open", recording_open)
    return streams


async def test_a_link_follows_group_and_document_rules_at_download_time(alice, bob, db, http):
    binder = await create_binder(alice, "Kadry")
    document = await create_document(alice, binder["id"], "Aneks", CONTENT)
    async with db.sessions() as session:
        group = await identity.create_group(session, SYSTEM, "Kadry")
        await identity.add_member(session, SYSTEM, "Kadry", "bob")
        await session.commit()
        group_id = encode_id("Group", group.id)
    await set_binder_access(alice, binder["id"], [(await me_id(alice), "MANAGE"), (group_id, "READ")])
    url = await link_of(bob, document["id"])
    assert (await http.get(url)).content == CONTENT

    bob_id = await me_id(bob)
    narrowed = await alice.gql(
        SET_DOCUMENT_PERMISSIONS, target=document["id"], entries=[{"principalId": bob_id, "access": "NONE"}]
    )
    assert narrowed.payload("setDocumentPermissions")["userErrors"] == []
    refused = await http.get(url)
    assert (refused.status_code, refused.json()) == (404, {"error": "no such file"})

    await alice.gql(SET_DOCUMENT_PERMISSIONS, target=document["id"], entries=[])
    assert (await http.get(url)).status_code == 200
    async with db.sessions() as session:
        await identity.remove_member(session, SYSTEM, "Kadry", "bob")
        await session.commit()
    assert (await http.get(url)).status_code == 404
    # Only the two downloads that were allowed are recorded.
    assert await downloads_of(alice, document["id"]) == 2


async def test_links_start_with_the_public_address_when_one_is_set(alice, services):
    # Behind a proxy the Host header may name the upstream (or whatever a client sent).
    binder = await create_binder(alice, "Umowy")
    document = await create_document(alice, binder["id"], "Umowa", CONTENT)
    assert (await link_of(alice, document["id"])).startswith("http://kartoteka.test/files/")
    services.public_url = "https://dms.example.com/kartoteka"
    assert (await link_of(alice, document["id"])).startswith("https://dms.example.com/kartoteka/files/")
    request = 'mutation { requestUpload(input: {filename: "a.txt", size: 3}) { uploadUrl } }'
    upload_url = (await alice.gql(request)).payload("requestUpload")["uploadUrl"]
    assert upload_url.startswith("https://dms.example.com/kartoteka/uploads/")


async def test_an_admins_link_works_without_any_entry(alice, admin, http):
    binder = await create_binder(alice, "Poufne")
    document = await create_document(alice, binder["id"], "Aneks", CONTENT)
    assert (await http.get(await link_of(admin, document["id"]))).content == CONTENT


async def test_bytes_opened_for_a_refused_link_are_released_unsent(alice, bob, http, opened):
    binder = await create_binder(alice, "Kadry")
    document = await create_document(alice, binder["id"], "Aneks", CONTENT)
    await set_binder_access(alice, binder["id"], [(await me_id(alice), "MANAGE"), (await me_id(bob), "READ")])
    url = await link_of(bob, document["id"])
    await set_binder_access(alice, binder["id"], [(await me_id(alice), "MANAGE")])

    response = await http.get(url)

    assert response.status_code == 404
    assert CONTENT not in response.content
    assert [closed for _key, closed in opened] == [["closed"]]


async def test_a_missing_blob_answers_503_and_records_no_download(alice, http, services, opened):
    binder = await create_binder(alice, "Umowy")
    document = await create_document(alice, binder["id"], "Aneks", CONTENT)
    path = await services.blobs.local_path(document["currentVersion"]["sha256"])
    assert path is not None
    path.unlink()

    response = await http.get(document["currentVersion"]["downloadUrl"])

    assert response.status_code == 503
    assert "missing" in response.json()["error"]
    assert await downloads_of(alice, document["id"]) == 0


@pytest.mark.parametrize("headers", [{}, {"Range": "bytes=0-3"}])
async def test_a_file_store_that_is_down_answers_503_to_try_again_and_records_no_download(
    alice, http, services, monkeypatch, headers
):
    binder = await create_binder(alice, "Umowy")
    document = await create_document(alice, binder["id"], "Aneks", CONTENT)

    async def unreachable(key, byte_range=None):
        raise StorageUnavailable("S3 endpoint 127.0.0.1:9 is unreachable")

    monkeypatch.setattr(services.blobs, "open", unreachable)
    response = await http.get(document["currentVersion"]["downloadUrl"], headers=headers)

    assert response.status_code == 503
    assert response.headers["retry-after"] == "30"
    assert "try again" in response.json()["error"]
    assert await downloads_of(alice, document["id"]) == 0


@pytest.mark.parametrize("damage", [b"appended", None])
async def test_bytes_damaged_in_storage_answer_503_and_are_not_sent(alice, http, services, opened, caplog, damage):
    binder = await create_binder(alice, "Umowy")
    document = await create_document(alice, binder["id"], "Aneks", CONTENT)
    path = await services.blobs.local_path(document["currentVersion"]["sha256"])
    assert path is not None
    if damage is None:
        path.write_bytes(CONTENT[:-3])  # cut short
    else:
        with path.open("ab") as blob:
            blob.write(damage)

    response = await http.get(document["currentVersion"]["downloadUrl"])

    assert response.status_code == 503
    assert "damaged" in response.json()["error"]
    assert await downloads_of(alice, document["id"]) == 0
    assert [closed for _key, closed in opened] == [["closed"]]
    assert any("differs" in record.getMessage() for record in caplog.records)


async def test_a_range_running_past_the_end_of_cut_short_bytes_answers_503(alice, http, services):
    binder = await create_binder(alice, "Umowy")
    document = await create_document(alice, binder["id"], "Aneks", CONTENT)
    path = await services.blobs.local_path(document["currentVersion"]["sha256"])
    assert path is not None
    path.write_bytes(CONTENT[:5])
    url = document["currentVersion"]["downloadUrl"]

    assert (await http.get(url, headers={"Range": "bytes=0-4"})).status_code == 206  # still whole there
    response = await http.get(url, headers={"Range": f"bytes=0-{len(CONTENT) - 1}"})
    assert response.status_code == 503 and "damaged" in response.json()["error"]


async def test_a_link_naming_other_bytes_than_its_versions_is_refused(alice, http, services, opened):
    binder = await create_binder(alice, "Umowy")
    document = await create_document(alice, binder["id"], "Aneks", CONTENT)
    other = await create_document(alice, binder["id"], "Inny", OTHER)
    version_id = decode_id(document["currentVersion"]["id"])
    user_id = decode_id(await me_id(alice))
    # A genuinely signed link whose version now has other bytes: versions never change their
    # bytes, so the link was issued for another version that had this id (which ids must never
    # allow), and neither version's bytes are its to give.
    token = services.download_signer.sign({"v": version_id, "u": user_id, "h": other["currentVersion"]["sha256"]})

    response = await http.get(f"/files/{token}/{quote('aneks.txt')}")

    assert response.status_code == 404
    assert dict(opened)[other["currentVersion"]["sha256"]] == ["closed"]
    assert await downloads_of(alice, document["id"]) == 0


async def test_a_link_signed_before_links_named_their_bytes_still_works(alice, http, services):
    binder = await create_binder(alice, "Umowy")
    document = await create_document(alice, binder["id"], "Aneks", CONTENT)
    version_id = decode_id(document["currentVersion"]["id"])
    user_id = decode_id(await me_id(alice))
    token = services.download_signer.sign({"v": version_id, "u": user_id})

    whole = await http.get(f"/files/{token}/aneks.txt")
    part = await http.get(f"/files/{token}/aneks.txt", headers={"Range": "bytes=0-4"})

    assert whole.content == CONTENT
    assert (part.status_code, part.content) == (206, CONTENT[:5])


async def test_a_link_with_a_malformed_claim_is_refused(alice, http, services):
    for claim in ({"v": "x", "u": 1}, {"u": 1}, ["v", "u"], "v"):
        token = services.download_signer.sign(claim)
        response = await http.get(f"/files/{token}/aneks.txt")
        assert response.status_code == 403, claim
