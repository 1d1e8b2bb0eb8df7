"""Opaque global ids: base64 of "Type:pk", as Relay clients expect."""

from __future__ import annotations

import base64
import binascii

from dms.errors import NotFound

NODE_TYPES = frozenset(
    {
        "User",
        "Group",
        "Binder",
        "Document",
        "DocumentVersion",
        "Counterparty",
        "Case",
        "Download",
        "AuditEntry",
        "StagedUpload",
        "DocumentType",
        "CounterpartyType",
        "Dictionary",
        "DictionaryEntry",
        "Address",
        "ContactPerson",
        "BankAccount",
        "CounterpartyBlock",
        "EventType",
        "Event",
        "Task",
    }
)


def encode_id(type_name: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


def parse_id(global_id: str) -> tuple[str, int] | None:
    """(type, pk) of a well-formed global id, else None."""
    if not isinstance(global_id, str) or len(global_id) > 200:
        return None
    try:
        raw = base64.urlsafe_b64decode((global_id + "=" * (-len(global_id) % 4)).encode("ascii")).decode()
    except (ValueError, binascii.Error, UnicodeError):
        return None
    type_name, _, pk = raw.partition(":")
    if type_name not in NODE_TYPES or not (pk.isascii() and pk.isdigit()) or len(pk) > 18:
        return None
    # One object, one id: "Document:03", other spellings of the base64 and stray padding
    # would otherwise all name Document 3 (int() also reads non-ASCII digits).
    if encode_id(type_name, int(pk)) != global_id.rstrip("="):
        return None
    return type_name, int(pk)


def decode_id(global_id: str, *expected: str, field: str | list[str] = "id") -> int:
    """The pk of a global id of one of the expected types; anything else is NOT_FOUND on `field`."""
    parsed = parse_id(global_id)
    if parsed is None or (expected and parsed[0] not in expected):
        raise NotFound(f"no {' or '.join(expected) or 'object'} with this id", field=field)
    return parsed[1]


def decode_optional(global_id: str | None, *expected: str, field: str) -> int | None:
    return None if global_id is None else decode_id(global_id, *expected, field=field)
