"""The counterparty card and what hangs on it, as clients read them."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from dms.counterparties.models import Address as AddressModel
from dms.counterparties.models import BankAccount as BankAccountModel
from dms.counterparties.models import ContactMethod as ContactMethodModel
from dms.counterparties.models import ContactPerson as ContactPersonModel
from dms.counterparties.models import Counterparty as CounterpartyModel
from dms.counterparties.models import CounterpartyBlock as BlockModel
from resolvers import counterparties as counterparty_resolvers
from resolvers import crm_cases, crm_config, crm_details, crm_events
from resolvers.ids import encode_id
from schema.crm.config import CounterpartyType, CustomFieldValue, DictionaryEntry, custom_field_values
from schema.crm.enums import AddressUse, AutomaticEventKind, CaseStatus, ContactMethodKind, TaskStatus, TimelineKind
from schema.relay import Connection, Node
from schema.types import User

if TYPE_CHECKING:
    from schema.crm.work import Case, Event, Task, TimelineConnection
    from schema.types import Document


async def _user(info: Info, user_id: int | None) -> User | None:
    if user_id is None:
        return None
    model = await info.context.loaders.user.load(user_id)
    return User.of(model) if model else None


@strawberry.type
class Address(Node):
    _model: strawberry.Private[AddressModel]

    @classmethod
    def of(cls, model: AddressModel) -> Address:
        return cls(id=strawberry.ID(encode_id("Address", model.id)), _model=model)

    @strawberry.field
    def uses(self) -> list[AddressUse]:
        return [AddressUse(use) for use in self._model.uses]

    @strawberry.field
    def street(self) -> str | None:
        return self._model.street

    @strawberry.field
    def postal_code(self) -> str | None:
        return self._model.postal_code

    @strawberry.field
    def city(self) -> str:
        return self._model.city

    @strawberry.field(description="ISO 3166 two-letter code.")
    def country(self) -> str:
        return self._model.country

    @strawberry.field
    def valid_from(self) -> dt.datetime:
        return self._model.valid_from

    @strawberry.field(
        description="When the address stops being in force (it was changed or ended); null while no end is set."
    )
    def valid_to(self) -> dt.datetime | None:
        return self._model.valid_to

    @strawberry.field(description="In force now: validFrom has come and validTo has not.")
    def is_current(self) -> bool:
        return crm_details.in_force(self._model.valid_from, self._model.valid_to)

    @strawberry.field(description="The id of the address this one replaced.")
    def previous_id(self) -> strawberry.ID | None:
        previous = self._model.previous_id
        return strawberry.ID(encode_id("Address", previous)) if previous else None


@strawberry.type
class ContactMethod:
    _model: strawberry.Private[ContactMethodModel]

    @strawberry.field
    def kind(self) -> ContactMethodKind:
        return ContactMethodKind(self._model.kind)

    @strawberry.field
    def value(self) -> str:
        return self._model.value

    @strawberry.field
    def label(self) -> str | None:
        return self._model.label


@strawberry.type
class ContactPerson(Node):
    _model: strawberry.Private[ContactPersonModel]

    @classmethod
    def of(cls, model: ContactPersonModel) -> ContactPerson:
        return cls(id=strawberry.ID(encode_id("ContactPerson", model.id)), _model=model)

    @strawberry.field
    def name(self) -> str:
        return self._model.name

    @strawberry.field
    def position(self) -> str | None:
        return self._model.position

    @strawberry.field
    def responsibilities(self) -> str | None:
        return self._model.responsibilities

    @strawberry.field(description='When they can be reached, e.g. "Mon–Fri 8–15".')
    def availability(self) -> str | None:
        return self._model.availability

    @strawberry.field
    async def contact_methods(self, info: Info) -> list[ContactMethod]:
        methods = await info.context.loaders.crm.contact_methods.load(self._model.id)
        return [ContactMethod(_model=m) for m in methods]

    @strawberry.field(description="When the person was removed from the card; null while they are on it.")
    def removed_at(self) -> dt.datetime | None:
        return self._model.removed_at

    @strawberry.field
    async def counterparty(self, info: Info) -> Counterparty | None:
        model = await info.context.loaders.crm.card.load(self._model.counterparty_id)
        return Counterparty.of(model) if model else None


@strawberry.type
class BankAccount(Node):
    _model: strawberry.Private[BankAccountModel]

    @classmethod
    def of(cls, model: BankAccountModel) -> BankAccount:
        return cls(id=strawberry.ID(encode_id("BankAccount", model.id)), _model=model)

    @strawberry.field(description="Compact, without spaces.")
    def iban(self) -> str:
        return self._model.iban

    @strawberry.field(description="In groups of four, for people.")
    def iban_formatted(self) -> str:
        return crm_details.iban_in_groups(self._model.iban)

    @strawberry.field
    def bank_name(self) -> str | None:
        return self._model.bank_name

    @strawberry.field
    def description(self) -> str | None:
        return self._model.description


@strawberry.type(name="CounterpartyBlock", description='A restriction such as "no sales on credit".')
class Block(Node):
    _model: strawberry.Private[BlockModel]

    @classmethod
    def of(cls, model: BlockModel) -> Block:
        return cls(id=strawberry.ID(encode_id("CounterpartyBlock", model.id)), _model=model)

    @strawberry.field
    def reason(self) -> str:
        return self._model.reason

    @strawberry.field
    def valid_from(self) -> dt.datetime:
        return self._model.valid_from

    @strawberry.field(description="Null: until lifted.")
    def valid_to(self) -> dt.datetime | None:
        return self._model.valid_to

    @strawberry.field
    def in_force(self) -> bool:
        return crm_details.in_force(self._model.valid_from, self._model.valid_to)

    @strawberry.field
    async def created_by(self, info: Info) -> User | None:
        return await _user(info, self._model.created_by_id)


@strawberry.type
class Counterparty(Node):
    _model: strawberry.Private[CounterpartyModel]

    @classmethod
    def of(cls, model: CounterpartyModel) -> Counterparty:
        return cls(id=strawberry.ID(encode_id("Counterparty", model.id)), _model=model)

    @strawberry.field
    def name(self) -> str:
        return self._model.name

    @strawberry.field
    def short_name(self) -> str | None:
        return self._model.short_name

    @strawberry.field(description="Ten digits, without dashes.")
    def nip(self) -> str | None:
        return self._model.nip

    @strawberry.field(description='With dashes: "123-456-32-18".')
    def nip_formatted(self) -> str | None:
        return crm_details.nip_with_dashes(self._model.nip)

    @strawberry.field(description="9 or 14 digits.")
    def regon(self) -> str | None:
        return self._model.regon

    @strawberry.field(description='EU VAT number with its country prefix, e.g. "DE136695976".')
    def vat_number(self) -> str | None:
        return self._model.vat_number

    @strawberry.field
    def notes(self) -> str | None:
        return self._model.notes

    @strawberry.field
    async def type(self, info: Info) -> CounterpartyType | None:
        if self._model.type_id is None:
            return None
        model = await info.context.loaders.crm.counterparty_type.load(self._model.type_id)
        return CounterpartyType.of(model) if model else None

    @strawberry.field(description="The type's current fields with this card's values.")
    async def custom_fields(self, info: Info) -> list[CustomFieldValue]:
        return custom_field_values(await crm_config.counterparty_custom_values(info.context, self._model))

    async def _entries(self, info: Info, kind: str) -> list[DictionaryEntry]:
        found = await info.context.loaders.crm.classifications.load(self._model.id)
        return [DictionaryEntry.of(entry) for entry_kind, entry in found if entry_kind == kind]

    @strawberry.field
    async def categories(self, info: Info) -> list[DictionaryEntry]:
        return await self._entries(info, "category")

    @strawberry.field
    async def groups(self, info: Info) -> list[DictionaryEntry]:
        return await self._entries(info, "group")

    @strawberry.field(description="One value per segmentation dictionary (industry, priority, source, …).")
    async def segmentation(self, info: Info) -> list[DictionaryEntry]:
        return await self._entries(info, "segmentation")

    @strawberry.field
    async def account_manager(self, info: Info) -> User | None:
        return await _user(info, self._model.account_manager_id)

    @strawberry.field(
        description="Addresses in force now; with history: true, past and future ones too (newest first)."
    )
    async def addresses(self, info: Info, history: bool = False) -> list[Address]:
        crm = info.context.loaders.crm
        found = await (crm.addresses if history else crm.current_addresses).load(self._model.id)
        return [Address.of(a) for a in found]

    @strawberry.field
    async def contact_persons(self, info: Info) -> list[ContactPerson]:
        return [ContactPerson.of(p) for p in await info.context.loaders.crm.persons.load(self._model.id)]

    @strawberry.field
    async def bank_accounts(self, info: Info) -> list[BankAccount]:
        return [BankAccount.of(a) for a in await info.context.loaders.crm.bank_accounts.load(self._model.id)]

    @strawberry.field(description="Blocks in force or to come; with history: true, lifted ones too.")
    async def blocks(self, info: Info, history: bool = False) -> list[Block]:
        found = await info.context.loaders.crm.blocks.load(self._model.id)
        now = dt.datetime.now(dt.UTC)
        return [Block.of(b) for b in found if history or crm_details.in_force_or_to_come(b, now)]

    @strawberry.field(description="Whether a block is in force now.")
    async def is_blocked(self, info: Info) -> bool:
        found = await info.context.loaders.crm.blocks.load(self._model.id)
        return any(crm_details.in_force(b.valid_from, b.valid_to) for b in found)

    @strawberry.field
    def created_at(self) -> dt.datetime:
        return self._model.created_at

    @strawberry.field
    def updated_at(self) -> dt.datetime:
        return self._model.updated_at

    @strawberry.field(description="Set on a deleted card (it can be restored unless it was merged).")
    def deleted_at(self) -> dt.datetime | None:
        return self._model.deleted_at

    @strawberry.field(description="The card this one was merged into.")
    async def merged_into(self, info: Info) -> Counterparty | None:
        if self._model.merged_into_id is None:
            return None
        model = await info.context.loaders.crm.card.load(self._model.merged_into_id)
        return Counterparty.of(model) if model else None

    @strawberry.field(description="Documents of the card the viewer may read, newest first.")
    async def documents(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Annotated[Document, strawberry.lazy("schema.types")]]:
        from schema.types import Document

        page = await counterparty_resolvers.documents_of(info.context, self._model, first, after)
        return Connection.of(page, Document.of)

    @strawberry.field(
        description="Events and readable documents of the card in one list, newest first; "
        "the card's first page shows the five newest."
    )
    async def timeline(
        self,
        info: Info,
        first: int | None = 5,
        after: str | None = None,
        kinds: list[TimelineKind] | None = None,
        exclude_automatic_kinds: Annotated[
            list[AutomaticEventKind] | None,
            strawberry.argument(
                description="Leave out the events of these automatic kinds: [CARD_OPENED] hides who opened the card."
            ),
        ] = None,
    ) -> Annotated[TimelineConnection, strawberry.lazy("schema.crm.work")]:
        from schema.crm.work import TimelineConnection

        page = await crm_events.timeline_of(
            info.context,
            self._model,
            first,
            after,
            None if kinds is None else [k.value for k in kinds],
            [k.value for k in exclude_automatic_kinds or ()],
        )
        return TimelineConnection.of(page)

    @strawberry.field(description="Events of the card, newest first.")
    async def events(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Annotated[Event, strawberry.lazy("schema.crm.work")]]:
        from schema.crm.work import Event

        page = await crm_events.events_of(info.context, "counterparty", self._model.id, first, after)
        return Connection.of(page, Event.of)

    @strawberry.field(description="Cases of the card, the most recently opened first.")
    async def cases(
        self, info: Info, first: int | None = None, after: str | None = None, statuses: list[CaseStatus] | None = None
    ) -> Connection[Annotated[Case, strawberry.lazy("schema.crm.work")]]:
        from schema.crm.work import Case

        wanted = [s.value for s in statuses] if statuses else None
        return Connection.of(await crm_cases.cases_of_card(info.context, self._model.id, first, after, wanted), Case.of)

    @strawberry.field(description="Tasks about the card, by due date.")
    async def tasks(
        self, info: Info, first: int | None = None, after: str | None = None, statuses: list[TaskStatus] | None = None
    ) -> Connection[Annotated[Task, strawberry.lazy("schema.crm.work")]]:
        from schema.crm.work import Task

        wanted = [s.value for s in statuses] if statuses else None
        page = await crm_cases.tasks_of(info.context, "counterparty", self._model.id, first, after, wanted)
        return Connection.of(page, Task.of)
