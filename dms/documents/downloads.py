"""Downloads: who may fetch which version's bytes, and the record each fetch leaves."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from auth.access import Access
from dms.access import queries as access_sql
from dms.actor import Actor
from dms.audit import service as audit
from dms.base import utcnow
from dms.documents import history
from dms.documents.models import Document, DocumentVersion, Download
from dms.errors import NotFound
from dms.identity.models import AccessToken, User


@dataclass(frozen=True)
class DownloadGrant:
    version: DocumentVersion
    document: Document
    actor: Actor


async def actor_of_link(
    session: AsyncSession, user_id: int, address: str | None, *, token_id: int | None = None
) -> Actor:
    """The user a download link was issued to, if still active, through the session that asked for
    it, if still open: a link outlives no disabled user, no logout and no password change."""
    query = select(User).where(User.id == user_id, User.is_active.is_(True))
    if token_id is not None:
        query = query.join(AccessToken, AccessToken.user_id == User.id).where(
            AccessToken.id == token_id, AccessToken.revoked_at.is_(None), AccessToken.expires_at > utcnow()
        )
    user = await session.scalar(query)
    if user is None:
        raise NotFound("no such file")
    return Actor(user_id=user.id, username=user.username, is_admin=user.is_admin, address=address)


async def grant(session: AsyncSession, actor: Actor, version_id: int) -> DownloadGrant:
    """Check, at download time, that the actor still may read the version's document (trashed or not).

    One query: the version, its document, and the actor's access to it. A version the actor may
    not read is "no such file", like one that does not exist.
    """
    documents, _ = access_sql.documents_with_access(actor, Access.READ)
    query = (
        documents.add_columns(DocumentVersion)
        .join(DocumentVersion, DocumentVersion.document_id == Document.id)
        .where(DocumentVersion.id == version_id)
    )
    row = (await session.execute(query)).first()
    if row is None:
        raise NotFound("no such file")
    document, version = row
    return DownloadGrant(version=version, document=document, actor=actor)


async def record(session: AsyncSession, granted: DownloadGrant, *, bytes_sent: int, byte_range: str | None) -> None:
    """The download history of the document and the audit log both keep every download.

    NOT_FOUND when the document was purged since its link was checked: there is nothing to send.
    """
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
    try:
        await session.flush()
    except IntegrityError as exc:
        raise NotFound("no such file") from exc
