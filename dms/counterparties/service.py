"""The counterparty card: creating, finding and listing counterparties."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from dms.actor import Actor
from dms.base import utcnow
from dms.counterparties.models import Counterparty
from dms.counterparties.taxids import normalise_nip
from dms.errors import Conflict, NotFound
from dms.names import clean_name
from dms.pagination import Page, PageRequest, SortKey, escape_like, paginate

_DIGITS_AND_DASHES = re.compile(r"^[\d\s-]{10,13}$")


async def create_counterparty(
    session: AsyncSession, actor: Actor, *, name: str, nip: str | None = None, short_name: str | None = None
) -> Counterparty:
    """A new card; the NIP is checked (check digit) and unique among active counterparties."""
    name = clean_name(name, field="name", max_length=500)
    short = clean_name(short_name, field="shortName", max_length=200) if short_name else None
    normalised = normalise_nip(nip) if nip else None
    if normalised and await session.scalar(
        select(Counterparty.id).where(Counterparty.nip == normalised, Counterparty.deleted_at.is_(None)).limit(1)
    ):
        raise Conflict("a counterparty with this NIP already exists", field="nip")
    now = utcnow()
    counterparty = Counterparty(
        name=name,
        short_name=short,
        nip=normalised,
        created_by_id=actor.user_id or None,
        created_at=now,
        updated_at=now,
    )
    session.add(counterparty)
    await session.flush()
    return counterparty


async def get_counterparty(session: AsyncSession, actor: Actor, counterparty_id: int) -> Counterparty:
    counterparty = await session.get(Counterparty, counterparty_id)
    if counterparty is None or counterparty.deleted_at is not None:
        raise NotFound("no such counterparty", field="counterpartyId")
    return counterparty


async def counterparties_by_id(session: AsyncSession, ids: Sequence[int]) -> list[Counterparty]:
    if not ids:
        return []
    query = select(Counterparty).where(Counterparty.id.in_(list(ids)), Counterparty.deleted_at.is_(None))
    return list((await session.scalars(query)).all())


def _text_filter(query: Select[tuple[Counterparty]], text: str) -> Select[tuple[Counterparty]]:
    text = " ".join(text.split())
    if not text:
        return query
    pattern = "%" + escape_like(text.lower()) + "%"
    conditions = [
        func.lower(Counterparty.name).like(pattern, escape="\\"),
        func.lower(Counterparty.short_name).like(pattern, escape="\\"),
    ]
    if _DIGITS_AND_DASHES.match(text):
        digits = re.sub(r"\D", "", text)
        conditions.append(Counterparty.nip.like(digits + "%"))
    return query.where(or_(*conditions))


async def list_counterparties(
    session: AsyncSession, actor: Actor, page: PageRequest, *, text: str | None = None
) -> Page[Counterparty]:
    """Active counterparties, by name, filtered by name, short name or NIP (with or without dashes)."""
    query = select(Counterparty).where(Counterparty.deleted_at.is_(None))
    if text:
        query = _text_filter(query, text)
    return await paginate(session, query, SortKey.of((Counterparty.name, False), (Counterparty.id, False)), page)
