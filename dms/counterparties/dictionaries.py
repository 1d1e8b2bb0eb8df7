"""Editable dictionaries: categories, groups, segmentations (industry, priority, source) and choices.

Everyone reads them; only administrators change them. An entry is never deleted, only retired
(`active = False`): cards and custom values that carry it keep it, nobody can pick it again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dms.actor import Actor
from dms.counterparties.common import KEEP, Keep, clean_code, require_admin, required, unique_or_conflict
from dms.counterparties.models import Dictionary, DictionaryEntry
from dms.errors import Conflict, NotFound, ValidationFailed
from dms.names import clean_name
from dms.pagination import Page, PageRequest, SortKey, paginate

DICTIONARY_KINDS = ("category", "group", "segmentation", "choice")


def _kind(kind: str) -> str:
    if kind not in DICTIONARY_KINDS:
        raise ValidationFailed(f"a dictionary's kind is one of {', '.join(DICTIONARY_KINDS)}", field="kind")
    return kind


async def create_dictionary(
    session: AsyncSession, actor: Actor, *, name: str, kind: str, code: str | None = None
) -> Dictionary:
    """A new dictionary (administrators)."""
    require_admin(actor, "dictionaries")
    name = clean_name(name, field="name", max_length=200)
    code = clean_code(code, name)
    if await session.scalar(select(Dictionary.id).where(Dictionary.code == code)):
        raise Conflict("a dictionary with this code exists", field="code")
    dictionary = Dictionary(name=name, code=code, kind=_kind(kind))
    async with unique_or_conflict(session, "a dictionary with this code exists", field="code"):
        session.add(dictionary)
    return dictionary


async def rename_dictionary(session: AsyncSession, actor: Actor, dictionary_id: int, name: str) -> Dictionary:
    require_admin(actor, "dictionaries")
    dictionary = await get_dictionary(session, dictionary_id)
    dictionary.name = clean_name(name, field="name", max_length=200)
    return dictionary


async def get_dictionary(session: AsyncSession, dictionary_id: int) -> Dictionary:
    dictionary = await session.get(Dictionary, dictionary_id)
    if dictionary is None:
        raise NotFound("no such dictionary", field="dictionaryId")
    return dictionary


async def add_entry(
    session: AsyncSession,
    actor: Actor,
    dictionary_id: int,
    *,
    name: str,
    code: str | None = None,
    position: int | None = None,
) -> DictionaryEntry:
    """A new value in a dictionary (administrators); by default it goes last."""
    require_admin(actor, "dictionaries")
    await get_dictionary(session, dictionary_id)
    name = clean_name(name, field="name", max_length=200)
    code = clean_code(code, name)
    taken = select(DictionaryEntry.id).where(
        DictionaryEntry.dictionary_id == dictionary_id, DictionaryEntry.code == code
    )
    if await session.scalar(taken):
        raise Conflict("this dictionary already has an entry with this code", field="code")
    entry = DictionaryEntry(dictionary_id=dictionary_id, name=name, code=code, position=0, active=True)
    await _place(session, entry, position)
    async with unique_or_conflict(session, "this dictionary already has an entry with this code", field="code"):
        session.add(entry)
    return entry


async def _place(session: AsyncSession, entry: DictionaryEntry, position: int | None) -> None:
    """Put the entry at `position` (1 is first; None or past the end: last) and number the
    dictionary's entries 1, 2, 3… again, so the order is the one the administrator asked for."""
    if position is not None and position < 1:
        raise ValidationFailed("positions start at 1", field="position")
    others = [
        other
        for other in await session.scalars(
            select(DictionaryEntry)
            .where(DictionaryEntry.dictionary_id == entry.dictionary_id)
            .order_by(DictionaryEntry.position, DictionaryEntry.id)
        )
        if other is not entry
    ]
    at = len(others) if position is None else min(position - 1, len(others))
    for number, placed in enumerate([*others[:at], entry, *others[at:]], start=1):
        placed.position = number


