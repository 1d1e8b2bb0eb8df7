"""Cases and tasks: opening, changing, moving documents and events between cases, listing."""

from __future__ import annotations

from typing import Any

from strawberry.types.unset import UNSET

from dms.cases import service as cases
from dms.cases.models import Case
from dms.cases.service import CaseFilter
from dms.documents import service as documents
from dms.documents.models import Document
from dms.errors import ValidationFailed
from dms.pagination import Page
from dms.tasks import service as tasks
from dms.tasks.models import Task
from dms.tasks.service import TaskChanges, TaskFilter
from resolvers.context import RequestContext
from resolvers.crm_common import KEEP, keep, keep_enum, keep_id, opt_id, read, unset_to_none, write
from resolvers.ids import decode_id
from resolvers.outcome import Outcome
from resolvers.pages import page_request


async def create_case(ctx: RequestContext, input: Any) -> Outcome[Case]:
    return await write(
        ctx,
        lambda session, actor: cases.create_case(
            session,
            actor,
            title=input.title,
            counterparty_id=decode_id(input.counterparty_id, "Counterparty", field="counterpartyId"),
            number=unset_to_none(input.number),
            owner_id=opt_id(input.owner_id, "User", "ownerId"),
            description=unset_to_none(input.description),
        ),
    )


async def update_case(ctx: RequestContext, input: Any) -> Outcome[Case]:
    return await write(
        ctx,
        lambda session, actor: cases.update_case(
            session,
            actor,
            decode_id(input.case_id, "Case", field="caseId"),
            title=keep(input.title),
            status=keep_enum(input.status),
            owner_id=keep_id(input.owner_id, "User", "ownerId"),
            description=keep(input.description),
        ),
    )


async def move_to_case(ctx: RequestContext, input: Any) -> Outcome[Case | None]:
    def move(session: Any, actor: Any) -> Any:
        if input.case_id is UNSET:
            # Left out by mistake, it would take everything out of its case.
            raise ValidationFailed("say which case (caseId), or null to take them out of their case", field="caseId")
        return cases.move_to_case(
            session,
            actor,
            opt_id(input.case_id, "Case", "caseId"),
            document_ids=[decode_id(d, "Document", field="documentIds") for d in input.document_ids or []],
            event_ids=[decode_id(e, "Event", field="eventIds") for e in input.event_ids or []],
        )

    return await write(ctx, move)


async def list_cases(ctx: RequestContext, first: int | None, after: str | None, filter: CaseFilter) -> Page[Case]:
    page = page_request(ctx, first, after)
    return await read(ctx, lambda session, actor: cases.list_cases(session, actor, page, filter))


def _task_changes(input: Any) -> TaskChanges:
    return TaskChanges(
        title=keep(input.title),
        description=keep(input.description),
        assignee_id=keep_id(input.assignee_id, "User", "assigneeId"),
        # A new task has no status to give: it starts open.
        status=keep_enum(input.status) if hasattr(input, "status") else KEEP,
        due_on=keep(input.due_on),
        event_id=keep_id(input.event_id, "Event", "eventId"),
        counterparty_id=keep_id(input.counterparty_id, "Counterparty", "counterpartyId"),
        case_id=keep_id(input.case_id, "Case", "caseId"),
    )


async def create_task(ctx: RequestContext, input: Any) -> Outcome[Task]:
    return await write(ctx, lambda session, actor: tasks.create_task(session, actor, _task_changes(input)))


async def update_task(ctx: RequestContext, input: Any) -> Outcome[Task]:
    return await write(
        ctx,
        lambda session, actor: tasks.update_task(
            session, actor, decode_id(input.task_id, "Task", field="taskId"), _task_changes(input)
        ),
    )


async def my_tasks(ctx: RequestContext, first: int | None, after: str | None, statuses: list[str] | None) -> Page[Task]:
    page = page_request(ctx, first, after)
    return await read(ctx, lambda session, actor: tasks.my_tasks(session, actor, page, statuses=statuses))


async def list_tasks(ctx: RequestContext, first: int | None, after: str | None, filter: TaskFilter) -> Page[Task]:
    page = page_request(ctx, first, after)
    return await read(ctx, lambda session, actor: tasks.list_tasks(session, actor, page, filter))


def case_filter(filter: Any) -> CaseFilter:
    if filter is None:
        return CaseFilter()
    statuses = unset_to_none(filter.statuses)
    return CaseFilter(
        counterparty_id=opt_id(filter.counterparty_id, "Counterparty", "counterpartyId"),
        statuses=[s.value for s in statuses] if statuses is not None else None,
        owner_id=opt_id(filter.owner_id, "User", "ownerId"),
    )


def task_filter(filter: Any) -> TaskFilter:
    if filter is None:
        return TaskFilter()
    statuses = unset_to_none(filter.statuses)
    return TaskFilter(
        assignee_id=opt_id(filter.assignee_id, "User", "assigneeId"),
        statuses=[s.value for s in statuses] if statuses is not None else None,
        counterparty_id=opt_id(filter.counterparty_id, "Counterparty", "counterpartyId"),
        case_id=opt_id(filter.case_id, "Case", "caseId"),
    )


async def cases_of_card(
    ctx: RequestContext, card_id: int, first: int | None, after: str | None, statuses: list[str] | None
) -> Page[Case]:
    """A page of a card's cases (of some statuses, or all)."""
    page = page_request(ctx, first, after)
    if not page.after:
        # A first page, as a list of cards asks for each of them: batched for the whole list.
        return await ctx.loaders.crm.cases_of_cards(page.first, statuses).load(card_id)
    wanted = CaseFilter(counterparty_id=card_id, statuses=statuses)
    return await read(ctx, lambda session, actor: cases.list_cases(session, actor, page, wanted))


async def tasks_of(
    ctx: RequestContext,
    holder: str,
    holder_id: int,
    first: int | None,
    after: str | None,
    statuses: list[str] | None = None,
) -> Page[Task]:
    """A page of the tasks of a card (holder "counterparty") or a case ("case"), of some statuses or all."""
    page = page_request(ctx, first, after)
    if not page.after:
        # A first page, as a list of cards or cases asks for each of them: batched for the whole list.
        return await ctx.loaders.crm.tasks_of(holder, page.first, statuses).load(holder_id)
    wanted = (
        TaskFilter(statuses=statuses, counterparty_id=holder_id)
        if holder == "counterparty"
        else TaskFilter(statuses=statuses, case_id=holder_id)
    )
    return await read(ctx, lambda session, actor: tasks.list_tasks(session, actor, page, wanted))


async def documents_of_case(ctx: RequestContext, case_id: int, first: int | None, after: str | None) -> Page[Document]:
    page = page_request(ctx, first, after)
    if not page.after:
        # A first page, as a list of cases asks for each of them: batched for the whole list.
        return await ctx.loaders.documents_of("case", page.first).load(case_id)
    return await read(ctx, lambda session, actor: documents.list_documents(session, actor, page, case_id=case_id))
