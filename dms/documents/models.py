"""Documents, their immutable versions, the check-out lock, history, downloads, staged uploads."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from dms.base import Base, Id, IdMixin, utcnow


class DocumentType(IdMixin, Base):
    """Configured at run time by admins."""

    __tablename__ = "document_types"

    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    required_fields: Mapped[list[str]] = mapped_column(JSON, default=list)


class DocumentStatus(IdMixin, Base):
    """A workflow state a document can be in, configured by admins."""

    __tablename__ = "document_statuses"

    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)


class Document(IdMixin, Base):
    __tablename__ = "documents"
    __table_args__ = (Index("ix_documents_binder_listing", "binder_id", "trashed_at", "id"),)

    title: Mapped[str] = mapped_column(String(500))
    binder_id: Mapped[int] = mapped_column(Id, ForeignKey("binders.id"))
    counterparty_id: Mapped[int | None] = mapped_column(Id, ForeignKey("counterparties.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(Id, ForeignKey("cases.id"), index=True)
    document_type_id: Mapped[int | None] = mapped_column(Id, ForeignKey("document_types.id"))
    owner_id: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    received_on: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(64), default="new")
    description: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    is_template: Mapped[bool] = mapped_column(Boolean, default=False)
    current_version_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("document_versions.id", use_alter=True, name="fk_documents_current_version")
    )
    trashed_at: Mapped[datetime | None]
    trashed_by_id: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id", ondelete="SET NULL"))


class DocumentVersion(IdMixin, Base):
    """Immutable once written: its bytes live in the blob store under `sha256`."""

    __tablename__ = "document_versions"
    __table_args__ = (UniqueConstraint("document_id", "major", "minor"),)

    document_id: Mapped[int] = mapped_column(Id, ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    major: Mapped[int] = mapped_column(Integer)
    minor: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    mime_type: Mapped[str] = mapped_column(String(255))
    filename: Mapped[str] = mapped_column(String(255))
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"))
    reverted_from_id: Mapped[int | None] = mapped_column(Id, ForeignKey("document_versions.id"))
    extraction_status: Mapped[str] = mapped_column(String(32), default="pending")
    extraction_error: Mapped[str | None] = mapped_column(Text)

    @property
    def number(self) -> str:
        return f"{self.major}.{self.minor}"


class DocumentLock(Base):
    """A check-out: at most one per document, which is what makes taking it atomic."""

    __tablename__ = "document_locks"

    document_id: Mapped[int] = mapped_column(Id, ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True)
    holder_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"), index=True)
    locked_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]


class DocumentHistoryEntry(IdMixin, Base):
    """Everything that happened to a document, in order; never edited."""

    __tablename__ = "document_history"
    __table_args__ = (Index("ix_document_history_document", "document_id", "id"),)

    document_id: Mapped[int] = mapped_column(Id, ForeignKey("documents.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(64))
    actor_id: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    version_id: Mapped[int | None] = mapped_column(Id, ForeignKey("document_versions.id", ondelete="SET NULL"))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Download(IdMixin, Base):
    __tablename__ = "downloads"
    __table_args__ = (Index("ix_downloads_document", "document_id", "id"),)

    document_id: Mapped[int] = mapped_column(Id, ForeignKey("documents.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(Id, ForeignKey("document_versions.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    bytes_sent: Mapped[int] = mapped_column(BigInteger, default=0)
    byte_range: Mapped[str | None] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(String(64))


class StagedUpload(IdMixin, Base):
    """Bytes uploaded apart from the GraphQL request, waiting to become a version."""

    __tablename__ = "staged_uploads"

    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    declared_size: Mapped[int] = mapped_column(BigInteger)
    declared_sha256: Mapped[str | None] = mapped_column(String(64))
    staging_key: Mapped[str] = mapped_column(String(128), unique=True)
    sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    consumed_at: Mapped[datetime | None]
