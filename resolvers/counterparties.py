"""Counterparty queries and mutations: translate ids and "not given", call one service, return."""

from __future__ import annotations

from typing import Any

from dms.counterparties import merge
from dms.counterparties import service as counterparties
from dms.counterparties.models import Counterparty
from dms.counterparties.service import CardChanges, CounterpartyFilter
from dms.documents import service as documents
from dms.documents.models import Document
from dms.errors import NotFound
from dms.events.openings import card_openings
from dms.pagination import Page
from resolvers.context import RequestContext
from resolvers.crm_common import ids, keep, keep_id, keep_ids, read, write
from resolvers.ids import decode_id, parse_id
from resolvers.outcome import Outcome
from resolvers.pages import page_request


def card_changes(input: Any) -> CardChanges:
    """The card fields of a create or update input (an object of the GraphQL schema)."""
    return CardChanges(
        name=keep(input.name),
        short_name=keep(input.short_name),
        nip=keep(input.nip),
        regon=keep(input.regon),
        vat_number=keep(input.vat_number),
        type_id=keep_id(input.type_id, "CounterpartyType", "typeId"),
        custom_values=keep(input.custom_fields),
        category_ids=keep_ids(input.category_ids, "DictionaryEntry", "categoryIds"),
        group_ids=keep_ids(input.group_ids, "DictionaryEntry", "groupIds"),
        segment_ids=keep_ids(input.segment_ids, "DictionaryEntry", "segmentIds"),
        account_manager_id=keep_id(input.account_manager_id, "User", "accountManagerId"),
        notes=keep(input.notes),
    )


async def create_counterparty(ctx: RequestContext, input: Any) -> Outcome[Counterparty]:
    return await write(
        ctx,
        lambda session, actor: counterparties.create_counterparty(
            session, actor, name=input.name, nip=input.nip, short_name=input.short_name, details=card_changes(input)
        ),
    )


async def update_counterparty(ctx: RequestContext, input: Any) -> Outcome[Counterparty]:
    return await write(
        ctx,
        lambda session, actor: counterparties.update_counterparty(
            session,
            actor,
            decode_id(input.counterparty_id, "Counterparty", field="counterpartyId"),
            card_changes(input),
        ),
    )


async def delete_counterparty(ctx: RequestContext, counterparty_id: str) -> Outcome[Counterparty]:
    return await write(
        ctx,
        lambda session, actor: counterparties.delete_counterparty(
            session, actor, decode_id(counterparty_id, "Counterparty", field="counterpartyId")
        ),
    )


async def restore_counterparty(ctx: RequestContext, counterparty_id: str) -> Outcome[Counterparty]:
    return await write(
        ctx,
        lambda session, actor: counterparties.restore_counterparty(
            session, actor, decode_id(counterparty_id, "Counterparty", field="counterpartyId")
        ),
    )


async def merge_counterparties(ctx: RequestContext, target_id: str, source_ids: list[str]) -> Outcome[Counterparty]:
    return await write(
        ctx,
        lambda session, actor: merge.merge_counterparties(
            session,
            actor,
            decode_id(target_id, "Counterparty", field="targetId"),
            [decode_id(source, "Counterparty", field="sourceIds") for source in source_ids],
        ),
    )


async def open_card(ctx: RequestContext, global_id: str) -> Counterparty | None:
    """The card (recording that the viewer opened it), or None when there is no such card."""
    parsed = parse_id(global_id)
    if parsed is None or parsed[0] != "Counterparty":
        return None
    openings = card_openings(ctx.services.db)
    try:
        return await read(ctx, lambda session, actor: counterparties.open_card(session, actor, parsed[1], openings))
    except NotFound:
        return None


def counterparty_filter(filter: Any) -> CounterpartyFilter:
    if filter is None:
        return CounterpartyFilter()
    return CounterpartyFilter(
        text=filter.text,
        type_ids=ids(filter.type_ids, "CounterpartyType", "typeIds"),
        category_ids=ids(filter.category_ids, "DictionaryEntry", "categoryIds"),
        group_ids=ids(filter.group_ids, "DictionaryEntry", "groupIds"),
        segment_ids=ids(filter.segment_ids, "DictionaryEntry", "segmentIds"),
        account_manager_ids=ids(filter.account_manager_ids, "User", "accountManagerIds"),
        blocked=filter.blocked,
        deleted=bool(filter.deleted),
    )


async def list_counterparties(
    ctx: RequestContext, first: int | None, after: str | None, filter: Any
) -> Page[Counterparty]:
    page = page_request(ctx, first, after)
    wanted = counterparty_filter(filter)
    return await read(
        ctx, lambda session, actor: counterparties.list_counterparties(session, actor, page, filter=wanted)
    )


async def documents_of(
    ctx: RequestContext, counterparty: Counterparty, first: int | None, after: str | None
) -> Page[Document]:
    page = page_request(ctx, first, after)
    if not page.after:
        # A first page, as a list of cards asks for each of them: batched for the whole list.
        return await ctx.loaders.documents_of("counterparty", page.first).load(counterparty.id)
    async with ctx.read() as uow:
        return await documents.list_documents(uow.session, ctx.require_actor(), page, counterparty_id=counterparty.id)
