"""Every model, imported once so the metadata (and Alembic) sees all tables."""

from dms.access.models import BinderPermission, DocumentPermission
from dms.audit.models import AuditEntry
from dms.base import Base
from dms.binders.models import Binder, BinderClosure
from dms.cases.models import Case
from dms.counterparties.models import Counterparty
from dms.documents.models import (
    Document,
    DocumentHistoryEntry,
    DocumentLock,
    DocumentType,
    DocumentVersion,
    Download,
    StagedUpload,
)
from dms.identity.models import AccessToken, Group, GroupMembership, LoginFailure, User
from dms.outbox.models import OutboxEntry

__all__ = [
    "AccessToken",
    "AuditEntry",
    "Base",
    "Binder",
    "BinderClosure",
    "BinderPermission",
    "Case",
    "Counterparty",
    "Document",
    "DocumentHistoryEntry",
    "DocumentLock",
    "DocumentPermission",
    "DocumentType",
    "DocumentVersion",
    "Download",
    "Group",
    "GroupMembership",
    "LoginFailure",
    "OutboxEntry",
    "StagedUpload",
    "User",
]
