"""From database rows to the plain records the search layer indexes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dms.binders.models import Binder, BinderClosure
from dms.cases.models import Case
from dms.counterparties.models import Counterparty
from dms.documents.models import Document, DocumentType, DocumentVersion
from search.records import IndexRecord


def binder_token(binder_id: int) -> str:
    return f"b:{binder_id}"


def document_token(document_id: int) -> str:
    return f"d:{document_id}"


@dataclass(frozen=True)
class IndexSource:
    """One live document as the indexer sees it: metadata plus where its current bytes are."""

    document: Document
    version: DocumentVersion
    binder: Binder
    ancestors: tuple[int, ...]
    counterparty: Counterparty | None
    case: Case | None
    document_type: DocumentType | None


async def sources_for(session: AsyncSession, document_ids: Sequence[int]) -> dict[int, IndexSource]:
    """Live (not trashed) documents among `document_ids`, with all they are indexed by; two queries."""
    if not document_ids:
        return {}
    rows = await session.execute(
        select(Document, DocumentVersion, Binder, Counterparty, Case, DocumentType)
        .join(DocumentVersion, DocumentVersion.id == Document.current_version_id)
        .join(Binder, Binder.id == Document.binder_id)
        .outerjoin(Counterparty, Counterparty.id == Document.counterparty_id)
        .outerjoin(Case, Case.id == Document.case_id)
        .outerjoin(DocumentType, DocumentType.id == Document.document_type_id)
        .where(Document.id.in_(list(document_ids)), Document.trashed_at.is_(None))
    )
    found = rows.all()
    binder_ids = {row[2].id for row in found}
    ancestors: dict[int, list[int]] = defaultdict(list)
    if binder_ids:
        closure = await session.execute(
            select(BinderClosure.descendant_id, BinderClosure.ancestor_id).where(
                BinderClosure.descendant_id.in_(binder_ids)
            )
        )
        for descendant, ancestor in closure.all():
            ancestors[descendant].append(ancestor)
    return {
        document.id: IndexSource(
            document=document,
            version=version,
            binder=binder,
            ancestors=tuple(sorted(ancestors[binder.id])),
            counterparty=counterparty,
            case=case,
            document_type=document_type,
        )
        for document, version, binder, counterparty, case, document_type in found
    }


def record_of(source: IndexSource, content: str, extraction_status: str) -> IndexRecord:
    document = source.document
    received = (
        datetime.combine(document.received_on, time.min, tzinfo=UTC) if document.received_on is not None else None
    )
    return IndexRecord(
        document_id=document.id,
        title=document.title,
        binder_id=source.binder.id,
        binder_path=source.binder.path,
        content=content,
        filename=source.version.filename,
        document_type=source.document_type.code if source.document_type else "",
        status=document.status,
        counterparty_id=document.counterparty_id,
        counterparty_name=source.counterparty.name if source.counterparty else "",
        counterparty_nip=source.counterparty.nip or "" if source.counterparty else "",
        case_id=document.case_id,
        # People quote a case by its number as often as by its title ("sprawa SPR/2026/0001").
        case_title=" ".join(filter(None, (source.case.number, source.case.title))) if source.case else "",
        binder_ancestor_ids=source.ancestors,
        tags=tuple(document.tags or ()),
        description=document.description or "",
        created_at=document.created_at,
        received_at=received,
        updated_at=document.updated_at,
        access_tokens=(binder_token(source.binder.id), document_token(document.id)),
        extraction_status=extraction_status,
    )
