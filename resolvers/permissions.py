"""Permission entries from GraphQL input to the domain's terms."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from auth.access import Access
from dms.access.service import Entry
from dms.errors import NotFound
from resolvers.ids import decode_id, parse_id


def entries_from_input(entries: Sequence[Any]) -> list[Entry]:
    """`entries` are objects with `principal_id` (a User or Group global id) and `access` (a name)."""
    parsed = []
    for index, entry in enumerate(entries):
        where = ["entries", str(index), "principalId"]
        kind = parse_id(entry.principal_id)
        if kind is None or kind[0] not in ("User", "Group"):
            raise NotFound("no user or group with this id", field=where)
        principal = decode_id(entry.principal_id, "User", "Group", field=where)
        parsed.append(Entry(kind=kind[0], principal_id=principal, access=Access[str(entry.access.name)]))
    return parsed
