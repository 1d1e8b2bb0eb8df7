"""Cases: one matter of one counterparty, grouping its documents and events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dms.base import Base, Id, IdMixin, utcnow

CASE_STATUSES = ("open", "on_hold", "closed")


class Case(IdMixin, Base):
    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_owner", "owner_id", "status", "id"),)

    title: Mapped[str] = mapped_column(String(500))
    # "SPR/2026/0007": given by the user, or the next of the year when left out.
    number: Mapped[str | None] = mapped_column(String(64), unique=True)
    counterparty_id: Mapped[int | None] = mapped_column(Id, ForeignKey("counterparties.id"), index=True)
    owner_id: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(64), default="open")
    description: Mapped[str | None] = mapped_column(Text)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
