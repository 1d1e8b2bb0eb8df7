"""What an operator watches on a running system: indexing backlog and check-outs in force."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select

from dms.base import utcnow
from dms.documents.models import DocumentLock
from dms.outbox.directory import DirectoryOutboxEntry
from dms.outbox.models import OutboxEntry
from dms.uow import Database


@dataclass(frozen=True)
class OperationalStats:
    outbox_depth: int
    oldest_outbox_entry_at: datetime | None
    active_locks: int
    measured_at: datetime

    @property
    def index_lag_seconds(self) -> float:
        """How long the oldest change still waiting for the indexer has waited; 0 when none waits."""
        if self.oldest_outbox_entry_at is None:
            return 0.0
        return max(0.0, (self.measured_at - self.oldest_outbox_entry_at).total_seconds())


async def operational_stats(db: Database) -> OperationalStats:
    """Outbox depth and age (both outboxes), and the number of check-outs that have not expired, in one read."""
    async with db.sessions() as session:
        now = utcnow()
        depth, oldest = 0, None
        # Documents, and the counterparty cards and events of searchCounterparties / searchEvents.
        for entry in (OutboxEntry, DirectoryOutboxEntry):
            count, first = (await session.execute(select(func.count(), func.min(entry.created_at)))).one()
            depth += int(count)
            if first is not None and (oldest is None or first < oldest):
                oldest = first
        locks = await session.scalar(
            select(func.count())
            .select_from(DocumentLock)
            .where(or_(DocumentLock.expires_at.is_(None), DocumentLock.expires_at > now))
        )
    return OperationalStats(
        outbox_depth=int(depth), oldest_outbox_entry_at=oldest, active_locks=int(locks or 0), measured_at=now
    )
