"""Setting permissions on binders and documents (MANAGE needed), and what the viewer may do."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.access import Access
from dms.access import queries as access_sql
from dms.access.models import BinderPermission, DocumentPermission, principal_key
from dms.actor import Actor
from dms.audit import service as audit
from dms.binders.models import Binder, BinderClosure
from dms.documents.models import Document, DocumentHistoryEntry
from dms.errors import NotFound, ValidationFailed
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


async def _manager_kept(valid: list[_Named], actor: Actor, level_now: Callable[[], Awaitable[Access]]) -> _Named | None:
    """The entry that keeps the acting manager a manager, when the new entries (already flushed)
    would take MANAGE away from them without naming them; None when they named themselves (they
    asked for what they get), are an administrator, or manage anyway."""
    if not actor.user_id or any(n.entry.kind == "User" and n.entry.principal_id == actor.user_id for n in valid):
        return None
    if await level_now() >= Access.MANAGE:
        return None
    return _Named(Entry("User", actor.user_id, Access.MANAGE), actor.username)


async def set_binder_permissions(session: AsyncSession, actor: Actor, binder_id: int, entries: Sequence[Entry]) -> None:
    """Replace the binder's entries (MANAGE). Its whole subtree inherits the change.

    A manager who leaves themselves out of the list keeps managing the binder: when the new
    entries would take their MANAGE away, an entry giving them MANAGE is kept. Granting a
    colleague READ on the binder you created must not lock you out of it; to step down, name
    yourself with the access you want (or have another manager change the list).
    """
    from dms.binders.service import get_binder

    await get_binder(session, actor, binder_id, need=Access.MANAGE, field="targetId")
    # Replacing is delete-then-insert: two at once would leave the union of both lists.
    await locked_for_update(session, Binder, binder_id)
    valid = await _validated(session, entries)
    await session.execute(delete(BinderPermission).where(BinderPermission.binder_id == binder_id))
    for named in valid:
        session.add(BinderPermission(binder_id=binder_id, **_columns(named.entry)))
    await session.flush()
    kept = await _manager_kept(valid, actor, lambda: access_sql.binder_level(session, actor, binder_id))
    if kept is not None:
        session.add(BinderPermission(binder_id=binder_id, **_columns(kept.entry)))
        valid.append(kept)
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
    """Replace the document's own entries (MANAGE); they can only narrow what its binder gives.

    As on binders, a manager who leaves themselves out keeps managing the document (narrowing a
    group they belong to does not narrow them).
    """
    from dms.documents.service import get_document

    await get_document(session, actor, document_id, need=Access.MANAGE, include_trashed=True, field="targetId")
    valid = await _validated(session, entries)
    await session.execute(delete(DocumentPermission).where(DocumentPermission.document_id == document_id))
    for named in valid:
        session.add(DocumentPermission(document_id=document_id, **_columns(named.entry)))
    await session.flush()
    kept = await _manager_kept(valid, actor, lambda: access_sql.document_level(session, actor, document_id))
    if kept is not None:
        session.add(DocumentPermission(document_id=document_id, **_columns(kept.entry)))
        valid.append(kept)
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


async def binder_entries_of(session: AsyncSession, binder_ids: Sequence[int]) -> dict[int, list[BinderPermission]]:
    """Each binder's own entries, at once (for DataLoaders: callers show them only to its managers)."""
    found: dict[int, list[BinderPermission]] = {binder_id: [] for binder_id in binder_ids}
    query = select(BinderPermission).where(BinderPermission.binder_id.in_(list(binder_ids)))
    for entry in (await session.scalars(query.order_by(BinderPermission.id))).all():
        found[entry.binder_id].append(entry)
    return found


async def document_entries_of(
    session: AsyncSession, document_ids: Sequence[int]
) -> dict[int, list[DocumentPermission]]:
    """Each document's own entries, at once (for DataLoaders: callers show them only to its managers)."""
    found: dict[int, list[DocumentPermission]] = {document_id: [] for document_id in document_ids}
    query = select(DocumentPermission).where(DocumentPermission.document_id.in_(list(document_ids)))
    for entry in (await session.scalars(query.order_by(DocumentPermission.id))).all():
        found[entry.document_id].append(entry)
    return found
