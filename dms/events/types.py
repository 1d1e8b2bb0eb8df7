"""Event types, configured at run time by administrators: form, colour, numbering, settlements.

The built-in automatic kinds (card opened, data changed, document added, e-mail archived) each have
one type. It is created with defaults the first time the system records such an event; an
administrator may rename it, recolour it, number it, or make it inactive, which stops recording.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dms.actor import Actor
from dms.base import utcnow
from dms.counterparties.common import KEEP, Keep, clean_code, require_admin, required, unique_or_conflict
from dms.counterparties.customfields import FieldDefinition
from dms.counterparties.types import check_fields
from dms.errors import Conflict, NotFound, ValidationFailed
from dms.events.models import AUTOMATIC_KINDS, EventType, NumberCounter
from dms.events.numbering import check_pattern, dialect_insert, event_type_scope
from dms.names import clean_name
from dms.pagination import Page, PageRequest, SortKey, paginate
from dms.serialise import locked_for_update, on_postgresql

_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")

AUTOMATIC_DEFAULTS = {
    "card_opened": ("Card opened", "#9e9e9e"),
    "data_changed": ("Data changed", "#795548"),
    "document_added": ("Document added", "#3f51b5"),
    "email_archived": ("E-mail archived", "#009688"),
}


def _colour(value: str | None) -> str:
    # An explicit null arrives as None: a type always has a colour, so it is refused like a bad one.
    if value is None or not _COLOUR.match(value.strip()):
        raise ValidationFailed("a colour is written #rrggbb", field="colour")
    return value.strip().lower()


async def create_event_type(
    session: AsyncSession,
    actor: Actor,
    *,
    name: str,
    code: str | None = None,
    colour: str = "#607d8b",
    fields: Sequence[FieldDefinition] = (),
    number_pattern: str | None = None,
    number_reset: str = "never",
    has_settlements: bool = False,
    automatic_kind: str | None = None,
) -> EventType:
    require_admin(actor, "event types")
    name = clean_name(name, field="name", max_length=200)
    code = clean_code(code, name)
    if automatic_kind is not None:
        if automatic_kind not in AUTOMATIC_KINDS:
            raise ValidationFailed(f"automatic kinds are {', '.join(AUTOMATIC_KINDS)}", field="automaticKind")
        if await session.scalar(select(EventType.id).where(EventType.automatic_kind == automatic_kind)):
            raise Conflict("this automatic kind already has its type; change that one", field="automaticKind")
    if await session.scalar(select(EventType.id).where(EventType.code == code)):
        raise Conflict("an event type with this code exists", field="code")
    now = utcnow()
    event_type = EventType(
        name=name,
        code=code,
        colour=_colour(colour),
        fields=await _checked_form(session, fields, automatic=automatic_kind is not None),
        number_pattern=check_pattern(number_pattern, number_reset),
        number_reset=number_reset,
        has_settlements=has_settlements,
        automatic_kind=automatic_kind,
        active=True,
        created_at=now,
        updated_at=now,
    )
    async with unique_or_conflict(session, "an event type with this code exists", field="code"):
        session.add(event_type)
    return event_type


async def _checked_form(
    session: AsyncSession, fields: Sequence[FieldDefinition], *, automatic: bool
) -> list[dict[str, object]]:
    """The type's form; an automatic type's events are recorded by Kartoteka, which fills no
    field, so none of its fields may be required."""
    if automatic:
        for index, definition in enumerate(fields):
            if definition.required:
                raise ValidationFailed(
                    "events of an automatic type are recorded without a form: no field can be required",
                    field=["fields", str(index), "required"],
                )
    return await check_fields(session, fields)


async def _has_numbered(session: AsyncSession, event_type: EventType) -> bool:
    """Whether a number of this type was taken; waits for registrations taking one now."""
    taken = (
        select(NumberCounter.period)
        .where(NumberCounter.scope == event_type_scope(event_type.id))
        .limit(1)
        .with_for_update()
    )
    return (await session.execute(taken)).first() is not None


async def update_event_type(
    session: AsyncSession,
    actor: Actor,
    type_id: int,
    *,
    name: str | Keep = KEEP,
    colour: str | Keep | None = KEEP,
    fields: Sequence[FieldDefinition] | Keep = KEEP,
    number_pattern: str | Keep | None = KEEP,
    number_reset: str | Keep | None = KEEP,
    has_settlements: bool | Keep | None = KEEP,
    active: bool | Keep | None = KEEP,
) -> EventType:
    """Change a type. Registered events keep their numbers and values (see customfields)."""
    require_admin(actor, "event types")
    event_type = await get_event_type(session, type_id)
    if on_postgresql(session):
        # Registrations numbering by this type finish first, and later ones see the change.
        event_type = await locked_for_update(session, EventType, type_id) or event_type
    if name is not KEEP:
        event_type.name = clean_name(name, field="name", max_length=200)
    if colour is not KEEP:
        event_type.colour = _colour(colour)
    if fields is not KEEP:
        event_type.fields = await _checked_form(session, fields, automatic=event_type.automatic_kind is not None)
    if number_pattern is not KEEP or number_reset is not KEEP:
        reset = event_type.number_reset if number_reset is KEEP else required(number_reset, field="numberReset")
        pattern = event_type.number_pattern if number_pattern is KEEP else number_pattern
        pattern = check_pattern(pattern, reset)
        if reset != event_type.number_reset and await _has_numbered(session, event_type):
            # Each reset keeps its own counters: under another one, numbers already given
            # (printed on letters, quoted by customers) would be given again.
            raise Conflict(
                "events of this type already have numbers, which another reset would repeat; "
                "number new events with a new event type instead",
                field="numberReset",
            )
        event_type.number_pattern = pattern
        event_type.number_reset = reset
    if has_settlements is not KEEP:
        event_type.has_settlements = required(has_settlements, field="hasSettlements")
    if active is not KEEP:
        event_type.active = required(active, field="active")
    event_type.updated_at = utcnow()
    return event_type


async def get_event_type(session: AsyncSession, type_id: int, *, field: str = "typeId") -> EventType:
    event_type = await session.get(EventType, type_id)
    if event_type is None:
        raise NotFound("no such event type", field=field)
    return event_type


async def list_event_types(
    session: AsyncSession, actor: Actor, page: PageRequest, *, include_inactive: bool = False
) -> Page[EventType]:
    query = select(EventType)
    if not include_inactive:
        query = query.where(EventType.active.is_(True))
    return await paginate(session, query, SortKey.of((EventType.name, False), (EventType.id, False)), page)


async def event_types_by_id(session: AsyncSession, ids: Sequence[int]) -> list[EventType]:
    if not ids:
        return []
    return list((await session.scalars(select(EventType).where(EventType.id.in_(list(ids))))).all())


async def automatic_type(session: AsyncSession, kind: str) -> EventType | None:
    """The type the system records `kind` events with (made with defaults on first use); None when
    an administrator turned it off."""
    query = select(EventType).where(EventType.automatic_kind == kind)
    event_type = await session.scalar(query)
    if event_type is None:
        name, colour = AUTOMATIC_DEFAULTS[kind]
        now = utcnow()
        # Two first uses at once: one inserts, the other's insert does nothing and reads that row.
        await session.execute(
            dialect_insert(session, EventType)
            .values(
                code=f"auto_{kind}",
                name=name,
                colour=colour,
                fields=[],
                number_reset="never",
                has_settlements=False,
                automatic_kind=kind,
                active=True,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing()
        )
        event_type = await session.scalar(query)
    return event_type if event_type is not None and event_type.active else None
