"""Queueing index work in the transaction of the change that needs it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dms.base import utcnow
from dms.outbox.models import OutboxEntry

#: How long the oldest entry of a failing batch waits, so one bad moment does not spin the indexer.
RETRY_DELAY = timedelta(seconds=5)


def enqueue(session: AsyncSession, document_id: int, reason: str) -> None:
    session.add(OutboxEntry(document_id=document_id, reason=reason))


async def enqueue_many(session: AsyncSession, document_ids: Iterable[int], reason: str) -> None:
    rows = [{"document_id": doc_id, "reason": reason} for doc_id in document_ids]
    if rows:
        await session.execute(insert(OutboxEntry), rows)


async def enqueue_selected(session: AsyncSession, document_ids: Select[tuple[int]], reason: str) -> None:
    """Queue every document a select returns, in one INSERT … SELECT (a subtree can be large)."""
    source = document_ids.add_columns(literal(reason)).subquery()
    await session.execute(insert(OutboxEntry).from_select(["document_id", "reason"], source.select()))


async def postpone_oldest(session: AsyncSession, entry: Any, error: Exception) -> None:
    """Count a failed attempt on the oldest entry of an outbox table (`OutboxEntry` or the directory's)
    and hold it back for RETRY_DELAY; the caller commits."""
    first = await session.scalar(select(func.min(entry.id)))
    if first is None:
        return
    await session.execute(
        update(entry)
        .where(entry.id == first)
        .values(attempts=entry.attempts + 1, last_error=str(error)[:1000], not_before=utcnow() + RETRY_DELAY)
    )
