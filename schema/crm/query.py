"""Queries of the CRM side."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from resolvers import counterparties, crm_cases, crm_config, crm_events, crm_nodes
from schema.crm.config import CounterpartyType, Dictionary, EventType
from schema.crm.counterparty import Counterparty
from schema.crm.enums import DictionaryKind, ReportGrouping, TaskStatus
from schema.crm.inputs import CaseFilter, CounterpartyFilter, EventFilter, EventReportFilter, TaskFilter
from schema.crm.work import Case, Event, EventReport, EventReportRow, Task
from schema.relay import Connection


@strawberry.type
class CrmQuery:
    @strawberry.field
    async def counterparties(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: CounterpartyFilter | None = None,
    ) -> Connection[Counterparty]:
        page = await counterparties.list_counterparties(info.context, first, after, filter)
        return Connection.of(page, Counterparty.of)

    @strawberry.field(description="The card; opening it is recorded (a CARD_OPENED event, written after the read).")
    async def counterparty(self, info: Info, id: strawberry.ID) -> Counterparty | None:
        model = await counterparties.open_card(info.context, id)
        return Counterparty.of(model) if model else None

    @strawberry.field
    async def counterparty_types(
        self, info: Info, first: int | None = None, after: str | None = None, include_inactive: bool = False
    ) -> Connection[CounterpartyType]:
        page = await crm_config.list_counterparty_types(info.context, first, after, include_inactive)
        return Connection.of(page, CounterpartyType.of)

    @strawberry.field(description="Categories, groups, segmentations and choice lists.")
    async def dictionaries(
        self, info: Info, first: int | None = None, after: str | None = None, kind: DictionaryKind | None = None
    ) -> Connection[Dictionary]:
        page = await crm_config.list_dictionaries(info.context, first, after, kind.value if kind else None)
        return Connection.of(page, Dictionary.of)

    @strawberry.field
    async def event_types(
        self, info: Info, first: int | None = None, after: str | None = None, include_inactive: bool = False
    ) -> Connection[EventType]:
        page = await crm_config.list_event_types(info.context, first, after, include_inactive)
        return Connection.of(page, EventType.of)

    @strawberry.field(description="Events, newest (by when they happened) first.")
    async def events(
        self, info: Info, first: int | None = None, after: str | None = None, filter: EventFilter | None = None
    ) -> Connection[Event]:
        page = await crm_events.list_events(info.context, first, after, crm_events.event_filter(filter))
        return Connection.of(page, Event.of)

    @strawberry.field
    async def event(self, info: Info, id: strawberry.ID) -> Event | None:
        model = await crm_nodes.crm_object(info.context, id, "Event")
        return Event.of(model) if model else None

    @strawberry.field(description="Counts and settlement sums of events, grouped; computed in the database.")
    async def event_report(
        self, info: Info, filter: EventReportFilter | None = None, group_by: list[ReportGrouping] | None = None
    ) -> EventReport:
        rows = await crm_events.event_report(info.context, filter, [g.value for g in group_by or []])
        return EventReport(rows=[EventReportRow(_row=row) for row in rows])

    @strawberry.field(description="Cases, the most recently opened first.")
    async def cases(
        self, info: Info, first: int | None = None, after: str | None = None, filter: CaseFilter | None = None
    ) -> Connection[Case]:
        page = await crm_cases.list_cases(info.context, first, after, crm_cases.case_filter(filter))
        return Connection.of(page, Case.of)

    @strawberry.field
    async def case(self, info: Info, id: strawberry.ID) -> Case | None:
        model = await crm_nodes.crm_object(info.context, id, "Case")
        return Case.of(model) if model else None

    @strawberry.field(description="Tasks by due date (undated last).")
    async def tasks(
        self, info: Info, first: int | None = None, after: str | None = None, filter: TaskFilter | None = None
    ) -> Connection[Task]:
        page = await crm_cases.list_tasks(info.context, first, after, crm_cases.task_filter(filter))
        return Connection.of(page, Task.of)

    @strawberry.field(description="The viewer's tasks by due date; open and in-progress ones unless asked otherwise.")
    async def my_tasks(
        self, info: Info, first: int | None = None, after: str | None = None, statuses: list[TaskStatus] | None = None
    ) -> Connection[Task]:
        wanted = [s.value for s in statuses] if statuses is not None else None
        return Connection.of(await crm_cases.my_tasks(info.context, first, after, wanted), Task.of)

    @strawberry.field
    async def task(self, info: Info, id: strawberry.ID) -> Task | None:
        model = await crm_nodes.crm_object(info.context, id, "Task")
        return Task.of(model) if model else None
