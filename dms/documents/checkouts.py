"""Check-out (the lock), check-in (a new version), cancelling and breaking locks, reverting."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from auth.access import Access
from dms.actor import Actor
from dms.audit import service as audit
from dms.base import utcnow
from dms.documents import history
from dms.documents.models import Document, DocumentHistoryEntry, DocumentLock, DocumentVersion
from dms.documents.numbering import format_number, next_number, parse_number
from dms.documents.service import get_document
from dms.documents.staging import FileSource, obtain
from dms.documents.uploads import SniffedBlob
from dms.errors import (
    BytesMissing,
    DocumentLocked,
    DocumentNotCheckedOut,
    NotFound,
    NotLockHolder,
    StaleVersion,
    ValidationFailed,
)
from dms.identity.models import User
from dms.names import without_controls
from dms.outbox import service as outbox
from dms.uow import UnitOfWork
from storage.base import BlobStore


def lock_is_live(lock: DocumentLock) -> bool:
    """An expired lease counts as no lock."""
    return lock.expires_at is None or lock.expires_at > utcnow()


async def current_lock(session: AsyncSession, document_id: int) -> DocumentLock | None:
    """The live lock of a document, if any."""
    lock = await session.get(DocumentLock, document_id, populate_existing=True)
    return lock if lock is not None and lock_is_live(lock) else None


async def _holder_name(session: AsyncSession, lock: DocumentLock) -> str | None:
    return await session.scalar(select(User.username).where(User.id == lock.holder_id))


async def clear_expired_lock(session: AsyncSession, document_id: int) -> None:
    """An expired lease is nobody's: remove it, and say so in the history (its holder's check-in is
    refused from now on if a version comes in meanwhile)."""
    now = utcnow()
    expired = await session.execute(
        delete(DocumentLock)
        .where(
            DocumentLock.document_id == document_id,
            DocumentLock.expires_at.is_not(None),
            DocumentLock.expires_at <= now,
        )
        .returning(DocumentLock.holder_id, DocumentLock.expires_at)
    )
    for holder_id, expires_at in expired.all():
        former = await session.scalar(select(User.username).where(User.id == holder_id))
        history.add(
            session,
            document_id,
            "lock_expired",
            None,
            former_holder=former,
            former_holder_id=holder_id,
            expired_at=expires_at.isoformat(),
        )


async def _take(session: AsyncSession, document_id: int, actor: Actor, ttl: timedelta | None) -> bool:
    """Take the lock with one conditional INSERT: of two concurrent takers exactly one wins."""
    now = utcnow()
    await clear_expired_lock(session, document_id)  # so that the INSERT below can win
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(DocumentLock)
        .values(
            document_id=document_id,
            holder_id=actor.user_id,
            locked_at=now,
            expires_at=now + ttl if ttl else None,
        )
        .on_conflict_do_nothing(index_elements=["document_id"])
    )
    result = await session.execute(statement)
    return bool(getattr(result, "rowcount", 0))


async def check_out(session: AsyncSession, actor: Actor, document_id: int, *, ttl: timedelta | None) -> DocumentLock:
    """Lock the document for the actor (WRITE). The holder checking out again renews the lease."""
    document = await get_document(session, actor, document_id, need=Access.WRITE)
    if await _take(session, document.id, actor, ttl):
        history.add(session, document.id, "checked_out", actor)
        taken = await session.get(DocumentLock, document.id, populate_existing=True)
        if taken is None:  # cannot happen inside our own transaction; refuse rather than guess
            raise DocumentLocked()
        return taken
    lock = await current_lock(session, document.id)
    if lock is None:  # released between our INSERT and this read
        raise DocumentLocked()
    if lock.holder_id != actor.user_id:
        raise DocumentLocked(holder=await _holder_name(session, lock))
    lock.expires_at = utcnow() + ttl if ttl else None
    history.add(session, document.id, "lock_renewed", actor)
    return lock


async def cancel_check_out(session: AsyncSession, actor: Actor, document_id: int) -> Document:
    """Release the actor's own lock without a new version; reading the document is enough (a holder
    whose WRITE was taken away since only gives the lock up, which nobody else could but a manager)."""
    document = await get_document(session, actor, document_id, need=Access.READ, for_change=True)
    lock = await current_lock(session, document.id)
    if lock is None:
        raise DocumentNotCheckedOut()
    if lock.holder_id != actor.user_id:
        raise NotLockHolder()
    await session.delete(lock)
    history.add(session, document.id, "check_out_cancelled", actor)
    return document


#: A version's comment says what changed, as a commit message does.
MAX_COMMENT = 10_000


def version_comment(comment: str | None) -> str:
    """A version's comment as kept: no control characters but line breaks and tabs, trimmed."""
    text = without_controls(comment or "", keep="\t\n\r").strip()
    if len(text) > MAX_COMMENT:
        raise ValidationFailed(f"comment is longer than {MAX_COMMENT} characters", field="comment")
    return text


#: A lock broken is explained in a sentence or two, kept in the history and the audit log.
MAX_REASON = 1000


