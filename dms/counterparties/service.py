"""The counterparty card: creating, changing, finding, listing, deleting and restoring cards.

Every authenticated user may read and edit cards (no per-card rights yet). Each change records a
"data changed" event on the card in the same transaction; opening a card records "card opened"
through the buffer in `dms.events.openings`, so the read itself writes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Select, delete, exists, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from dms.actor import Actor
from dms.audit import service as audit
from dms.base import utcnow
from dms.counterparties import dictionaries
from dms.counterparties.common import (
    KEEP,
    Keep,
    card_for_change,
    flush_unique,
    fold,
    in_force_at,
    long_text,
    name_keys,
    optional_text,
    required,
    unique_or_conflict,
)
from dms.counterparties.customfields import apply_values, definitions_of, dictionaries_used
from dms.counterparties.models import (
    Counterparty,
    CounterpartyBlock,
    CounterpartyClassification,
    CounterpartyType,
    Dictionary,
    DictionaryEntry,
)
from dms.counterparties.reach import require_documents_writable
from dms.counterparties.taxids import normalise_nip, normalise_regon, normalise_vat, polish_vat_matches, vat_prefix
from dms.counterparties.types import usable_type
from dms.documents.models import Document
from dms.errors import Conflict, NotFound, ValidationFailed
from dms.events.automatic import record_data_changed
from dms.events.openings import CardOpenings
from dms.identity.models import User
from dms.names import clean_name
from dms.outbox import directory as directory_outbox
from dms.outbox import service as outbox
from dms.pagination import Page, PageRequest, SortKey, escape_like, paginate

_DIGITS_AND_DASHES = re.compile(r"^[\d\s-]{3,17}$")
# kind of dictionary → (input field, name in a "data changed" event)
CLASSIFICATION_KINDS = {
    "category": ("categoryIds", "categories"),
    "group": ("groupIds", "groups"),
    "segmentation": ("segmentIds", "segmentation"),
}
NIP_TAKEN = "a counterparty with this NIP already exists"


@dataclass
class CardChanges:
    """What a create or an update sets; KEEP leaves a value as it is, None clears it."""

    name: str | Keep = KEEP
    short_name: str | Keep | None = KEEP
    nip: str | Keep | None = KEEP
    regon: str | Keep | None = KEEP
    vat_number: str | Keep | None = KEEP
    type_id: int | Keep | None = KEEP
    # Only the keys given change; null clears one value. None (null for the whole) is refused by an
    # update: the values are cleared one by one.
    custom_values: dict[str, Any] | Keep | None = KEEP
    category_ids: Sequence[int] | Keep = KEEP
    group_ids: Sequence[int] | Keep = KEEP
    segment_ids: Sequence[int] | Keep = KEEP
    account_manager_id: int | Keep | None = KEEP
    notes: str | Keep | None = KEEP


async def _check_nip_free(session: AsyncSession, nip: str, *, other_than: int | None = None) -> None:
    query = select(Counterparty.id).where(Counterparty.nip == nip, Counterparty.deleted_at.is_(None))
    if other_than is not None:
        query = query.where(Counterparty.id != other_than)
    if await session.scalar(query.limit(1)):
        raise Conflict(NIP_TAKEN, field="nip")


async def _check_user(session: AsyncSession, user_id: int, *, field: str) -> None:
    user = await session.get(User, user_id)
    if user is None or not user.is_active:
        raise NotFound("no such user", field=field)


def _note(changes: dict[str, Any], name: str, old: Any, new: Any) -> None:
    if old != new:
        changes[name] = {"from": old, "to": new}


async def _apply(session: AsyncSession, card: Counterparty, given: CardChanges) -> dict[str, Any]:
    """Set the given values on the card (checked); returns what changed, by API field name."""
    changes: dict[str, Any] = {}
    if given.name is not KEEP:
        name = clean_name(given.name, field="name", max_length=500)
        _note(changes, "name", card.name, name)
        card.name = name
    if given.short_name is not KEEP:
        short = optional_text(given.short_name, field="shortName", max_length=200)
        _note(changes, "shortName", card.short_name, short)
        card.short_name = short
    if given.nip is not KEEP:
        nip = normalise_nip(given.nip) if given.nip and given.nip.strip() else None
        if nip is not None and nip != card.nip:
            await _check_nip_free(session, nip, other_than=card.id)
        _note(changes, "nip", card.nip, nip)
        card.nip = nip
    if given.regon is not KEEP:
        regon = normalise_regon(given.regon) if given.regon and given.regon.strip() else None
        _note(changes, "regon", card.regon, regon)
        card.regon = regon
    if given.vat_number is not KEEP:
        vat = normalise_vat(given.vat_number) if given.vat_number and given.vat_number.strip() else None
        _note(changes, "vatNumber", card.vat_number, vat)
        card.vat_number = vat
    if (given.nip is not KEEP or given.vat_number is not KEEP) and not polish_vat_matches(card.nip, card.vat_number):
        raise ValidationFailed(
            f"a Polish VAT number is PL and the NIP: PL{card.nip}",
            field="vatNumber" if given.vat_number is not KEEP else "nip",
        )
    if given.account_manager_id is not KEEP:
        if given.account_manager_id is not None:
            await _check_user(session, given.account_manager_id, field="accountManagerId")
        _note(changes, "accountManager", card.account_manager_id, given.account_manager_id)
        card.account_manager_id = given.account_manager_id
    if given.notes is not KEEP:
        notes = long_text(given.notes, field="notes")
        if notes != card.notes:
            changes["notes"] = {"changed": True}
        card.notes = notes
    await _apply_custom_values(session, card, given, changes)
    name_keys(card)
    return changes


async def _apply_custom_values(
    session: AsyncSession, card: Counterparty, given: CardChanges, changes: dict[str, Any]
) -> None:
    """Validate the card's custom values against its (possibly new) type, when either changes."""
    if given.type_id is KEEP and given.custom_values is KEEP:
        return
    values = {} if given.custom_values is KEEP else required(given.custom_values, field="customFields")
    type_id = card.type_id if given.type_id is KEEP else given.type_id
    if given.type_id is not KEEP and given.type_id != card.type_id:
        if given.type_id is not None:
            await usable_type(session, given.type_id)
        _note(changes, "type", card.type_id, given.type_id)
        card.type_id = given.type_id
    if type_id is None:
        if values:
            raise ValidationFailed("give the card a type before filling its custom fields", field="customFields")
        return
    kind = await session.get(CounterpartyType, type_id)
    assert kind is not None
    fields = definitions_of(kind.fields)
    choices = await dictionaries.active_codes(session, dictionaries_used(fields))
    updated = apply_values(fields, card.custom_values, values, choices)
    before = card.custom_values or {}
    changed_keys = sorted(key for key in set(updated) | set(before) if updated.get(key) != before.get(key))
    if changed_keys:
        changes["customFields"] = {"keys": changed_keys}
    card.custom_values = updated


