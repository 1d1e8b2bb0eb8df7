"""Finding counterparty cards and events by what is written on them, as document search finds documents.

Same query language and Polish/English analysis (`search.query`, `search.analysis`); the indexes are
`search.directory`'s. Cards carry no rights (every user may read every card), but deleted ones are
only found when asked for, as the card list shows them. Events are filtered inside the index query
by what the actor may read (an event about a document is visible exactly when the document is, see
`dms.events.service.visible_to`), and each page is checked against the database once more, so an
index a moment behind a change can never show what the database no longer allows.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dms.actor import Actor
from dms.counterparties.models import Counterparty
from dms.errors import ValidationFailed
from dms.events.models import Event
from dms.events.service import visible_to
from dms.indexing.directory import PUBLIC_ACCESS
from dms.pagination import Page
from dms.search import SearchUnavailable, access_filter
from search.directory import (
    FIELDS,
    AsyncDirectoryIndex,
    DirectoryIndexes,
    DirectoryKind,
    DirectoryRequest,
    DirectoryResult,
)
from search.errors import IndexRebuilding, IndexUnavailable, InvalidCursor, QuerySyntaxError
from search.query import QueryNode, parse_query
from search.records import AccessFilter

T = TypeVar("T")

# A tax number typed with spaces ("526 025 02 74") is one number, not four words to AND.
_SPACED_NUMBER = re.compile(r"^\s*[\d][\d\s-]{4,24}[\d]\s*$")


def _parse(text: str, kind: DirectoryKind) -> QueryNode:
    try:
        return parse_query(text, fields=FIELDS[kind])
    except QuerySyntaxError as exc:
        raise ValidationFailed(str(exc), field="query") from exc


def _index(indexes: DirectoryIndexes | None, which: str) -> AsyncDirectoryIndex:
    if indexes is None:
        raise SearchUnavailable("search is not running on this server")
    return indexes.counterparties if which == "counterparties" else indexes.events


async def _find(index: AsyncDirectoryIndex, request: DirectoryRequest) -> DirectoryResult:
    try:
        return await index.find(request)
    except InvalidCursor as exc:
        raise ValidationFailed("the cursor is not valid", field="after") from exc
    except QuerySyntaxError as exc:  # what the index finds too broad (a prefix of many words)
        raise ValidationFailed(str(exc), field="query") from exc
    except (IndexRebuilding, IndexUnavailable) as exc:
        raise SearchUnavailable() from exc


def _page(items: list[T], result: DirectoryResult, kept: Sequence[str], after: str | None, first: int) -> Page[T]:
    return Page(
        items=items,
        cursors=list(kept),
        # An empty page (first: 0) asked the index for one hit: any hit lies past the page.
        has_next=result.has_next if first > 0 else bool(result.hits),
        has_previous=bool(after),
        total_count=result.total,
    )


async def search_counterparties(
    session: AsyncSession,
    indexes: DirectoryIndexes | None,
    actor: Actor,
    text: str,
    *,
    first: int,
    after: str | None,
    deleted: bool = False,
) -> Page[Counterparty]:
    """Cards whose name, short name, tax ids or contact persons match `text`, name matches first.

    `deleted` finds the deleted cards instead of the active ones (as the card list's filter does).
    """
    if _SPACED_NUMBER.match(text):
        text = re.sub(r"[\s-]", "", text)
    query = _parse(text, "counterparties")
    index = _index(indexes, "counterparties")
    result = await _find(
        index, DirectoryRequest(query=query, deleted=deleted, limit=max(first, 1), after=after or None)
    )
    hits = result.hits[:first]
    wanted = [hit.record_id for hit in hits]
    cards = {c.id: c for c in (await session.scalars(select(Counterparty).where(Counterparty.id.in_(wanted)))).all()}
    # The index lags the database by moments: a card deleted or restored since is left out.
    kept = [hit for hit in hits if hit.record_id in cards and (cards[hit.record_id].deleted_at is not None) == deleted]
    return _page([cards[hit.record_id] for hit in kept], result, [hit.cursor for hit in kept], after, first)


async def event_access(session: AsyncSession, actor: Actor) -> AccessFilter:
    """What events the actor may see, as index tokens: those about no document, and those about a
    document the actor may read (the document search's own filter)."""
    documents = await access_filter(session, actor)
    if documents.unrestricted:
        return documents
    return AccessFilter.tokens(documents.any_of_tokens | {PUBLIC_ACCESS}, documents.none_of_tokens)


async def search_events(
    session: AsyncSession,
    indexes: DirectoryIndexes | None,
    actor: Actor,
    text: str,
    *,
    first: int,
    after: str | None,
    counterparty_id: int | None = None,
) -> Page[Event]:
    """Events whose number, title (a recorded document's), free-text fields or note match `text`,
    among those the actor may see; `counterparty_id` keeps one card's events."""
    query = _parse(text, "events")
    index = _index(indexes, "events")
    request = DirectoryRequest(
        query=query,
        access=await event_access(session, actor),
        counterparty_id=counterparty_id,
        limit=max(first, 1),
        after=after or None,
    )
    result = await _find(index, request)
    hits = result.hits[:first]
    wanted = [hit.record_id for hit in hits]
    visible = select(Event).where(Event.id.in_(wanted), visible_to(actor))
    events = {e.id: e for e in (await session.scalars(visible)).all()}
    kept = [hit for hit in hits if hit.record_id in events]
    return _page([events[hit.record_id] for hit in kept], result, [hit.cursor for hit in kept], after, first)
