"""Cases: one matter of one counterparty, grouping its documents and events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from dms.base import Base, Id, IdMixin, utcnow


class Case(IdMixin, Base):
    __tablename__ = "cases"

    title: Mapped[str] = mapped_column(String(500))
    number: Mapped[str | None] = mapped_column(String(64), unique=True)
    counterparty_id: Mapped[int | None] = mapped_column(Id, ForeignKey("counterparties.id"), index=True)
    owner_id: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(64), default="open")
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
