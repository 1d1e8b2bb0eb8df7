"""A real third-party client, `gql`, drives the whole flow over HTTP against `kartoteka serve`."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from gql import Client, FileVar, gql
from gql.transport.httpx import HTTPXTransport

from tests.e2e.conftest import LiveServer

EXAMPLE = Path(__file__).parents[2] / "examples" / "document_flow.py"
FIRST = "Protokół przekazania kluczy, lokal 4B, ulica Źródlana 12.\n".encode()
SECOND = FIRST + "Korekta: przekazano także pilota do bramy wjazdowej.\n".encode()


def client_for(server: LiveServer, token: str | None = None) -> Client:
    # The server's CSRF guard wants this header on multipart requests; gql sends it like any other header.
    headers = {"Apollo-Require-Preflight": "true"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    transport = HTTPXTransport(url=f"{server.base_url}/graphql", headers=headers, timeout=30)
    # The client fetches the schema by introspection and validates every request against it before sending.
    return Client(transport=transport, fetch_schema_from_transport=True)


def execute(session: Any, document: str, *, upload: bool = False, **variables: Any) -> dict[str, Any]:
    request = gql(document)
    request.variable_values = variables
    return session.execute(request, upload_files=upload)


def test_the_whole_document_flow_through_gql(live_server: LiveServer):
    with client_for(live_server) as anonymous:
        login = execute(
            anonymous,
            "mutation LogIn($u: String!, $p: String!) { login(input: {username: $u, password: $p}) { token userErrors { code } } }",
            u=live_server.username,
            p=live_server.password,
        )["login"]
    assert login["userErrors"] == []

    with client_for(live_server, login["token"]) as session:
        assert execute(session, "query Me { me { username } }")["me"]["username"] == live_server.username
        counterparty = execute(
            session,
            "mutation NewCounterparty($name: String!, $nip: String) { createCounterparty(input: {name: $name, nip: $nip})"
            " { counterparty { id nipFormatted } userErrors { code } } }",
            name="Spółdzielnia Mieszkaniowa Źródło",
            nip="1234563218",
        )["createCounterparty"]
        assert counterparty["userErrors"] == []
        assert counterparty["counterparty"]["nipFormatted"] == "123-456-32-18"
        binder = execute(
            session,
            "mutation NewBinder($name: String!) { createBinder(input: {name: $name}) { binder { id path } userErrors { code } } }",
            name="Protokoły gql",
        )["createBinder"]
        assert binder["userErrors"] == []

        created = execute(
            session,
            "mutation Upload($b: ID!, $c: ID, $f: Upload!) { createDocument(input: {binderId: $b, counterpartyId: $c,"
            ' title: "Protokół przekazania", file: $f}) { document { id counterparty { id }'
            " currentVersion { number size sha256 } } userErrors { code } } }",
            upload=True,
            b=binder["binder"]["id"],
            c=counterparty["counterparty"]["id"],
            f=FileVar(io.BytesIO(FIRST), filename="protokol.txt", content_type="text/plain"),
        )["createDocument"]
        assert created["userErrors"] == []
        document = created["document"]
        assert document["currentVersion"] == {
            "number": "1.0",
            "size": len(FIRST),
            "sha256": hashlib.sha256(FIRST).hexdigest(),
        }
        assert document["counterparty"]["id"] == counterparty["counterparty"]["id"]

        checked_out = execute(
            session,
            "mutation CheckOut($id: ID!) { checkOutDocument(input: {documentId: $id})"
            " { document { lock { holder { username } } } userErrors { code } } }",
            id=document["id"],
        )["checkOutDocument"]
        assert checked_out["userErrors"] == []
        assert checked_out["document"]["lock"]["holder"]["username"] == live_server.username

        checked_in = execute(
            session,
            "mutation CheckIn($id: ID!, $f: Upload!) { checkInDocument(input: {documentId: $id, file: $f,"
            ' comment: "Korekta"}) { document { lock { lockedAt } currentVersion { number comment downloadUrl } }'
            " userErrors { code } } }",
            upload=True,
            id=document["id"],
            f=FileVar(io.BytesIO(SECOND), filename="protokol.txt", content_type="text/plain"),
        )["checkInDocument"]
        assert checked_in["userErrors"] == []
        assert checked_in["document"]["lock"] is None
        version = checked_in["document"]["currentVersion"]
        assert (version["number"], version["comment"]) == ("1.1", "Korekta")

        # The embedded indexer picks the new version up in the background: poll, within a bound.
        deadline = time.monotonic() + 10
        while True:
            found = execute(
                session,
                "query Find($q: String!) { search(query: $q) { totalCount edges { node { document { id } highlights } } } }",
                q="pilota bramy zrodlana",
            )["search"]
            if found["totalCount"] or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert [edge["node"]["document"]["id"] for edge in found["edges"]] == [document["id"]]
        assert any("<mark>" in snippet for snippet in found["edges"][0]["node"]["highlights"])

    downloaded = httpx.get(version["downloadUrl"], timeout=30)
    assert downloaded.status_code == 200
    assert downloaded.content == SECOND


def test_the_example_script_runs_the_same_flow(live_server: LiveServer):
    environment = os.environ | {
        "KARTOTEKA_URL": live_server.base_url,
        "KARTOTEKA_USERNAME": live_server.username,
        "KARTOTEKA_PASSWORD": live_server.password,
    }
    result = subprocess.run(
        [sys.executable, str(EXAMPLE)], env=environment, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "checked in version 1.1" in result.stdout
    assert "identical to version 1.1" in result.stdout
