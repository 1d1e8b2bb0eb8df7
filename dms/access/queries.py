"""Effective access, in SQL, so lists are filtered by the database and never in Python.

The rules are those of `auth.access` (inherit from the nearest binder with an entry for the user or
one of their groups, the highest level there; a document's own entries can only narrow). These
builders return subqueries to join against, so a list of 10,000 documents of which the user may see
ten costs the same few queries as a list of ten.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, Select, Subquery, and_, case, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.access import Access
from dms.access.models import BinderPermission, DocumentPermission
from dms.actor import Actor
from dms.binders.models import Binder, BinderClosure
from dms.documents.models import Document
from dms.identity.models import GroupMembership


def _applies_to(entry: type[BinderPermission] | type[DocumentPermission], actor: Actor) -> ColumnElement[bool]:
    """The entries that name the actor or one of their groups (membership read live, never cached)."""
    groups = select(GroupMembership.group_id).where(GroupMembership.user_id == actor.user_id)
    return or_(entry.user_id == actor.user_id, entry.group_id.in_(groups))


def binder_access(actor: Actor, binder_ids: Iterable[int] | None = None) -> Subquery:
    """(binder_id, access) for every binder the actor has an inherited entry for.

    Binders absent from the result are NONE. `binder_ids` narrows the work to those binders.
    """
    if actor.is_admin:
        query = select(Binder.id.label("binder_id"), literal(int(Access.MANAGE)).label("access"))
        if binder_ids is not None:
            query = query.where(Binder.id.in_(list(binder_ids)))
        return query.subquery()
    entries = (
        select(
            BinderClosure.descendant_id.label("binder_id"),
            BinderClosure.depth.label("depth"),
            BinderPermission.access.label("access"),
        )
        .join(BinderPermission, BinderPermission.binder_id == BinderClosure.ancestor_id)
        .where(_applies_to(BinderPermission, actor))
    )
    if binder_ids is not None:
        entries = entries.where(BinderClosure.descendant_id.in_(list(binder_ids)))
    entries_cte = entries.cte()
    nearest = (
        select(entries_cte.c.binder_id, func.min(entries_cte.c.depth).label("depth"))
        .group_by(entries_cte.c.binder_id)
        .cte()
    )
    return (
        select(entries_cte.c.binder_id, func.max(entries_cte.c.access).label("access"))
        .join(
            nearest,
            and_(nearest.c.binder_id == entries_cte.c.binder_id, nearest.c.depth == entries_cte.c.depth),
        )
        .group_by(entries_cte.c.binder_id)
        .subquery()
    )


def document_narrowing(actor: Actor) -> Subquery:
    """(document_id, access): the highest level a document's own entries give the actor."""
    return (
        select(DocumentPermission.document_id, func.max(DocumentPermission.access).label("access"))
        .where(_applies_to(DocumentPermission, actor))
        .group_by(DocumentPermission.document_id)
        .subquery()
    )


def readable_binders(actor: Actor, need: Access = Access.READ) -> Select[tuple[int]]:
    """Ids of the binders where the actor has at least `need`."""
    access = binder_access(actor)
    return select(access.c.binder_id).where(access.c.access >= int(need))


def documents_with_access(
    actor: Actor, need: Access = Access.READ, *, binder_ids: Iterable[int] | None = None
) -> tuple[Select[tuple[Document]], ColumnElement[int]]:
    """A select of the documents the actor has at least `need` on, and the effective-level column.

    Trashed documents are included; callers filter them as their list requires.
    """
    if actor.is_admin:
        query = select(Document)
        if binder_ids is not None:
            query = query.where(Document.binder_id.in_(list(binder_ids)))
        return query, literal(int(Access.MANAGE))
    binders = binder_access(actor, binder_ids)
    narrowing = document_narrowing(actor)
    level = case(
        (narrowing.c.access.is_(None), binders.c.access),
        (narrowing.c.access < binders.c.access, narrowing.c.access),
        else_=binders.c.access,
    )
    query = (
        select(Document)
        .join(binders, binders.c.binder_id == Document.binder_id)
        .outerjoin(narrowing, narrowing.c.document_id == Document.id)
        .where(level >= int(need))
    )
    return query, level


async def binder_level(session: AsyncSession, actor: Actor, binder_id: int) -> Access:
    """The actor's level on one binder."""
    if actor.is_admin:
        return Access.MANAGE
    access = binder_access(actor, [binder_id])
    value = await session.scalar(select(access.c.access).where(access.c.binder_id == binder_id))
    return Access(value) if value is not None else Access.NONE


async def document_level(session: AsyncSession, actor: Actor, document_id: int) -> Access:
    """The actor's level on one document (trashed or not)."""
    query, level = documents_with_access(actor, Access.NONE)
    value = await session.scalar(query.with_only_columns(level).where(Document.id == document_id).where(level >= 0))
    return Access(value) if value is not None else Access.NONE
