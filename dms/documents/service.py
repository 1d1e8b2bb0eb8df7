"""Documents: finding them (as the actor may), creating, changing metadata, trash and purge."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.access import Access
from dms.access import queries as access_sql
from dms.access.models import DocumentPermission
from dms.actor import Actor
from dms.audit import service as audit
from dms.base import utcnow
from dms.binders.service import get_binder
from dms.cases.closed import require_open
from dms.cases.models import Case
from dms.counterparties.common import card_for_change
from dms.documents import classification, history
from dms.documents.models import Document, DocumentLock, DocumentVersion
from dms.documents.staging import FileSource, obtain
from dms.documents.uploads import SniffedBlob
from dms.errors import BytesMissing, Conflict, NotFound, PermissionDenied, ValidationFailed
from dms.events.automatic import record_document_added
from dms.events.models import Event
from dms.names import clean_name, same_name, without_controls
from dms.outbox import directory as directory_outbox
from dms.outbox import service as outbox
from dms.pagination import Page, PageRequest, SortKey, first_pages, paginate
from dms.serialise import locked_for_update, on_postgresql
from dms.uow import UnitOfWork
from storage.base import BlobStore, StoredBlob


async def get_document(
    session: AsyncSession,
    actor: Actor,
    document_id: int,
    *,
    need: Access = Access.READ,
    include_trashed: bool = False,
    field: str = "documentId",
    for_change: bool | None = None,
) -> Document:
    """The document if the actor may read it (else NOT_FOUND on `field`) and has `need` (else PERMISSION_DENIED).

    `for_change` (by default: when `need` is WRITE or more) locks it for the rest of the transaction.
    """
    query, level = access_sql.documents_with_access(actor, Access.READ)
    row = (await session.execute(query.add_columns(level).where(Document.id == document_id))).first()
    if row is None:
        raise NotFound("no such document", field=field)
    document, granted = row
    if granted < need:
        raise PermissionDenied(f"you need {need.name} access to this document", field=field)
    if (need >= Access.WRITE if for_change is None else for_change) and on_postgresql(session):
        # A change is checked against the document as committed now, and no other change
        # interleaves with it (a purge and a restore, a trash and a check-out, two status changes).
        locked = await locked_for_update(session, Document, document_id)
        if locked is None:
            raise NotFound("no such document", field=field)
        document = locked
    if document.trashed_at is not None and not include_trashed:
        # Its readers see it in the trash; saying so tells them what to do (restore it).
        raise Conflict("the document is in the trash; restore it first", field=field)
    return document


async def level_on(session: AsyncSession, actor: Actor, document_ids: Sequence[int]) -> dict[int, Access]:
    """The actor's effective level on each of the documents (absent: NONE)."""
    if not document_ids:
        return {}
    query, level = access_sql.documents_with_access(actor, Access.NONE)
    rows = await session.execute(query.with_only_columns(Document.id, level).where(Document.id.in_(list(document_ids))))
    return {doc_id: Access(int(value)) for doc_id, value in rows.all() if value is not None}


def listing(
    actor: Actor,
    *,
    binder_ids: Sequence[int] | None = None,
    counterparty_id: int | None = None,
    case_id: int | None = None,
    trashed: bool = False,
    templates: bool | None = None,
) -> Select[tuple[Document]]:
    """The documents the actor may read, filtered: what every document list pages through."""
    query, _ = access_sql.documents_with_access(actor, Access.READ, binder_ids=binder_ids)
    query = query.where(Document.trashed_at.is_not(None) if trashed else Document.trashed_at.is_(None))
    if binder_ids is not None:
        query = query.where(Document.binder_id.in_(list(binder_ids)))
    if counterparty_id is not None:
        query = query.where(Document.counterparty_id == counterparty_id)
    if case_id is not None:
        query = query.where(Document.case_id == case_id)
    if templates is not None:
        query = query.where(Document.is_template.is_(templates))
    return query


