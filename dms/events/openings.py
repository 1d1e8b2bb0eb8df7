"""Recording "card opened" without slowing the read: openings are buffered in the process and
written shortly after, in one short writing session per batch.

The read only appends to a list; a task scheduled on the event loop writes the batch a moment
later (after the response has usually gone). A failed write is logged and dropped: an opening is a
courtesy record, never worth failing or delaying a read. `drain()` waits for everything noted so
far to be written: tests await it, and a clean shutdown should too.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Any

from dms.actor import Actor
from dms.base import utcnow
from dms.events.automatic import Opening, record_openings
from dms.uow import Database

log = logging.getLogger("kartoteka.events")

FLUSH_DELAY_SECONDS = 0.05


class CardOpenings:
    """The per-process buffer of card openings waiting to be written."""

    def __init__(self, db: Database, *, delay: float = FLUSH_DELAY_SECONDS) -> None:
        self._db = db
        # How long a batch gathers before it is written; a test may lengthen it to keep the write
        # out of what it measures, and `drain()` cuts the wait short.
        self.delay = delay
        self._pending: list[Opening] = []
        self._task: asyncio.Task[None] | None = None
        self._waiting = False
        self._writing = asyncio.Lock()

    @property
    def pending(self) -> int:
        return len(self._pending)

    def note(self, actor: Actor, counterparty_id: int) -> None:
        """Remember that the actor opened the card; returns at once."""
        self._pending.append(Opening(user_id=actor.user_id, counterparty_id=counterparty_id, at=utcnow()))
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._flush_later())

    async def _flush_later(self) -> None:
        # Openings noted while a batch is being written go in the next round of this same task.
        while self._pending:
            self._waiting = True
            try:
                await asyncio.sleep(self.delay)
            finally:
                self._waiting = False
            await self.flush()

    async def flush(self) -> int:
        """Write what is pending now; returns how many events were recorded."""
        async with self._writing:
            batch, self._pending = self._pending, []
            if not batch:
                return 0
            try:
                async with self._db.write_sessions() as session:
                    recorded = await record_openings(session, batch)
                    await session.commit()
            except Exception:
                log.exception("card openings could not be recorded", extra={"event": "events.openings_lost"})
                return 0
            return recorded

    async def drain(self) -> None:
        """Wait until every opening noted so far is written (or given up)."""
        while (task := self._task) is not None and not task.done():
            if self._waiting:
                task.cancel()  # only its wait: the batch is still pending and written below
            await asyncio.gather(task, return_exceptions=True)
        await self.flush()


_buffers: weakref.WeakKeyDictionary[Any, CardOpenings] = weakref.WeakKeyDictionary()


def card_openings(db: Database) -> CardOpenings:
    """The buffer of this process for this database (one per engine)."""
    key = db.engine.sync_engine
    buffer = _buffers.get(key)
    if buffer is None:
        buffer = _buffers[key] = CardOpenings(db)
    return buffer
