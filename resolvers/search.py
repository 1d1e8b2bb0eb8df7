"""The search query: translate the filter, call the search service, return its page."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from dms.search import SearchOptions, SearchPage, search_documents
from resolvers.context import RequestContext
from resolvers.ids import decode_optional
from resolvers.pages import page_request


async def search(
    ctx: RequestContext,
    text: str,
    first: int | None,
    after: str | None,
    *,
    counterparty_id: str | None = None,
    binder_id: str | None = None,
    document_type: str | None = None,
    status: str | None = None,
    date_from: datetime | None = None,
    date_to: datetime | None = None,
    sort: Literal["relevance", "date"] = "relevance",
) -> SearchPage:
    page = page_request(ctx, first, after)
    options = SearchOptions(
        counterparty_id=decode_optional(counterparty_id, "Counterparty", field="counterpartyId"),
        binder_id=decode_optional(binder_id, "Binder", field="binderId"),
        document_type=document_type,
        status=status,
        date_from=date_from,
        date_to=date_to,
        sort=sort,
    )
    async with ctx.read() as uow:
        return await search_documents(
            uow.session, ctx.services.search, ctx.require_actor(), text, options=options, first=page.first, after=after
        )