async def list_documents(
    session: AsyncSession,
    actor: Actor,
    page: PageRequest,
    *,
    binder_id: int | None = None,
    counterparty_id: int | None = None,
    case_id: int | None = None,
    trashed: bool = False,
    templates: bool | None = None,
) -> Page[Document]:
    """A page of the documents the actor may read, newest first (in the trash: latest trashed first)."""
    if binder_id is not None:
        await get_binder(session, actor, binder_id)
    query = listing(
        actor,
        binder_ids=None if binder_id is None else [binder_id],
        counterparty_id=counterparty_id,
        case_id=case_id,
        trashed=trashed,
        templates=templates,
    )
    order = SortKey.of((Document.trashed_at, True), (Document.id, True)) if trashed else NEWEST_FIRST
    return await paginate(session, query, order, page)


#: The order of every list of documents but the trash.
NEWEST_FIRST = SortKey.of((Document.id, True))

#: What a list of documents can be of: a binder, a counterparty card, a case; the column naming it.
DOCUMENT_HOLDERS = {"binder": Document.binder_id, "counterparty": Document.counterparty_id, "case": Document.case_id}


async def first_pages_of_documents(
    session: AsyncSession, actor: Actor, holder: str, holder_ids: Sequence[int], first: int
) -> dict[int, Page[Document]]:
    """The first page of the documents of each of some binders (cards, cases; see DOCUMENT_HOLDERS)
    as `list_documents` makes it, for all of them in two statements: a list of binders, each with
    its newest documents, does not ask once per binder. Callers reach the holders only through
    ones the actor may read."""
    query = listing(actor, binder_ids=holder_ids if holder == "binder" else None)
    return await first_pages(session, query, DOCUMENT_HOLDERS[holder], holder_ids, NEWEST_FIRST, first)


async def readable_documents(session: AsyncSession, actor: Actor, document_ids: Sequence[int]) -> list[Document]:
    """The documents among `document_ids` the actor may read (trashed included), for DataLoaders."""
    if not document_ids:
        return []
    query, _ = access_sql.documents_with_access(actor, Access.READ)
    return list((await session.scalars(query.where(Document.id.in_(list(document_ids))))).all())


@dataclass
class DocumentDetails:
    """Metadata a client may give when creating or updating a document; None leaves a value alone."""

    title: str | None = None
    counterparty_id: int | None = None
    case_id: int | None = None
    received_on: date | None = None
    source: str | None = None
    status: str | None = None
    description: str | None = None
    tags: list[str] | None = None
    is_template: bool | None = None
    document_type_id: int | None = None
    # Why the status changed, kept in the history beside who and when.
    status_comment: str | None = None
    # An update's fields to clear (the client sent null); a document always has a title, a
    # status and a template flag.
    cleared: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        # Free text is kept as typed, minus control characters: nobody types them, and PostgreSQL
        # cannot store a NUL. (The title goes through the stricter name rules when it is applied.)
        for name in ("source", "status", "description", "status_comment"):
            value = getattr(self, name)
            if isinstance(value, str):
                setattr(self, name, without_controls(value, keep="\t\n\r"))
        if self.tags is not None:
            self.tags = [without_controls(tag) if isinstance(tag, str) else tag for tag in self.tags]


async def _settle_status(session: AsyncSession, details: DocumentDetails) -> None:
    """A new document starts in the workflow's first state unless it names a known one."""
    details.status = (
        await classification.check_status(session, details.status)
        if details.status
        else await classification.initial_status(session)
    )


#: What a cleared field becomes; the fields missing here cannot be cleared (their input names).
_CLEARED_VALUE: dict[str, object] = {
    "counterparty_id": None,
    "case_id": None,
    "received_on": None,
    "source": None,
    "description": None,
    "document_type_id": None,
    "tags": [],
}
_UNCLEARABLE = {"title": "title", "status": "status", "is_template": "isTemplate"}


def _cleared(name: str) -> object:
    if name not in _CLEARED_VALUE:
        field = _UNCLEARABLE.get(name, name)
        raise ValidationFailed(f"{field} cannot be cleared; leave it out to keep it as it is", field=field)
    return _CLEARED_VALUE[name]


#: The longest free texts of a document's metadata (the source is a word: e-mail, post, scan).
MAX_DESCRIPTION = 10_000
MAX_SOURCE = 64
MAX_STATUS_COMMENT = 1000