async def _classifications(session: AsyncSession, counterparty_id: int) -> dict[str, list[int]]:
    rows = await session.execute(
        select(Dictionary.kind, CounterpartyClassification.entry_id)
        .join(Dictionary, Dictionary.id == CounterpartyClassification.dictionary_id)
        .where(CounterpartyClassification.counterparty_id == counterparty_id)
    )
    found: dict[str, list[int]] = {kind: [] for kind in CLASSIFICATION_KINDS}
    for kind, entry_id in rows.all():
        found.setdefault(kind, []).append(entry_id)
    return found


async def _apply_classifications(
    session: AsyncSession, card: Counterparty, given: CardChanges, changes: dict[str, Any]
) -> None:
    wanted = {"category": given.category_ids, "group": given.group_ids, "segmentation": given.segment_ids}
    if all(ids is KEEP for ids in wanted.values()):
        return
    current = await _classifications(session, card.id)
    for kind, ids in wanted.items():
        if ids is KEEP:
            continue
        field_name, change_name = CLASSIFICATION_KINDS[kind]
        picked = await dictionaries.pickable_entries(session, list(ids), kind, field=field_name, already=current[kind])
        if sorted(entry for entry, _ in picked) == sorted(current[kind]):
            continue
        of_kind = select(Dictionary.id).where(Dictionary.kind == kind)
        await session.execute(
            delete(CounterpartyClassification).where(
                CounterpartyClassification.counterparty_id == card.id,
                CounterpartyClassification.dictionary_id.in_(of_kind),
            )
        )
        if picked:
            await session.execute(
                insert(CounterpartyClassification),
                [{"counterparty_id": card.id, "entry_id": e, "dictionary_id": d} for e, d in picked],
            )
        changes[change_name] = {
            "from": sorted(current[kind]),
            "to": sorted(entry for entry, _ in picked),
        }


