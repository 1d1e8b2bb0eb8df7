"""GraphQL operations the API tests share, written as a client would write them."""

from __future__ import annotations

from typing import Any

from tests.conftest import Client

DOCUMENT_FIELDS = """
  id title
  binder { id path }
  lock { holder { username } lockedAt expiresAt }
  currentVersion { id number filename size sha256 mimeType downloadUrl createdBy { username } comment }
  viewerCan { read write manage checkOut checkIn cancelCheckOut breakLock }
"""

CREATE_BINDER = """
mutation($name: String!, $parentId: ID) {
  createBinder(input: {name: $name, parentId: $parentId}) { binder { id name path } userErrors { field message code } }
}"""

CREATE_DOCUMENT = (
    """
mutation($input: CreateDocumentInput!) {
  createDocument(input: $input) { document { %s } userErrors { field message code } }
}"""
    % DOCUMENT_FIELDS
)

CHECK_IN = (
    """
mutation($input: CheckInDocumentInput!) {
  checkInDocument(input: $input) { document { %s } userErrors { field message code } }
}"""
    % DOCUMENT_FIELDS
)


def ref_mutation(name: str, input_type: str = "DocumentRefInput") -> str:
    return """
mutation($input: %s!) {
  %s(input: $input) { document { %s } userErrors { field message code } }
}""" % (input_type, name, DOCUMENT_FIELDS)


SET_BINDER_PERMISSIONS = """
mutation($target: ID!, $entries: [PermissionEntryInput!]!) {
  setBinderPermissions(input: {targetId: $target, entries: $entries}) { binder { id } userErrors { field code message } }
}"""

SET_DOCUMENT_PERMISSIONS = """
mutation($target: ID!, $entries: [PermissionEntryInput!]!) {
  setDocumentPermissions(input: {targetId: $target, entries: $entries}) { document { id } userErrors { field code message } }
}"""


async def create_binder(client: Client, name: str, parent_id: str | None = None) -> dict[str, Any]:
    result = await client.gql(CREATE_BINDER, name=name, parentId=parent_id)
    payload = result.payload("createBinder")
    assert payload["userErrors"] == [], payload
    return payload["binder"]


async def create_document(
    client: Client, binder_id: str, title: str, content: bytes, filename: str = "umowa.txt", **extra: Any
) -> dict[str, Any]:
    result = await client.upload(
        CREATE_DOCUMENT,
        {"input": {"binderId": binder_id, "title": title, "file": None, **extra}},
        {"input.file": (filename, content)},
    )
    payload = result.payload("createDocument")
    assert payload["userErrors"] == [], payload
    return payload["document"]


async def check_in(client: Client, document_id: str, content: bytes, filename: str = "v.txt", **extra: Any):
    return await client.upload(
        CHECK_IN,
        {"input": {"documentId": document_id, "file": None, **extra}},
        {"input.file": (filename, content)},
    )


async def me_id(client: Client) -> str:
    return (await client.gql("{ me { id } }")).data["me"]["id"]


async def set_binder_access(owner: Client, binder_id: str, entries: list[tuple[str, str]]) -> None:
    result = await owner.gql(
        SET_BINDER_PERMISSIONS,
        target=binder_id,
        entries=[{"principalId": principal, "access": access} for principal, access in entries],
    )
    assert result.payload("setBinderPermissions")["userErrors"] == [], result.body
