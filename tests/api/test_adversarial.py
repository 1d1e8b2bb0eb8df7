"""Hostile input, each answered with a clear 4xx or error code, nothing stored and nothing leaked.

Cases already covered elsewhere are not repeated here: the depth limit, an alias bomb, a batch of two,
a query over the size limit, one malformed cursor and multipart without a preflight header
(test_skeleton.py); an upload just over the limit, a forged download URL and `../` in a file name
(test_documents.py); a forged upload URL (test_staged_uploads.py); revoked, expired and invented
tokens (test_login.py); the security headers, CORS and body limits on every route (test_security.py).
"""

from __future__ import annotations

import asyncio
import base64
import json
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import itsdangerous
import pytest
from sqlalchemy import update

from dms.events.models import Event
from dms.identity.models import User
from dms.pagination import SortKey
from tests.api.helpers import check_in, create_binder, create_document, me_id, set_binder_access
from tests.conftest import Client

ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 200
CREATE = (
    "mutation($input: CreateDocumentInput!) { createDocument(input: $input) { document { id } userErrors { code } } }"
)
DOWNLOAD_URL = "query($id: ID!) { node(id: $id) { ... on Document { currentVersion { downloadUrl } } } }"
LEAKS = ("traceback", "sqlalchemy", "sqlite", "asyncpg", "psycopg", "whoosh", 'file "/', "select ", "syntax error")


def assert_nothing_leaked(text: str) -> None:
    lowered = text.lower()
    for word in LEAKS:
        assert word not in lowered, (word, text[:500])


def files_under(path: Path) -> list[Path]:
    return [p for p in path.rglob("*") if p.is_file()] if path.exists() else []


@pytest.fixture
def private_tmp(tmp_path, monkeypatch) -> Path:
    """Temporary files (Starlette spools multipart parts there) go to a directory the test can list."""
    directory = tmp_path / "spool"
    directory.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(directory))
    return directory


async def document_count(client: Client) -> int:
    return (await client.gql("{ documents { totalCount } }")).data["documents"]["totalCount"]


# --- uploads ---------------------------------------------------------------------------------


async def test_an_upload_far_over_the_limit_is_refused_before_it_is_read(alice, http, settings, private_tmp):
    binder = await create_binder(alice, "Umowy")
    body = b"x" * (settings.max_upload_bytes + 2 * 1024 * 1024)
    response = await http.post(
        "/graphql",
        data={
            "operations": json.dumps(
                {"query": CREATE, "variables": {"input": {"binderId": binder["id"], "title": "t", "file": None}}}
            ),
            "map": json.dumps({"0": ["variables.input.file"]}),
        },
        files={"0": ("big.bin", body)},
        headers={**alice.headers, "Apollo-Require-Preflight": "true"},
    )
    assert response.status_code == 413
    # The limit the operator set, not the body's (which has room for the rest of the form).
    assert response.json()["errors"][0] == {
        "code": "UPLOAD_TOO_LARGE",
        "extensions": {"code": "UPLOAD_TOO_LARGE"},
        "message": f"the file is larger than the limit of {settings.max_upload_bytes} bytes",
    }
    assert await document_count(alice) == 0
    assert files_under(settings.data_dir / "blobs") == []
    assert files_under(private_tmp) == []


async def test_an_upload_just_over_the_limit_leaves_no_blob_and_no_temporary_file(alice, settings, private_tmp):
    binder = await create_binder(alice, "Umowy")
    result = await alice.upload(
        CREATE,
        {"input": {"binderId": binder["id"], "title": "big", "file": None}},
        {"input.file": ("big.bin", b"x" * (settings.max_upload_bytes + 1))},
    )
    assert result.codes("createDocument") == ["UPLOAD_TOO_LARGE"]
    assert files_under(settings.data_dir / "blobs") == []
    assert files_under(private_tmp) == []


