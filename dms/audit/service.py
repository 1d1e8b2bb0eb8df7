"""Writing to and reading the audit log. Nothing edits or deletes an entry."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from dms.actor import Actor
from dms.audit.models import AuditEntry
from dms.errors import NotFound, PermissionDenied
from dms.names import without_controls
from dms.pagination import Page, PageRequest, SortKey, paginate
from dms.times import utc_period


def record(
    session: AsyncSession,
    actor: Actor | None,
    action: str,
    *,
    object_type: str | None = None,
    object_id: int | None = None,
    address: str | None = None,
    **details: Any,
) -> AuditEntry:
    """Add an entry to the session; it commits with the change it describes."""
    entry = AuditEntry(
        actor_id=actor.user_id if actor and actor.user_id else None,
        actor_name=actor.username if actor else None,
        address=address or (actor.address if actor else None),
        action=action,
        object_type=object_type,
        object_id=object_id,
        details=details,
    )
    session.add(entry)
    return entry


async def list_entries(session: AsyncSession, actor: Actor, page: PageRequest, **filters: Any) -> Page[AuditEntry]:
    """Newest first; admins only."""
    return await paginate(session, entries_query(actor, **filters), SortKey.of((AuditEntry.id, True)), page)


async def get_entry(session: AsyncSession, actor: Actor, entry_id: int) -> AuditEntry:
    """One entry of the audit log (admins only)."""
    entry = await session.scalar(entries_query(actor).where(AuditEntry.id == entry_id))
    if entry is None:
        raise NotFound("no such audit entry")
    return entry


def entries_query(
    actor: Actor,
    *,
    actor_id: int | None = None,
    object_type: str | None = None,
    object_id: int | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Select[tuple[AuditEntry]]:
    """The audit entries matching the filters, for admins only."""
    if not actor.is_admin:
        raise PermissionDenied("only administrators read the audit log")
    query = select(AuditEntry)
    if actor_id is not None:
        query = query.where(AuditEntry.actor_id == actor_id)
    if object_type is not None:
        query = query.where(AuditEntry.object_type == object_type)
    if object_id is not None:
        query = query.where(AuditEntry.object_id == object_id)
    if action is not None:
        query = query.where(AuditEntry.action == without_controls(action))
    since, until = utc_period(since, until, fields=("since", "until"))
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    return query
