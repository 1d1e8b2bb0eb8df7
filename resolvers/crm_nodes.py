"""`node(id:)` for the CRM types: the object by its global id, or None."""

from __future__ import annotations

from typing import Any

from dms.counterparties import details
from dms.counterparties.models import Address, BankAccount, CounterpartyBlock
from dms.errors import NotFound
from dms.events import service as events
from resolvers.context import RequestContext
from resolvers.counterparties import open_card
from resolvers.ids import encode_id, parse_id

_LOADED = {
    "CounterpartyType": "counterparty_type",
    "Dictionary": "dictionary",
    "DictionaryEntry": "dictionary_entry",
    "ContactPerson": "person",
    "EventType": "event_type",
    "Event": "event",
    "Case": "case",
    "Task": "task",
}

_CARD_DETAILS: dict[str, type[Address | BankAccount | CounterpartyBlock]] = {
    "Address": Address,
    "BankAccount": BankAccount,
    "CounterpartyBlock": CounterpartyBlock,
}


async def crm_node(ctx: RequestContext, type_name: str, pk: int) -> Any | None:
    """A CRM object by type and key; opening a Counterparty this way is recorded like `counterparty(id)`."""
    if type_name == "Counterparty":
        return await open_card(ctx, encode_id("Counterparty", pk))
    actor = ctx.require_actor()
    detail = _CARD_DETAILS.get(type_name)
    if detail is not None:
        async with ctx.read() as uow:
            try:
                return await details.get_card_detail(uow.session, actor, detail, pk)
            except NotFound:
                return None
    loader = _LOADED.get(type_name)
    if loader is None:
        return None
    if type_name == "Event":
        # An event about a document is visible exactly when the document is.
        async with ctx.read() as uow:
            try:
                return await events.get_event(uow.session, actor, pk)
            except NotFound:
                return None
    return await getattr(ctx.loaders.crm, loader).load(pk)


async def crm_object(ctx: RequestContext, global_id: str, type_name: str) -> Any | None:
    """One CRM object by a global id of the given type, or None."""
    parsed = parse_id(global_id)
    if parsed is None or parsed[0] != type_name:
        return None
    return await crm_node(ctx, type_name, parsed[1])
