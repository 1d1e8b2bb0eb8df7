"""The directory outbox: counterparty cards and events to index again, committed with their change.

Beside the document outbox (`dms.outbox.models.OutboxEntry`), in a table of its own so the document
indexer's batches never see a card or an event id.  The indexer (`dms.indexing.directory`) reads
each named record as it is when it drains the entry, so one entry per change is enough whatever
changed, and re-applying an entry is harmless.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal

from sqlalchemy import Index, Select, String, insert, literal
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from dms.base import Base, Id, IdMixin, utcnow

DirectoryKind = Literal["counterparty", "event"]


class DirectoryOutboxEntry(IdMixin, Base):
    __tablename__ = "directory_outbox"
    __table_args__ = (Index("ix_directory_outbox_item", "kind", "item_id"),)

    kind: Mapped[str] = mapped_column(String(16))  # counterparty | event
    # No foreign key: the record may be gone by the time the entry is drained.
    item_id: Mapped[int] = mapped_column(Id)
    reason: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(1000))
    not_before: Mapped[datetime | None]


async def enqueue(session: AsyncSession, kind: DirectoryKind, item_ids: Iterable[int], reason: str) -> None:
    """Queue cards or events (by id) for the directory index, in the caller's transaction."""
    rows = [{"kind": kind, "item_id": item_id, "reason": reason} for item_id in dict.fromkeys(item_ids)]
    if rows:
        await session.execute(insert(DirectoryOutboxEntry), rows)


async def enqueue_selected(
    session: AsyncSession, kind: DirectoryKind, item_ids: Select[tuple[int]], reason: str
) -> None:
    """Queue every id a select returns, in one INSERT … SELECT (a merged card may carry many events)."""
    source = item_ids.add_columns(literal(kind), literal(reason)).subquery()
    await session.execute(insert(DirectoryOutboxEntry).from_select(["item_id", "kind", "reason"], source.select()))