def _check_values(details: DocumentDetails) -> None:
    """Free texts within their lengths, and a date received within 1900-2999 (as every date)."""
    limits = (
        ("description", "description", MAX_DESCRIPTION),
        ("source", "source", MAX_SOURCE),
        ("status_comment", "statusComment", MAX_STATUS_COMMENT),
    )
    for name, field, limit in limits:
        value = getattr(details, name)
        if isinstance(value, str) and len(value) > limit:
            raise ValidationFailed(f"{field} is longer than {limit} characters", field=field)
    if details.received_on is not None and not 1900 <= details.received_on.year <= 2999:
        raise ValidationFailed("give a date between the years 1900 and 2999", field="receivedOn")


async def _check_links(session: AsyncSession, details: DocumentDetails, document: Document | None = None) -> None:
    """The counterparty and case given exist, and the case (given or kept) is not another
    counterparty's than the one the document will have: a case is about one counterparty. A
    document in a case with no counterparty of its own takes the case's (set on `details`)."""
    if details.counterparty_id is not None:
        counterparty = await card_for_change(session, details.counterparty_id)
        if counterparty is None or counterparty.deleted_at is not None:
            raise NotFound("no such counterparty", field="counterpartyId")
    if details.case_id is not None:
        given = await session.get(Case, details.case_id)
        if given is None:
            raise NotFound("no such case", field="caseId")
        if document is None or document.case_id != given.id:
            require_open(given)
    counterparty_id, case_id = details.counterparty_id, details.case_id
    if document is not None:  # an update: what is neither given nor cleared stays
        if counterparty_id is None and "counterparty_id" not in details.cleared:
            counterparty_id = document.counterparty_id
        if case_id is None and "case_id" not in details.cleared:
            case_id = document.case_id
    case = await session.get(Case, case_id) if case_id is not None else None
    if case is None or case.counterparty_id is None:
        return
    if counterparty_id is None:
        if "counterparty_id" in details.cleared:
            raise ValidationFailed(
                "a document in a case is about the case's counterparty; take it out of the case first",
                field="counterpartyId",
            )
        details.counterparty_id = case.counterparty_id  # as events do: the case says whom it is about
    elif case.counterparty_id != counterparty_id:
        field = "caseId" if details.case_id is not None else "counterpartyId"
        raise ValidationFailed("the case belongs to another counterparty", field=field)


def _draft(details: DocumentDetails) -> Document:
    """An unsaved document with the given metadata, to check a type's requirements against."""
    return Document(
        counterparty_id=details.counterparty_id,
        case_id=details.case_id,
        received_on=details.received_on,
        source=details.source,
        description=details.description,
        tags=details.tags or [],
        document_type_id=details.document_type_id,
    )


#: Tags on one document, at most: labels to find it by, not a place for its contents.
MAX_TAGS = 100


def _clean_tags(tags: list[str]) -> list[str]:
    if len(tags) > MAX_TAGS:
        raise ValidationFailed(f"a document has at most {MAX_TAGS} tags", field="tags")
    cleaned = []
    for index, tag in enumerate(tags):
        try:
            cleaned.append(clean_name(tag, field="tag", max_length=64))
        except ValidationFailed as error:
            raise ValidationFailed(error.message, field=["tags", str(index)]) from error
    # One tag in any case ("najem", "Najem"): the first spelling given is kept.
    kept: list[str] = []
    for tag in cleaned:
        if not any(same_name(tag, earlier) for earlier in kept):
            kept.append(tag)
    return kept


async def create_document(
    uow: UnitOfWork,
    actor: Actor,
    *,
    binder_id: int,
    details: DocumentDetails,
    source: FileSource,
    max_upload_bytes: int,
) -> Document:
    """A new document whose version 1.0 is the incoming file (WRITE on the binder).

    The bytes are stored before the rows that point at them commit: a failure in between leaves only
    an orphan blob, which `kartoteka gc` collects.
    """
    session = uow.session
    await get_binder(session, actor, binder_id, need=Access.WRITE)
    title = clean_name(details.title or "", field="title", max_length=500)
    _check_values(details)
    await _check_links(session, details)
    await _settle_status(session, details)
    await classification.check_type_and_requirements(session, _draft(details))
    # Streaming a large file must not hold the database's write lock: end this transaction first.
    await session.rollback()
    sniffed = await obtain(session, uow.blobs, actor, source, max_upload_bytes=max_upload_bytes)
    await get_binder(session, actor, binder_id, need=Access.WRITE)
    # The card or case may have been merged or deleted while the bytes streamed: check them again.
    await _check_links(session, details)
    return await insert_document(
        session, actor, binder_id=binder_id, title=title, details=details, sniffed_blob=sniffed
    )


