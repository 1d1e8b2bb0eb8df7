"""Setting permissions on binders and documents (MANAGE needed), and what the viewer may do."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.access import Access
from dms.access.models import BinderPermission, DocumentPermission, principal_key
from dms.actor import Actor
from dms.audit import service as audit
from dms.binders.models import Binder, BinderClosure
from dms.documents.models import Document, DocumentHistoryEntry
from dms.errors import NotFound, PermissionDenied, ValidationFailed
from dms.identity.models import Group, User
from dms.outbox import service as outbox
from dms.serialise import locked_for_update

PrincipalKind = Literal["User", "Group"]


@dataclass(frozen=True)
class Entry:
    kind: PrincipalKind
    principal_id: int
    access: Access


@dataclass(frozen=True)
class _Named:
    """An entry whose principal exists, with the name it has now (history shows who, not an id)."""

    entry: Entry
    name: str


async def _validated(session: AsyncSession, entries: Sequence[Entry]) -> list[_Named]:
    seen: dict[tuple[str, int], _Named] = {}
    for index, entry in enumerate(entries):
        principal = await session.get(User if entry.kind == "User" else Group, entry.principal_id)
        if principal is None:
            raise NotFound(f"no such {entry.kind.lower()}", field=["entries", str(index), "principalId"])
        key = (entry.kind, entry.principal_id)
        if key in seen and seen[key].entry.access != entry.access:
            raise ValidationFailed("a principal is listed twice with different access", field="entries")
        name = principal.username if isinstance(principal, User) else principal.name
        seen[key] = _Named(entry, name)
    return list(seen.values())


def _columns(entry: Entry) -> dict[str, object]:
    user_id = entry.principal_id if entry.kind == "User" else None
    group_id = entry.principal_id if entry.kind == "Group" else None
    return {
        "user_id": user_id,
        "group_id": group_id,
        "principal": principal_key(user_id, group_id),
        "access": int(entry.access),
    }


def _describe(entries: Sequence[_Named]) -> list[dict[str, object]]:
    return [
        {"principal": f"{n.entry.kind}:{n.entry.principal_id}", "name": n.name, "access": n.entry.access.name}
        for n in entries
    ]


async def set_binder_permissions(session: AsyncSession, actor: Actor, binder_id: int, entries: Sequence[Entry]) -> None:
    """Replace the binder's entries (MANAGE). Its whole subtree inherits the change."""
    from dms.binders.service import get_binder

    await get_binder(session, actor, binder_id, need=Access.MANAGE, field="targetId")
    # Replacing is delete-then-insert: two at once would leave the union of both lists.
    await locked_for_update(session, Binder, binder_id)
    valid = await _validated(session, entries)
    await session.execute(delete(BinderPermission).where(BinderPermission.binder_id == binder_id))
    for named in valid:
        session.add(BinderPermission(binder_id=binder_id, **_columns(named.entry)))
    await session.flush()
    subtree_documents = (
        select(Document.id)
        .join(BinderClosure, BinderClosure.descendant_id == Document.binder_id)
        .where(BinderClosure.ancestor_id == binder_id)
    )
    await outbox.enqueue_selected(session, subtree_documents, "permissions")
    audit.record(session, actor, "permissions.set", object_type="Binder", object_id=binder_id, entries=_describe(valid))


async def set_document_permissions(
    session: AsyncSession, actor: Actor, document_id: int, entries: Sequence[Entry]
) -> None:
    """Replace the document's own entries (MANAGE); they can only narrow what its binder gives."""
    from dms.documents.service import get_document

    await get_document(session, actor, document_id, need=Access.MANAGE, include_trashed=True, field="targetId")
    valid = await _validated(session, entries)
    await session.execute(delete(DocumentPermission).where(DocumentPermission.document_id == document_id))
    for named in valid:
        session.add(DocumentPermission(document_id=document_id, **_columns(named.entry)))
    session.add(
        DocumentHistoryEntry(
            document_id=document_id,
            action="permissions_changed",
            actor_id=actor.user_id or None,
            details={"entries": _describe(valid)},
        )
    )
    outbox.enqueue(session, document_id, "permissions")
    audit.record(
        session,
        actor,
        "permissions.set",
        object_type="Document",
        object_id=document_id,
        entries=_describe(valid),
    )


async def binder_entries(session: AsyncSession, binder_id: int) -> list[BinderPermission]:
    return list((await session.scalars(select(BinderPermission).where(BinderPermission.binder_id == binder_id))).all())


async def document_entries(session: AsyncSession, document_id: int) -> list[DocumentPermission]:
    return list(
        (await session.scalars(select(DocumentPermission).where(DocumentPermission.document_id == document_id))).all()
    )


async def binder_permissions(session: AsyncSession, actor: Actor, binder_id: int) -> list[BinderPermission]:
    """The binder's own entries for those who may change them (MANAGE); none for other readers.

    Who else may read the binder is its managers' business, but a reader asking for a listing
    with entries in it must still get the listing.
    """
    from dms.binders.service import get_binder

    try:
        await get_binder(session, actor, binder_id, need=Access.MANAGE, for_change=False)
    except PermissionDenied:
        return []
    return await binder_entries(session, binder_id)


async def document_permissions(session: AsyncSession, actor: Actor, document_id: int) -> list[DocumentPermission]:
    """The document's own (narrowing) entries for those who may change them (MANAGE); none for
    other readers (see `binder_permissions`)."""
    from dms.documents.service import get_document

    try:
        await get_document(session, actor, document_id, need=Access.MANAGE, include_trashed=True, for_change=False)
    except PermissionDenied:
        return []
    return await document_entries(session, document_id)
