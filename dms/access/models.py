"""Permission entries on binders and documents. A principal is a user or a group."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dms.base import Base, Id, IdMixin


def principal_key(user_id: int | None, group_id: int | None) -> str:
    """One string per principal, so a (target, principal) pair can be unique on every database."""
    return f"u:{user_id}" if user_id is not None else f"g:{group_id}"


class _EntryMixin(IdMixin):
    user_id: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int | None] = mapped_column(Id, ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    principal: Mapped[str] = mapped_column(String(40))
    access: Mapped[int] = mapped_column(SmallInteger)


class BinderPermission(_EntryMixin, Base):
    __tablename__ = "binder_permissions"
    __table_args__ = (
        UniqueConstraint("binder_id", "principal"),
        CheckConstraint("(user_id IS NULL) <> (group_id IS NULL)", name="one_principal"),
        CheckConstraint("access BETWEEN 0 AND 3", name="access_level"),
    )

    binder_id: Mapped[int] = mapped_column(Id, ForeignKey("binders.id", ondelete="CASCADE"), index=True)


class DocumentPermission(_EntryMixin, Base):
    __tablename__ = "document_permissions"
    __table_args__ = (
        UniqueConstraint("document_id", "principal"),
        CheckConstraint("(user_id IS NULL) <> (group_id IS NULL)", name="one_principal"),
        CheckConstraint("access BETWEEN 0 AND 3", name="access_level"),
    )

    document_id: Mapped[int] = mapped_column(Id, ForeignKey("documents.id", ondelete="CASCADE"), index=True)
