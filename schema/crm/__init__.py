"""The CRM side of the schema: counterparty cards, configuration, events, cases, tasks."""

from __future__ import annotations

from typing import Any

from dms.cases.models import Case as CaseModel
from dms.counterparties.models import Address as AddressModel
from dms.counterparties.models import BankAccount as BankAccountModel
from dms.counterparties.models import ContactPerson as ContactPersonModel
from dms.counterparties.models import Counterparty as CounterpartyModel
from dms.counterparties.models import CounterpartyBlock as BlockModel
from dms.counterparties.models import CounterpartyType as CounterpartyTypeModel
from dms.counterparties.models import Dictionary as DictionaryModel
from dms.counterparties.models import DictionaryEntry as DictionaryEntryModel
from dms.events.models import Event as EventModel
from dms.events.models import EventType as EventTypeModel
from dms.tasks.models import Task as TaskModel
from schema.crm.config import CounterpartyType, Dictionary, DictionaryEntry, EventType
from schema.crm.counterparty import Address, BankAccount, Block, ContactPerson, Counterparty
from schema.crm.mutation import CrmMutation
from schema.crm.query import CrmQuery
from schema.crm.work import Case, Event, Task
from schema.relay import Node

_WRAPPERS: list[tuple[type, Any]] = [
    (CounterpartyModel, Counterparty.of),
    (CounterpartyTypeModel, CounterpartyType.of),
    (DictionaryModel, Dictionary.of),
    (DictionaryEntryModel, DictionaryEntry.of),
    (ContactPersonModel, ContactPerson.of),
    (AddressModel, Address.of),
    (BankAccountModel, BankAccount.of),
    (BlockModel, Block.of),
    (EventTypeModel, EventType.of),
    (EventModel, Event.of),
    (CaseModel, Case.of),
    (TaskModel, Task.of),
]


def wrap_crm_node(model: Any) -> Node | None:
    """The GraphQL type of a CRM model `node(id:)` found, or None."""
    for model_type, wrap in _WRAPPERS:
        if isinstance(model, model_type):
            return wrap(model)
    return None


CRM_TYPES: list[Any] = [
    Counterparty,
    CounterpartyType,
    Dictionary,
    DictionaryEntry,
    Address,
    ContactPerson,
    BankAccount,
    Block,
    EventType,
    Event,
    Case,
    Task,
]

__all__ = ["CRM_TYPES", "Counterparty", "CrmMutation", "CrmQuery", "wrap_crm_node"]
