"""Every model, imported once so the metadata (and Alembic) sees all tables."""

from dms.access.models import BinderPermission, DocumentPermission
from dms.audit.models import AuditEntry
from dms.base import Base
from dms.binders.models import Binder, BinderClosure
from dms.cases.models import Case
from dms.counterparties.models import (
    Address,
    BankAccount,
    ContactMethod,
    ContactPerson,
    Counterparty,
    CounterpartyBlock,
    CounterpartyClassification,
    CounterpartyType,
    Dictionary,
    DictionaryEntry,
)
from dms.documents.models import (
    Document,
    DocumentHistoryEntry,
    DocumentLock,
    DocumentStatus,
    DocumentType,
    DocumentVersion,
    Download,
    StagedUpload,
)
from dms.events.models import Event, EventType, NumberCounter, Settlement
from dms.identity.models import AccessToken, Group, GroupMembership, LoginFailure, User
from dms.outbox.directory import DirectoryOutboxEntry
from dms.outbox.models import OutboxEntry
from dms.tasks.models import Task

__all__ = [
    "AccessToken",
    "Address",
    "AuditEntry",
    "BankAccount",
    "Base",
    "Binder",
    "BinderClosure",
    "BinderPermission",
    "Case",
    "ContactMethod",
    "ContactPerson",
    "Counterparty",
    "CounterpartyBlock",
    "CounterpartyClassification",
    "CounterpartyType",
    "Dictionary",
    "DictionaryEntry",
    "DirectoryOutboxEntry",
    "Document",
    "DocumentHistoryEntry",
    "DocumentLock",
    "DocumentPermission",
    "DocumentStatus",
    "DocumentType",
    "DocumentVersion",
    "Download",
    "Event",
    "EventType",
    "Group",
    "GroupMembership",
    "LoginFailure",
    "NumberCounter",
    "OutboxEntry",
    "Settlement",
    "StagedUpload",
    "Task",
    "User",
]
