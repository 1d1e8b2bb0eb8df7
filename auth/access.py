"""The access-level algebra: levels, inheritance down the binder tree, narrowing on documents.

This is the reference definition of the rules. The domain applies the same rules in SQL
(`dms.access.queries`); property tests check the two agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import IntEnum


class Access(IntEnum):
    NONE = 0
    READ = 1
    WRITE = 2
    MANAGE = 3


def inherited(entries_by_depth: Sequence[Iterable[Access]]) -> Access:
    """Access to a binder from the entries that apply to a user, nearest binder first.

    `entries_by_depth[0]` are the levels granted to the user or any of their groups on the binder
    itself, `[1]` on its parent, and so on up to the root. The nearest binder that has any entry
    for the user decides, with the highest level among its entries; no entry anywhere is NONE.
    """
    for levels in entries_by_depth:
        levels = list(levels)
        if levels:
            return max(levels)
    return Access.NONE


def narrowed(binder_level: Access, document_levels: Iterable[Access]) -> Access:
    """Access to a document: its own entries for the user may only narrow what its binder gives."""
    levels = list(document_levels)
    if not levels:
        return binder_level
    return min(binder_level, max(levels))


def effective(
    binder_entries_by_depth: Sequence[Iterable[Access]],
    document_levels: Iterable[Access] = (),
    *,
    is_admin: bool = False,
) -> Access:
    """Everything together: admins manage everything; otherwise inherit, then narrow."""
    if is_admin:
        return Access.MANAGE
    return narrowed(inherited(binder_entries_by_depth), document_levels)
