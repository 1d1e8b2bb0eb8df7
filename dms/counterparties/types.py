"""Counterparty types: configured at run time by administrators, each with its own custom fields.

Changing a type's fields never rewrites stored cards: see `dms.counterparties.customfields` for what
happens to the values of removed or changed fields (kept, hidden; back when the field comes back).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dms.actor import Actor
from dms.base import utcnow
from dms.counterparties.common import KEEP, Keep, clean_code, require_admin, required, unique_or_conflict
from dms.counterparties.customfields import FieldDefinition, check_definitions, dictionaries_used
from dms.counterparties.models import CounterpartyType, Dictionary
from dms.errors import Conflict, NotFound, ValidationFailed
from dms.names import clean_name
from dms.pagination import Page, PageRequest, SortKey, paginate


async def check_fields(session: AsyncSession, fields: Sequence[FieldDefinition]) -> list[dict[str, object]]:
    """Field definitions checked (their dictionaries must exist), in their stored JSON form."""
    wanted = dictionaries_used(fields)
    known: set[int] = set()
    if wanted:
        known = set((await session.scalars(select(Dictionary.id).where(Dictionary.id.in_(wanted)))).all())
    return [field.as_json() for field in check_definitions(fields, known)]


async def create_counterparty_type(
    session: AsyncSession,
    actor: Actor,
    *,
    name: str,
    code: str | None = None,
    fields: Sequence[FieldDefinition] = (),
) -> CounterpartyType:
    require_admin(actor, "counterparty types")
    name = clean_name(name, field="name", max_length=200)
    code = clean_code(code, name)
    if await session.scalar(select(CounterpartyType.id).where(CounterpartyType.code == code)):
        raise Conflict("a counterparty type with this code exists", field="code")
    now = utcnow()
    kind = CounterpartyType(
        name=name, code=code, fields=await check_fields(session, fields), active=True, created_at=now, updated_at=now
    )
    async with unique_or_conflict(session, "a counterparty type with this code exists", field="code"):
        session.add(kind)
    return kind


async def update_counterparty_type(
    session: AsyncSession,
    actor: Actor,
    type_id: int,
    *,
    name: str | Keep = KEEP,
    fields: Sequence[FieldDefinition] | Keep = KEEP,
    active: bool | Keep | None = KEEP,
) -> CounterpartyType:
    """Rename, retire, or replace the list of fields. Stored cards are never touched."""
    require_admin(actor, "counterparty types")
    kind = await get_counterparty_type(session, type_id)
    if name is not KEEP:
        kind.name = clean_name(name, field="name", max_length=200)
    if fields is not KEEP:
        kind.fields = await check_fields(session, fields)
    if active is not KEEP:
        kind.active = required(active, field="active")
    kind.updated_at = utcnow()
    return kind


async def get_counterparty_type(session: AsyncSession, type_id: int, *, field: str = "typeId") -> CounterpartyType:
    kind = await session.get(CounterpartyType, type_id)
    if kind is None:
        raise NotFound("no such counterparty type", field=field)
    return kind


async def usable_type(session: AsyncSession, type_id: int) -> CounterpartyType:
    kind = await get_counterparty_type(session, type_id)
    if not kind.active:
        raise ValidationFailed("this counterparty type is retired", field="typeId")
    return kind


async def list_counterparty_types(
    session: AsyncSession, actor: Actor, page: PageRequest, *, include_inactive: bool = False
) -> Page[CounterpartyType]:
    query = select(CounterpartyType)
    if not include_inactive:
        query = query.where(CounterpartyType.active.is_(True))
    return await paginate(
        session, query, SortKey.of((CounterpartyType.name, False), (CounterpartyType.id, False)), page
    )


async def types_by_id(session: AsyncSession, ids: Sequence[int]) -> list[CounterpartyType]:
    if not ids:
        return []
    return list((await session.scalars(select(CounterpartyType).where(CounterpartyType.id.in_(list(ids))))).all())
