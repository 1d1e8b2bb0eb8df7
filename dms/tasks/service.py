"""Tasks: things to do, for oneself or a colleague, linked to an event, a counterparty, a case.

Every authenticated user may create tasks for anyone and change any task (no per-task rights yet).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from dms.actor import Actor
from dms.base import utcnow
from dms.cases.closed import require_open
from dms.cases.models import Case
from dms.counterparties.common import KEEP, Keep, card_for_change, long_text, required
from dms.errors import NotFound, ValidationFailed
from dms.events.models import Event
from dms.events.service import get_event
from dms.identity.models import User
from dms.names import clean_name
from dms.pagination import Page, PageRequest, SortKey, first_pages, paginate
from dms.tasks.models import NO_DUE_DATE, TASK_STATUSES, Task


@dataclass
class TaskChanges:
    title: str | Keep = KEEP
    description: str | Keep | None = KEEP
    # None (nobody): a new task then goes to its creator; a task is never left without an assignee.
    assignee_id: int | Keep | None = KEEP
    status: str | Keep | None = KEEP
    due_on: date | Keep | None = KEEP
    event_id: int | Keep | None = KEEP
    counterparty_id: int | Keep | None = KEEP
    case_id: int | Keep | None = KEEP


def _status(value: str) -> str:
    if value not in TASK_STATUSES:
        raise ValidationFailed(f"a task's status is one of {', '.join(TASK_STATUSES)}", field="status")
    return value


async def _apply(session: AsyncSession, actor: Actor, task: Task, changes: TaskChanges) -> None:
    if changes.title is not KEEP:
        task.title = clean_name(changes.title, field="title", max_length=500)
    if changes.description is not KEEP:
        task.description = long_text(changes.description, field="description")
    if changes.assignee_id is not KEEP:
        user = await session.get(User, required(changes.assignee_id, field="assigneeId"))
        if user is None or not user.is_active:
            raise NotFound("no such user", field="assigneeId")
        task.assignee_id = user.id
    if changes.status is not KEEP and _status(required(changes.status, field="status")) != task.status:
        task.status = changes.status
        task.completed_at = utcnow() if changes.status in ("done", "cancelled") else None
    if changes.due_on is not KEEP:
        task.due_on = changes.due_on
        task.due_sort = changes.due_on.isoformat() if changes.due_on is not None else NO_DUE_DATE
    await _apply_links(session, actor, task, changes)


async def _apply_links(session: AsyncSession, actor: Actor, task: Task, changes: TaskChanges) -> None:
    """Link the task; an event or case given without a counterparty brings theirs, and all must agree."""
    # The links are checked before anything is flushed: one to a row that does not exist is
    # NOT_FOUND, not a foreign key failing in the middle of a query.
    with session.no_autoflush:
        await _link(session, actor, task, changes)


async def _link(session: AsyncSession, actor: Actor, task: Task, changes: TaskChanges) -> None:
    if changes.event_id is not KEEP:
        task.event_id = changes.event_id
    if changes.case_id is not KEEP:
        task.case_id = changes.case_id
    if changes.counterparty_id is not KEEP:
        task.counterparty_id = changes.counterparty_id
    implied: dict[str, int | None] = {}
    if changes.event_id is not KEEP and changes.event_id is not None:
        # Linking needs the event visible: one about an unreadable document does not exist here.
        implied["eventId"] = (await get_event(session, actor, changes.event_id)).counterparty_id
    elif task.event_id is not None:
        event = await session.get(Event, task.event_id)
        implied["eventId"] = event.counterparty_id if event is not None else None
    if task.case_id is not None:
        case = await session.get(Case, task.case_id)
        if case is None:
            raise NotFound("no such case", field="caseId")
        if changes.case_id is not KEEP:
            require_open(case)  # a task already in it may still be done
        implied["caseId"] = case.counterparty_id
    if task.counterparty_id is not None:
        card = await card_for_change(session, task.counterparty_id)
        if card is None or card.deleted_at is not None:
            raise NotFound("no such counterparty", field="counterpartyId")
    for field, counterparty_id in implied.items():
        if counterparty_id is None:
            continue
        if task.counterparty_id is None:
            task.counterparty_id = counterparty_id
        elif task.counterparty_id != counterparty_id:
            raise ValidationFailed("linked to another counterparty than the task", field=field)


async def create_task(session: AsyncSession, actor: Actor, changes: TaskChanges) -> Task:
    """A new open task; assigned to the actor unless to a colleague."""
    if changes.title is KEEP:
        raise ValidationFailed("a task needs a title", field="title")
    if changes.assignee_id is None:
        changes = replace(changes, assignee_id=KEEP)
    now = utcnow()
    task = Task(
        title="",
        assignee_id=actor.user_id,
        created_by_id=actor.user_id or None,
        status="open",
        due_sort=NO_DUE_DATE,
        created_at=now,
        updated_at=now,
    )
    await _apply(session, actor, task, changes)
    session.add(task)
    await session.flush()
    return task


async def get_task(session: AsyncSession, actor: Actor, task_id: int) -> Task:
    task = await session.get(Task, task_id)
    if task is None:
        raise NotFound("no such task", field="taskId")
    return task


async def update_task(session: AsyncSession, actor: Actor, task_id: int, changes: TaskChanges) -> Task:
    task = await get_task(session, actor, task_id)
    await _apply(session, actor, task, changes)
    task.updated_at = utcnow()
    return task


async def tasks_by_id(session: AsyncSession, ids: Sequence[int]) -> list[Task]:
    if not ids:
        return []
    return list((await session.scalars(select(Task).where(Task.id.in_(list(ids))))).all())


@dataclass
class TaskFilter:
    assignee_id: int | None = None
    statuses: Sequence[str] | None = None
    counterparty_id: int | None = None
    case_id: int | None = None
    event_id: int | None = None


#: Tasks' order: by due date (undated last), then as they were created.
DUE_FIRST = SortKey.of((Task.due_sort, False), (Task.id, False))

#: What a list of tasks can be of: a counterparty card or a case; the column naming it.
TASK_HOLDERS = {"counterparty": Task.counterparty_id, "case": Task.case_id}


async def list_tasks(session: AsyncSession, actor: Actor, page: PageRequest, filter: TaskFilter) -> Page[Task]:
    """Tasks by due date (undated last), then as they were created."""
    return await paginate(session, _tasks_query(filter), DUE_FIRST, page)


async def first_pages_of_tasks(
    session: AsyncSession, holder: str, holder_ids: Sequence[int], first: int, *, statuses: Sequence[str] | None = None
) -> dict[int, Page[Task]]:
    """The first page of the tasks of each of some cards or cases (see TASK_HOLDERS) as `list_tasks`
    makes it, for all of them in two statements (a list of cases each showing its tasks does not
    ask once per case)."""
    query = _tasks_query(TaskFilter(statuses=statuses))
    return await first_pages(session, query, TASK_HOLDERS[holder], holder_ids, DUE_FIRST, first)


def _tasks_query(filter: TaskFilter) -> Select[tuple[Task]]:
    query = select(Task)
    if filter.assignee_id is not None:
        query = query.where(Task.assignee_id == filter.assignee_id)
    if filter.statuses is not None:
        query = query.where(Task.status.in_([_status(s) for s in filter.statuses]))
    if filter.counterparty_id is not None:
        query = query.where(Task.counterparty_id == filter.counterparty_id)
    if filter.case_id is not None:
        query = query.where(Task.case_id == filter.case_id)
    if filter.event_id is not None:
        query = query.where(Task.event_id == filter.event_id)
    return query


async def my_tasks(
    session: AsyncSession, actor: Actor, page: PageRequest, *, statuses: Sequence[str] | None = None
) -> Page[Task]:
    """The actor's tasks; open and in progress ones unless other statuses are asked for."""
    wanted = statuses if statuses is not None else ("open", "in_progress")
    return await list_tasks(session, actor, page, TaskFilter(assignee_id=actor.user_id, statuses=wanted))


async def tasks_of_events(session: AsyncSession, event_ids: Sequence[int]) -> dict[int, list[Task]]:
    """The tasks linked to each event, by due date."""
    found: dict[int, list[Task]] = {}
    if event_ids:
        query = select(Task).where(Task.event_id.in_(list(event_ids))).order_by(Task.due_sort, Task.id)
        for task in (await session.scalars(query)).all():
            found.setdefault(task.event_id or 0, []).append(task)
    return found