async def test_an_executable_named_pdf_is_downloaded_as_what_it_is(alice, http):
    binder = await create_binder(alice, "Skany")
    document = await create_document(alice, binder["id"], "Faktura", ELF, filename="faktura.pdf")
    assert document["currentVersion"]["mimeType"] in (
        "application/x-executable",
        "application/x-sharedlib",
        "application/x-elf",
    )
    response = await http.get(document["currentVersion"]["downloadUrl"])
    assert response.headers["content-type"].startswith(document["currentVersion"]["mimeType"])
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"].startswith("attachment")


async def test_a_web_page_named_pdf_is_never_served_as_html(alice, http):
    binder = await create_binder(alice, "Skany")
    page = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
    document = await create_document(alice, binder["id"], "Faktura", page, filename="faktura.pdf")
    assert document["currentVersion"]["mimeType"] == "text/html"
    response = await http.get(document["currentVersion"]["downloadUrl"])
    assert "html" not in response.headers["content-type"]
    assert response.headers["content-disposition"].startswith("attachment")
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("../../../etc/passwd", "passwd"),
        ("..\\..\\windows\\win.ini", "win.ini"),
        ("faktura\u202efdp.exe", "fakturafdp.exe"),
        ("../", "file"),
    ],
)
async def test_hostile_file_names_are_stored_harmless_and_sent_back_quoted(alice, http, given, stored):
    binder = await create_binder(alice, "Umowy")
    document = await create_document(alice, binder["id"], "Umowa", b"tresc", filename=given)
    assert document["currentVersion"]["filename"] == stored
    response = await http.get(document["currentVersion"]["downloadUrl"])
    assert response.status_code == 200
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment; filename=")
    assert not any(ch in disposition for ch in "\x00\r\n\u202e/")


