"""Events the system records by itself: a card opened, its data changed, a document added, …"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dms.actor import Actor
from dms.base import utcnow
from dms.events.models import Event, EventType
from dms.events.numbering import event_type_scope, format_number, period_of, take_next
from dms.events.types import automatic_type
from dms.outbox import directory as directory_outbox
from dms.serialise import held_shared, on_postgresql
from dms.times import business_time


async def assign_number(session: AsyncSession, event_type: EventType, event: Event) -> None:
    """Give the event the next number of its type and period, if the type is numbered."""
    if on_postgresql(session):
        # Numbered by the type as committed, which cannot change its numbering meanwhile: a new
        # reset would otherwise miss this number (dms.events.types.update_event_type).
        event_type = await held_shared(session, EventType, event_type.id) or event_type
    if not event_type.number_pattern:
        return
    local = business_time(event.occurred_at)
    period = period_of(event_type.number_reset, local)
    value = await take_next(session, event_type_scope(event_type.id), period)
    event.number_period = period
    event.number_seq = value
    event.number = format_number(event_type.number_pattern, local, value)


async def _record(
    session: AsyncSession,
    kind: str,
    *,
    user_id: int | None,
    counterparty_id: int | None,
    at: datetime | None = None,
    document_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> Event | None:
    event_type = await automatic_type(session, kind)
    if event_type is None:
        return None
    now = utcnow()
    event = Event(
        type_id=event_type.id,
        occurred_at=at or now,
        registered_at=now,
        user_id=user_id,
        registered_by_id=user_id,
        counterparty_id=counterparty_id,
        document_id=document_id,
        custom_values={},
        details=details or {},
    )
    await assign_number(session, event_type, event)
    session.add(event)
    if event.number or event.details.get("title"):
        # Found by its number or what it records (a document's title); a bare "card opened" is not.
        await session.flush()
        await directory_outbox.enqueue(session, "event", [event.id], "created")
    return event


async def record_data_changed(
    session: AsyncSession, actor: Actor, counterparty_id: int, changes: dict[str, Any]
) -> Event | None:
    """A "data changed" event on the card, in the transaction of the change.

    `changes` maps each changed field to what changed, e.g. {"name": {"from": "A", "to": "B"}}.
    """
    if not changes:
        return None
    return await _record(
        session,
        "data_changed",
        user_id=actor.user_id or None,
        counterparty_id=counterparty_id,
        details={"fields": sorted(changes), "changes": changes},
    )


EMAIL_TYPES = frozenset({"message/rfc822"})


async def record_document_added(
    session: AsyncSession,
    actor: Actor,
    document_id: int,
    counterparty_id: int | None,
    title: str,
    *,
    mime_type: str | None = None,
) -> Event | None:
    """A "document added" event on the document's card (none for a document without one); an
    archived e-mail is recorded as "e-mail archived", the kind a salesperson looks for."""
    if counterparty_id is None:
        return None
    return await _record(
        session,
        "email_archived" if mime_type in EMAIL_TYPES else "document_added",
        user_id=actor.user_id or None,
        counterparty_id=counterparty_id,
        document_id=document_id,
        details={"title": title},
    )


@dataclass(frozen=True)
class Opening:
    user_id: int
    counterparty_id: int
    at: datetime


#: One "card opened" per user and card in this long: a client paging through the card's timeline,
#: or refetching the card, is still the same visit, and repeats would push real events away.
OPENING_VISIT = timedelta(minutes=30)


async def record_openings(session: AsyncSession, openings: Sequence[Opening]) -> int:
    """ "Card opened" events for a batch of openings, one per visit; returns how many were recorded."""
    event_type = await automatic_type(session, "card_opened")
    if event_type is None:
        return 0
    recorded = 0
    last_opened: dict[tuple[int, int], datetime] = {}
    for opening in sorted(openings, key=lambda o: o.at):
        visit = (opening.user_id, opening.counterparty_id)
        if visit not in last_opened:
            last_opened[visit] = await session.scalar(
                select(func.max(Event.occurred_at)).where(
                    Event.type_id == event_type.id,
                    Event.counterparty_id == opening.counterparty_id,
                    Event.user_id == (opening.user_id or None),
                )
            ) or datetime.min.replace(tzinfo=UTC)
        if opening.at - last_opened[visit] < OPENING_VISIT:
            continue
        last_opened[visit] = opening.at
        event = await _record(
            session,
            "card_opened",
            user_id=opening.user_id or None,
            counterparty_id=opening.counterparty_id,
            at=opening.at,
        )
        if event is None:
            return 0
        recorded += 1
    return recorded
