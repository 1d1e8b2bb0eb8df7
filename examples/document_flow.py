"""The whole document flow with the `gql` client: log in, file a document, check it out and in, find it, download it.

    pip install 'gql[httpx]'
    KARTOTEKA_URL=http://127.0.0.1:8000 KARTOTEKA_USERNAME=admin KARTOTEKA_PASSWORD=... python examples/document_flow.py

Exits with 1 (and says why) if any step fails.
"""

from __future__ import annotations

import io
import os
import sys
import time
from typing import Any

import httpx
from gql import Client, FileVar, gql
from gql.transport.httpx import HTTPXTransport

URL = os.environ.get("KARTOTEKA_URL", "http://127.0.0.1:8000")
FIRST = "Umowa serwisowa nr 7/2026 z firmą Zażółć Sp. z o.o.\n".encode()
SECOND = FIRST + "Aneks nr 1: przedłużenie do końca 2027 roku.\n".encode()

LOGIN = gql("""
mutation LogIn($username: String!, $password: String!) {
  login(input: {username: $username, password: $password}) { token userErrors { code message } }
}""")
CREATE_COUNTERPARTY = gql("""
mutation CreateCounterparty($name: String!) {
  createCounterparty(input: {name: $name}) { counterparty { id name } userErrors { code message } }
}""")
CREATE_BINDER = gql("""
mutation CreateBinder($name: String!) {
  createBinder(input: {name: $name}) { binder { id path } userErrors { code message } }
}""")
CREATE_DOCUMENT = gql("""
mutation CreateDocument($binderId: ID!, $counterpartyId: ID, $file: Upload!) {
  createDocument(input: {binderId: $binderId, counterpartyId: $counterpartyId, title: "Umowa serwisowa", file: $file}) {
    document { id currentVersion { number } }
    userErrors { code message }
  }
}""")
CHECK_OUT = gql("""
mutation CheckOut($id: ID!) {
  checkOutDocument(input: {documentId: $id}) { document { lock { holder { username } } } userErrors { code message } }
}""")
CHECK_IN = gql("""
mutation CheckIn($id: ID!, $file: Upload!) {
  checkInDocument(input: {documentId: $id, file: $file, comment: "Aneks nr 1"}) {
    document { lock { holder { username } } currentVersion { number sha256 downloadUrl } }
    userErrors { code message }
  }
}""")
SEARCH = gql("""
query Search($text: String!) {
  search(query: $text) { totalCount edges { node { document { id title } highlights } } }
}""")


def ok(payload: dict[str, Any]) -> dict[str, Any]:
    """A mutation payload without userErrors, or stop with them."""
    if payload["userErrors"]:
        sys.exit(f"refused: {payload['userErrors']}")
    return payload


def run(client: Client, request: Any, upload: bool = False, **variables: Any) -> dict[str, Any]:
    request.variable_values = variables
    return client.execute(request, upload_files=upload)


def main() -> None:
    # Multipart uploads must carry a preflight header (the server's CSRF guard); so does every request here.
    headers = {"Apollo-Require-Preflight": "true"}
    with Client(transport=HTTPXTransport(url=f"{URL}/graphql", headers=headers)) as anonymous:
        login = run(
            anonymous, LOGIN, username=os.environ["KARTOTEKA_USERNAME"], password=os.environ["KARTOTEKA_PASSWORD"]
        )
    token = ok(login["login"])["token"]
    headers["Authorization"] = f"Bearer {token}"

    with Client(transport=HTTPXTransport(url=f"{URL}/graphql", headers=headers, timeout=30)) as client:
        counterparty = run(client, CREATE_COUNTERPARTY, name="Zażółć Sp. z o.o.")
        counterparty_id = ok(counterparty["createCounterparty"])["counterparty"]["id"]
        binder_id = ok(run(client, CREATE_BINDER, name=f"Umowy {time.time_ns()}")["createBinder"])["binder"]["id"]

        created = run(
            client,
            CREATE_DOCUMENT,
            upload=True,
            binderId=binder_id,
            counterpartyId=counterparty_id,
            file=FileVar(io.BytesIO(FIRST), filename="umowa.txt", content_type="text/plain"),
        )
        document = ok(created["createDocument"])["document"]
        print(f"created document {document['id']}, version {document['currentVersion']['number']}")

        held = ok(run(client, CHECK_OUT, id=document["id"])["checkOutDocument"])["document"]["lock"]
        print(f"checked out by {held['holder']['username']}")
        checked_in = run(
            client,
            CHECK_IN,
            upload=True,
            id=document["id"],
            file=FileVar(io.BytesIO(SECOND), filename="umowa.txt", content_type="text/plain"),
        )
        version = ok(checked_in["checkInDocument"])["document"]["currentVersion"]
        print(f"checked in version {version['number']}")

        # The indexer works in the background; a checked-in document is searchable within seconds.
        deadline = time.monotonic() + 15
        while True:
            found = run(client, SEARCH, text="aneks przedłużenie zazolc")["search"]
            hits = [edge["node"] for edge in found["edges"] if edge["node"]["document"]["id"] == document["id"]]
            if hits:
                break
            if time.monotonic() > deadline:
                sys.exit("the document did not show up in search")
            time.sleep(0.2)
        print(f"found by search: {hits[0]['highlights']}")

    downloaded = httpx.get(version["downloadUrl"], timeout=30)
    downloaded.raise_for_status()
    if downloaded.content != SECOND:
        sys.exit("the downloaded bytes differ from the checked-in ones")
    print(f"downloaded {len(downloaded.content)} bytes, identical to version {version['number']}")


if __name__ == "__main__":
    main()
