"""Reads that follow a document the actor may already read: versions, locks, history, downloads."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dms.actor import Actor
from dms.documents.models import DocumentHistoryEntry, DocumentLock, DocumentType, DocumentVersion, Download
from dms.documents.service import get_document
from dms.pagination import Page, PageRequest, SortKey, paginate


async def versions_by_id(session: AsyncSession, version_ids: Sequence[int]) -> list[DocumentVersion]:
    """Versions by id. Callers reach a version only through a document the actor may read."""
    if not version_ids:
        return []
    query = select(DocumentVersion).where(DocumentVersion.id.in_(list(version_ids)))
    return list((await session.scalars(query)).all())


async def document_types_by_id(session: AsyncSession, type_ids: Sequence[int]) -> list[DocumentType]:
    if not type_ids:
        return []
    return list((await session.scalars(select(DocumentType).where(DocumentType.id.in_(list(type_ids))))).all())


async def locks_of(session: AsyncSession, document_ids: Sequence[int]) -> list[DocumentLock]:
    if not document_ids:
        return []
    query = select(DocumentLock).where(DocumentLock.document_id.in_(list(document_ids)))
    return list((await session.scalars(query)).all())


async def versions(session: AsyncSession, actor: Actor, document_id: int, page: PageRequest) -> Page[DocumentVersion]:
    """Newest first."""
    await get_document(session, actor, document_id, include_trashed=True)
    query = select(DocumentVersion).where(DocumentVersion.document_id == document_id)
    return await paginate(session, query, SortKey.of((DocumentVersion.id, True)), page)


async def history(
    session: AsyncSession, actor: Actor, document_id: int, page: PageRequest
) -> Page[DocumentHistoryEntry]:
    """Oldest first, as a story is told."""
    await get_document(session, actor, document_id, include_trashed=True)
    query = select(DocumentHistoryEntry).where(DocumentHistoryEntry.document_id == document_id)
    return await paginate(session, query, SortKey.of((DocumentHistoryEntry.id, False)), page)


async def downloads(session: AsyncSession, actor: Actor, document_id: int, page: PageRequest) -> Page[Download]:
    """Newest first."""
    await get_document(session, actor, document_id, include_trashed=True)
    query = select(Download).where(Download.document_id == document_id)
    return await paginate(session, query, SortKey.of((Download.id, True)), page)
