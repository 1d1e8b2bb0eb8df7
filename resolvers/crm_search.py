"""Searching counterparty cards and events: translate the arguments, call the search service."""

from __future__ import annotations

from dms import directory_search
from dms.counterparties.models import Counterparty
from dms.events.models import Event
from dms.pagination import Page
from resolvers.context import RequestContext
from resolvers.crm_common import read
from resolvers.ids import decode_optional
from resolvers.pages import page_request


async def search_counterparties(
    ctx: RequestContext, text: str, first: int | None, after: str | None, *, deleted: bool
) -> Page[Counterparty]:
    page = page_request(ctx, first, after)
    return await read(
        ctx,
        lambda session, actor: directory_search.search_counterparties(
            session, ctx.services.directory, actor, text, first=page.first, after=after, deleted=deleted
        ),
    )


async def search_events(
    ctx: RequestContext, text: str, first: int | None, after: str | None, *, counterparty_id: str | None
) -> Page[Event]:
    page = page_request(ctx, first, after)
    card = decode_optional(counterparty_id, "Counterparty", field="counterpartyId")
    return await read(
        ctx,
        lambda session, actor: directory_search.search_events(
            session, ctx.services.directory, actor, text, first=page.first, after=after, counterparty_id=card
        ),
    )
