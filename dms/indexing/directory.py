"""Keeping the directory indexes (counterparty cards, events) in step with the database.

The document indexer (`dms.indexing.indexer.Indexer`) drives this one from its loop: after each
round of documents it drains the directory outbox, and it heals these indexes as it heals its own.
An outbox entry is deleted only after the index commit that reflects it; each entry names a record
that is read afresh, so applying one twice is harmless.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dms.base import utcnow
from dms.counterparties.customfields import definitions_of
from dms.counterparties.models import Address, ContactMethod, ContactPerson, Counterparty
from dms.documents.models import Document
from dms.events.models import Event, EventType
from dms.indexing.rebuilds import swapped_in_when_done
from dms.indexing.records import binder_token, document_token
from dms.outbox import service as outbox
from dms.outbox.directory import DirectoryOutboxEntry
from dms.uow import Database
from search.directory import (
    AsyncDirectoryIndex,
    CounterpartyRecord,
    DirectoryIndexes,
    DirectoryKind,
    DirectoryRecord,
    EventRecord,
)
from search.engine import IndexUnavailable

log = logging.getLogger("kartoteka.indexer")

#: The access token of events about no document: every user may see them.
PUBLIC_ACCESS = "public"
# outbox kind → index
_INDEX_OF: dict[str, DirectoryKind] = {"counterparty": "counterparties", "event": "events"}

Progress = Callable[[int], None]


async def counterparty_records(session: AsyncSession, ids: Sequence[int]) -> dict[int, CounterpartyRecord]:
    """Records of the cards among `ids` (deleted ones too, marked so); four queries."""
    if not ids:
        return {}
    cards = (await session.scalars(select(Counterparty).where(Counterparty.id.in_(list(ids))))).all()
    people = (
        await session.scalars(
            select(ContactPerson)
            .where(ContactPerson.counterparty_id.in_(list(ids)), ContactPerson.removed_at.is_(None))
            .order_by(ContactPerson.id)
        )
    ).all()
    methods: dict[int, list[str]] = defaultdict(list)
    if people:
        rows = await session.execute(
            select(ContactMethod.person_id, ContactMethod.value)
            .where(ContactMethod.person_id.in_([p.id for p in people]))
            .order_by(ContactMethod.position, ContactMethod.id)
        )
        for person_id, value in rows.all():
            methods[person_id].append(value)
    # Past addresses too: a card is still looked for where the company used to be, and an
    # address's end (or a change dated ahead) then needs no reindexing when the day comes.
    places: dict[int, list[str]] = defaultdict(list)
    rows = await session.execute(
        select(Address.counterparty_id, Address.street, Address.postal_code, Address.city)
        .where(Address.counterparty_id.in_(list(ids)))
        .order_by(Address.valid_from, Address.id)
    )
    for counterparty_id, street, postal_code, city in rows.all():
        places[counterparty_id].append(", ".join(filter(None, [street, " ".join(filter(None, [postal_code, city]))])))
    persons: dict[int, list[str]] = defaultdict(list)
    contacts: dict[int, list[str]] = defaultdict(list)
    for person in people:
        persons[person.counterparty_id].append(" ".join(filter(None, [person.name, person.position])))
        contacts[person.counterparty_id].extend(methods[person.id])
    return {
        card.id: CounterpartyRecord(
            counterparty_id=card.id,
            name=card.name,
            short_name=card.short_name or "",
            tax_ids=tuple(value for value in (card.nip, card.regon, card.vat_number) if value),
            persons=tuple(persons[card.id]),
            contacts=tuple(contacts[card.id]),
            addresses=tuple(places[card.id]),
            deleted=card.deleted_at is not None,
        )
        for card in cards
    }


def _text_values(event: Event, event_type: EventType) -> tuple[str, ...]:
    """The values of the type's free-text fields (choices are codes, not words anyone searches)."""
    values = event.custom_values or {}
    texts = (values.get(field.key) for field in definitions_of(event_type.fields) if field.kind == "text")
    return tuple(text for text in texts if isinstance(text, str) and text.strip())


async def event_records(session: AsyncSession, ids: Sequence[int]) -> dict[int, EventRecord]:
    """Records of the events among `ids`; one query.

    Events without a word to be found by are indexed too: ``*`` (with a counterparty, say) lists them.

    An event about a document carries the document's binder and document tokens, so it is found
    exactly by those who may read the document (`dms.events.service.visible_to`).
    """
    if not ids:
        return {}
    rows = await session.execute(
        select(Event, EventType, Document.binder_id)
        .join(EventType, EventType.id == Event.type_id)
        .outerjoin(Document, Document.id == Event.document_id)
        .where(Event.id.in_(list(ids)))
    )
    records: dict[int, EventRecord] = {}
    for event, event_type, binder_id in rows.all():
        title = (event.details or {}).get("title")
        record = EventRecord(
            event_id=event.id,
            note=event.note or "",
            number=event.number or "",
            title=title if isinstance(title, str) else "",
            fields=_text_values(event, event_type),
            counterparty_id=event.counterparty_id,
            occurred_at=event.occurred_at,
            access_tokens=(
                (binder_token(binder_id), document_token(event.document_id))
                if event.document_id is not None and binder_id is not None
                else (PUBLIC_ACCESS,)
            ),
        )
        records[event.id] = record
    return records


