"""Document queries and mutations: translate ids and files, call one service, return its result."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types.unset import UNSET

from dms.access import service as access
from dms.actor import Actor
from dms.documents import checkouts, queries, service
from dms.documents.models import Document, DocumentHistoryEntry, DocumentVersion, Download
from dms.documents.service import DocumentDetails
from dms.documents.staging import FileSource, StagedSource
from dms.documents.uploads import IncomingFile, ReceivedFile
from dms.errors import DomainError, ValidationFailed
from dms.pagination import Page
from resolvers.context import RequestContext
from resolvers.ids import decode_id, decode_optional
from resolvers.outcome import Outcome, attempt
from resolvers.pages import page_request
from resolvers.permissions import entries_from_input
from resolvers.received_form import HashedUpload
from storage.base import FileDigest

CHUNK = 1024 * 1024


@dataclass
class DocumentFilterArgs:
    binder_id: str | None = None
    counterparty_id: str | None = None
    case_id: str | None = None
    trashed: bool = False
    templates: bool | None = None


async def _chunks(upload: Any) -> AsyncIterator[bytes]:
    """Read a multipart upload (already spooled to disk by Starlette) a chunk at a time."""
    while chunk := await upload.read(CHUNK):
        yield chunk


def file_source(upload: Any, staged_upload_id: str | None) -> FileSource:
    if (upload is None) == (staged_upload_id is None):
        raise ValidationFailed("send exactly one of file and stagedUploadId", field="file")
    if upload is None:
        return StagedSource(decode_id(str(staged_upload_id), "StagedUpload", field="stagedUploadId"))
    filename = getattr(upload, "filename", None)
    spooled = getattr(upload, "file", None)
    if isinstance(upload, HashedUpload):
        return ReceivedFile(filename=filename, file=upload.file, digest=FileDigest(upload.sha256, upload.size))
    if spooled is not None and spooled.seekable():
        # Starlette has already received the part into a private temporary file.
        return ReceivedFile(filename=filename, file=spooled)
    return IncomingFile(filename=filename, chunks=_chunks(upload))


async def list_documents(
    ctx: RequestContext, first: int | None, after: str | None, filter: DocumentFilterArgs
) -> Page[Document]:
    page = page_request(ctx, first, after)
    async with ctx.read() as uow:
        return await service.list_documents(
            uow.session,
            ctx.require_actor(),
            page,
            binder_id=decode_optional(filter.binder_id, "Binder", field="binderId"),
            counterparty_id=decode_optional(filter.counterparty_id, "Counterparty", field="counterpartyId"),
            case_id=decode_optional(filter.case_id, "Case", field="caseId"),
            trashed=filter.trashed,
            templates=filter.templates,
        )


def _new_details(input: Any) -> DocumentDetails:
    """A new document's metadata (created, or started from a template); ids decoded here, so a
    bad one is a userError like any other refusal."""
    return DocumentDetails(
        title=input.title,
        counterparty_id=decode_optional(input.counterparty_id, "Counterparty", field="counterpartyId"),
        case_id=decode_optional(input.case_id, "Case", field="caseId"),
        received_on=input.received_on,
        source=input.source,
        status=input.status,
        description=input.description,
        tags=input.tags,
        is_template=input.is_template,
        document_type_id=decode_optional(input.document_type_id, "DocumentType", field="documentTypeId"),
    )


async def create_document(ctx: RequestContext, input: Any) -> Outcome[Document]:
    async def run() -> Document:
        binder = decode_id(input.binder_id, "Binder", field="binderId")
        details = _new_details(input)
        source = file_source(input.file, input.staged_upload_id)
        async with ctx.write() as uow:
            return await service.create_document(
                uow,
                ctx.require_actor(),
                binder_id=binder,
                details=details,
                source=source,
                max_upload_bytes=ctx.limits.max_upload_bytes,
            )

    return await attempt(run)


async def create_from_template(ctx: RequestContext, input: Any) -> Outcome[Document]:
    async def run() -> Document:
        template = decode_id(input.template_id, "Document", field="templateId")
        binder = decode_id(input.binder_id, "Binder", field="binderId")
        details = _new_details(input)
        async with ctx.write() as uow:
            return await service.create_from_template(
                uow.session, uow.blobs, ctx.require_actor(), template, binder_id=binder, details=details
            )

    return await attempt(run)


#: UpdateDocumentInput's fields as DocumentDetails names them.
_UPDATABLE = {
    "title": "title",
    "counterparty_id": "counterpartyId",
    "case_id": "caseId",
    "received_on": "receivedOn",
    "source": "source",
    "status": "status",
    "description": "description",
    "tags": "tags",
    "is_template": "isTemplate",
    "document_type_id": "documentTypeId",
}
_LINKS = {"counterparty_id": "Counterparty", "case_id": "Case", "document_type_id": "DocumentType"}


def _changes(input: Any) -> DocumentDetails:
    """What an update gives: values to set, and (null) the fields to clear; left out is left alone."""
    given = {name: getattr(input, name) for name in _UPDATABLE if getattr(input, name) is not UNSET}
    values = {
        name: decode_id(value, _LINKS[name], field=_UPDATABLE[name]) if name in _LINKS else value
        for name, value in given.items()
        if value is not None
    }
    cleared = frozenset(name for name, value in given.items() if value is None)
    return DocumentDetails(**values, status_comment=input.status_comment, cleared=cleared)


async def update_document(ctx: RequestContext, input: Any) -> Outcome[Document]:
    async def run() -> Document:
        doc = decode_id(input.document_id, "Document", field="documentId")
        details = _changes(input)
        async with ctx.write() as uow:
            return await service.update_document(uow.session, ctx.require_actor(), doc, details)

    return await attempt(run)


async def _document_after(ctx: RequestContext, document_id: int) -> Document:
    async with ctx.read() as uow:
        return await service.get_document(uow.session, ctx.require_actor(), document_id, include_trashed=True)


DocumentAction = Callable[[AsyncSession, Actor, int], Awaitable[object]]


async def _on_document(ctx: RequestContext, document_id: str, action: DocumentAction) -> Outcome[Document]:
    """Decode the id, run one service action in a writing unit of work, return the document after it."""

    async def run() -> Document:
        doc = decode_id(document_id, "Document", field="documentId")
        async with ctx.write() as uow:
            await action(uow.session, ctx.require_actor(), doc)
        return await _document_after(ctx, doc)

    return await attempt(run)


async def check_out(ctx: RequestContext, document_id: str) -> Outcome[Document]:
    ttl = ctx.limits.lock_ttl
    return await _on_document(ctx, document_id, lambda s, actor, doc: checkouts.check_out(s, actor, doc, ttl=ttl))


async def check_in(
    ctx: RequestContext,
    *,
    document_id: str,
    upload: Any,
    staged_upload_id: str | None,
    comment: str | None,
    major: bool,
    expected_version: str | None,
) -> Outcome[Document]:
    async def run() -> Document:
        doc = decode_id(document_id, "Document", field="documentId")
        source = file_source(upload, staged_upload_id)
        async with ctx.write() as uow:
            await checkouts.check_in(
                uow,
                ctx.require_actor(),
                doc,
                source,
                comment=comment,
                major=major,
                expected_version=expected_version,
                max_upload_bytes=ctx.limits.max_upload_bytes,
            )
        return await _document_after(ctx, doc)

    return await attempt(run)


async def cancel_check_out(ctx: RequestContext, document_id: str) -> Outcome[Document]:
    return await _on_document(ctx, document_id, checkouts.cancel_check_out)


async def break_lock(ctx: RequestContext, document_id: str, reason: str) -> Outcome[Document]:
    return await _on_document(
        ctx, document_id, lambda s, actor, doc: checkouts.break_lock(s, actor, doc, reason=reason)
    )


async def revert(ctx: RequestContext, document_id: str, version_number: str, comment: str | None) -> Outcome[Document]:
    async def run() -> Document:
        doc = decode_id(document_id, "Document", field="documentId")
        async with ctx.write() as uow:
            await checkouts.revert_document(
                uow.session, uow.blobs, ctx.require_actor(), doc, version_number, comment=comment
            )
        return await _document_after(ctx, doc)

    return await attempt(run)


async def move(ctx: RequestContext, document_id: str, binder_id: str) -> Outcome[Document]:
    try:
        binder = decode_id(binder_id, "Binder", field="binderId")
    except DomainError as error:
        return Outcome(errors=[error])
    return await _on_document(ctx, document_id, lambda s, actor, doc: service.move_document(s, actor, doc, binder))


async def trash(ctx: RequestContext, document_id: str) -> Outcome[Document]:
    return await _on_document(ctx, document_id, service.trash_document)


async def restore(ctx: RequestContext, document_id: str) -> Outcome[Document]:
    return await _on_document(ctx, document_id, service.restore_document)


async def purge(ctx: RequestContext, document_id: str) -> Outcome[bool]:
    async def run() -> bool:
        doc = decode_id(document_id, "Document", field="documentId")
        async with ctx.write() as uow:
            await service.purge_document(uow.session, ctx.require_actor(), doc)
        return True

    return await attempt(run)


async def set_permissions(ctx: RequestContext, target_id: str, entries: Sequence[object]) -> Outcome[Document]:
    async def run() -> Document:
        doc = decode_id(target_id, "Document", field="targetId")
        parsed = entries_from_input(entries)
        async with ctx.write() as uow:
            await access.set_document_permissions(uow.session, ctx.require_actor(), doc, parsed)
        return await _document_after(ctx, doc)

    return await attempt(run)


async def versions(
    ctx: RequestContext, document: Document, first: int | None, after: str | None
) -> Page[DocumentVersion]:
    return await _document_list(ctx, document, first, after, "versions")


async def history(
    ctx: RequestContext, document: Document, first: int | None, after: str | None
) -> Page[DocumentHistoryEntry]:
    return await _document_list(ctx, document, first, after, "history")


async def downloads(ctx: RequestContext, document: Document, first: int | None, after: str | None) -> Page[Download]:
    return await _document_list(ctx, document, first, after, "downloads")


async def _document_list(
    ctx: RequestContext, document: Document, first: int | None, after: str | None, kind: str
) -> Page[Any]:
    page = page_request(ctx, first, after)
    if not page.after:
        # A first page, as a list of documents asks for each of them: batched for the whole list.
        # The document came from a query that showed it to this actor.
        return await ctx.loaders.first_page(kind, page.first).load(document.id)
    async with ctx.read() as uow:
        return await queries.document_list(uow.session, ctx.require_actor(), document.id, page, kind)
