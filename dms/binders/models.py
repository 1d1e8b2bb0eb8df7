"""The binder tree, with a closure table so inheritance and subtrees are one join away."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from dms.base import Base, Id, IdMixin, utcnow


class Binder(IdMixin, Base):
    __tablename__ = "binders"

    name: Mapped[str] = mapped_column(String(255))
    parent_id: Mapped[int | None] = mapped_column(Id, ForeignKey("binders.id"), index=True)
    # "/Umowy/2026/Dostawcy": kept materialised for display, search and sorting.
    path: Mapped[str] = mapped_column(String(4000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id", ondelete="SET NULL"))


class BinderClosure(Base):
    """One row per (ancestor, descendant) pair, the binder itself included at depth 0."""

    __tablename__ = "binder_closure"
    __table_args__ = (Index("ix_binder_closure_descendant", "descendant_id", "depth"),)

    ancestor_id: Mapped[int] = mapped_column(Id, ForeignKey("binders.id", ondelete="CASCADE"), primary_key=True)
    descendant_id: Mapped[int] = mapped_column(Id, ForeignKey("binders.id", ondelete="CASCADE"), primary_key=True)
    depth: Mapped[int] = mapped_column(Integer)
