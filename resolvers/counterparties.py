"""Counterparty queries and mutations."""

from __future__ import annotations

from dms.counterparties import service as counterparties
from dms.counterparties.models import Counterparty
from dms.documents import service as documents
from dms.documents.models import Document
from dms.pagination import Page
from resolvers.context import RequestContext
from resolvers.outcome import Outcome, attempt
from resolvers.pages import page_request


async def create_counterparty(
    ctx: RequestContext, name: str, nip: str | None, short_name: str | None
) -> Outcome[Counterparty]:
    async def run() -> Counterparty:
        async with ctx.write() as uow:
            return await counterparties.create_counterparty(
                uow.session, ctx.require_actor(), name=name, nip=nip, short_name=short_name
            )

    return await attempt(run)


async def list_counterparties(
    ctx: RequestContext, first: int | None, after: str | None, text: str | None
) -> Page[Counterparty]:
    page = page_request(ctx, first, after)
    async with ctx.read() as uow:
        return await counterparties.list_counterparties(uow.session, ctx.require_actor(), page, text=text)


async def documents_of(
    ctx: RequestContext, counterparty: Counterparty, first: int | None, after: str | None
) -> Page[Document]:
    page = page_request(ctx, first, after)
    async with ctx.read() as uow:
        return await documents.list_documents(uow.session, ctx.require_actor(), page, counterparty_id=counterparty.id)
