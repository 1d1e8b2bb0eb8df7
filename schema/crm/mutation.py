"""Mutations of the CRM side: each takes one input and returns its payload with userErrors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import strawberry
from strawberry.types import Info

from resolvers import counterparties, crm_cases, crm_config, crm_details, crm_events
from resolvers.outcome import Outcome
from schema.crm.config import CounterpartyType, Dictionary, DictionaryEntry, EventType
from schema.crm.counterparty import Address, BankAccount, Block, ContactPerson, Counterparty
from schema.crm.inputs import (
    AddAddressInput,
    AddBankAccountInput,
    AddBlockInput,
    AddContactPersonInput,
    AddDictionaryEntryInput,
    AddressPayload,
    AddressRefInput,
    BankAccountPayload,
    BankAccountRefInput,
    BlockPayload,
    BlockRefInput,
    CasePayload,
    ChangeAddressInput,
    ContactPersonPayload,
    ContactPersonRefInput,
    CounterpartyPayload,
    CounterpartyRefInput,
    CounterpartyTypePayload,
    CreateCaseInput,
    CreateCounterpartyInput,
    CreateCounterpartyTypeInput,
    CreateDictionaryInput,
    CreateEventTypeInput,
    CreateTaskInput,
    DictionaryEntryPayload,
    DictionaryPayload,
    EventPayload,
    EventTypePayload,
    MergeCounterpartiesInput,
    MoveToCaseInput,
    RegisterEventInput,
    RenameDictionaryInput,
    TaskPayload,
    UpdateCaseInput,
    UpdateContactPersonInput,
    UpdateCounterpartyInput,
    UpdateCounterpartyTypeInput,
    UpdateDictionaryEntryInput,
    UpdateEventTypeInput,
    UpdateTaskInput,
)
from schema.crm.work import Case, Event, Task
from schema.errors import UserError

P = TypeVar("P")


def _payload(payload: Callable[..., P], field: str, wrap: Callable[[Any], Any], outcome: Outcome[Any]) -> P:
    value = outcome.value
    return payload(**{field: wrap(value) if value is not None else None, "user_errors": UserError.all(outcome.errors)})


@strawberry.type
class CrmMutation:
    # --- the card --------------------------------------------------------------------------

    @strawberry.mutation
    async def create_counterparty(self, info: Info, input: CreateCounterpartyInput) -> CounterpartyPayload:
        outcome = await counterparties.create_counterparty(info.context, input)
        return _payload(CounterpartyPayload, "counterparty", Counterparty.of, outcome)

    @strawberry.mutation(description="Records a DATA_CHANGED event with the changed fields.")
    async def update_counterparty(self, info: Info, input: UpdateCounterpartyInput) -> CounterpartyPayload:
        outcome = await counterparties.update_counterparty(info.context, input)
        return _payload(CounterpartyPayload, "counterparty", Counterparty.of, outcome)

    @strawberry.mutation(
        description=(
            "Soft delete: restoreCounterparty brings the card back. Both are PERMISSION_DENIED unless the "
            "caller may change (WRITE) every document on the card, or is an administrator."
        )
    )
    async def delete_counterparty(self, info: Info, input: CounterpartyRefInput) -> CounterpartyPayload:
        outcome = await counterparties.delete_counterparty(info.context, input.counterparty_id)
        return _payload(CounterpartyPayload, "counterparty", Counterparty.of, outcome)

    @strawberry.mutation
    async def restore_counterparty(self, info: Info, input: CounterpartyRefInput) -> CounterpartyPayload:
        outcome = await counterparties.restore_counterparty(info.context, input.counterparty_id)
        return _payload(CounterpartyPayload, "counterparty", Counterparty.of, outcome)

    @strawberry.mutation(
        description="Everything on the sources moves to the target in one transaction; the sources are "
        "soft-deleted pointing at the target. PERMISSION_DENIED unless the caller may change (WRITE) every "
        "document on the sources, or is an administrator."
    )
    async def merge_counterparties(self, info: Info, input: MergeCounterpartiesInput) -> CounterpartyPayload:
        outcome = await counterparties.merge_counterparties(info.context, input.target_id, list(input.source_ids))
        return _payload(CounterpartyPayload, "counterparty", Counterparty.of, outcome)

    @strawberry.mutation
    async def add_address(self, info: Info, input: AddAddressInput) -> AddressPayload:
        return _payload(AddressPayload, "address", Address.of, await crm_details.add_address(info.context, input))

    @strawberry.mutation(description="The new address replaces the current one, which is kept with its validity.")
    async def change_address(self, info: Info, input: ChangeAddressInput) -> AddressPayload:
        return _payload(AddressPayload, "address", Address.of, await crm_details.change_address(info.context, input))

    @strawberry.mutation
    async def end_address(self, info: Info, input: AddressRefInput) -> AddressPayload:
        outcome = await crm_details.end_address(info.context, input.address_id)
        return _payload(AddressPayload, "address", Address.of, outcome)

    @strawberry.mutation
    async def add_contact_person(self, info: Info, input: AddContactPersonInput) -> ContactPersonPayload:
        outcome = await crm_details.add_contact_person(info.context, input)
        return _payload(ContactPersonPayload, "contact_person", ContactPerson.of, outcome)

    @strawberry.mutation
    async def update_contact_person(self, info: Info, input: UpdateContactPersonInput) -> ContactPersonPayload:
        outcome = await crm_details.update_contact_person(info.context, input)
        return _payload(ContactPersonPayload, "contact_person", ContactPerson.of, outcome)

    @strawberry.mutation
    async def remove_contact_person(self, info: Info, input: ContactPersonRefInput) -> ContactPersonPayload:
        outcome = await crm_details.remove_contact_person(info.context, input.contact_person_id)
        return _payload(ContactPersonPayload, "contact_person", ContactPerson.of, outcome)

    @strawberry.mutation
    async def add_bank_account(self, info: Info, input: AddBankAccountInput) -> BankAccountPayload:
        outcome = await crm_details.add_bank_account(info.context, input)
        return _payload(BankAccountPayload, "bank_account", BankAccount.of, outcome)

    @strawberry.mutation
    async def remove_bank_account(self, info: Info, input: BankAccountRefInput) -> BankAccountPayload:
        outcome = await crm_details.remove_bank_account(info.context, input.bank_account_id)
        return _payload(BankAccountPayload, "bank_account", BankAccount.of, outcome)

    @strawberry.mutation
    async def add_block(self, info: Info, input: AddBlockInput) -> BlockPayload:
        return _payload(BlockPayload, "block", Block.of, await crm_details.add_block(info.context, input))

    @strawberry.mutation(description="The block ends now and stays on the card as history.")
    async def lift_block(self, info: Info, input: BlockRefInput) -> BlockPayload:
        return _payload(BlockPayload, "block", Block.of, await crm_details.lift_block(info.context, input.block_id))

    # --- configuration (administrators) ----------------------------------------------------

    @strawberry.mutation
    async def create_counterparty_type(self, info: Info, input: CreateCounterpartyTypeInput) -> CounterpartyTypePayload:
        outcome = await crm_config.create_counterparty_type(info.context, input)
        return _payload(CounterpartyTypePayload, "counterparty_type", CounterpartyType.of, outcome)

    @strawberry.mutation
    async def update_counterparty_type(self, info: Info, input: UpdateCounterpartyTypeInput) -> CounterpartyTypePayload:
        outcome = await crm_config.update_counterparty_type(info.context, input)
        return _payload(CounterpartyTypePayload, "counterparty_type", CounterpartyType.of, outcome)

    @strawberry.mutation
    async def create_dictionary(self, info: Info, input: CreateDictionaryInput) -> DictionaryPayload:
        outcome = await crm_config.create_dictionary(info.context, input)
        return _payload(DictionaryPayload, "dictionary", Dictionary.of, outcome)

    @strawberry.mutation
    async def rename_dictionary(self, info: Info, input: RenameDictionaryInput) -> DictionaryPayload:
        outcome = await crm_config.rename_dictionary(info.context, input)
        return _payload(DictionaryPayload, "dictionary", Dictionary.of, outcome)

    @strawberry.mutation
    async def add_dictionary_entry(self, info: Info, input: AddDictionaryEntryInput) -> DictionaryEntryPayload:
        outcome = await crm_config.add_dictionary_entry(info.context, input)
        return _payload(DictionaryEntryPayload, "entry", DictionaryEntry.of, outcome)

    @strawberry.mutation(description="Rename, reorder, retire (active: false) or bring back an entry.")
    async def update_dictionary_entry(self, info: Info, input: UpdateDictionaryEntryInput) -> DictionaryEntryPayload:
        outcome = await crm_config.update_dictionary_entry(info.context, input)
        return _payload(DictionaryEntryPayload, "entry", DictionaryEntry.of, outcome)

    @strawberry.mutation
    async def create_event_type(self, info: Info, input: CreateEventTypeInput) -> EventTypePayload:
        outcome = await crm_config.create_event_type(info.context, input)
        return _payload(EventTypePayload, "event_type", EventType.of, outcome)

    @strawberry.mutation
    async def update_event_type(self, info: Info, input: UpdateEventTypeInput) -> EventTypePayload:
        outcome = await crm_config.update_event_type(info.context, input)
        return _payload(EventTypePayload, "event_type", EventType.of, outcome)

    # --- events, cases, tasks --------------------------------------------------------------

    @strawberry.mutation(description="Backdated or on behalf of a colleague: the real time and user are kept too.")
    async def register_event(self, info: Info, input: RegisterEventInput) -> EventPayload:
        return _payload(EventPayload, "event", Event.of, await crm_events.register_event(info.context, input))

    @strawberry.mutation
    async def create_case(self, info: Info, input: CreateCaseInput) -> CasePayload:
        return _payload(CasePayload, "case", Case.of, await crm_cases.create_case(info.context, input))

    @strawberry.mutation(description="Closing a case (status CLOSED) stamps closedAt; reopening clears it.")
    async def update_case(self, info: Info, input: UpdateCaseInput) -> CasePayload:
        return _payload(CasePayload, "case", Case.of, await crm_cases.update_case(info.context, input))

    @strawberry.mutation
    async def move_to_case(self, info: Info, input: MoveToCaseInput) -> CasePayload:
        return _payload(CasePayload, "case", Case.of, await crm_cases.move_to_case(info.context, input))

    @strawberry.mutation
    async def create_task(self, info: Info, input: CreateTaskInput) -> TaskPayload:
        return _payload(TaskPayload, "task", Task.of, await crm_cases.create_task(info.context, input))

    @strawberry.mutation
    async def update_task(self, info: Info, input: UpdateTaskInput) -> TaskPayload:
        return _payload(TaskPayload, "task", Task.of, await crm_cases.update_task(info.context, input))
