"""Inputs, filters and payloads of the CRM side.

In update inputs a field left out leaves the value as it is; null clears it (where it may be empty);
a list given replaces the whole list.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry
from strawberry.scalars import JSON

from schema.crm.config import CounterpartyType, Dictionary, DictionaryEntry, EventType
from schema.crm.counterparty import Address, BankAccount, Block, ContactPerson, Counterparty
from schema.crm.enums import (
    AddressUse,
    AutomaticEventKind,
    CaseStatus,
    ContactMethodKind,
    CustomFieldKind,
    DictionaryKind,
    NumberReset,
    TaskStatus,
)
from schema.crm.work import Case, Event, Task
from schema.errors import UserError

UNSET = strawberry.UNSET

# --- counterparties --------------------------------------------------------------------------


@strawberry.input(description="Every condition given must hold; within a list any value will do.")
class CounterpartyFilter:
    text: str | None = strawberry.field(default=None, description="Name, short name, NIP or REGON (dashes optional).")
    type_ids: list[strawberry.ID] | None = None
    category_ids: list[strawberry.ID] | None = None
    group_ids: list[strawberry.ID] | None = None
    segment_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Entries of segmentation dictionaries: any of each dictionary named."
    )
    account_manager_ids: list[strawberry.ID] | None = None
    blocked: bool | None = strawberry.field(default=None, description="Under a block in force now (or not).")
    deleted: bool = strawberry.field(default=False, description="List the deleted cards instead of the active.")


@strawberry.input
class CreateCounterpartyInput:
    name: str
    nip: str | None = None
    short_name: str | None = None
    regon: str | None = None
    vat_number: str | None = None
    type_id: strawberry.ID | None = None
    custom_fields: JSON | None = strawberry.field(default=None, description="Values by field key.")
    category_ids: list[strawberry.ID] | None = None
    group_ids: list[strawberry.ID] | None = None
    segment_ids: list[strawberry.ID] | None = None
    account_manager_id: strawberry.ID | None = None
    notes: str | None = None


@strawberry.input
class UpdateCounterpartyInput:
    counterparty_id: strawberry.ID
    name: str | None = UNSET
    nip: str | None = UNSET
    short_name: str | None = UNSET
    regon: str | None = UNSET
    vat_number: str | None = UNSET
    type_id: strawberry.ID | None = UNSET
    custom_fields: JSON | None = strawberry.field(
        default=UNSET, description="Only the keys given change; a null value clears that field."
    )
    category_ids: list[strawberry.ID] | None = UNSET
    group_ids: list[strawberry.ID] | None = UNSET
    segment_ids: list[strawberry.ID] | None = UNSET
    account_manager_id: strawberry.ID | None = UNSET
    notes: str | None = UNSET


@strawberry.input
class CounterpartyRefInput:
    counterparty_id: strawberry.ID


@strawberry.input
class MergeCounterpartiesInput:
    target_id: strawberry.ID
    source_ids: list[strawberry.ID]


@strawberry.type
class CounterpartyPayload:
    counterparty: Counterparty | None
    user_errors: list[UserError]


@strawberry.input
class AddAddressInput:
    counterparty_id: strawberry.ID
    uses: list[AddressUse]
    city: str
    street: str | None = None
    postal_code: str | None = None
    country: str = "PL"
    valid_from: dt.datetime | None = None


@strawberry.input(description="The current address is kept as history, valid until the new one starts.")
class ChangeAddressInput:
    address_id: strawberry.ID
    uses: list[AddressUse]
    city: str
    street: str | None = None
    postal_code: str | None = None
    country: str = "PL"
    valid_from: dt.datetime | None = None


@strawberry.input
class AddressRefInput:
    address_id: strawberry.ID


@strawberry.type
class AddressPayload:
    address: Address | None
    user_errors: list[UserError]


@strawberry.input
class ContactMethodInput:
    kind: ContactMethodKind
    value: str
    label: str | None = None


@strawberry.input
class AddContactPersonInput:
    counterparty_id: strawberry.ID
    name: str
    position: str | None = None
    responsibilities: str | None = None
    availability: str | None = None
    contact_methods: list[ContactMethodInput] | None = None


@strawberry.input
class UpdateContactPersonInput:
    contact_person_id: strawberry.ID
    name: str | None = UNSET
    position: str | None = UNSET
    responsibilities: str | None = UNSET
    availability: str | None = UNSET
    contact_methods: list[ContactMethodInput] | None = UNSET


@strawberry.input
class ContactPersonRefInput:
    contact_person_id: strawberry.ID


@strawberry.type
class ContactPersonPayload:
    contact_person: ContactPerson | None
    user_errors: list[UserError]


@strawberry.input
class AddBankAccountInput:
    counterparty_id: strawberry.ID
    iban: str
    bank_name: str | None = None
    description: str | None = None


@strawberry.input
class BankAccountRefInput:
    bank_account_id: strawberry.ID


@strawberry.type
class BankAccountPayload:
    bank_account: BankAccount | None
    user_errors: list[UserError]


@strawberry.input
class AddBlockInput:
    counterparty_id: strawberry.ID
    reason: str
    valid_from: dt.datetime | None = None
    valid_to: dt.datetime | None = None


@strawberry.input
class BlockRefInput:
    block_id: strawberry.ID


@strawberry.type
class BlockPayload:
    block: Block | None
    user_errors: list[UserError]


# --- configuration ---------------------------------------------------------------------------


@strawberry.input
class CustomFieldInput:
    key: str = strawberry.field(description="Lower-case letters, digits and _; values are stored under it.")
    label: str
    kind: CustomFieldKind
    required: bool = False
    pattern: str | None = None
    dictionary_id: strawberry.ID | None = strawberry.field(default=None, description="For CHOICE and MULTICHOICE.")


@strawberry.input
class CreateCounterpartyTypeInput:
    name: str
    code: str | None = None
    fields: list[CustomFieldInput] | None = None


@strawberry.input(
    description="Giving fields replaces the list. Stored cards are never rewritten: values of removed "
    "fields are kept hidden and come back with a field of the same key."
)
class UpdateCounterpartyTypeInput:
    type_id: strawberry.ID
    name: str | None = UNSET
    fields: list[CustomFieldInput] | None = UNSET
    active: bool | None = UNSET


@strawberry.type
class CounterpartyTypePayload:
    counterparty_type: CounterpartyType | None
    user_errors: list[UserError]


@strawberry.input
class CreateDictionaryInput:
    name: str
    kind: DictionaryKind
    code: str | None = None


@strawberry.input
class RenameDictionaryInput:
    dictionary_id: strawberry.ID
    name: str


@strawberry.type
class DictionaryPayload:
    dictionary: Dictionary | None
    user_errors: list[UserError]


@strawberry.input
class AddDictionaryEntryInput:
    dictionary_id: strawberry.ID
    name: str
    code: str | None = None
    position: int | None = None


@strawberry.input
class UpdateDictionaryEntryInput:
    entry_id: strawberry.ID
    name: str | None = UNSET
    active: bool | None = UNSET
    position: int | None = UNSET


@strawberry.type
class DictionaryEntryPayload:
    entry: DictionaryEntry | None
    user_errors: list[UserError]


@strawberry.input
class CreateEventTypeInput:
    name: str
    code: str | None = None
    colour: str = "#607d8b"
    fields: list[CustomFieldInput] | None = None
    number_pattern: str | None = strawberry.field(
        default=None, description='e.g. "SPR/{YYYY}/{MM}/{N:4}"; {N} is the number, {N:4} zero-padded.'
    )
    number_reset: NumberReset = NumberReset.NEVER
    has_settlements: bool = False
    automatic_kind: AutomaticEventKind | None = strawberry.field(
        default=None, description="Make this the type the system records that kind with."
    )


@strawberry.input
class UpdateEventTypeInput:
    type_id: strawberry.ID
    name: str | None = UNSET
    colour: str | None = UNSET
    fields: list[CustomFieldInput] | None = UNSET
    number_pattern: str | None = UNSET
    number_reset: NumberReset | None = strawberry.field(
        default=UNSET,
        description="Refused (CONFLICT) once events of this type have numbers: under another reset they would repeat.",
    )
    has_settlements: bool | None = UNSET
    active: bool | None = UNSET


@strawberry.type
class EventTypePayload:
    event_type: EventType | None
    user_errors: list[UserError]


# --- events, cases, tasks --------------------------------------------------------------------


@strawberry.input
class SettlementInput:
    description: str
    quantity: Decimal
    unit_price: Decimal
    unit: str | None = None


@strawberry.input
class RegisterEventInput:
    type_id: strawberry.ID
    occurred_at: dt.datetime | None = strawberry.field(default=None, description="Now when left out; may be past.")
    on_behalf_of_id: strawberry.ID | None = strawberry.field(
        default=None, description="The colleague the event is registered for; you stay its registering user."
    )
    note: str | None = None
    counterparty_id: strawberry.ID | None = None
    contact_person_id: strawberry.ID | None = None
    case_id: strawberry.ID | None = None
    custom_fields: JSON | None = None
    settlements: list[SettlementInput] | None = None


@strawberry.type
class EventPayload:
    event: Event | None
    user_errors: list[UserError]


@strawberry.input
class EventFilter:
    counterparty_id: strawberry.ID | None = None
    case_id: strawberry.ID | None = None
    type_ids: list[strawberry.ID] | None = None
    user_ids: list[strawberry.ID] | None = None
    from_: dt.datetime | None = strawberry.field(default=None, name="from")
    to: dt.datetime | None = None


@strawberry.input(description="From inclusive, to exclusive, by when the events happened.")
class EventReportFilter:
    from_: dt.datetime | None = strawberry.field(default=None, name="from")
    to: dt.datetime | None = None
    type_ids: list[strawberry.ID] | None = None
    counterparty_id: strawberry.ID | None = None
    user_ids: list[strawberry.ID] | None = None


@strawberry.input
class CreateCaseInput:
    counterparty_id: strawberry.ID
    title: str
    number: str | None = strawberry.field(default=None, description='The next "SPR/YYYY/NNNN" when left out.')
    owner_id: strawberry.ID | None = None
    description: str | None = None


@strawberry.input
class UpdateCaseInput:
    case_id: strawberry.ID
    title: str | None = UNSET
    status: CaseStatus | None = UNSET
    owner_id: strawberry.ID | None = UNSET
    description: str | None = UNSET


@strawberry.input(
    description="Attach documents and events to a case (moving them from another); caseId null detaches,"
    " and must be given as null to do so."
)
class MoveToCaseInput:
    case_id: strawberry.ID | None = UNSET
    document_ids: list[strawberry.ID] | None = None
    event_ids: list[strawberry.ID] | None = None


@strawberry.type
class CasePayload:
    case: Case | None
    user_errors: list[UserError]


@strawberry.input
class CaseFilter:
    counterparty_id: strawberry.ID | None = None
    statuses: list[CaseStatus] | None = None
    owner_id: strawberry.ID | None = None


@strawberry.input
class CreateTaskInput:
    title: str
    description: str | None = None
    assignee_id: strawberry.ID | None = strawberry.field(default=None, description="Yourself when left out.")
    due_on: dt.date | None = None
    event_id: strawberry.ID | None = None
    counterparty_id: strawberry.ID | None = None
    case_id: strawberry.ID | None = None


@strawberry.input
class UpdateTaskInput:
    task_id: strawberry.ID
    title: str | None = UNSET
    description: str | None = UNSET
    assignee_id: strawberry.ID | None = UNSET
    status: TaskStatus | None = UNSET
    due_on: dt.date | None = UNSET
    event_id: strawberry.ID | None = UNSET
    counterparty_id: strawberry.ID | None = UNSET
    case_id: strawberry.ID | None = UNSET


@strawberry.type
class TaskPayload:
    task: Task | None
    user_errors: list[UserError]


@strawberry.input
class TaskFilter:
    assignee_id: strawberry.ID | None = None
    statuses: list[TaskStatus] | None = None
    counterparty_id: strawberry.ID | None = None
    case_id: strawberry.ID | None = None
