"""A card's timeline: its events and the documents the viewer may read, in one keyset list, newest
first. Documents are filtered by the same SQL as every document list, so an unreadable document
is neither shown nor counted."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Integer, String, Table, literal_column, select, type_coerce, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, registry

from dms.actor import Actor
from dms.documents import service as documents
from dms.documents.models import Document
from dms.events.models import Event, EventType, KeysetDateTime
from dms.events.service import visible_to
from dms.pagination import Page, PageRequest, SortKey, first_pages, paginate

TIMELINE_KINDS = ("event", "document")

# Rows of the timeline union, mapped so `paginate` can page them like any model. The table lives in
# a metadata of its own: it is the shape of a query, never created in the database.
_shapes = registry()
_timeline = Table(
    "timeline_entries",
    _shapes.metadata,
    Column("kind", String(16), primary_key=True),
    Column("id", Integer, primary_key=True),
    Column("at", KeysetDateTime()),
    Column("counterparty_id", Integer),
)


@dataclass
class TimelineEntry:
    kind: str
    id: int
    at: datetime
    counterparty_id: int


_shapes.map_imperatively(TimelineEntry, _timeline)


def _events(actor: Actor, counterparty_ids: Sequence[int], leaving_out: Collection[str]) -> Any:
    query = select(
        literal_column("'event'", String).label("kind"),
        Event.id.label("id"),
        type_coerce(Event.occurred_at, KeysetDateTime()).label("at"),
        Event.counterparty_id.label("counterparty_id"),
    ).where(Event.counterparty_id.in_(counterparty_ids), visible_to(actor))
    if leaving_out:
        query = query.where(
            Event.type_id.not_in(select(EventType.id).where(EventType.automatic_kind.in_(sorted(leaving_out))))
        )
    return query


def _documents(actor: Actor, counterparty_ids: Sequence[int]) -> Any:
    return (
        documents.listing(actor)
        .where(Document.counterparty_id.in_(counterparty_ids))
        .with_only_columns(
            literal_column("'document'", String).label("kind"),
            Document.id.label("id"),
            type_coerce(Document.created_at, KeysetDateTime()).label("at"),
            Document.counterparty_id.label("counterparty_id"),
        )
    )


def _entries(
    actor: Actor, counterparty_ids: Sequence[int], kinds: Collection[str] | None, leaving_out: Collection[str] = ()
) -> Any:
    """The timeline entries of the cards, of the kinds asked for, without the events of the
    automatic kinds `leaving_out`, as a mapped alias; None for none."""
    wanted = set(kinds) if kinds is not None else set(TIMELINE_KINDS)
    parts = []
    if "event" in wanted:
        parts.append(_events(actor, counterparty_ids, leaving_out))
    if "document" in wanted:
        parts.append(_documents(actor, counterparty_ids))
    if not parts:  # none of the kinds asked for
        return None
    union = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery("timeline")
    return aliased(TimelineEntry, union, adapt_on_names=True)


def _newest_first(entry: Any) -> SortKey:
    return SortKey.of((entry.at, True), (entry.kind, False), (entry.id, True))


async def timeline(
    session: AsyncSession,
    actor: Actor,
    counterparty_id: int,
    page: PageRequest,
    *,
    kinds: Collection[str] | None = None,
    leaving_out: Collection[str] = (),
) -> Page[TimelineEntry]:
    """Events (by when they happened) and readable documents (by when they were added), newest
    first; without the events of the automatic kinds `leaving_out` (``card_opened``: who looked)."""
    entry = _entries(actor, [counterparty_id], kinds, leaving_out)
    if entry is None:
        return Page(items=[], cursors=[], has_next=False, has_previous=False, total_count=0)
    return await paginate(session, select(entry), _newest_first(entry), page)


async def first_pages_of_timelines(
    session: AsyncSession, actor: Actor, counterparty_ids: Sequence[int], first: int
) -> dict[int, Page[TimelineEntry]]:
    """The first page of each card's timeline, of all kinds, as `timeline` makes it, for all the
    cards in two statements (a list of cards each showing its latest entries does not ask once per card)."""
    entry = _entries(actor, counterparty_ids, None)
    return await first_pages(
        session, select(entry), entry.counterparty_id, counterparty_ids, _newest_first(entry), first
    )