async def insert_document(
    session: AsyncSession,
    actor: Actor,
    *,
    binder_id: int,
    title: str,
    details: DocumentDetails,
    sniffed_blob: SniffedBlob,
    from_template: int | None = None,
) -> Document:
    """The rows of a new document and its version 1.0, whose bytes are already stored."""
    now = utcnow()
    document = Document(
        title=title,
        binder_id=binder_id,
        counterparty_id=details.counterparty_id,
        case_id=details.case_id,
        owner_id=actor.user_id or None,
        created_by_id=actor.user_id or None,
        created_at=now,
        updated_at=now,
        received_on=details.received_on,
        source=details.source,
        status=details.status or classification.DEFAULT_STATUSES[0].code,
        document_type_id=details.document_type_id,
        description=details.description,
        tags=_clean_tags(details.tags or []),
        is_template=bool(details.is_template),
    )
    session.add(document)
    await session.flush()
    version = DocumentVersion(
        document_id=document.id,
        major=1,
        minor=0,
        sha256=sniffed_blob.blob.sha256,
        size=sniffed_blob.blob.size,
        mime_type=sniffed_blob.mime_type,
        filename=sniffed_blob.filename,
        created_at=now,
        created_by_id=actor.user_id,
    )
    session.add(version)
    await session.flush()
    document.current_version_id = version.id
    extra = {"from_template": from_template} if from_template is not None else {}
    history.add(session, document.id, "created", actor, version_id=version.id, title=title, **extra)
    outbox.enqueue(session, document.id, "created")
    await record_document_added(
        session, actor, document.id, document.counterparty_id, title, mime_type=sniffed_blob.mime_type
    )
    return document


async def create_from_template(
    session: AsyncSession,
    blobs: BlobStore,
    actor: Actor,
    template_id: int,
    *,
    binder_id: int,
    details: DocumentDetails,
) -> Document:
    """A new document whose version 1.0 has the template's current bytes (the same blob: no copy),
    when those bytes are still in storage."""
    template = await get_document(session, actor, template_id, field="templateId")
    if not template.is_template:
        raise ValidationFailed("this document is not a template", field="templateId")
    await get_binder(session, actor, binder_id, need=Access.WRITE)
    # A blank title is no title: the template's, as when none is given.
    title = clean_name((details.title or "").strip() or template.title, field="title", max_length=500)
    _check_values(details)
    await _check_links(session, details)
    await _settle_status(session, details)
    await classification.check_type_and_requirements(session, _draft(details))
    version = await session.get(DocumentVersion, template.current_version_id)
    if version is None:
        raise NotFound("the template has no version", field="templateId")
    if not await blobs.exists(version.sha256):
        raise BytesMissing("the template's bytes are missing from storage", field="templateId")
    bytes_of_template = SniffedBlob(
        blob=StoredBlob(key=version.sha256, size=version.size, sha256=version.sha256),
        mime_type=version.mime_type,
        filename=version.filename,
    )
    details.is_template = False
    return await insert_document(
        session,
        actor,
        binder_id=binder_id,
        title=title,
        details=details,
        sniffed_blob=bytes_of_template,
        from_template=template.id,
    )


