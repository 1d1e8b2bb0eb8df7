"""A GraphQL client for a real `kartoteka serve` over loopback, as a front-end talks to it.

Unlike tests.conftest.Client (the ASGI app in-process) this one goes through uvicorn and TCP, so a
killed or overloaded server shows up as it would for a user: a transport error or a slow answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.cli.test_cli import kartoteka

PASSWORD = "a-long-password"
DOCUMENT_FIELDS = "id currentVersion { number sha256 downloadUrl }"
CREATE_DOCUMENT = (
    "mutation($input: CreateDocumentInput!) { createDocument(input: $input)"
    f" {{ document {{ {DOCUMENT_FIELDS} }} userErrors {{ field code message }} }} }}"
)
CHECK_IN = (
    "mutation($input: CheckInDocumentInput!) { checkInDocument(input: $input)"
    f" {{ document {{ {DOCUMENT_FIELDS} }} userErrors {{ field code message }} }} }}"
)
CHECK_OUT = (
    "mutation($id: ID!) { checkOutDocument(input: {documentId: $id}) { document { id } userErrors { code message } } }"
)


class RequestFailed(Exception):
    """The server answered, but not with a GraphQL result (a 5xx, an unmasked error, no JSON)."""


@dataclass
class Answer:
    """The payload of one mutation: the changed document, or the userErrors' codes."""

    document: dict[str, Any] | None
    codes: list[str]


class LiveClient:
    def __init__(self, http: httpx.AsyncClient, token: str | None = None) -> None:
        self.http = http
        self.token = token

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    @staticmethod
    def _data(response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError as error:
            raise RequestFailed(f"{response.status_code}: {response.text[:300]}") from error
        if response.status_code != 200 or body.get("errors"):
            raise RequestFailed(f"{response.status_code}: {body}")
        return body["data"]

    async def gql(self, query: str, **variables: Any) -> dict[str, Any]:
        response = await self.http.post("/graphql", json={"query": query, "variables": variables}, headers=self.headers)
        return self._data(response)

    async def upload(self, query: str, variables: dict[str, Any], path: str, filename: str, content: bytes) -> Any:
        """A GraphQL multipart request with one file at variables.<path>."""
        form = {
            "operations": json.dumps({"query": query, "variables": variables}),
            "map": json.dumps({"0": [f"variables.{path}"]}),
        }
        response = await self.http.post(
            "/graphql",
            data=form,
            files={"0": (filename, content, "text/plain")},
            headers={**self.headers, "Apollo-Require-Preflight": "true"},
        )
        return self._data(response)

    async def login(self, username: str = "admin", password: str = PASSWORD) -> LiveClient:
        data = await self.gql(
            "mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p}) { token } }",
            u=username,
            p=password,
        )
        return LiveClient(self.http, data["login"]["token"])

    async def create_binder(self, name: str) -> str:
        data = await self.gql(
            "mutation($n: String!) { createBinder(input: {name: $n}) { binder { id } userErrors { code } } }", n=name
        )
        return str(data["createBinder"]["binder"]["id"])

    async def create_document(self, binder_id: str, title: str, filename: str, content: bytes) -> Answer:
        data = await self.upload(
            CREATE_DOCUMENT,
            {"input": {"binderId": binder_id, "title": title, "file": None}},
            "input.file",
            filename,
            content,
        )
        return _answer(data["createDocument"])

    async def check_out(self, document_id: str) -> Answer:
        return _answer((await self.gql(CHECK_OUT, id=document_id))["checkOutDocument"])

    async def check_in(self, document_id: str, filename: str, content: bytes, expected: str | None = None) -> Answer:
        data = await self.upload(
            CHECK_IN,
            {"input": {"documentId": document_id, "file": None, "expectedVersion": expected}},
            "input.file",
            filename,
            content,
        )
        return _answer(data["checkInDocument"])


def _answer(payload: dict[str, Any]) -> Answer:
    return Answer(payload.get("document"), [error["code"] for error in payload["userErrors"]])


def create_admin(data_dir: Path, environment: dict[str, str]) -> None:
    """The first administrator, created with the CLI as an operator does (against the same data)."""
    settings = {k: v for k, v in environment.items() if k.startswith("KARTOTEKA_")}
    created = kartoteka(
        data_dir, "user", "create", "admin", "--admin", "--password-stdin", stdin=PASSWORD + "\n", **settings
    )
    assert created.returncode == 0, created.stderr
