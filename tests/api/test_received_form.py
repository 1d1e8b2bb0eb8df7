"""Receiving multipart GraphQL requests: parts split anywhere, files hashed, refusals, nothing left open."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.exceptions import HTTPException
from starlette.types import Message

from resolvers import received_form
from resolvers.received_form import HashedUpload, close_form, receive_form
from tests.api.helpers import create_binder
from tests.api.test_adversarial import asgi_scope

BOUNDARY = "----kartoteka7MA4YWxkTrZu0gW"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"
MiB = 1024 * 1024


def field(name: str, value: str) -> bytes:
    return f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()


def file_part(name: str, filename: str, data: bytes) -> bytes:
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    )
    return head.encode() + data + b"\r\n"


END = f"--{BOUNDARY}--\r\n".encode()


async def pieces(body: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.parametrize("piece_size", [1, 7, 4096, MiB + 3])
async def test_fields_and_files_arrive_whole_however_the_body_is_cut(piece_size: int):
    contract = random.Random(piece_size).randbytes(150_000 if piece_size == 1 else 3 * MiB + 11)
    body = (
        field("operations", '{"query": "zażółć"}')
        + field("map", '{"0": ["variables.file"]}')
        + file_part("0", "Umowa_zażółć.pdf", contract)
        + END
    )

    form = await receive_form(CONTENT_TYPE, pieces(body, piece_size))
    try:
        assert form["operations"] == '{"query": "zażółć"}'
        assert form["map"] == '{"0": ["variables.file"]}'
        upload = form["0"]
        assert isinstance(upload, HashedUpload)
        assert upload.filename == "Umowa_zażółć.pdf"
        assert upload.content_type == "application/pdf"
        assert (upload.size, upload.sha256) == (len(contract), hashlib.sha256(contract).hexdigest())
        assert upload.file.read() == contract  # positioned at its start
    finally:
        await close_form(form)


async def test_a_browsers_escapes_of_quotes_and_line_breaks_in_a_filename_are_undone():
    body = field("operations", "{}") + file_part("0", "Umowa %22Alfa%22 100%.pdf", b"x") + END
    form = await receive_form(CONTENT_TYPE, pieces(body, 1024))
    try:
        assert form["0"].filename == 'Umowa "Alfa" 100%.pdf'
    finally:
        await close_form(form)


async def test_a_file_named_only_by_its_rfc_2231_filename_star_is_a_file():
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="0"; '
        "filename*=UTF-8''Umowa_za%C5%BC%C3%B3%C5%82%C4%87%202026.pdf\r\n\r\n"
    )
    form = await receive_form(CONTENT_TYPE, pieces(head.encode() + b"%PDF-1.4\r\n" + END, 100))
    try:
        upload = form["0"]
        assert isinstance(upload, HashedUpload)
        assert upload.filename == "Umowa_zażółć 2026.pdf"
    finally:
        await close_form(form)


async def test_an_empty_file_is_an_empty_upload():
    form = await receive_form(CONTENT_TYPE, pieces(field("a", "b") + file_part("0", "pusty.txt", b"") + END, 100))

    upload = form["0"]
    assert isinstance(upload, HashedUpload)
    assert (upload.size, upload.sha256) == (0, hashlib.sha256(b"").hexdigest())
    await close_form(form)


@pytest.mark.parametrize(
    ("content_type", "body", "message"),
    [
        ("multipart/form-data", field("a", "b") + END, "no boundary"),
        (CONTENT_TYPE, b"this is not a multipart body at all", "malformed"),
        (CONTENT_TYPE, field("a", "b") + file_part("0", "a.pdf", b"cut off"), "ended before its closing boundary"),
        (CONTENT_TYPE, f"--{BOUNDARY}\r\nContent-Disposition: form-data\r\n\r\nx\r\n".encode() + END, "no name"),
        (CONTENT_TYPE, field("operations", "x" * (received_form.MAX_FIELD_BYTES + 1)) + END, "longer than"),
        (
            CONTENT_TYPE,
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="0"; filename="{"a" * 10_000}"\r\n\r\nx\r\n'.encode()
            + END,
            "malformed",
        ),
    ],
)
async def test_a_bad_body_is_refused_with_400(content_type: str, body: bytes, message: str):
    with pytest.raises(HTTPException) as refused:
        await receive_form(content_type, pieces(body, 1000))

    assert refused.value.status_code == 400
    assert message in str(refused.value.detail)


async def test_more_files_than_allowed_are_refused(monkeypatch):
    monkeypatch.setattr(received_form, "MAX_FILES", 2)
    body = b"".join(file_part(str(n), f"{n}.pdf", b"x") for n in range(3)) + END

    with pytest.raises(HTTPException, match="at most 2 files"):
        await receive_form(CONTENT_TYPE, pieces(body, 1000))


async def test_a_body_that_fails_half_way_leaves_no_file_open():
    before = open_descriptors()

    async def broken() -> AsyncIterator[bytes]:
        yield file_part("0", "a.pdf", b"")[:-2]
        for _ in range(4):  # past the spool's in-memory size: the part is on disk by now
            yield os.urandom(MiB)
        raise ConnectionResetError("the client went away")

    with pytest.raises(ConnectionResetError):
        await receive_form(CONTENT_TYPE, broken())

    assert open_descriptors() == before


async def test_a_cancelled_request_leaves_no_file_open():
    before = open_descriptors()
    stalled = asyncio.Event()

    async def stalling() -> AsyncIterator[bytes]:
        yield file_part("0", "a.pdf", b"")[:-2]
        for _ in range(4):
            yield os.urandom(MiB)
        stalled.set()
        await asyncio.Event().wait()  # the client stops sending
        yield b""

    receiving = asyncio.create_task(receive_form(CONTENT_TYPE, stalling()))
    await stalled.wait()
    receiving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await receiving

    assert open_descriptors() == before


CREATE = """mutation($input: CreateDocumentInput!) {
  createDocument(input: $input) { document { currentVersion { sha256 size filename } } userErrors { code } }
}"""


async def test_an_upload_is_stored_under_the_hash_taken_while_receiving_and_its_file_is_closed(alice, http):
    binder = await create_binder(alice, "Umowy")
    contract = os.urandom(3 * MiB)
    operations = {"query": CREATE, "variables": {"input": {"binderId": binder["id"], "title": "Umowa", "file": None}}}
    before = open_descriptors()

    response = await http.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.input.file"]})},
        files={"0": ("Umowa_zażółć.pdf", contract, "application/pdf")},
        headers={**alice.headers, "Apollo-Require-Preflight": "true"},
    )

    payload = response.json()["data"]["createDocument"]
    assert payload["userErrors"] == []
    assert payload["document"]["currentVersion"] == {
        "sha256": hashlib.sha256(contract).hexdigest(),
        "size": len(contract),
        "filename": "Umowa_zażółć.pdf",
    }
    assert open_descriptors() == before


async def call_and_hang_up(
    app: Any, method: str, path: str, headers: dict[str, str], sent_body: bytes
) -> list[Message]:
    """Drive the app as a server would for a client that sends part of its body, then disconnects."""
    arriving: list[Message] = [
        {"type": "http.request", "body": sent_body, "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return arriving.pop(0) if arriving else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = asgi_scope(
        method, path, headers=[(name.lower().encode(), value.encode()) for name, value in headers.items()]
    )
    await app(scope, receive, send)
    return sent


async def test_a_client_that_gives_up_on_its_upload_is_answered_400_and_logs_no_error(app, alice, caplog):
    binder = await create_binder(alice, "Umowy")
    operations = {"query": CREATE, "variables": {"input": {"binderId": binder["id"], "title": "Umowa", "file": None}}}
    started = (
        field("operations", json.dumps(operations))
        + field("map", '{"0": ["variables.input.file"]}')
        + file_part("0", "umowa.pdf", os.urandom(2 * MiB))[:-2]
    )
    before = open_descriptors()

    with caplog.at_level(logging.INFO):
        sent = await call_and_hang_up(
            app,
            "POST",
            "/graphql",
            {**alice.headers, "Content-Type": CONTENT_TYPE, "Apollo-Require-Preflight": "true"},
            started,
        )

    assert sent[0]["status"] == 400
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert "the client disconnected before its request body was complete" in caplog.messages
    assert open_descriptors() == before
    assert (await alice.gql("{ documents { totalCount } }")).data["documents"]["totalCount"] == 0


async def test_a_client_that_gives_up_on_a_staged_upload_is_answered_400_and_logs_no_error(app, alice, caplog):
    slot = (
        await alice.gql(
            "mutation($i: RequestUploadInput!) { requestUpload(input: $i) { uploadUrl userErrors { code } } }",
            i={"filename": "skan.pdf", "size": 3 * MiB},
        )
    ).payload("requestUpload")
    path = "/" + slot["uploadUrl"].split("/", 3)[3]

    with caplog.at_level(logging.INFO):
        sent = await call_and_hang_up(app, "PUT", path, {"Content-Length": str(3 * MiB)}, os.urandom(MiB))

    assert sent[0]["status"] == 400
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
