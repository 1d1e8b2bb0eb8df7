"""Reads that follow a document the actor may already read: versions, locks, history, downloads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from dms.actor import Actor
from dms.documents.models import DocumentHistoryEntry, DocumentLock, DocumentType, DocumentVersion, Download
from dms.documents.service import get_document
from dms.pagination import Page, PageRequest, SortKey, first_pages, paginate


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


#: A document's lists: all their rows, what ties a row to its document, and their order.
#: Versions and downloads newest first; the history oldest first, as a story is told.
DOCUMENT_LISTS: dict[str, tuple[Select[Any], InstrumentedAttribute[int], SortKey]] = {
    "versions": (select(DocumentVersion), DocumentVersion.document_id, SortKey.of((DocumentVersion.id, True))),
    "history": (
        select(DocumentHistoryEntry),
        DocumentHistoryEntry.document_id,
        SortKey.of((DocumentHistoryEntry.id, False)),
    ),
    "downloads": (select(Download), Download.document_id, SortKey.of((Download.id, True))),
}


async def document_list(
    session: AsyncSession, actor: Actor, document_id: int, page: PageRequest, kind: str
) -> Page[Any]:
    """A page of one of a document's lists (see DOCUMENT_LISTS), trashed documents' too."""
    await get_document(session, actor, document_id, include_trashed=True)
    query, parent, key = DOCUMENT_LISTS[kind]
    return await paginate(session, query.where(parent == document_id), key, page)


async def first_pages_of(
    session: AsyncSession, kind: str, document_ids: Sequence[int], first: int
) -> dict[int, Page[Any]]:
    """The first page of one of the lists of each of `document_ids`, at once (for DataLoaders).
    Callers reach them only through documents the actor may read."""
    query, parent, key = DOCUMENT_LISTS[kind]
    return await first_pages(session, query, parent, document_ids, key, first)
