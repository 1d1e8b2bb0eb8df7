"""Downloads: who may fetch which version's bytes, and the record each fetch leaves."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dms.actor import Actor
from dms.audit import service as audit
from dms.documents import history
from dms.documents.models import Document, DocumentVersion, Download
from dms.documents.service import get_document
from dms.errors import NotFound
from dms.identity.models import User


@dataclass(frozen=True)
class DownloadGrant:
    version: DocumentVersion
    document: Document
    actor: Actor


async def actor_of_link(session: AsyncSession, user_id: int, address: str | None) -> Actor:
    """The user a download link was issued to, if still active: a link outlives no disabled user."""
    user = await session.scalar(select(User).where(User.id == user_id, User.is_active.is_(True)))
    if user is None:
        raise NotFound("no such file")
    return Actor(user_id=user.id, username=user.username, is_admin=user.is_admin, address=address)


async def grant(session: AsyncSession, actor: Actor, version_id: int) -> DownloadGrant:
    """Check, at download time, that the actor still may read the version's document."""
    version = await session.get(DocumentVersion, version_id)
    if version is None:
        raise NotFound("no such file")
    try:
        document = await get_document(session, actor, version.document_id, include_trashed=True)
    except NotFound as exc:
        raise NotFound("no such file") from exc
    return DownloadGrant(version=version, document=document, actor=actor)


def record(session: AsyncSession, granted: DownloadGrant, *, bytes_sent: int, byte_range: str | None) -> None:
    """The download history of the document and the audit log both keep every download."""
    actor = granted.actor
    session.add(
        Download(
            document_id=granted.document.id,
            version_id=granted.version.id,
            user_id=actor.user_id,
            bytes_sent=bytes_sent,
            byte_range=byte_range,
            address=actor.address,
        )
    )
    history.add(
        session,
        granted.document.id,
        "downloaded",
        actor,
        version_id=granted.version.id,
        number=granted.version.number,
        bytes=bytes_sent,
    )
    audit.record(
        session,
        actor,
        "document.downloaded",
        object_type="Document",
        object_id=granted.document.id,
        version=granted.version.number,
        bytes=bytes_sent,
    )
