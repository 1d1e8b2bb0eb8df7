"""The outbox: index work committed in the same transaction as the change that needs it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from dms.base import Base, Id, IdMixin, utcnow


class OutboxEntry(IdMixin, Base):
    __tablename__ = "search_outbox"

    # No foreign key: a purge must still be able to tell the indexer to forget the document.
    document_id: Mapped[int] = mapped_column(Id, index=True)
    reason: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(1000))
    not_before: Mapped[datetime | None]
    actor_id: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id", ondelete="SET NULL"))