async def _records(session: AsyncSession, kind: DirectoryKind, ids: Sequence[int]) -> dict[int, Any]:
    if kind == "counterparties":
        return await counterparty_records(session, ids)
    return await event_records(session, ids)


def _model(kind: DirectoryKind) -> Any:
    return Counterparty if kind == "counterparties" else Event


@dataclass
class DirectoryIndexer:
    db: Database
    indexes: DirectoryIndexes
    batch_size: int = 500

    def index(self, kind: DirectoryKind) -> AsyncDirectoryIndex:
        return self.indexes.counterparties if kind == "counterparties" else self.indexes.events

    async def drain_once(self) -> int:
        """Apply one batch of directory outbox entries; returns how many (0: the outbox is empty)."""
        async with self.db.sessions() as session:
            entries = (
                await session.execute(
                    select(DirectoryOutboxEntry.id, DirectoryOutboxEntry.kind, DirectoryOutboxEntry.item_id)
                    .where((DirectoryOutboxEntry.not_before.is_(None)) | (DirectoryOutboxEntry.not_before <= utcnow()))
                    .order_by(DirectoryOutboxEntry.id)
                    .limit(self.batch_size)
                )
            ).all()
            if not entries:
                return 0
            wanted: dict[DirectoryKind, list[int]] = {"counterparties": [], "events": []}
            for _, kind, item_id in entries:
                if kind in _INDEX_OF:
                    wanted[_INDEX_OF[kind]].append(item_id)
            found = {kind: await _records(session, kind, sorted(set(ids))) for kind, ids in wanted.items()}
        for kind, ids in wanted.items():
            records: dict[int, DirectoryRecord] = found[kind]
            gone = sorted(set(ids) - set(records))
            if records:
                await self.index(kind).upsert(records.values())
            if gone:
                await self.index(kind).delete(gone)
        async with self.db.write_sessions() as session:
            await session.execute(
                delete(DirectoryOutboxEntry).where(
                    DirectoryOutboxEntry.id.in_([entry_id for entry_id, _, _ in entries])
                )
            )
            await session.commit()
        return len(entries)

    async def drain(self, *, turn_seconds: float | None = None) -> bool:
        """Apply every due entry, or with `turn_seconds` those that fit in that long; True when the
        turn ended with entries perhaps left (the documents' outbox then has its turn).

        The index being unavailable is raised (the caller heals it); any other failure postpones
        the first entry a little and is logged, so one bad record cannot stop the documents' loop.
        """
        ends = None if turn_seconds is None else time.monotonic() + turn_seconds
        try:
            while await self.drain_once():
                if ends is not None and time.monotonic() >= ends:
                    return True
        except IndexUnavailable:
            raise
        except Exception as error:
            log.exception("directory indexing failed; retrying")
            await self._postpone(error)
        return False

    async def _postpone(self, error: Exception) -> None:
        """A failing batch waits a little, so one bad moment does not spin the loop."""
        async with self.db.write_sessions() as session:
            await outbox.postpone_oldest(session, DirectoryOutboxEntry, error)
            await session.commit()

    async def total(self, kind: DirectoryKind) -> int:
        """How many records a rebuild of `kind` reads (for a progress bar)."""
        async with self.db.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(_model(kind))) or 0)

    async def rebuild(
        self, kind: DirectoryKind, *, progress: Progress | None = None, batch: int = 500, resume: bool = False
    ) -> int:
        """Build a fresh `kind` index beside the live one from the database, then swap it in.

        Keyset batches in ascending id order (bounded memory; `resume` continues after the last
        committed record). Returns how many records were indexed; changes committed meanwhile stay
        in the outbox and are applied after the swap.
        """
        rebuild = await self.index(kind).begin_rebuild(resume=resume)
        model = _model(kind)
        done = 0
        last_id = await rebuild.resumed_after() if resume else 0
        async with swapped_in_when_done(rebuild):
            while True:
                async with self.db.sessions() as session:
                    ids = list(
                        (
                            await session.scalars(
                                select(model.id).where(model.id > last_id).order_by(model.id).limit(batch)
                            )
                        ).all()
                    )
                    if not ids:
                        break
                    records = await _records(session, kind, ids)
                await rebuild.upsert(records[i] for i in sorted(records))
                done += len(records)
                last_id = ids[-1]
                if progress:
                    progress(len(ids))
        log.info("directory index rebuilt", extra={"index": kind, "records": done})
        return done

    async def heal_if_needed(self) -> list[DirectoryKind]:
        """Rebuild each index that is missing, unreadable or of an older schema; returns which were."""
        healed: list[DirectoryKind] = []
        for kind, index in self.indexes.each():
            if await index.needs_rebuild():
                log.info("building a directory index (it was missing, unreadable or older)", extra={"index": kind})
                await self.rebuild(kind)
                healed.append(kind)
        return healed
