"""Events (calls, meetings, e-mails, automatic records), their configurable types, settlements, counters."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    type_coerce,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, column_property, mapped_column

from dms.base import Base, Id, IdMixin, UTCDateTime, utcnow

# Built-in kinds of events the system records by itself; each has its own (configurable) type.
AUTOMATIC_KINDS = ("card_opened", "data_changed", "document_added", "email_archived")
NUMBER_RESETS = ("never", "yearly", "monthly")


class KeysetDateTime(UTCDateTime):
    """UTC datetimes that also take the ISO text a keyset cursor carries back (`dms.pagination`).

    Used only in expressions (never as a column's type), so lists can page by a point in time.
    """

    cache_ok = True

    def process_bind_param(self, value: datetime | str | None, dialect: Dialect) -> datetime | None:
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return super().process_bind_param(value, dialect)


class EventType(IdMixin, Base):
    """What kind of event it is; configured at run time by admins.

    `fields` holds custom field definitions as for counterparty types. `number_pattern` (e.g.
    "SPR/{YYYY}/{MM}/{N:4}") turns numbering on; `number_reset` says when the counter starts again.
    A type with an `automatic_kind` is the one the system uses for that built-in kind; making it
    inactive stops those events being recorded.
    """

    __tablename__ = "event_types"

    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    colour: Mapped[str] = mapped_column(String(7), default="#607d8b")
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    number_pattern: Mapped[str | None] = mapped_column(String(100))
    number_reset: Mapped[str] = mapped_column(String(16), default="never")
    has_settlements: Mapped[bool] = mapped_column(Boolean, default=False)
    automatic_kind: Mapped[str | None] = mapped_column(String(32), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class NumberCounter(Base):
    """The last number given in one numbering scope ("event_type:7", "case") and period ("2026-05").

    Incremented by one INSERT … ON CONFLICT DO UPDATE … RETURNING in the registering transaction,
    which serialises concurrent registrations on the row: numbers never repeat within a period.
    """

    __tablename__ = "number_counters"

    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    period: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class Event(IdMixin, Base):
    """Something that happened with a counterparty.

    `occurred_at` and `user_id` are what the user says (it may be backdated, or on behalf of a
    colleague); `registered_at` and `registered_by_id` are what really happened, kept for control.
    """

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("type_id", "number_period", "number_seq"),
        Index("ix_events_counterparty", "counterparty_id", "occurred_at", "id"),
        Index("ix_events_report", "occurred_at", "type_id"),
    )

    type_id: Mapped[int] = mapped_column(Id, ForeignKey("event_types.id"), index=True)
    number: Mapped[str | None] = mapped_column(String(100))
    number_period: Mapped[str | None] = mapped_column(String(16))
    number_seq: Mapped[int | None] = mapped_column(Integer)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    # occurred_at again, as a keyset sort key (see KeysetDateTime).
    sort_at: Mapped[datetime] = column_property(type_coerce(occurred_at, KeysetDateTime()))
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id", ondelete="SET NULL"), index=True)
    registered_by_id: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text)
    counterparty_id: Mapped[int | None] = mapped_column(Id, ForeignKey("counterparties.id"))
    contact_person_id: Mapped[int | None] = mapped_column(Id, ForeignKey("contact_persons.id"))
    case_id: Mapped[int | None] = mapped_column(Id, ForeignKey("cases.id"), index=True)
    document_id: Mapped[int | None] = mapped_column(Id, ForeignKey("documents.id", ondelete="SET NULL"))
    custom_values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # What an automatic event records, e.g. {"changes": {"name": {"from": "A", "to": "B"}}}.
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Settlement(IdMixin, Base):
    """One line of an event's settlement: quantity × unit price, the total computed with Decimal."""

    __tablename__ = "settlements"

    event_id: Mapped[int] = mapped_column(Id, ForeignKey("events.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    description: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    unit: Mapped[str | None] = mapped_column(String(32))
    unit_price: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    total: Mapped[Decimal] = mapped_column(Numeric(18, 2))
