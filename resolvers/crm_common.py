"""What the CRM resolvers share: running one service call in a unit of work, and translating
GraphQL's "not given" and global ids into the services' terms."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from enum import Enum
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types.unset import UNSET

from dms.actor import Actor
from dms.counterparties.common import KEEP, Keep
from resolvers.context import RequestContext
from resolvers.ids import decode_id
from resolvers.outcome import Outcome, attempt

T = TypeVar("T")
Work = Callable[[AsyncSession, Actor], Awaitable[T]]


async def write(ctx: RequestContext, work: Work[T]) -> Outcome[T]:
    """Run one service call in a writing unit of work; a domain refusal becomes a userError."""

    async def run() -> T:
        actor = ctx.require_actor()
        async with ctx.write() as uow:
            return await work(uow.session, actor)

    return await attempt(run)


async def read(ctx: RequestContext, work: Work[T]) -> T:
    """Run one service call in a reading unit of work (refusals surface as GraphQL errors)."""
    actor = ctx.require_actor()
    async with ctx.read() as uow:
        return await work(uow.session, actor)


def given(value: Any) -> bool:
    return value is not UNSET


def keep(value: T | Any) -> T | Keep:
    """An input field left out means "leave it as it is"; null means "clear it"."""
    return KEEP if value is UNSET else value


def keep_enum(value: Enum | Any | None) -> str | Keep | None:
    """An enum input field: left out → KEEP, null → None (the service clears or refuses it), else its value."""
    if value is UNSET:
        return KEEP
    return None if value is None else value.value


def keep_id(value: str | Any | None, type_name: str, field: str) -> int | Keep | None:
    if value is UNSET:
        return KEEP
    return None if value is None else decode_id(value, type_name, field=field)


def keep_ids(values: Sequence[str] | Any | None, type_name: str, field: str) -> list[int] | Keep:
    """A list given replaces the whole list (null or [] empties it)."""
    if values is UNSET:
        return KEEP
    return [decode_id(value, type_name, field=field) for value in values or []]


def ids(values: Sequence[str] | Any | None, type_name: str, field: str) -> list[int] | None:
    """Filter ids: None when the filter is not used."""
    if values is None or values is UNSET:
        return None
    return [decode_id(value, type_name, field=field) for value in values]


def opt_id(value: str | Any | None, type_name: str, field: str) -> int | None:
    if value is None or value is UNSET:
        return None
    return decode_id(value, type_name, field=field)


def unset_to_none(value: T | Any) -> T | None:
    return None if value is UNSET else value
