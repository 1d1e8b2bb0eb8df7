"""Configuration the administrators keep: counterparty types, dictionaries, event types."""

from __future__ import annotations

from typing import Any

from dms.counterparties import dictionaries
from dms.counterparties import types as counterparty_types
from dms.counterparties.customfields import FieldDefinition, definitions_of, visible_values
from dms.counterparties.models import CounterpartyType, Dictionary, DictionaryEntry
from dms.events import types as event_types
from dms.events.models import EventType
from dms.pagination import Page
from resolvers.context import RequestContext
from resolvers.crm_common import KEEP, keep, keep_enum, opt_id, read, unset_to_none, write
from resolvers.ids import decode_id
from resolvers.outcome import Outcome
from resolvers.pages import page_request


def field_definitions(fields: Any) -> list[FieldDefinition] | Any:
    """Custom field inputs as definitions; KEEP when not given."""
    if fields is KEEP:
        return KEEP
    return [
        FieldDefinition(
            key=field.key,
            label=field.label,
            kind=field.kind.value,
            required=bool(field.required),
            pattern=unset_to_none(field.pattern),
            dictionary_id=opt_id(field.dictionary_id, "Dictionary", "dictionaryId"),
        )
        for field in fields or []
    ]


async def list_counterparty_types(
    ctx: RequestContext, first: int | None, after: str | None, include_inactive: bool
) -> Page[CounterpartyType]:
    page = page_request(ctx, first, after)
    return await read(
        ctx,
        lambda session, actor: counterparty_types.list_counterparty_types(
            session, actor, page, include_inactive=include_inactive
        ),
    )


async def create_counterparty_type(ctx: RequestContext, input: Any) -> Outcome[CounterpartyType]:
    return await write(
        ctx,
        lambda session, actor: counterparty_types.create_counterparty_type(
            session,
            actor,
            name=input.name,
            code=unset_to_none(input.code),
            fields=field_definitions(input.fields or []),
        ),
    )


async def update_counterparty_type(ctx: RequestContext, input: Any) -> Outcome[CounterpartyType]:
    return await write(
        ctx,
        lambda session, actor: counterparty_types.update_counterparty_type(
            session,
            actor,
            decode_id(input.type_id, "CounterpartyType", field="typeId"),
            name=keep(input.name),
            fields=field_definitions(keep(input.fields)),
            active=keep(input.active),
        ),
    )


async def list_dictionaries(
    ctx: RequestContext, first: int | None, after: str | None, kind: str | None
) -> Page[Dictionary]:
    page = page_request(ctx, first, after)
    return await read(ctx, lambda session, actor: dictionaries.list_dictionaries(session, actor, page, kind=kind))


async def create_dictionary(ctx: RequestContext, input: Any) -> Outcome[Dictionary]:
    return await write(
        ctx,
        lambda session, actor: dictionaries.create_dictionary(
            session, actor, name=input.name, kind=input.kind.value, code=unset_to_none(input.code)
        ),
    )


async def rename_dictionary(ctx: RequestContext, input: Any) -> Outcome[Dictionary]:
    return await write(
        ctx,
        lambda session, actor: dictionaries.rename_dictionary(
            session, actor, decode_id(input.dictionary_id, "Dictionary", field="dictionaryId"), input.name
        ),
    )


async def add_dictionary_entry(ctx: RequestContext, input: Any) -> Outcome[DictionaryEntry]:
    return await write(
        ctx,
        lambda session, actor: dictionaries.add_entry(
            session,
            actor,
            decode_id(input.dictionary_id, "Dictionary", field="dictionaryId"),
            name=input.name,
            code=unset_to_none(input.code),
            position=unset_to_none(input.position),
        ),
    )


async def update_dictionary_entry(ctx: RequestContext, input: Any) -> Outcome[DictionaryEntry]:
    return await write(
        ctx,
        lambda session, actor: dictionaries.update_entry(
            session,
            actor,
            decode_id(input.entry_id, "DictionaryEntry", field="entryId"),
            name=keep(input.name),
            active=keep(input.active),
            position=keep(input.position),
        ),
    )


async def list_event_types(
    ctx: RequestContext, first: int | None, after: str | None, include_inactive: bool
) -> Page[EventType]:
    page = page_request(ctx, first, after)
    return await read(
        ctx,
        lambda session, actor: event_types.list_event_types(session, actor, page, include_inactive=include_inactive),
    )


async def create_event_type(ctx: RequestContext, input: Any) -> Outcome[EventType]:
    automatic = unset_to_none(input.automatic_kind)
    return await write(
        ctx,
        lambda session, actor: event_types.create_event_type(
            session,
            actor,
            name=input.name,
            code=unset_to_none(input.code),
            colour=input.colour,
            fields=field_definitions(input.fields or []),
            number_pattern=unset_to_none(input.number_pattern),
            number_reset=input.number_reset.value,
            has_settlements=input.has_settlements,
            automatic_kind=automatic.value if automatic is not None else None,
        ),
    )


async def update_event_type(ctx: RequestContext, input: Any) -> Outcome[EventType]:
    return await write(
        ctx,
        lambda session, actor: event_types.update_event_type(
            session,
            actor,
            decode_id(input.type_id, "EventType", field="typeId"),
            name=keep(input.name),
            colour=keep(input.colour),
            fields=field_definitions(keep(input.fields)),
            number_pattern=keep(input.number_pattern),
            number_reset=keep_enum(input.number_reset),
            has_settlements=keep(input.has_settlements),
            active=keep(input.active),
        ),
    )


async def counterparty_custom_values(ctx: RequestContext, card: Any) -> list[tuple[FieldDefinition, Any]]:
    """The card's custom fields as its type defines them now, with their values (see customfields)."""
    if card.type_id is None:
        return []
    kind = await ctx.loaders.crm.counterparty_type.load(card.type_id)
    return visible_values(definitions_of(kind.fields), card.custom_values) if kind else []


async def event_custom_values(ctx: RequestContext, event: Any) -> list[tuple[FieldDefinition, Any]]:
    kind = await ctx.loaders.crm.event_type.load(event.type_id)
    return visible_values(definitions_of(kind.fields), event.custom_values) if kind else []


def type_fields(stored: Any) -> list[FieldDefinition]:
    return definitions_of(stored)
