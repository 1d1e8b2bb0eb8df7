"""Tasks: something to do, for oneself or a colleague, about an event, a counterparty or a case."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dms.base import Base, Id, IdMixin, utcnow

TASK_STATUSES = ("open", "in_progress", "done", "cancelled")
# A task without a due date sorts after every dated one.
NO_DUE_DATE = "9999-12-31"


class Task(IdMixin, Base):
    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_assignee", "assignee_id", "due_sort", "id"),)

    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    assignee_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"))
    created_by_id: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(32), default="open")
    due_on: Mapped[date | None] = mapped_column(Date)
    # due_on as ISO text, NO_DUE_DATE when none: a non-null keyset sort key that orders like the date.
    due_sort: Mapped[str] = mapped_column(String(10), default=NO_DUE_DATE)
    event_id: Mapped[int | None] = mapped_column(Id, ForeignKey("events.id"), index=True)
    counterparty_id: Mapped[int | None] = mapped_column(Id, ForeignKey("counterparties.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(Id, ForeignKey("cases.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]