async def update_document(session: AsyncSession, actor: Actor, document_id: int, details: DocumentDetails) -> Document:
    """Change metadata (WRITE); never the bytes. Each changed field is kept in the history."""
    document = await get_document(session, actor, document_id, need=Access.WRITE)
    _check_values(details)
    await _check_links(session, details, document)
    changes: dict[str, object] = {name: _cleared(name) for name in details.cleared}
    if details.title is not None:
        changes["title"] = clean_name(details.title, field="title", max_length=500)
    if details.tags is not None:
        changes["tags"] = _clean_tags(details.tags)
    if details.status is not None:
        details.status = await classification.check_status(session, details.status)
    for name in (
        "counterparty_id",
        "case_id",
        "received_on",
        "source",
        "status",
        "description",
        "is_template",
        "document_type_id",
    ):
        value = getattr(details, name)
        if value is not None:
            changes[name] = value
    changed = {k: v for k, v in changes.items() if getattr(document, k) != v}
    if not changed:
        return document
    previous_status = document.status
    # Not flushed before the check: a type id with no row would fail as a foreign key, not NOT_FOUND.
    with session.no_autoflush:
        for name, value in changed.items():
            setattr(document, name, value)
        await classification.check_type_and_requirements(session, document, changed=changed.keys())
    document.updated_at = utcnow()
    if "status" in changed:
        history.add(
            session,
            document.id,
            "status_changed",
            actor,
            **{
                "from": previous_status,
                "to": document.status,
                "comment": (details.status_comment or "").strip() or None,
            },
        )
    other = sorted(set(changed) - {"status"})
    if other:
        history.add(session, document.id, "metadata_changed", actor, fields=other)
    outbox.enqueue(session, document.id, "metadata")
    return document


async def move_document(session: AsyncSession, actor: Actor, document_id: int, binder_id: int) -> Document:
    """Move to another binder: MANAGE on the document, WRITE on the destination."""
    document = await get_document(session, actor, document_id, need=Access.MANAGE)
    await get_binder(session, actor, binder_id, need=Access.WRITE)
    if document.binder_id != binder_id:
        history.add(session, document.id, "moved", actor, from_binder=document.binder_id, to_binder=binder_id)
        document.binder_id = binder_id
        document.updated_at = utcnow()
        outbox.enqueue(session, document.id, "moved")
        # Events about the document are visible with it: the index keeps them under its binder.
        await directory_outbox.enqueue_selected(session, "event", _events_about(document.id), "document.moved")
    return document


async def trash_document(session: AsyncSession, actor: Actor, document_id: int) -> Document:
    """Move to the trash (WRITE). A checked-out document stays where it is until its lock goes."""
    # Imported here: checkouts builds on this module.
    from dms.documents.checkouts import clear_expired_lock

    document = await get_document(session, actor, document_id, need=Access.WRITE)
    await clear_expired_lock(session, document.id)  # a lapsed lease holds nothing back
    if await session.get(DocumentLock, document.id, populate_existing=True) is not None:
        raise Conflict("the document is checked out; check it in or cancel the check-out first", field="documentId")
    document.trashed_at = utcnow()
    document.trashed_by_id = actor.user_id or None
    history.add(session, document.id, "trashed", actor)
    audit.record(session, actor, "document.trashed", object_type="Document", object_id=document.id)
    outbox.enqueue(session, document.id, "trashed")
    return document


async def restore_document(session: AsyncSession, actor: Actor, document_id: int) -> Document:
    document = await get_document(session, actor, document_id, need=Access.WRITE, include_trashed=True)
    if document.trashed_at is None:
        raise Conflict("the document is not in the trash", field="documentId")
    document.trashed_at = None
    document.trashed_by_id = None
    history.add(session, document.id, "restored", actor)
    outbox.enqueue(session, document.id, "restored")
    return document


async def purge_document(session: AsyncSession, actor: Actor, document_id: int) -> None:
    """Remove a trashed document's rows for good (MANAGE). Its blobs go with the next `gc`."""
    document = await get_document(session, actor, document_id, need=Access.MANAGE, include_trashed=True)
    if document.trashed_at is None:
        raise Conflict("only a document in the trash can be purged; delete it first", field="documentId")
    document.current_version_id = None
    await session.flush()
    # Its events stay, no longer about a document (and so visible to all): queued while still found.
    await directory_outbox.enqueue_selected(session, "event", _events_about(document.id), "document.purged")
    await session.execute(delete(DocumentPermission).where(DocumentPermission.document_id == document.id))
    await session.delete(document)
    audit.record(session, actor, "document.purged", object_type="Document", object_id=document_id, title=document.title)
    outbox.enqueue(session, document_id, "purged")


def _events_about(document_id: int) -> Select[tuple[int]]:
    return select(Event.id).where(Event.document_id == document_id)


async def current_versions(session: AsyncSession, version_ids: Sequence[int]) -> list[DocumentVersion]:
    if not version_ids:
        return []
    return list((await session.scalars(select(DocumentVersion).where(DocumentVersion.id.in_(list(version_ids))))).all())