async def break_lock(session: AsyncSession, actor: Actor, document_id: int, *, reason: str) -> Document:
    """Remove someone's lock (MANAGE); the reason is required, audited and shown in the history."""
    reason = " ".join(without_controls(reason).split())
    if not reason or len(reason) > MAX_REASON:
        await get_document(session, actor, document_id, need=Access.READ)
        limit = f", in at most {MAX_REASON} characters" if reason else ""
        raise ValidationFailed(f"say why the lock is broken{limit}", field="reason")
    # The lock is read after the document is locked: a cancel or check-in meanwhile ends it first.
    document = await get_document(session, actor, document_id, need=Access.MANAGE)
    lock = await current_lock(session, document.id)
    if lock is None:
        raise DocumentNotCheckedOut()
    former = await _holder_name(session, lock)
    await session.delete(lock)
    history.add(
        session, document.id, "lock_broken", actor, reason=reason, former_holder=former, former_holder_id=lock.holder_id
    )
    audit.record(
        session,
        actor,
        "lock.broken",
        object_type="Document",
        object_id=document.id,
        reason=reason,
        holder=former,
        holder_id=lock.holder_id,
    )
    return document


async def _latest_number(session: AsyncSession, document_id: int) -> tuple[int, int] | None:
    row = (
        await session.execute(
            select(DocumentVersion.major, DocumentVersion.minor)
            .where(DocumentVersion.document_id == document_id)
            .order_by(DocumentVersion.major.desc(), DocumentVersion.minor.desc())
            .limit(1)
        )
    ).first()
    return (row[0], row[1]) if row else None


async def _serialise_new_versions(session: AsyncSession, document_id: int) -> None:
    """Queue this transaction behind any other adding a version to the document, until commit.

    Without it two PostgreSQL transactions both read "1.0 is the latest", both pass the
    expectedVersion check and stack 1.1 and 1.2 (a lost update). FOR NO KEY UPDATE leaves
    check-outs free: their lock row's foreign key takes only KEY SHARE. On SQLite the write
    transaction is alone anyway and the clause is not rendered.
    """
    await session.execute(select(Document.id).where(Document.id == document_id).with_for_update(key_share=True))


async def _may_check_in(
    session: AsyncSession, actor: Actor, document: Document, expected: str | None, *, edited_copy: bool = True
) -> bool:
    """Refuse a check-in that cannot happen; True when the actor holds the lock (else: no lock at all).

    `edited_copy`: the new version is a copy the actor edited (a check-in), which must not silently
    replace a version that came in after their check-out was lost; a revert names what it restores."""
    lock = await current_lock(session, document.id)
    if lock is not None and lock.holder_id != actor.user_id:
        raise NotLockHolder(f"the document is checked out by {await _holder_name(session, lock)}")
    if expected is not None:
        wanted = parse_number(expected)
        if wanted is None:
            raise ValidationFailed("a version number looks like 1.0", field="expectedVersion")
        latest = await _latest_number(session, document.id)
        if wanted != latest:
            newest = format_number(latest) if latest is not None else "none"
            if latest is not None and wanted < latest:
                message = f"the document has a newer version ({newest}) than the one you edited"
            else:
                message = f"the document has no version {format_number(wanted)}; its newest is {newest}"
            raise StaleVersion(message, field="expectedVersion")
    elif lock is None and edited_copy:
        await _refuse_over_a_lost_check_out(session, actor, document)
    return lock is not None


async def _refuse_over_a_lost_check_out(session: AsyncSession, actor: Actor, document: Document) -> None:
    """Refuse the check-in of someone whose check-out was taken from them (broken by a manager, or
    lapsed) when a version came in since: their copy would silently replace it. Saying which
    version they edited (`expectedVersion`) after bringing their changes onto it lets it in."""
    checked_out = await session.scalar(
        select(DocumentHistoryEntry.id)
        .where(
            DocumentHistoryEntry.document_id == document.id,
            DocumentHistoryEntry.action == "checked_out",
            DocumentHistoryEntry.actor_id == actor.user_id,
        )
        .order_by(DocumentHistoryEntry.id.desc())
        .limit(1)
    )
    if checked_out is None:
        return
    since = (
        await session.scalars(
            select(DocumentHistoryEntry)
            .where(
                DocumentHistoryEntry.document_id == document.id,
                DocumentHistoryEntry.id > checked_out,
                DocumentHistoryEntry.action.in_(_LOCK_ENDS + _NEW_VERSION),
            )
            .order_by(DocumentHistoryEntry.id)
        )
    ).all()
    lost = next((entry for entry in since if entry.action in _LOCK_ENDS), None)
    if lost is None or lost.action not in ("lock_broken", "lock_expired"):
        return  # the actor's own check-in or cancel ended it
    if (lost.details or {}).get("former_holder_id") != actor.user_id:
        return
    newer = [entry for entry in since if entry.action in _NEW_VERSION and entry.id > lost.id]
    if not newer or any(entry.actor_id == actor.user_id for entry in newer):
        return  # nothing to overwrite, or the actor has checked in over it since
    number = format_number(await _latest_number(session, document.id) or (1, 0))
    how = f"was broken ({(lost.details or {}).get('reason')})" if lost.action == "lock_broken" else "expired"
    raise StaleVersion(
        f"your check-out {how} and version {number} came in since: check it out again and bring your changes"
        " onto it, or check in with expectedVersion naming the version you edited",
        field="documentId",
    )