async def update_entry(
    session: AsyncSession,
    actor: Actor,
    entry_id: int,
    *,
    name: str | Keep = KEEP,
    active: bool | Keep | None = KEEP,
    position: int | Keep | None = KEEP,
) -> DictionaryEntry:
    """Rename, reorder, retire or bring back an entry (administrators). Its code never changes."""
    require_admin(actor, "dictionaries")
    entry = await session.get(DictionaryEntry, entry_id)
    if entry is None:
        raise NotFound("no such dictionary entry", field="entryId")
    if name is not KEEP:
        entry.name = clean_name(name, field="name", max_length=200)
    if active is not KEEP:
        entry.active = required(active, field="active")
    if position is not KEEP:
        await _place(session, entry, required(position, field="position"))
    return entry


async def list_dictionaries(
    session: AsyncSession, actor: Actor, page: PageRequest, *, kind: str | None = None
) -> Page[Dictionary]:
    query = select(Dictionary)
    if kind is not None:
        query = query.where(Dictionary.kind == _kind(kind))
    return await paginate(session, query, SortKey.of((Dictionary.code, False), (Dictionary.id, False)), page)


async def dictionaries_by_id(session: AsyncSession, ids: Sequence[int]) -> list[Dictionary]:
    if not ids:
        return []
    return list((await session.scalars(select(Dictionary).where(Dictionary.id.in_(list(ids))))).all())


async def entries_by_id(session: AsyncSession, ids: Sequence[int]) -> list[DictionaryEntry]:
    if not ids:
        return []
    return list((await session.scalars(select(DictionaryEntry).where(DictionaryEntry.id.in_(list(ids))))).all())


async def entries_of(session: AsyncSession, dictionary_ids: Sequence[int]) -> dict[int, list[DictionaryEntry]]:
    """Each dictionary's entries in their order, retired ones included."""
    found: dict[int, list[DictionaryEntry]] = defaultdict(list)
    if dictionary_ids:
        query = (
            select(DictionaryEntry)
            .where(DictionaryEntry.dictionary_id.in_(list(dictionary_ids)))
            .order_by(DictionaryEntry.position, DictionaryEntry.id)
        )
        for entry in (await session.scalars(query)).all():
            found[entry.dictionary_id].append(entry)
    return found


async def active_codes(session: AsyncSession, dictionary_ids: Iterable[int]) -> dict[int, set[str]]:
    """The codes one may pick in each dictionary (custom choice fields)."""
    ids = list(dictionary_ids)
    codes: dict[int, set[str]] = defaultdict(set)
    if ids:
        rows = await session.execute(
            select(DictionaryEntry.dictionary_id, DictionaryEntry.code).where(
                DictionaryEntry.dictionary_id.in_(ids), DictionaryEntry.active.is_(True)
            )
        )
        for dictionary_id, code in rows.all():
            codes[dictionary_id].add(code)
    return codes


async def pickable_entries(
    session: AsyncSession, entry_ids: Sequence[int], kind: str, *, field: str, already: Iterable[int] = ()
) -> list[tuple[int, int]]:
    """(entry id, dictionary id) of entries a card may be given as `kind` (category, group, …).

    An unknown entry, or one of another kind of dictionary, is NOT_FOUND; a retired one is VALIDATION
    unless the card `already` has it.
    Segmentation takes at most one value per dictionary.
    """
    ids = list(dict.fromkeys(entry_ids))
    if not ids:
        return []
    rows = (
        await session.execute(
            select(DictionaryEntry.id, DictionaryEntry.dictionary_id, DictionaryEntry.active)
            .join(Dictionary, Dictionary.id == DictionaryEntry.dictionary_id)
            .where(DictionaryEntry.id.in_(ids), Dictionary.kind == kind)
        )
    ).all()
    found = {entry_id: (dictionary_id, active) for entry_id, dictionary_id, active in rows}
    picked = []
    seen_dictionaries: set[int] = set()
    kept = set(already)
    for entry_id in ids:
        if entry_id not in found:
            raise NotFound(f"no {kind} entry with this id", field=field)
        dictionary_id, active = found[entry_id]
        if not active and entry_id not in kept:
            raise ValidationFailed("this entry is retired and cannot be chosen", field=field)
        if kind == "segmentation":
            if dictionary_id in seen_dictionaries:
                raise ValidationFailed("give at most one value of each segmentation", field=field)
            seen_dictionaries.add(dictionary_id)
        picked.append((entry_id, dictionary_id))
    return picked
