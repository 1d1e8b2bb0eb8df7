"""Enumerations of the CRM side; each value is the word the services use."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum
class DictionaryKind(Enum):
    CATEGORY = "category"
    GROUP = "group"
    SEGMENTATION = "segmentation"
    CHOICE = "choice"


@strawberry.enum
class CustomFieldKind(Enum):
    TEXT = "text"
    NUMBER = "number"
    DECIMAL = "decimal"
    DATE = "date"
    BOOLEAN = "boolean"
    CHOICE = "choice"
    MULTICHOICE = "multichoice"


@strawberry.enum
class AddressUse(Enum):
    REGISTERED_SEAT = "registered_seat"
    CORRESPONDENCE = "correspondence"
    SHIPPING = "shipping"
    TAX = "tax"


@strawberry.enum
class ContactMethodKind(Enum):
    EMAIL = "email"
    PHONE = "phone"
    MOBILE = "mobile"
    FAX = "fax"
    WEBSITE = "website"
    OTHER = "other"


@strawberry.enum
class NumberReset(Enum):
    NEVER = "never"
    YEARLY = "yearly"
    MONTHLY = "monthly"


@strawberry.enum
class AutomaticEventKind(Enum):
    CARD_OPENED = "card_opened"
    DATA_CHANGED = "data_changed"
    DOCUMENT_ADDED = "document_added"
    EMAIL_ARCHIVED = "email_archived"


@strawberry.enum
class CaseStatus(Enum):
    OPEN = "open"
    ON_HOLD = "on_hold"
    CLOSED = "closed"


@strawberry.enum
class TaskStatus(Enum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


@strawberry.enum
class TimelineKind(Enum):
    EVENT = "event"
    DOCUMENT = "document"


@strawberry.enum
class ReportGrouping(Enum):
    TYPE = "type"
    MONTH = "month"
    USER = "user"
