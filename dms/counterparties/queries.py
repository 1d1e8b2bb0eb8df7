"""Reading what hangs on many cards at once, for DataLoaders: one query per kind, whatever the count."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from dms.base import utcnow
from dms.counterparties.common import in_force_at
from dms.counterparties.models import (
    Address,
    BankAccount,
    ContactMethod,
    ContactPerson,
    CounterpartyBlock,
    CounterpartyClassification,
    Dictionary,
    DictionaryEntry,
)

T = TypeVar("T")


async def _grouped(session: AsyncSession, query: Select[tuple[T]], key: str, ids: Sequence[int]) -> dict[int, list[T]]:
    found: dict[int, list[T]] = defaultdict(list)
    if ids:
        for item in (await session.scalars(query)).all():
            found[getattr(item, key)].append(item)
    return found


def _addresses(counterparty_ids: Sequence[int]) -> Select[tuple[Address]]:
    return (
        select(Address)
        .where(Address.counterparty_id.in_(list(counterparty_ids)))
        .order_by(Address.valid_from.desc(), Address.id.desc())
    )


async def addresses_of(session: AsyncSession, counterparty_ids: Sequence[int]) -> dict[int, list[Address]]:
    """Every address of each card, past, current and future, newest first."""
    return await _grouped(session, _addresses(counterparty_ids), "counterparty_id", counterparty_ids)


async def current_addresses_of(
    session: AsyncSession, counterparty_ids: Sequence[int], *, at: datetime | None = None
) -> dict[int, list[Address]]:
    """The addresses of each card in force at `at` (now), newest first.

    "In force" is decided here from the validity period, not kept as a flag: an address changed with
    a future date stays current until that date and its successor becomes current by itself then.
    """
    query = _addresses(counterparty_ids).where(in_force_at(Address.valid_from, Address.valid_to, at or utcnow()))
    return await _grouped(session, query, "counterparty_id", counterparty_ids)


async def persons_of(session: AsyncSession, counterparty_ids: Sequence[int]) -> dict[int, list[ContactPerson]]:
    query = (
        select(ContactPerson)
        .where(ContactPerson.counterparty_id.in_(list(counterparty_ids)), ContactPerson.removed_at.is_(None))
        .order_by(ContactPerson.name, ContactPerson.id)
    )
    return await _grouped(session, query, "counterparty_id", counterparty_ids)


async def contact_methods_of(session: AsyncSession, person_ids: Sequence[int]) -> dict[int, list[ContactMethod]]:
    query = (
        select(ContactMethod)
        .where(ContactMethod.person_id.in_(list(person_ids)))
        .order_by(ContactMethod.position, ContactMethod.id)
    )
    return await _grouped(session, query, "person_id", person_ids)


async def persons_by_id(session: AsyncSession, person_ids: Sequence[int]) -> list[ContactPerson]:
    """Contact persons by id, removed ones too (an old event still names them)."""
    if not person_ids:
        return []
    return list((await session.scalars(select(ContactPerson).where(ContactPerson.id.in_(list(person_ids))))).all())


async def bank_accounts_of(session: AsyncSession, counterparty_ids: Sequence[int]) -> dict[int, list[BankAccount]]:
    query = (
        select(BankAccount)
        .where(BankAccount.counterparty_id.in_(list(counterparty_ids)), BankAccount.removed_at.is_(None))
        .order_by(BankAccount.id)
    )
    return await _grouped(session, query, "counterparty_id", counterparty_ids)


async def blocks_of(session: AsyncSession, counterparty_ids: Sequence[int]) -> dict[int, list[CounterpartyBlock]]:
    """Every block of each card, lifted ones too, newest first."""
    query = (
        select(CounterpartyBlock)
        .where(CounterpartyBlock.counterparty_id.in_(list(counterparty_ids)))
        .order_by(CounterpartyBlock.valid_from.desc(), CounterpartyBlock.id.desc())
    )
    return await _grouped(session, query, "counterparty_id", counterparty_ids)


async def classifications_of(
    session: AsyncSession, counterparty_ids: Sequence[int]
) -> dict[int, list[tuple[str, DictionaryEntry]]]:
    """Each card's dictionary entries with their dictionary's kind (category, group, segmentation)."""
    found: dict[int, list[tuple[str, DictionaryEntry]]] = defaultdict(list)
    if not counterparty_ids:
        return found
    rows = await session.execute(
        select(CounterpartyClassification.counterparty_id, Dictionary.kind, DictionaryEntry)
        .join(DictionaryEntry, DictionaryEntry.id == CounterpartyClassification.entry_id)
        .join(Dictionary, Dictionary.id == CounterpartyClassification.dictionary_id)
        .where(CounterpartyClassification.counterparty_id.in_(list(counterparty_ids)))
        .order_by(Dictionary.code, DictionaryEntry.position, DictionaryEntry.id)
    )
    for counterparty_id, kind, entry in rows.all():
        found[counterparty_id].append((kind, entry))
    return found
