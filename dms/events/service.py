"""Registering events and reading them.

An event may be backdated and registered on behalf of a colleague: what the user says goes into
`occurred_at` and `user_id`; the real registration time and registering user are always kept
beside them. Every authenticated user may register and read events.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from auth.access import Access
from dms.access.queries import documents_with_access
from dms.actor import Actor
from dms.base import utcnow
from dms.cases.closed import require_open
from dms.cases.models import Case
from dms.counterparties import dictionaries
from dms.counterparties.common import card_for_change, long_text
from dms.counterparties.customfields import apply_values, definitions_of, dictionaries_used
from dms.counterparties.models import ContactPerson
from dms.documents.models import Document
from dms.errors import NotFound, ValidationFailed
from dms.events.automatic import assign_number
from dms.events.models import Event, Settlement
from dms.events.types import get_event_type
from dms.identity.models import User
from dms.outbox import directory as directory_outbox
from dms.pagination import Page, PageRequest, SortKey, first_pages, paginate
from dms.times import utc_period, utc_time

# A clock a little ahead of the server's must not refuse an event that just happened.
FUTURE_TOLERANCE = timedelta(minutes=5)
MAX_SETTLEMENTS = 100
CENT = Decimal("0.01")
PLACES = Decimal("0.0001")
# The columns' room before the point: Numeric(18, 4) for quantity and unit price, Numeric(18, 2) for a total.
LIMIT = Decimal(10) ** 14
TOTAL_LIMIT = Decimal(10) ** 16
# Sane years for anything that happened or is looked for; beyond them, converting a far offset
# to UTC overflows the datetime range.


@dataclass
class SettlementData:
    description: str
    quantity: Decimal
    unit_price: Decimal
    unit: str | None = None


@dataclass
class EventData:
    type_id: int
    occurred_at: datetime | None = None
    on_behalf_of_id: int | None = None
    note: str | None = None
    counterparty_id: int | None = None
    contact_person_id: int | None = None
    case_id: int | None = None
    custom_values: dict[str, Any] = field(default_factory=dict)
    settlements: Sequence[SettlementData] = ()


def _amount(value: Decimal, *, where: list[str]) -> Decimal:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValidationFailed("expected a decimal number", field=where)
    # Bounded first (copy_abs, unlike abs, never rounds): quantize raises on a result wider than
    # the context's 28 digits.
    if value.copy_abs() >= LIMIT or value != value.quantize(PLACES):
        raise ValidationFailed("at most 4 decimal places and 14 digits before the point", field=where)
    return value.quantize(PLACES)


def _total(quantity: Decimal, unit_price: Decimal, *, where: list[str]) -> Decimal:
    """quantity × unit price, rounded half up to the cent; refused when it does not fit its column."""
    product = quantity * unit_price
    # Bounded before quantize, as in _amount; rounding up may still reach the bound.
    if product.copy_abs() < TOTAL_LIMIT:
        total = product.quantize(CENT, rounding=ROUND_HALF_UP)
        if total.copy_abs() < TOTAL_LIMIT:
            return total
    raise ValidationFailed("quantity × unit price must stay under 10^16 (16 digits before the point)", field=where)


def checked_settlements(lines: Sequence[SettlementData]) -> list[Settlement]:
    """Settlement lines with their totals: quantity × unit price, rounded half up to the cent."""
    if len(lines) > MAX_SETTLEMENTS:
        raise ValidationFailed(f"at most {MAX_SETTLEMENTS} settlement lines", field="settlements")
    checked = []
    for index, line in enumerate(lines):
        where = ["settlements", str(index)]
        quantity = _amount(line.quantity, where=[*where, "quantity"])
        if quantity <= 0:
            # Kilometres, hours, pieces: a line counts something. A discount or a correction is a
            # line with a negative unit price.
            raise ValidationFailed("a quantity is more than zero", field=[*where, "quantity"])
        unit_price = _amount(line.unit_price, where=[*where, "unitPrice"])
        description = " ".join(line.description.split())
        if not description or len(description) > 300:
            raise ValidationFailed("describe the line in at most 300 characters", field=[*where, "description"])
        unit = " ".join((line.unit or "").split()) or None
        if unit is not None and len(unit) > 32:
            raise ValidationFailed("a unit is at most 32 characters", field=[*where, "unit"])
        checked.append(
            Settlement(
                position=index,
                description=description,
                quantity=quantity,
                unit=unit,
                unit_price=unit_price,
                total=_total(quantity, unit_price, where=where),
            )
        )
    return checked


async def _links(session: AsyncSession, data: EventData) -> tuple[int | None, int | None, int | None]:
    """(counterparty, contact person, case), checked to be about one and the same counterparty."""
    counterparty_id = data.counterparty_id
    if counterparty_id is not None:
        card = await card_for_change(session, counterparty_id)
        if card is None or card.deleted_at is not None:
            raise NotFound("no such counterparty", field="counterpartyId")
    if data.contact_person_id is not None:
        person = await session.get(ContactPerson, data.contact_person_id)
        if person is None or person.removed_at is not None:
            raise NotFound("no such contact person", field="contactPersonId")
        if counterparty_id is None:
            counterparty_id = person.counterparty_id
        elif person.counterparty_id != counterparty_id:
            raise ValidationFailed("the contact person belongs to another counterparty", field="contactPersonId")
    if data.case_id is not None:
        case = await session.get(Case, data.case_id)
        if case is None:
            raise NotFound("no such case", field="caseId")
        require_open(case)
        if counterparty_id is None:
            counterparty_id = case.counterparty_id
        elif case.counterparty_id not in (None, counterparty_id):
            raise ValidationFailed("the case belongs to another counterparty", field="caseId")
    return counterparty_id, data.contact_person_id, data.case_id


async def register_event(session: AsyncSession, actor: Actor, data: EventData) -> Event:
    """Register an event of a configured type, with its form's values and settlements.

    Numbered types get the next number of their period in this transaction (see numbering).
    """
    event_type = await get_event_type(session, data.type_id)
    if not event_type.active:
        raise ValidationFailed("this event type is retired", field="typeId")
    if event_type.automatic_kind is not None:
        raise ValidationFailed("events of this type are recorded automatically", field="typeId")
    now = utcnow()
    occurred_at = utc_time(data.occurred_at or now, field="occurredAt")
    if occurred_at > now + FUTURE_TOLERANCE:
        raise ValidationFailed("an event cannot have happened in the future; plan it as a task", field="occurredAt")
    user_id = actor.user_id or None
    if data.on_behalf_of_id is not None:
        user = await session.get(User, data.on_behalf_of_id)
        if user is None or not user.is_active:
            raise NotFound("no such user", field="onBehalfOfId")
        user_id = user.id
    counterparty_id, person_id, case_id = await _links(session, data)
    fields = definitions_of(event_type.fields)
    choices = await dictionaries.active_codes(session, dictionaries_used(fields))
    values = apply_values(fields, {}, data.custom_values, choices)
    if data.settlements and not event_type.has_settlements:
        raise ValidationFailed("events of this type carry no settlements", field="settlements")
    settlements = checked_settlements(data.settlements)
    event = Event(
        type_id=event_type.id,
        occurred_at=occurred_at,
        registered_at=now,
        user_id=user_id,
        registered_by_id=actor.user_id or None,
        note=long_text(data.note, field="note"),
        counterparty_id=counterparty_id,
        contact_person_id=person_id,
        case_id=case_id,
        custom_values=values,
        details={},
    )
    await assign_number(session, event_type, event)
    session.add(event)
    await session.flush()
    for line in settlements:
        line.event_id = event.id
        session.add(line)
    await session.flush()
    await directory_outbox.enqueue(session, "event", [event.id], "registered")
    return event


def visible_to(actor: Actor) -> Any:
    """Events the actor may see: an event about a document ("document added") is visible exactly
    when the document is, so a card never reveals an unreadable document through its events."""
    if actor.is_admin:
        return true()
    readable, _ = documents_with_access(actor, Access.READ)
    return or_(Event.document_id.is_(None), Event.document_id.in_(readable.with_only_columns(Document.id)))


async def get_event(session: AsyncSession, actor: Actor, event_id: int, *, field: str = "eventId") -> Event:
    event = await session.scalar(select(Event).where(Event.id == event_id, visible_to(actor)))
    if event is None:
        raise NotFound("no such event", field=field)
    return event


async def events_by_id(session: AsyncSession, actor: Actor, ids: Sequence[int]) -> list[Event]:
    """The events among `ids` the actor may see (see `visible_to`), for DataLoaders."""
    if not ids:
        return []
    return list((await session.scalars(select(Event).where(Event.id.in_(list(ids)), visible_to(actor)))).all())


async def settlements_of(session: AsyncSession, event_ids: Sequence[int]) -> dict[int, list[Settlement]]:
    found: dict[int, list[Settlement]] = defaultdict(list)
    if event_ids:
        query = (
            select(Settlement)
            .where(Settlement.event_id.in_(list(event_ids)))
            .order_by(Settlement.event_id, Settlement.position, Settlement.id)
        )
        for line in (await session.scalars(query)).all():
            found[line.event_id].append(line)
    return found


@dataclass
class EventFilter:
    counterparty_id: int | None = None
    case_id: int | None = None
    type_ids: Sequence[int] | None = None
    user_ids: Sequence[int] | None = None
    since: datetime | None = None
    until: datetime | None = None


def events_query(actor: Actor, filter: EventFilter) -> Any:
    query = select(Event).where(visible_to(actor))
    if filter.counterparty_id is not None:
        query = query.where(Event.counterparty_id == filter.counterparty_id)
    if filter.case_id is not None:
        query = query.where(Event.case_id == filter.case_id)
    if filter.type_ids is not None:
        query = query.where(Event.type_id.in_(list(filter.type_ids)))
    if filter.user_ids is not None:
        query = query.where(Event.user_id.in_(list(filter.user_ids)))
    since, until = utc_period(filter.since, filter.until)
    if since is not None:
        query = query.where(Event.occurred_at >= since)
    if until is not None:
        query = query.where(Event.occurred_at < until)
    return query


#: Events' order: newest (by when they happened) first.
NEWEST_FIRST = SortKey.of((Event.sort_at, True), (Event.id, True))

#: What a list of events can be of: a counterparty card or a case; the column naming it.
EVENT_HOLDERS = {"counterparty": Event.counterparty_id, "case": Event.case_id}


async def list_events(session: AsyncSession, actor: Actor, page: PageRequest, filter: EventFilter) -> Page[Event]:
    """Events, newest (by when they happened) first."""
    return await paginate(session, events_query(actor, filter), NEWEST_FIRST, page)


async def first_pages_of_events(
    session: AsyncSession, actor: Actor, holder: str, holder_ids: Sequence[int], first: int
) -> dict[int, Page[Event]]:
    """The first page of the events of each of some cards or cases (see EVENT_HOLDERS) as
    `list_events` makes it, for all of them in two statements (a list of cards with their latest
    events does not ask once per card)."""
    query = events_query(actor, EventFilter())
    return await first_pages(session, query, EVENT_HOLDERS[holder], holder_ids, NEWEST_FIRST, first)
