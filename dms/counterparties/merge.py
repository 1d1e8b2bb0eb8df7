"""Merging duplicate cards into one.

Everything that hangs on the sources moves to the target in the one transaction: contact persons,
addresses (with their history), bank accounts, blocks, categories, groups and segmentation,
documents, cases, events and tasks. The target keeps its own data; where it has none, it takes the
first source's (tax ids, short name, account manager, a segmentation value, custom values of the
same type, or the type with its values when the target has none); the sources' notes are appended.
A card keeps one registered seat, correspondence and tax address at a time and each bank account
once: such a use of a moved address ends at the merge (the address goes on with its other uses,
the old row stays in the history), and an account the target already holds is not added again.
The sources are soft-deleted with a pointer to the target (cards merged into a source earlier now
point at the target too), and the merge is recorded in the audit log and as a "data changed" event
on the target.

A merge empties the sources, so it re-points every document on them: a user who may not change
each of those documents (WRITE) cannot merge the cards; an administrator can. Each moved document
gets a history entry and is queued for the search index.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dms.actor import Actor
from dms.audit import service as audit
from dms.base import utcnow
from dms.cases.models import Case
from dms.counterparties.common import flush_unique, name_keys
from dms.counterparties.details import SINGLE_USES
from dms.counterparties.models import (
    Address,
    BankAccount,
    ContactPerson,
    Counterparty,
    CounterpartyBlock,
    CounterpartyClassification,
    Dictionary,
)
from dms.counterparties.reach import require_documents_writable
from dms.counterparties.taxids import polish_vat_matches
from dms.documents.models import Document, DocumentHistoryEntry
from dms.errors import NotFound, ValidationFailed
from dms.events.automatic import record_data_changed
from dms.events.models import Event
from dms.outbox import directory as directory_outbox
from dms.outbox import service as outbox
from dms.tasks.models import Task

MAX_SOURCES = 50
# The key of the transaction-level advisory lock that queues merges (PostgreSQL); any constant will do.
MERGE_LOCK = 0x6D65726765
MOVED_BY_COUNTERPARTY: dict[str, Any] = {
    "contactPersons": ContactPerson,
    "addresses": Address,
    "bankAccounts": BankAccount,
    "blocks": CounterpartyBlock,
    "cases": Case,
    "events": Event,
    "tasks": Task,
}


async def _lock_cards(session: AsyncSession, target_id: int, source_ids: list[int]) -> dict[int, Counterparty]:
    """The cards, locked against a concurrent merge or change (PostgreSQL; SQLite's writer is alone).

    On PostgreSQL merges also run one at a time: a merge re-points the cards merged into its sources
    earlier, rows it cannot lock up front (one a concurrent merge commits meanwhile is missed by the
    snapshot), so two merges could each hold a card the other waits for, a deadlock PostgreSQL breaks
    by failing one of them. Merges are rare and quick; queueing them costs nothing anyone notices.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(MERGE_LOCK)))
    query = (
        select(Counterparty)
        .where(Counterparty.id.in_([target_id, *source_ids]))
        .order_by(Counterparty.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    cards = {card.id: card for card in (await session.scalars(query)).all()}
    target = cards.get(target_id)
    if target is None or target.deleted_at is not None:
        raise NotFound("no such counterparty", field="targetId")
    for source_id in source_ids:
        source = cards.get(source_id)
        if source is None or source.deleted_at is not None:
            raise NotFound("no such counterparty", field="sourceIds")
    return cards


async def _merge_classifications(session: AsyncSession, target_id: int, source_ids: list[int]) -> None:
    rows = (
        await session.execute(
            select(
                CounterpartyClassification.counterparty_id,
                CounterpartyClassification.entry_id,
                CounterpartyClassification.dictionary_id,
                Dictionary.kind,
            )
            .join(Dictionary, Dictionary.id == CounterpartyClassification.dictionary_id)
            .where(CounterpartyClassification.counterparty_id.in_([target_id, *source_ids]))
        )
    ).all()
    order = {card_id: index for index, card_id in enumerate([target_id, *source_ids])}
    have = {entry for card, entry, _, _ in rows if card == target_id}
    segmented = {dictionary for card, _, dictionary, kind in rows if card == target_id and kind == "segmentation"}
    added = []
    for _card, entry, dictionary, kind in sorted((r for r in rows if r[0] != target_id), key=lambda r: order[r[0]]):
        if entry in have or (kind == "segmentation" and dictionary in segmented):
            continue
        have.add(entry)
        if kind == "segmentation":
            segmented.add(dictionary)
        added.append({"counterparty_id": target_id, "entry_id": entry, "dictionary_id": dictionary})
    await session.execute(
        delete(CounterpartyClassification).where(CounterpartyClassification.counterparty_id.in_(source_ids))
    )
    if added:
        await session.execute(insert(CounterpartyClassification), added)


async def _end_colliding_addresses(session: AsyncSession, actor: Actor, target_id: int, source_ids: list[int]) -> None:
    """A source's address may not be a second registered seat (correspondence, tax address) beside
    one in force at the same time, the target's first, then earlier sources'. Such a use ends at
    the merge: the address goes on from then with its other uses, or ends when it has none."""
    now = utcnow()
    order = {card_id: index for index, card_id in enumerate([target_id, *source_ids])}
    open_addresses = (
        await session.scalars(
            select(Address).where(
                Address.counterparty_id.in_(list(order)), or_(Address.valid_to.is_(None), Address.valid_to > now)
            )
        )
    ).all()
    kept: list[Address] = []
    for address in sorted(open_addresses, key=lambda a: (order[a.counterparty_id], a.valid_from, a.id)):
        colliding = {
            use
            for use in address.uses
            if use in SINGLE_USES and any(use in other.uses and _overlap(address, other) for other in kept)
        }
        if address.counterparty_id == target_id or not colliding:
            kept.append(address)
            continue
        remaining = [use for use in address.uses if use not in colliding]
        if address.valid_from > now and remaining:  # not in force yet: nothing to keep in the history
            address.uses = remaining
            kept.append(address)
        elif address.valid_from > now:
            address.valid_to = address.valid_from  # ends before it starts: never in force
        elif remaining:
            kept.append(await _go_on_with(session, actor, address, remaining, now))
        else:
            address.valid_to = now


async def _go_on_with(session: AsyncSession, actor: Actor, address: Address, uses: list[str], now: datetime) -> Address:
    """The address from `now` on with only `uses`; the one that followed it follows this one."""
    successor = Address(
        counterparty_id=address.counterparty_id,
        uses=uses,
        street=address.street,
        postal_code=address.postal_code,
        city=address.city,
        country=address.country,
        valid_from=now,
        valid_to=address.valid_to,
        previous_id=address.id,
        created_by_id=actor.user_id or None,
    )
    address.valid_to = now
    session.add(successor)
    await session.flush()
    await session.execute(
        update(Address)
        .where(Address.previous_id == address.id, Address.id != successor.id)
        .values(previous_id=successor.id)
        .execution_options(synchronize_session=False)
    )
    return successor


def _overlap(one: Address, other: Address) -> bool:
    return (other.valid_to is None or one.valid_from < other.valid_to) and (
        one.valid_to is None or other.valid_from < one.valid_to
    )


async def _drop_repeated_accounts(session: AsyncSession, target_id: int) -> None:
    """A card holds each bank account once: of the same IBAN moved in from several cards, the
    first one added stays."""
    accounts = (
        await session.execute(
            select(BankAccount.id, BankAccount.iban)
            .where(BankAccount.counterparty_id == target_id, BankAccount.removed_at.is_(None))
            .order_by(BankAccount.id)
        )
    ).all()
    seen: set[str] = set()
    repeated = []
    for account_id, iban in accounts:
        if iban in seen:
            repeated.append(account_id)
        seen.add(iban)
    if repeated:
        await session.execute(
            update(BankAccount)
            .where(BankAccount.id.in_(repeated))
            .values(removed_at=utcnow())
            .execution_options(synchronize_session=False)
        )


async def _move_documents(session: AsyncSession, actor: Actor, target_id: int, source_ids: list[int]) -> int:
    document_ids = list(
        (await session.scalars(select(Document.id).where(Document.counterparty_id.in_(source_ids)))).all()
    )
    if not document_ids:
        return 0
    await session.execute(
        update(Document)
        .where(Document.id.in_(document_ids))
        .values(counterparty_id=target_id, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        insert(DocumentHistoryEntry),
        [
            {
                "document_id": document_id,
                "action": "counterparty_merged",
                "actor_id": actor.user_id or None,
                "at": utcnow(),
                "details": {"to_counterparty": target_id},
            }
            for document_id in document_ids
        ],
    )
    await outbox.enqueue_many(session, document_ids, "metadata")
    return len(document_ids)


def _fill_from_sources(target: Counterparty, sources: list[Counterparty]) -> None:
    for source in sources:
        if target.account_manager_id is None:
            target.account_manager_id = source.account_manager_id
        if target.regon is None:
            target.regon = source.regon
        # A Polish VAT number is PL and the NIP: the two are taken only where they agree.
        if target.nip is None and source.nip is not None and polish_vat_matches(source.nip, target.vat_number):
            target.nip = source.nip
        if target.vat_number is None and polish_vat_matches(target.nip, source.vat_number):
            target.vat_number = source.vat_number
        if target.short_name is None:
            target.short_name = source.short_name
        if target.type_id is None and source.type_id is not None:
            target.type_id = source.type_id
            target.custom_values = dict(source.custom_values or {})
        elif target.type_id is not None and source.type_id == target.type_id:
            target.custom_values = {**(source.custom_values or {}), **(target.custom_values or {})}
        if source.notes:
            # Notes are free text that nothing else keeps: the target's come first, then each source's.
            heading = f"[{source.name}]\n{source.notes}"
            target.notes = f"{target.notes}\n\n{heading}" if target.notes else heading
    name_keys(target)


async def merge_counterparties(
    session: AsyncSession, actor: Actor, target_id: int, source_ids: Sequence[int]
) -> Counterparty:
    """Merge the source cards into the target (see the module's docstring for what moves)."""
    sources_wanted = list(dict.fromkeys(source_ids))
    if not sources_wanted:
        raise ValidationFailed("name the cards to merge into the target", field="sourceIds")
    if len(sources_wanted) > MAX_SOURCES:
        raise ValidationFailed(f"merge at most {MAX_SOURCES} cards at once", field="sourceIds")
    if target_id in sources_wanted:
        raise ValidationFailed("a card cannot be merged into itself", field="sourceIds")
    cards = await _lock_cards(session, target_id, sources_wanted)
    await require_documents_writable(
        session,
        actor,
        sources_wanted,
        refusal="these cards hold documents you may not change; an administrator can merge them",
        field="sourceIds",
    )
    target = cards[target_id]
    sources = [cards[source_id] for source_id in sources_wanted]
    # The sources' events are found by the card they now hang on; the cards by their new persons.
    await directory_outbox.enqueue_selected(
        session, "event", select(Event.id).where(Event.counterparty_id.in_(sources_wanted)), "merged"
    )
    await directory_outbox.enqueue(session, "counterparty", [target_id, *sources_wanted], "merged")
    await _end_colliding_addresses(session, actor, target_id, sources_wanted)
    # Events about documents are seen only by those who may read the document: not counted below.
    events_about_no_document = await session.scalar(
        select(func.count())
        .select_from(Event)
        .where(Event.counterparty_id.in_(sources_wanted), Event.document_id.is_(None))
    )
    moved: dict[str, int] = {}
    for name, model in MOVED_BY_COUNTERPARTY.items():
        result = await session.execute(
            update(model)
            .where(model.counterparty_id.in_(sources_wanted))
            .values(counterparty_id=target_id)
            .execution_options(synchronize_session=False)
        )
        moved[name] = int(result.rowcount or 0)  # type: ignore[attr-defined]
    await _drop_repeated_accounts(session, target_id)
    moved["documents"] = await _move_documents(session, actor, target_id, sources_wanted)
    await _merge_classifications(session, target_id, sources_wanted)
    now = utcnow()
    for source in sources:
        source.deleted_at = now
        source.deleted_by_id = actor.user_id or None
        source.merged_into_id = target_id
    await session.execute(
        update(Counterparty)
        .where(Counterparty.merged_into_id.in_(sources_wanted))
        .values(merged_into_id=target_id)
        .execution_options(synchronize_session=False)
    )
    # The sources leave the active cards first, so the target may take over a NIP of theirs.
    await session.flush()
    _fill_from_sources(target, sources)
    target.updated_at = now
    await flush_unique(session, "a counterparty with this NIP already exists", field="nip")
    audit.record(
        session,
        actor,
        "counterparty.merged",
        object_type="Counterparty",
        object_id=target_id,
        sources=sources_wanted,
        moved=moved,
    )
    # Everyone who sees the card sees its events, but not every document: the count of moved
    # documents, and of events about them, which may include some the reader may not know of,
    # stays in the audit log.
    shown = {name: count for name, count in moved.items() if name != "documents"}
    shown["events"] = int(events_about_no_document or 0)
    await record_data_changed(session, actor, target_id, {"merged": {"from": sources_wanted, "moved": shown}})
    return target