async def create_counterparty(
    session: AsyncSession,
    actor: Actor,
    *,
    name: str,
    nip: str | None = None,
    short_name: str | None = None,
    details: CardChanges | None = None,
) -> Counterparty:
    """A new card; the NIP is checked (check digit) and unique among active counterparties.

    `details` may set everything else an update can (tax ids, type and custom values, dictionaries,
    account manager); a type's required custom fields must be filled from the start.
    """
    given = replace(details or CardChanges(), name=name, nip=nip, short_name=short_name)
    if given.type_id is KEEP:
        given.type_id = None
    if given.custom_values is None:  # a new card's customFields: null is no values at all
        given.custom_values = KEEP
    now = utcnow()
    card = Counterparty(
        name="",
        name_search="",
        custom_values={},
        created_by_id=actor.user_id or None,
        created_at=now,
        updated_at=now,
    )
    await _apply(session, card, given)
    async with unique_or_conflict(session, NIP_TAKEN, field="nip"):
        session.add(card)
    await _apply_classifications(session, card, given, {})
    await directory_outbox.enqueue(session, "counterparty", [card.id], "created")
    return card


async def update_counterparty(
    session: AsyncSession, actor: Actor, counterparty_id: int, given: CardChanges
) -> Counterparty:
    """Change a card; the changed fields are recorded as a "data changed" event on it."""
    card = await get_counterparty(session, actor, counterparty_id)
    changes = await _apply(session, card, given)
    await _apply_classifications(session, card, given, changes)
    if not changes:
        return card
    card.updated_at = utcnow()
    await flush_unique(session, NIP_TAKEN, field="nip")
    await record_data_changed(session, actor, card.id, changes)
    if {"name", "shortName", "nip", "regon", "vatNumber"} & set(changes):
        await directory_outbox.enqueue(session, "counterparty", [card.id], "updated")
    if {"name", "nip", "shortName"} & set(changes):
        # Documents are found by their counterparty's name and NIP: index them again.
        documents = select(Document.id).where(Document.counterparty_id == card.id)
        await outbox.enqueue_selected(session, documents, "metadata")
    return card


async def get_counterparty(
    session: AsyncSession,
    actor: Actor,
    counterparty_id: int,
    *,
    include_deleted: bool = False,
    for_change: bool = True,
) -> Counterparty:
    """The card (NOT_FOUND when deleted, unless asked for); locked against merges unless only read."""
    if for_change:
        counterparty = await card_for_change(session, counterparty_id)
    else:
        counterparty = await session.get(Counterparty, counterparty_id)
    if counterparty is None or (counterparty.deleted_at is not None and not include_deleted):
        raise NotFound("no such counterparty", field="counterpartyId")
    return counterparty


async def open_card(session: AsyncSession, actor: Actor, counterparty_id: int, openings: CardOpenings) -> Counterparty:
    """The card as its page shows it (deleted ones too, to say where a merged card went); opening an
    active card is recorded as a "card opened" event, written after the read."""
    card = await get_counterparty(session, actor, counterparty_id, include_deleted=True, for_change=False)
    if card.deleted_at is None:
        openings.note(actor, card.id)
    return card


async def cards_by_id(session: AsyncSession, ids: Sequence[int]) -> list[Counterparty]:
    """Cards by id, deleted and merged ones included (for links that must not break)."""
    if not ids:
        return []
    return list((await session.scalars(select(Counterparty).where(Counterparty.id.in_(list(ids))))).all())


async def delete_counterparty(session: AsyncSession, actor: Actor, counterparty_id: int) -> Counterparty:
    """Soft delete: the card leaves the lists but keeps everything; `restore_counterparty` undoes it."""
    card = await get_counterparty(session, actor, counterparty_id)
    await require_documents_writable(
        session,
        actor,
        [card.id],
        refusal="this card holds documents you may not change; an administrator can delete it",
        field="counterpartyId",
    )
    card.deleted_at = utcnow()
    card.deleted_by_id = actor.user_id or None
    audit.record(session, actor, "counterparty.deleted", object_type="Counterparty", object_id=card.id, name=card.name)
    await record_data_changed(session, actor, card.id, {"card": "deleted"})
    await directory_outbox.enqueue(session, "counterparty", [card.id], "deleted")
    return card


async def restore_counterparty(session: AsyncSession, actor: Actor, counterparty_id: int) -> Counterparty:
    """Bring a deleted card back. A merged card cannot come back (its things moved to the target);
    nor can one whose NIP another active card has taken since."""
    card = await get_counterparty(session, actor, counterparty_id, include_deleted=True)
    if card.deleted_at is None:
        raise Conflict("the counterparty is not deleted", field="counterpartyId")
    if card.merged_into_id is not None:
        raise Conflict("the counterparty was merged into another one and cannot be restored", field="counterpartyId")
    await require_documents_writable(
        session,
        actor,
        [card.id],
        refusal="this card holds documents you may not change; an administrator can restore it",
        field="counterpartyId",
    )
    if card.nip:
        await _check_nip_free(session, card.nip, other_than=card.id)
    card.deleted_at = None
    card.deleted_by_id = None
    await flush_unique(session, NIP_TAKEN, field="nip")
    audit.record(session, actor, "counterparty.restored", object_type="Counterparty", object_id=card.id)
    await record_data_changed(session, actor, card.id, {"card": "restored"})
    await directory_outbox.enqueue(session, "counterparty", [card.id], "restored")
    return card


