"""Events: registering, listing, the card's timeline and the report."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from dms.counterparties.models import Counterparty
from dms.documents.models import Document
from dms.events import report, service, timeline
from dms.events.models import Event
from dms.events.report import ReportFilter, ReportRow
from dms.events.service import EventData, EventFilter, SettlementData
from dms.pagination import Page
from resolvers.context import RequestContext
from resolvers.crm_common import ids, opt_id, read, unset_to_none, write
from resolvers.outcome import Outcome
from resolvers.pages import page_request


def _event_data(input: Any) -> EventData:
    return EventData(
        type_id=opt_id(input.type_id, "EventType", "typeId") or 0,
        occurred_at=unset_to_none(input.occurred_at),
        on_behalf_of_id=opt_id(input.on_behalf_of_id, "User", "onBehalfOfId"),
        note=unset_to_none(input.note),
        counterparty_id=opt_id(input.counterparty_id, "Counterparty", "counterpartyId"),
        contact_person_id=opt_id(input.contact_person_id, "ContactPerson", "contactPersonId"),
        case_id=opt_id(input.case_id, "Case", "caseId"),
        custom_values=unset_to_none(input.custom_fields) or {},
        settlements=[
            SettlementData(line.description, line.quantity, line.unit_price, unset_to_none(line.unit))
            for line in input.settlements or []
        ],
    )


async def register_event(ctx: RequestContext, input: Any) -> Outcome[Event]:
    return await write(ctx, lambda session, actor: service.register_event(session, actor, _event_data(input)))


def event_filter(filter: Any) -> EventFilter:
    if filter is None:
        return EventFilter()
    return EventFilter(
        counterparty_id=opt_id(filter.counterparty_id, "Counterparty", "counterpartyId"),
        case_id=opt_id(filter.case_id, "Case", "caseId"),
        type_ids=ids(filter.type_ids, "EventType", "typeIds"),
        user_ids=ids(filter.user_ids, "User", "userIds"),
        since=unset_to_none(filter.from_),
        until=unset_to_none(filter.to),
    )


async def list_events(ctx: RequestContext, first: int | None, after: str | None, filter: EventFilter) -> Page[Event]:
    page = page_request(ctx, first, after)
    return await read(ctx, lambda session, actor: service.list_events(session, actor, page, filter))


async def timeline_of(
    ctx: RequestContext,
    card: Counterparty,
    first: int | None,
    after: str | None,
    kinds: Sequence[str] | None,
    leaving_out: Sequence[str] = (),
) -> Page[Event | Document]:
    """A page of the card's timeline with its events and documents loaded (through DataLoaders)."""
    page = page_request(ctx, first, after)
    if not page.after and kinds is None and not leaving_out:
        # A first page, as a list of cards asks for each of them: batched for the whole list.
        entries = await ctx.loaders.crm.timelines(page.first).load(card.id)
    else:
        entries = await read(
            ctx, lambda s, actor: timeline.timeline(s, actor, card.id, page, kinds=kinds, leaving_out=leaving_out)
        )
    loaded_events, loaded_documents = await asyncio.gather(
        ctx.loaders.crm.event.load_many([e.id for e in entries.items if e.kind == "event"]),
        ctx.loaders.document.load_many([e.id for e in entries.items if e.kind == "document"]),
    )
    found: dict[tuple[str, int], Event | Document] = {}
    found.update({("event", e.id): e for e in loaded_events if e is not None})
    found.update({("document", d.id): d for d in loaded_documents if d is not None})
    kept = [
        (found[(e.kind, e.id)], c)
        for e, c in zip(entries.items, entries.cursors, strict=True)
        if (e.kind, e.id) in found
    ]
    return Page(
        items=[item for item, _ in kept],
        cursors=[cursor for _, cursor in kept],
        has_next=entries.has_next,
        has_previous=entries.has_previous,
        total_count=entries.total_count,
    )


async def event_report(ctx: RequestContext, filter: Any, group_by: Sequence[str]) -> list[ReportRow]:
    wanted = ReportFilter()
    if filter is not None:
        wanted = ReportFilter(
            since=unset_to_none(filter.from_),
            until=unset_to_none(filter.to),
            type_ids=ids(filter.type_ids, "EventType", "typeIds"),
            counterparty_id=opt_id(filter.counterparty_id, "Counterparty", "counterpartyId"),
            user_ids=ids(filter.user_ids, "User", "userIds"),
        )
    return await read(ctx, lambda session, actor: report.event_report(session, actor, wanted, group_by))


async def events_of(
    ctx: RequestContext, holder: str, holder_id: int, first: int | None, after: str | None
) -> Page[Event]:
    """A page of the events of a card (holder "counterparty") or a case ("case")."""
    page = page_request(ctx, first, after)
    if not page.after:
        # A first page, as a list of cards or cases asks for each of them: batched for the whole list.
        return await ctx.loaders.crm.events_of(holder, page.first).load(holder_id)
    wanted = EventFilter(counterparty_id=holder_id) if holder == "counterparty" else EventFilter(case_id=holder_id)
    return await read(ctx, lambda session, actor: service.list_events(session, actor, page, wanted))
