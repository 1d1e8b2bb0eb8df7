"""Queueing index work in the transaction of the change that needs it."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, insert, literal
from sqlalchemy.ext.asyncio import AsyncSession

from dms.outbox.models import OutboxEntry


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