@dataclass
class CounterpartyFilter:
    """Every given condition must hold; within a list, any of its values will do (segmentations:
    any value of each dictionary named)."""

    text: str | None = None
    type_ids: Sequence[int] | None = None
    category_ids: Sequence[int] | None = None
    group_ids: Sequence[int] | None = None
    segment_ids: Sequence[int] | None = None
    account_manager_ids: Sequence[int] | None = None
    blocked: bool | None = None
    deleted: bool = False


def _text_filter(query: Select[tuple[Counterparty]], text: str) -> Select[tuple[Counterparty]]:
    folded = fold(text)
    if not folded:
        return query
    pattern = "%" + escape_like(folded) + "%"
    conditions = [Counterparty.name_search.like(pattern, escape="\\")]
    if _DIGITS_AND_DASHES.match(text.strip()):
        digits = re.sub(r"\D", "", text)
        conditions.append(Counterparty.nip.like(digits + "%"))
        conditions.append(Counterparty.regon.like(digits + "%"))
        # A VAT number typed without its country code ("DE" and the rest).
        conditions.append(Counterparty.vat_number.like("__" + digits + "%"))
    vat = vat_prefix(text)
    if vat is not None:
        conditions.append(Counterparty.vat_number.like(escape_like(vat) + "%", escape="\\"))
    return query.where(or_(*conditions))


def _has_entry(entry_ids: Sequence[int], kind: str) -> Any:
    """Cards given one of the entries as a `kind` (a group's entry is no category)."""
    return exists().where(
        CounterpartyClassification.counterparty_id == Counterparty.id,
        CounterpartyClassification.entry_id.in_(list(entry_ids)),
        CounterpartyClassification.dictionary_id.in_(select(Dictionary.id).where(Dictionary.kind == kind)),
    )


def blocked_now() -> Any:
    """The cards under a block in force now."""
    return exists().where(
        CounterpartyBlock.counterparty_id == Counterparty.id,
        in_force_at(CounterpartyBlock.valid_from, CounterpartyBlock.valid_to, utcnow()),
    )


async def list_counterparties(
    session: AsyncSession,
    actor: Actor,
    page: PageRequest,
    *,
    text: str | None = None,
    filter: CounterpartyFilter | None = None,
) -> Page[Counterparty]:
    """Cards by name (then id), filtered; `deleted` lists the deleted ones instead of the active."""
    wanted = filter or CounterpartyFilter()
    text = text if text is not None else wanted.text
    deleted = Counterparty.deleted_at.is_not(None) if wanted.deleted else Counterparty.deleted_at.is_(None)
    query = select(Counterparty).where(deleted)
    if text:
        query = _text_filter(query, text)
    if wanted.type_ids is not None:
        query = query.where(Counterparty.type_id.in_(list(wanted.type_ids)))
    if wanted.account_manager_ids is not None:
        query = query.where(Counterparty.account_manager_id.in_(list(wanted.account_manager_ids)))
    for ids, kind in ((wanted.category_ids, "category"), (wanted.group_ids, "group")):
        if ids is not None:
            query = query.where(_has_entry(ids, kind))
    if wanted.segment_ids:
        for entry_ids in (await _segments_by_dictionary(session, wanted.segment_ids)).values():
            query = query.where(_has_entry(entry_ids, "segmentation"))
    if wanted.blocked is not None:
        query = query.where(blocked_now() if wanted.blocked else ~blocked_now())
    return await paginate(session, query, SortKey.of((Counterparty.sort_name, False), (Counterparty.id, False)), page)


async def _segments_by_dictionary(session: AsyncSession, entry_ids: Sequence[int]) -> dict[int, list[int]]:
    rows = await session.execute(
        select(DictionaryEntry.dictionary_id, DictionaryEntry.id).where(DictionaryEntry.id.in_(list(entry_ids)))
    )
    grouped: dict[int, list[int]] = {}
    for dictionary_id, entry_id in rows.all():
        grouped.setdefault(dictionary_id, []).append(entry_id)
    # An unknown id matches nothing rather than being ignored.
    if sum(len(v) for v in grouped.values()) < len(set(entry_ids)):
        grouped[-1] = [-1]
    return grouped
