"""The counterparty card (its core; the card's details grow with the counterparty work)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from dms.base import Base, Id, IdMixin, utcnow


class Counterparty(IdMixin, Base):
    __tablename__ = "counterparties"

    name: Mapped[str] = mapped_column(String(500))
    short_name: Mapped[str | None] = mapped_column(String(200))
    # Digits only, so "123-456-32-18" and "1234563218" are the same NIP.
    nip: Mapped[str | None] = mapped_column(String(10), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]
    merged_into_id: Mapped[int | None] = mapped_column(Id, ForeignKey("counterparties.id"))
