"""Cases: opening, changing, closing, listing, and moving documents and events between them.

Every authenticated user may work with cases. Moving a document into or out of a case changes the
document, so it needs WRITE on that document (NOT_FOUND when the user may not even read it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.access import Access
from dms.actor import Actor
from dms.base import utcnow
from dms.cases.closed import require_open
from dms.cases.models import CASE_STATUSES, Case
from dms.counterparties.common import KEEP, Keep, flush_unique, long_text, required
from dms.counterparties.service import get_counterparty
from dms.documents import history
from dms.documents import service as documents
from dms.documents.models import Document
from dms.errors import Conflict, NotFound, ValidationFailed
from dms.events.numbering import format_number, take_next
from dms.events.service import get_event
from dms.identity.models import User
from dms.names import clean_name
from dms.outbox import directory as directory_outbox
from dms.outbox import service as outbox
from dms.pagination import Page, PageRequest, SortKey, first_pages, paginate
from dms.times import business_time

CASE_NUMBER_PATTERN = "SPR/{YYYY}/{N:4}"
NUMBER_TAKEN = "a case with this number exists"


async def _check_owner(session: AsyncSession, owner_id: int) -> None:
    user = await session.get(User, owner_id)
    if user is None or not user.is_active:
        raise NotFound("no such user", field="ownerId")


def _status(value: str) -> str:
    if value not in CASE_STATUSES:
        raise ValidationFailed(f"a case's status is one of {', '.join(CASE_STATUSES)}", field="status")
    return value


async def _next_number(session: AsyncSession) -> str:
    now = business_time(utcnow())
    while True:  # skip numbers someone typed in by hand
        number = format_number(CASE_NUMBER_PATTERN, now, await take_next(session, "case", f"{now.year:04d}"))
        if not await session.scalar(select(Case.id).where(Case.number == number)):
            return number


async def create_case(
    session: AsyncSession,
    actor: Actor,
    *,
    title: str,
    counterparty_id: int,
    number: str | None = None,
    owner_id: int | None = None,
    description: str | None = None,
) -> Case:
    """A new open case of one counterparty; the owner is the actor unless said otherwise, and the
    number the next of the year ("SPR/2026/0007") unless given."""
    await get_counterparty(session, actor, counterparty_id)
    title = clean_name(title, field="title", max_length=500)
    if owner_id is not None:
        await _check_owner(session, owner_id)
    if number is not None and number.strip():
        number = clean_name(number, field="number", max_length=64)
        if await session.scalar(select(Case.id).where(Case.number == number)):
            raise Conflict(NUMBER_TAKEN, field="number")
    else:
        number = await _next_number(session)
    now = utcnow()
    case = Case(
        title=title,
        number=number,
        counterparty_id=counterparty_id,
        owner_id=owner_id if owner_id is not None else actor.user_id or None,
        status="open",
        description=long_text(description, field="description"),
        opened_at=now,
        created_by_id=actor.user_id or None,
        updated_at=now,
    )
    session.add(case)
    await flush_unique(session, NUMBER_TAKEN, field="number")
    return case


async def get_case(session: AsyncSession, actor: Actor, case_id: int, *, field: str = "caseId") -> Case:
    case = await session.get(Case, case_id)
    if case is None:
        raise NotFound("no such case", field=field)
    return case


async def update_case(
    session: AsyncSession,
    actor: Actor,
    case_id: int,
    *,
    title: str | Keep = KEEP,
    status: str | Keep | None = KEEP,
    owner_id: int | Keep | None = KEEP,
    description: str | Keep | None = KEEP,
) -> Case:
    """Change a case; closing it stamps `closed_at`, reopening clears it. A case always has an owner
    and a status: neither can be cleared."""
    case = await get_case(session, actor, case_id)
    if title is not KEEP and (new_title := clean_name(title, field="title", max_length=500)) != case.title:
        case.title = new_title
        # Documents are found by their case's title: index them again.
        await outbox.enqueue_selected(session, select(Document.id).where(Document.case_id == case.id), "metadata")
    if owner_id is not KEEP:
        owner_id = required(owner_id, field="ownerId")
        await _check_owner(session, owner_id)
        case.owner_id = owner_id
    if description is not KEEP:
        case.description = long_text(description, field="description")
    if status is not KEEP and _status(required(status, field="status")) != case.status:
        case.status = status
        case.closed_at = utcnow() if status == "closed" else None
    case.updated_at = utcnow()
    return case


async def cases_by_id(session: AsyncSession, ids: Sequence[int]) -> list[Case]:
    if not ids:
        return []
    return list((await session.scalars(select(Case).where(Case.id.in_(list(ids))))).all())


@dataclass
class CaseFilter:
    counterparty_id: int | None = None
    statuses: Sequence[str] | None = None
    owner_id: int | None = None


#: Cases' order: the most recently opened first.
NEWEST_FIRST = SortKey.of((Case.id, True))


def _cases_query(filter: CaseFilter) -> Select[tuple[Case]]:
    query = select(Case)
    if filter.counterparty_id is not None:
        query = query.where(Case.counterparty_id == filter.counterparty_id)
    if filter.statuses is not None:
        query = query.where(Case.status.in_([_status(s) for s in filter.statuses]))
    if filter.owner_id is not None:
        query = query.where(Case.owner_id == filter.owner_id)
    return query


async def list_cases(session: AsyncSession, actor: Actor, page: PageRequest, filter: CaseFilter) -> Page[Case]:
    """Cases, the most recently opened first."""
    return await paginate(session, _cases_query(filter), NEWEST_FIRST, page)


async def first_pages_of_cases(
    session: AsyncSession, counterparty_ids: Sequence[int], first: int, *, statuses: Sequence[str] | None = None
) -> dict[int, Page[Case]]:
    """The first page of each card's cases as `list_cases` makes it, for all the cards in two
    statements (a list of cards each showing its cases does not ask once per card)."""
    query = _cases_query(CaseFilter(statuses=statuses))
    return await first_pages(session, query, Case.counterparty_id, counterparty_ids, NEWEST_FIRST, first)


async def move_to_case(
    session: AsyncSession,
    actor: Actor,
    case_id: int | None,
    *,
    document_ids: Sequence[int] = (),
    event_ids: Sequence[int] = (),
) -> Case | None:
    """Attach documents and events to a case, moving them from any other case; `case_id` None takes
    them out of their case.

    They must be about the case's counterparty (one without a counterparty takes the case's). A
    closed case takes nothing new. Documents need WRITE.
    """
    case = None
    if case_id is not None:
        case = await get_case(session, actor, case_id)
        require_open(case)
    for document_id in dict.fromkeys(document_ids):
        document = await documents.get_document(session, actor, document_id, need=Access.WRITE, field="documentIds")
        if case is not None and document.counterparty_id not in (None, case.counterparty_id):
            raise ValidationFailed("the document is about another counterparty than the case", field="documentIds")
        new_case_id = case.id if case is not None else None
        if document.case_id == new_case_id:
            continue
        history.add(session, document.id, "case_changed", actor, from_case=document.case_id, to_case=new_case_id)
        document.case_id = new_case_id
        if case is not None and document.counterparty_id is None:
            document.counterparty_id = case.counterparty_id
        document.updated_at = utcnow()
        outbox.enqueue(session, document.id, "metadata")
    for event_id in dict.fromkeys(event_ids):
        # An event about a document the actor may not read is not theirs to move: it does not exist to them.
        event = await get_event(session, actor, event_id, field="eventIds")
        if case is not None and event.counterparty_id not in (None, case.counterparty_id):
            raise ValidationFailed("the event is about another counterparty than the case", field="eventIds")
        event.case_id = case.id if case is not None else None
        if case is not None and event.counterparty_id is None:
            event.counterparty_id = case.counterparty_id
            # Now found under the card too (searchEvents with counterpartyId).
            await directory_outbox.enqueue(session, "event", [event.id], "moved")
    if case is not None:
        case.updated_at = utcnow()
    return case
