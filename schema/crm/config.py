"""Types of what administrators configure: counterparty types, dictionaries, event types, fields."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from dms.counterparties.customfields import FieldDefinition
from dms.counterparties.models import CounterpartyType as CounterpartyTypeModel
from dms.counterparties.models import Dictionary as DictionaryModel
from dms.counterparties.models import DictionaryEntry as DictionaryEntryModel
from dms.events.models import EventType as EventTypeModel
from resolvers import crm_config
from resolvers.ids import encode_id
from schema.crm.enums import AutomaticEventKind, CustomFieldKind, DictionaryKind, NumberReset
from schema.relay import Node


@strawberry.type
class Dictionary(Node):
    _model: strawberry.Private[DictionaryModel]

    @classmethod
    def of(cls, model: DictionaryModel) -> Dictionary:
        return cls(id=strawberry.ID(encode_id("Dictionary", model.id)), _model=model)

    @strawberry.field
    def code(self) -> str:
        return self._model.code

    @strawberry.field
    def name(self) -> str:
        return self._model.name

    @strawberry.field
    def kind(self) -> DictionaryKind:
        return DictionaryKind(self._model.kind)

    @strawberry.field(description="In their order; retired entries only when asked for.")
    async def entries(self, info: Info, include_retired: bool = False) -> list[DictionaryEntry]:
        entries = await info.context.loaders.crm.entries_of_dictionary.load(self._model.id)
        return [DictionaryEntry.of(e) for e in entries if include_retired or e.active]


@strawberry.type
class DictionaryEntry(Node):
    _model: strawberry.Private[DictionaryEntryModel]

    @classmethod
    def of(cls, model: DictionaryEntryModel) -> DictionaryEntry:
        return cls(id=strawberry.ID(encode_id("DictionaryEntry", model.id)), _model=model)

    @strawberry.field(description="Stable; what custom choice fields store.")
    def code(self) -> str:
        return self._model.code

    @strawberry.field
    def name(self) -> str:
        return self._model.name

    @strawberry.field
    def position(self) -> int:
        return self._model.position

    @strawberry.field(description="A retired entry stays where it was used but cannot be chosen again.")
    def active(self) -> bool:
        return self._model.active

    @strawberry.field
    async def dictionary(self, info: Info) -> Dictionary:
        return Dictionary.of(await info.context.loaders.crm.dictionary.load(self._model.dictionary_id))


@strawberry.type
class CustomFieldDefinition:
    _field: strawberry.Private[FieldDefinition]

    @strawberry.field
    def key(self) -> str:
        return self._field.key

    @strawberry.field
    def label(self) -> str:
        return self._field.label

    @strawberry.field
    def kind(self) -> CustomFieldKind:
        return CustomFieldKind(self._field.kind)

    @strawberry.field
    def required(self) -> bool:
        return self._field.required

    @strawberry.field(description="A regular expression a text value must match in full.")
    def pattern(self) -> str | None:
        return self._field.pattern

    @strawberry.field(description="Where the choices of a CHOICE or MULTICHOICE field come from.")
    async def dictionary(self, info: Info) -> Dictionary | None:
        if self._field.dictionary_id is None:
            return None
        model = await info.context.loaders.crm.dictionary.load(self._field.dictionary_id)
        return Dictionary.of(model) if model else None


@strawberry.type
class CustomFieldValue:
    """A current field of the type with its value: text, whole number, decimal as a string,
    date as YYYY-MM-DD, boolean, a choice's code or a list of codes; null when empty."""

    _field: strawberry.Private[FieldDefinition]
    value: JSON | None

    @strawberry.field
    def key(self) -> str:
        return self._field.key

    @strawberry.field
    def label(self) -> str:
        return self._field.label

    @strawberry.field
    def kind(self) -> CustomFieldKind:
        return CustomFieldKind(self._field.kind)


def custom_field_values(shown: list[tuple[FieldDefinition, object]]) -> list[CustomFieldValue]:
    return [CustomFieldValue(_field=field, value=value) for field, value in shown]


def definitions(stored: object) -> list[CustomFieldDefinition]:
    return [CustomFieldDefinition(_field=field) for field in crm_config.type_fields(stored)]


@strawberry.type(description="A kind of card: it decides which custom fields the card has.")
class CounterpartyType(Node):
    _model: strawberry.Private[CounterpartyTypeModel]

    @classmethod
    def of(cls, model: CounterpartyTypeModel) -> CounterpartyType:
        return cls(id=strawberry.ID(encode_id("CounterpartyType", model.id)), _model=model)

    @strawberry.field
    def code(self) -> str:
        return self._model.code

    @strawberry.field
    def name(self) -> str:
        return self._model.name

    @strawberry.field
    def active(self) -> bool:
        return self._model.active

    @strawberry.field
    def fields(self) -> list[CustomFieldDefinition]:
        return definitions(self._model.fields)


@strawberry.type
class EventType(Node):
    _model: strawberry.Private[EventTypeModel]

    @classmethod
    def of(cls, model: EventTypeModel) -> EventType:
        return cls(id=strawberry.ID(encode_id("EventType", model.id)), _model=model)

    @strawberry.field
    def code(self) -> str:
        return self._model.code

    @strawberry.field
    def name(self) -> str:
        return self._model.name

    @strawberry.field(description="#rrggbb, for reports and calendars.")
    def colour(self) -> str:
        return self._model.colour

    @strawberry.field(description="The type's own form.")
    def fields(self) -> list[CustomFieldDefinition]:
        return definitions(self._model.fields)

    @strawberry.field(description='e.g. "SPR/{YYYY}/{MM}/{N:4}"; null when events are not numbered.')
    def number_pattern(self) -> str | None:
        return self._model.number_pattern

    @strawberry.field
    def number_reset(self) -> NumberReset:
        return NumberReset(self._model.number_reset)

    @strawberry.field
    def has_settlements(self) -> bool:
        return self._model.has_settlements

    @strawberry.field(description="Set for the types the system records by itself.")
    def automatic_kind(self) -> AutomaticEventKind | None:
        kind = self._model.automatic_kind
        return AutomaticEventKind(kind) if kind else None

    @strawberry.field(description="An inactive type cannot be registered (an automatic one stops being recorded).")
    def active(self) -> bool:
        return self._model.active

    @strawberry.field
    def updated_at(self) -> dt.datetime:
        return self._model.updated_at