async def upload_named(client: Client, http, binder_id: str, filename: str) -> dict[str, Any]:
    """A multipart request written out by hand: httpx would percent-encode a NUL in the file name."""
    boundary = "kartotekaboundary"
    operations = json.dumps(
        {
            "query": CREATE.replace("document { id }", "document { id currentVersion { filename downloadUrl } }"),
            "variables": {"input": {"binderId": binder_id, "title": "Umowa", "file": None}},
        }
    )
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{operations}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="map"\r\n\r\n{{"0": ["variables.input.file"]}}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="0"; filename="{filename}"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\ntresc\r\n--{boundary}--\r\n"
    ).encode()
    response = await http.post(
        "/graphql",
        content=body,
        headers={
            **client.headers,
            "Apollo-Require-Preflight": "true",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )
    assert response.status_code == 200, response.text
    payload = response.json()["data"]["createDocument"]
    assert payload["userErrors"] == [], payload
    return payload["document"]


async def test_a_10000_character_file_name(alice, http, settings):
    binder = await create_binder(alice, "Umowy")
    given = "a" * 10_000 + ".pdf"
    # In a multipart header, the parser refuses it outright.
    response = await http.post(
        "/graphql",
        data={
            "operations": json.dumps(
                {"query": CREATE, "variables": {"input": {"binderId": binder["id"], "title": "t", "file": None}}}
            ),
            "map": json.dumps({"0": ["variables.input.file"]}),
        },
        files={"0": (given, b"tresc")},
        headers={**alice.headers, "Apollo-Require-Preflight": "true"},
    )
    assert response.status_code == 400
    assert await document_count(alice) == 0
    # Declared for a staged upload, it is cut to 255 characters that keep the extension.
    result = await alice.gql(
        "mutation($i: RequestUploadInput!) { requestUpload(input: $i) { uploadUrl uploadId userErrors { code } } }",
        i={"filename": given, "size": 5},
    )
    slot = result.payload("requestUpload")
    assert (await http.put(slot["uploadUrl"], content=b"tresc")).status_code in (200, 201, 204)
    created = await alice.gql(
        "mutation($input: CreateDocumentInput!) { createDocument(input: $input) "
        "{ document { currentVersion { filename } } userErrors { code } } }",
        input={"binderId": binder["id"], "title": "t", "stagedUploadId": slot["uploadId"]},
    )
    assert created.payload("createDocument")["document"]["currentVersion"]["filename"] == "a" * 251 + ".pdf"


async def test_a_nul_in_a_file_name_is_dropped(alice, http):
    binder = await create_binder(alice, "Umowy")
    document = await upload_named(alice, http, binder["id"], "umowa\x00.exe.pdf")
    assert document["currentVersion"]["filename"] == "umowa.exe.pdf"
    response = await http.get(document["currentVersion"]["downloadUrl"])
    assert "\x00" not in response.headers["content-disposition"]


# --- queries ---------------------------------------------------------------------------------


async def test_a_10_mb_query_is_refused_before_it_is_parsed(http):
    query = "{ " + "__typename " * (1024 * 1024) + "}"
    assert len(query) > 10 * 1024 * 1024
    response = await http.post("/graphql", json={"query": query})
    assert response.status_code == 413


def asgi_scope(
    method: str, path: str, *, query_string: bytes = b"", headers: Sequence[tuple[bytes, bytes]] = ()
) -> dict[str, Any]:
    """A request as a server hands it to the app: what httpx will not send goes this way."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query_string,
        "root_path": "",
        "headers": [(b"host", b"kartoteka.test"), *headers],
        "client": ("127.0.0.1", 1234),
        "server": ("kartoteka.test", 80),
    }


async def test_a_10_mb_query_string_is_refused(app):
    """httpx will not send such a URL, so the request goes to the ASGI app as a server would pass it."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    query_string = b"query=" + b"%7B__typename%7D" + b"+" * (10 * 1024 * 1024)
    await app(asgi_scope("GET", "/graphql", query_string=query_string), receive, send)
    assert sent[0]["status"] == 414


@pytest.mark.parametrize(
    ("path", "content_type"), [("/graphql", b"multipart/form-data; boundary=x"), ("/graphql", b"application/json")]
)
async def test_a_body_that_stalls_is_given_up_with_408(settings, services, alice, path, content_type):
    """uvicorn waits for a body forever: a client that stops sending held its connection (and an
    upload its temporary file) until it went away."""
    from kartoteka.app import create_app

    app = create_app(settings.model_copy(update={"body_idle_timeout_seconds": 0.2}), services=services)
    sent: list[dict[str, Any]] = []
    first = True

    async def receive() -> dict[str, Any]:
        nonlocal first
        if first:
            first = False
            return {"type": "http.request", "body": b"--x\r\nContent-Disposition: form-data; name=", "more_body": True}
        await asyncio.Event().wait()  # the client sends nothing more, and stays
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    headers = [
        (b"content-type", content_type),
        (b"content-length", b"100000"),
        (b"authorization", f"Bearer {alice.token}".encode()),
        (b"apollo-require-preflight", b"true"),
    ]
    await asyncio.wait_for(app(asgi_scope("POST", path, headers=headers), receive, send), 30)
    assert sent[0]["status"] == 408
    assert dict(sent[0]["headers"])[b"connection"] == b"close"


async def test_a_large_batch_is_refused(http):
    response = await http.post("/graphql", json=[{"query": "{ __typename }"}] * 1000)
    assert response.status_code == 400
    assert "batch" in response.text


async def test_a_fragment_bomb_is_refused_before_validation(alice):
    """Thirty fragments each spreading the previous one twice: 2^30 fields once expanded, in 1.5 kB.

    Strawberry's depth limiter would walk every one of them on the event loop (hours).
    """
    fragments = "fragment F0 on User { username }\n" + "".join(
        f"fragment F{i} on User {{ ...F{i - 1} ...F{i - 1} username }}\n" for i in range(1, 31)
    )
    bomb = await alice.gql("query { me { ...F30 } }\n" + fragments)
    assert bomb.error_codes == ["QUERY_TOO_COMPLEX"]
    # Fragments used as clients use them still work, spread more than once included.
    fine = await alice.gql(
        "query { me { ...F2 } }\n" + "fragment F0 on User { username }\n"
        "fragment F1 on User { ...F0 ...F0 id }\nfragment F2 on User { ...F1 ...F1 ...F0 }\n"
    )
    assert fine.data["me"]["username"] == "alice"


async def test_one_object_asked_for_more_than_a_hundred_fields_is_refused_before_validation(alice):
    """Validation compares the fields asked of one object pairwise, on the event loop: 400 copies
    of one field (1,600 tokens) took two seconds, stalling every other request meanwhile."""
    copies = await alice.gql("query { " + " ".join(["me { username }"] * 101) + " }")
    assert copies.error_codes == ["QUERY_TOO_COMPLEX"]
    fragments = "".join(f"fragment F{i} on Query {{ me {{ username }} }}\n" for i in range(101))
    spread = await alice.gql("query { " + " ".join(f"...F{i}" for i in range(101)) + " }\n" + fragments)
    assert spread.error_codes == ["QUERY_TOO_COMPLEX"]
    inline = await alice.gql("query { me { " + " ".join(["... on User { id }"] * 101) + " } }")
    assert inline.error_codes == ["QUERY_TOO_COMPLEX"]
    # A hundred is still answered, at any depth.
    fine = await alice.gql("query { me { " + " ".join(["username"] * 99) + " ... on User { id } } }")
    assert fine.data["me"]["username"] == "alice"


def cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


CONNECTIONS = [
    "documents(after: $after)",
    "trash(after: $after)",
    "counterparties(after: $after)",
    "events(after: $after)",
    "cases(after: $after)",
    "tasks(after: $after)",
    "users(after: $after)",
    "groups(after: $after)",
    "auditLog(after: $after)",
    "eventTypes(after: $after)",
    "counterpartyTypes(after: $after)",
    "dictionaries(after: $after)",
    'search(query: "umowa", after: $after)',
    'searchCounterparties(query: "umowa", after: $after)',
]
BAD_CURSORS = [
    "%%%",
    "",
    "=" * 10,
    cursor([10**30]),
    cursor([10**30, 10**30]),
    cursor(["abc"]),
    cursor(["abc", "abc"]),
    cursor([None, None]),
    cursor(["a\x00b", 1]),
    cursor({"a": 1}),
    "W05hTl0",  # [NaN]
    base64.urlsafe_b64encode(b"\xff\xfe").decode(),
]


async def test_every_connection_refuses_every_bad_cursor_clearly(admin, database_url):
    for connection in CONNECTIONS:
        for bad in BAD_CURSORS:
            result = await admin.gql(f"query($after: String) {{ x: {connection} {{ totalCount }} }}", after=bad)
            codes = result.error_codes
            # An empty cursor is no cursor (a search then asks the index, which this test has not
            # built); everything else is a VALIDATION error, never an internal one.
            assert codes in ([], ["VALIDATION"], ["INDEX_REBUILDING"]), (connection, bad, result.body)
            if bad.strip("="):
                assert codes == ["VALIDATION"], (connection, bad, result.body)
            assert_nothing_leaked(json.dumps(result.body))
    # Events page by time: a time that is not one, or has no zone, is as bad.
    events = SortKey.of((Event.sort_at, True), (Event.id, True)).tag
    for bad in (cursor([events, "not a date", 1]), cursor([events, "2026-01-01T00:00:00", 1])):
        result = await admin.gql("query($after: String) { events(after: $after) { totalCount } }", after=bad)
        assert result.error_codes == ["VALIDATION"], (bad, result.body)


async def test_a_cursor_of_one_list_is_refused_by_another(alice):
    create = "mutation($n: String!) { createCounterparty(input: {name: $n}) { counterparty { id } } }"
    for name in ("ACME", "Żuraw"):
        await alice.gql(create, n=name)
    cards = await alice.gql("{ counterparties(first: 1) { pageInfo { endCursor } } }")
    end = cards.data["counterparties"]["pageInfo"]["endCursor"]
    assert (await alice.gql("query($a: String) { counterparties(after: $a) { totalCount } }", a=end)).data
    foreign = await alice.gql("query($a: String) { events(after: $a) { totalCount } }", a=end)
    assert foreign.error_codes == ["VALIDATION"]
    assert "another list" in foreign.body["errors"][0]["message"]


# --- links and tokens ------------------------------------------------------------------------


def later(monkeypatch, seconds: int) -> None:
    """Move the signers' clock forward, as if the link had been kept that long."""
    now = itsdangerous.timed.TimestampSigner.get_timestamp

    monkeypatch.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp", lambda self: now(self) + seconds)


async def test_an_expired_download_url_is_refused(alice, http, monkeypatch, settings):
    binder = await create_binder(alice, "Umowy")
    document = await create_document(alice, binder["id"], "Umowa", b"tresc")
    url = document["currentVersion"]["downloadUrl"]
    assert (await http.get(url)).status_code == 200
    later(monkeypatch, settings.download_url_ttl_seconds + 5)
    response = await http.get(url)
    assert response.status_code == 403
    assert "expired" in response.text


async def test_an_expired_upload_url_is_refused_and_stores_nothing(alice, http, monkeypatch, settings):
    result = await alice.gql(
        "mutation($i: RequestUploadInput!) { requestUpload(input: $i) { uploadUrl userErrors { code } } }",
        i={"filename": "a.bin", "size": 5},
    )
    url = result.payload("requestUpload")["uploadUrl"]
    later(monkeypatch, settings.staged_upload_ttl_seconds + 5)
    response = await http.put(url, content=b"tresc")
    assert response.status_code == 403
    assert files_under(settings.data_dir / "blobs") == []


async def test_a_user_marked_inactive_is_anonymous_even_with_a_live_token(alice, db):
    """Disabling revokes tokens; the token check itself must not rely on that having happened."""
    async with db.sessions() as session:
        await session.execute(update(User).where(User.username == "alice").values(is_active=False))
        await session.commit()
    result = await alice.gql("{ me { username } documents { totalCount } }")
    assert result.error_codes == ["UNAUTHENTICATED"]


async def test_a_disabled_users_links_stop_working(alice, http, db):
    binder = await create_binder(alice, "Umowy")
    document = await create_document(alice, binder["id"], "Umowa", b"tresc")
    download = document["currentVersion"]["downloadUrl"]
    upload = (
        await alice.gql(
            "mutation($i: RequestUploadInput!) { requestUpload(input: $i) { uploadUrl } }",
            i={"filename": "a.bin", "size": 5},
        )
    ).payload("requestUpload")["uploadUrl"]
    async with db.sessions() as session:
        await session.execute(update(User).where(User.username == "alice").values(is_active=False))
        await session.commit()
    assert (await http.get(download)).status_code in (403, 404)
    assert (await http.put(upload, content=b"tresc")).status_code == 403


async def test_a_link_ends_with_the_session_that_asked_for_it(alice, bob, http):
    binder = await create_binder(alice, "Umowy")
    document = await create_document(alice, binder["id"], "Umowa", b"tresc")
    alices_link = document["currentVersion"]["downloadUrl"]
    await set_binder_access(alice, binder["id"], [(await me_id(alice), "MANAGE"), (await me_id(bob), "READ")])
    bobs_link = (await bob.gql(DOWNLOAD_URL, id=document["id"])).data["node"]["currentVersion"]["downloadUrl"]
    assert (await http.get(alices_link)).status_code == 200

    assert (await alice.gql("mutation { logout { userErrors { code } } }")).payload("logout")["userErrors"] == []
    assert (await http.get(alices_link)).status_code == 404
    assert (await http.get(bobs_link)).content == b"tresc"  # another user's session goes on


# --- injection in text filters ---------------------------------------------------------------

INJECTIONS = [
    "' OR '1'='1",
    "'; DROP TABLE documents; --",
    '" OR 1=1 --',
    "%",
    "_",
    "\\",
    "%' UNION SELECT password_hash FROM users --",
    "*",
    "?",
    "umowa OR *",
    "title:*",
    "access:*",
    "counterparty_id:*",
    "NOT zzzz",
    "((((",
    "a\x00b",
    "\u202e",
    "content:[a TO z]",
]
TEXT_FILTERS = [
    ("search", "query($q: String!) { r: search(query: $q) { totalCount } }"),
    ("search by type", 'query($q: String!) { r: search(query: "umowa", filter: {documentType: $q}) { totalCount } }'),
    ("search by status", 'query($q: String!) { r: search(query: "umowa", filter: {status: $q}) { totalCount } }'),
    ("counterparty search", "query($q: String!) { r: searchCounterparties(query: $q) { totalCount } }"),
    ("event search", "query($q: String!) { r: searchEvents(query: $q) { totalCount } }"),
    ("counterparties", "query($q: String!) { r: counterparties(filter: {text: $q}) { totalCount } }"),
    ("users", "query($q: String!) { r: users(text: $q) { totalCount } }"),
    ("audit log", "query($q: String!) { r: auditLog(filter: {action: $q}) { totalCount } }"),
]


async def test_injection_in_any_text_filter_finds_nothing_it_should_not(admin, alice, bob, indexer, database_url):
    from tests.conftest import drain

    binder = await create_binder(alice, "Umowy")
    await create_document(alice, binder["id"], "Umowa najmu", b"umowa najmu lokalu")
    created = await alice.gql(
        'mutation { createCounterparty(input: {name: "Umowa Sp. z o.o."}) { userErrors { code } } }'
    )
    assert created.payload("createCounterparty")["userErrors"] == []
    await drain(indexer)
    baseline = {name: (await admin.gql(query, q="umowa")).body for name, query in TEXT_FILTERS}
    for payload in INJECTIONS:
        for name, query in TEXT_FILTERS:
            for client in (admin, bob):
                result = await client.gql(query, q=payload)
                text = json.dumps(result.body)
                assert_nothing_leaked(text)
                allowed = ([], ["VALIDATION"], ["PERMISSION_DENIED"] if name == "audit log" and client is bob else [])
                assert result.error_codes in allowed, (name, payload, result.body)
                if result.error_codes:
                    continue
                total = result.data["r"]["totalCount"]
                # Bob may read none of alice's documents: no payload makes him find or count one.
                if client is bob and name.startswith("search"):
                    assert total == 0, (name, payload)
                # Typed text is matched literally: a LIKE wildcard matches only itself.
                if name in ("counterparties", "users") and payload in ("%", "_", "\\"):
                    assert total == 0, (name, payload)
    # Nothing was dropped or changed on the way.
    for name, query in TEXT_FILTERS:
        assert (await admin.gql(query, q="umowa")).body == baseline[name], name
    assert await document_count(alice) == 1
    assert await me_id(bob)


async def test_a_nul_in_free_text_is_never_a_server_error(alice, admin, database_url):
    """PostgreSQL cannot store a NUL: free text arrives without control characters, on both backends."""
    nul = "a\x00b"
    binder = await create_binder(alice, "Umowy")
    document = await create_document(alice, binder["id"], "Umowa", b"tresc")
    checked_in = await check_in(alice, document["id"], b"druga", comment=nul)
    updated = await alice.gql(
        "mutation($i: UpdateDocumentInput!) { updateDocument(input: $i) { document { title } userErrors { code } } }",
        i={"documentId": document["id"], "source": nul, "title": nul, "description": nul},
    )
    card = await alice.gql(
        "mutation($n: String!) { createCounterparty(input: {name: $n, notes: $n}) { counterparty { id name } userErrors { code } } }",
        n=nul,
    )
    login = await alice.gql(
        "mutation($n: String!) { login(input: {username: $n, password: $n}) { userErrors { code } } }", n=nul
    )
    listed = await admin.gql(
        "query($n: String!) { counterparties(filter: {text: $n}) { totalCount } users(text: $n) { totalCount } }",
        n=nul,
    )
    assert checked_in.payload("checkInDocument")["userErrors"] == []
    assert updated.payload("updateDocument")["document"]["title"] == "ab"
    assert card.payload("createCounterparty")["counterparty"]["name"] == "ab"
    assert login.codes("login") == ["INVALID_CREDENTIALS"]
    assert listed.data["counterparties"]["totalCount"] == 1


async def test_a_lone_surrogate_escape_is_refused_as_bad_input_and_a_pair_is_kept(alice, http):
    mutation = "mutation($n: String!) { createBinder(input: {name: $n}) { binder { name } userErrors { code } } }"
    for body in (
        '{"query": "%s", "variables": {"n": "Umowy \\ud800"}}' % mutation.replace('"', '\\"'),
        '{"query": "mutation { createBinder(input: {name: \\"x\\udc00\\"}) { binder { name } } }"}',
    ):
        response = await http.post(
            "/graphql", content=body, headers={**alice.headers, "Content-Type": "application/json"}
        )
        assert response.status_code == 400, response.text
        assert "not valid Unicode" in response.json()["errors"][0]["message"]
    paired = '{"query": "%s", "variables": {"n": "Umowy \\ud83d\\udcc4"}}' % mutation.replace('"', '\\"')
    response = await http.post(
        "/graphql", content=paired, headers={**alice.headers, "Content-Type": "application/json"}
    )
    assert response.json()["data"]["createBinder"]["binder"]["name"] == "Umowy 📄"
    assert (await alice.gql("{ binders { name } }")).data["binders"] == [{"name": "Umowy 📄"}]


@pytest.mark.parametrize("depth", [600, 40_000])
async def test_deeply_nested_json_is_a_400_not_a_crash(http, depth):
    body = '{"query": "{ __typename }", "variables": {"a": ' + "[" * depth + "]" * depth + "}}"
    response = await http.post("/graphql", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code in (200, 400), response.text
    assert "errors" in response.json() or response.json()["data"] == {"__typename": "Query"}


@pytest.mark.parametrize(
    "body",
    [
        b'{"query": "{ __typename }", "x": "\xff"}',  # not UTF-8
        b"\x1f\x8b\x08\x00compressed",  # a gzip body
        b'{"query": "{ __typename }", "variables": {"n": 1' + b"0" * 5000 + b"}}",  # past int()'s limit
    ],
)
async def test_a_body_python_cannot_read_as_json_is_a_400(http, body):
    response = await http.post("/graphql", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text


async def test_an_integer_literal_of_thousands_of_digits_is_a_validation_error(alice):
    for query in (
        "{ documents(first: 1%s) { totalCount } }" % ("0" * 5000),
        "{ documents(first: -%s) { totalCount } }" % ("9" * 25),
    ):
        result = await alice.gql(query)
        assert result.error_codes == ["VALIDATION"], result.body
    assert (await alice.gql("{ documents(first: 5) { totalCount } }")).error_codes == []


async def test_a_file_map_index_of_thousands_of_digits_is_a_400(alice, http):
    operations = '{"query": "mutation($f: [Upload!]!) { __typename }", "variables": {"f": [null]}}'
    response = await http.post(
        "/graphql",
        data={"operations": operations, "map": '{"0": ["variables.f.%s"]}' % ("1" * 5000)},
        files={"0": ("a.txt", b"x")},
        headers={**alice.headers, "Apollo-Require-Preflight": "true"},
    )
    assert response.status_code == 400, response.text


async def test_a_range_of_thousands_of_digits_is_ignored_and_the_whole_file_sent(alice, http):
    binder = await create_binder(alice, "Umowy")
    document = await create_document(alice, binder["id"], "Aneks", b"tresc aneksu")
    url = (await alice.gql(DOWNLOAD_URL, id=document["id"])).data["node"]["currentVersion"]["downloadUrl"]
    for header in ("bytes=%s-" % ("1" * 5000), "bytes=0-%s" % ("9" * 5000)):
        response = await http.get(url, headers={"Range": header})
        assert (response.status_code, response.content) == (200, b"tresc aneksu"), header