#: What ends a check-out, and what adds a version, in a document's history.
_LOCK_ENDS = ("checked_in", "check_out_cancelled", "lock_broken", "lock_expired")
_NEW_VERSION = ("checked_in", "reverted")


async def _add_version(
    session: AsyncSession,
    actor: Actor,
    document: Document,
    sniffed: SniffedBlob | DocumentVersion,
    *,
    major: bool,
    comment: str | None,
    reverted_from: DocumentVersion | None = None,
) -> DocumentVersion:
    number = next_number(await _latest_number(session, document.id), major=major)
    if isinstance(sniffed, SniffedBlob):
        sha256, size, mime, filename = (
            sniffed.blob.sha256,
            sniffed.blob.size,
            sniffed.mime_type,
            sniffed.filename,
        )
    else:
        sha256, size, mime, filename = sniffed.sha256, sniffed.size, sniffed.mime_type, sniffed.filename
    version = DocumentVersion(
        document_id=document.id,
        major=number[0],
        minor=number[1],
        sha256=sha256,
        size=size,
        mime_type=mime,
        filename=filename,
        comment=version_comment(comment) or None,
        created_by_id=actor.user_id,
        reverted_from_id=reverted_from.id if reverted_from else None,
    )
    session.add(version)
    await session.flush()
    document.current_version_id = version.id
    document.updated_at = utcnow()
    outbox.enqueue(session, document.id, "version")
    return version


async def check_in(
    uow: UnitOfWork,
    actor: Actor,
    document_id: int,
    source: FileSource,
    *,
    comment: str | None = None,
    major: bool = False,
    expected_version: str | None = None,
    max_upload_bytes: int,
) -> DocumentVersion:
    """Add a new version and release the lock, in one transaction.

    Only the lock holder may check in; a document nobody has checked out may be checked in by anyone
    with WRITE (the lock is taken and released in the same step).
    """
    session = uow.session
    document = await get_document(session, actor, document_id, need=Access.WRITE)
    await _may_check_in(session, actor, document, expected_version)
    version_comment(comment)  # refused before the bytes stream in, not after
    await session.rollback()  # never hold the write lock while the bytes stream in
    sniffed = await obtain(session, uow.blobs, actor, source, max_upload_bytes=max_upload_bytes)
    # The world may have moved while the bytes streamed: check again, now for good.
    await _serialise_new_versions(session, document_id)
    document = await get_document(session, actor, document_id, need=Access.WRITE)
    held = await _may_check_in(session, actor, document, expected_version)
    if not held and not await _take(session, document.id, actor, None):
        lock = await current_lock(session, document.id)
        raise DocumentLocked(holder=await _holder_name(session, lock) if lock else None)
    version = await _add_version(session, actor, document, sniffed, major=major, comment=comment)
    await session.execute(delete(DocumentLock).where(DocumentLock.document_id == document.id))
    history.add(
        session,
        document.id,
        "checked_in",
        actor,
        version_id=version.id,
        number=format_number((version.major, version.minor)),
    )
    return version


async def revert_document(
    session: AsyncSession,
    blobs: BlobStore,
    actor: Actor,
    document_id: int,
    version_number: str,
    *,
    comment: str | None = None,
) -> DocumentVersion:
    """A new version whose bytes are an old one's (the same blob: nothing is copied), when those
    bytes are still in storage: a version never points at missing bytes."""
    document = await get_document(session, actor, document_id, need=Access.WRITE)
    await _serialise_new_versions(session, document.id)
    number = parse_number(version_number)
    if number is None:
        raise ValidationFailed("a version number looks like 1.0", field="versionNumber")
    old = await session.scalar(
        select(DocumentVersion).where(
            DocumentVersion.document_id == document.id,
            DocumentVersion.major == number[0],
            DocumentVersion.minor == number[1],
        )
    )
    if old is None:
        raise NotFound(f"the document has no version {version_number}", field="versionNumber")
    if not await blobs.exists(old.sha256):
        raise BytesMissing(field="versionNumber")
    held = await _may_check_in(session, actor, document, None, edited_copy=False)
    if not held and not await _take(session, document.id, actor, None):
        raise DocumentLocked()
    version = await _add_version(
        session,
        actor,
        document,
        old,
        major=False,
        comment=version_comment(comment) or f"reverted to {version_number}",
        reverted_from=old,
    )
    await session.execute(delete(DocumentLock).where(DocumentLock.document_id == document.id))
    history.add(session, document.id, "reverted", actor, version_id=version.id, to=version_number)
    return version
