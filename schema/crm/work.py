"""Events, settlements, cases, tasks, the timeline and the event report, as clients read them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from dms.cases.models import Case as CaseModel
from dms.documents.models import Document as DocumentModel
from dms.events.models import Event as EventModel
from dms.events.models import Settlement as SettlementModel
from dms.events.report import ReportRow
from dms.pagination import Page
from dms.tasks.models import Task as TaskModel
from resolvers import crm_cases, crm_config, crm_events
from resolvers.history_details import event_details
from resolvers.ids import encode_id
from schema.crm.config import CustomFieldValue, EventType, custom_field_values
from schema.crm.counterparty import ContactPerson, Counterparty
from schema.crm.enums import CaseStatus, TaskStatus
from schema.relay import Connection, Node, PageInfo
from schema.types import Document, User


async def _user(info: Info, user_id: int | None) -> User | None:
    if user_id is None:
        return None
    model = await info.context.loaders.user.load(user_id)
    return User.of(model) if model else None


async def _card(info: Info, counterparty_id: int | None) -> Counterparty | None:
    if counterparty_id is None:
        return None
    model = await info.context.loaders.crm.card.load(counterparty_id)
    return Counterparty.of(model) if model else None


async def case_of(info: Info, case_id: int | None) -> Case | None:
    """The case (loaded with the request's others), or None."""
    if case_id is None:
        return None
    model = await info.context.loaders.crm.case.load(case_id)
    return Case.of(model) if model else None


@strawberry.type
class Settlement:
    _model: strawberry.Private[SettlementModel]

    @strawberry.field
    def description(self) -> str:
        return self._model.description

    @strawberry.field
    def quantity(self) -> Decimal:
        return self._model.quantity

    @strawberry.field
    def unit(self) -> str | None:
        return self._model.unit

    @strawberry.field
    def unit_price(self) -> Decimal:
        return self._model.unit_price

    @strawberry.field(description="quantity × unit price, rounded half up to the cent.")
    def total(self) -> Decimal:
        return self._model.total


@strawberry.type
class Event(Node):
    _model: strawberry.Private[EventModel]

    @classmethod
    def of(cls, model: EventModel) -> Event:
        return cls(id=strawberry.ID(encode_id("Event", model.id)), _model=model)

    @strawberry.field
    async def type(self, info: Info) -> EventType:
        return EventType.of(await info.context.loaders.crm.event_type.load(self._model.type_id))

    @strawberry.field(description="Given by the type's numbering; null for unnumbered types.")
    def number(self) -> str | None:
        return self._model.number

    @strawberry.field(description="When it happened, as the user said (may be in the past).")
    def occurred_at(self) -> dt.datetime:
        return self._model.occurred_at

    @strawberry.field(description="When it was really registered.")
    def registered_at(self) -> dt.datetime:
        return self._model.registered_at

    @strawberry.field(description="Whose event it is (the registering user, or whom they registered it for).")
    async def user(self, info: Info) -> User | None:
        return await _user(info, self._model.user_id)

    @strawberry.field(description="Who really registered it.")
    async def registered_by(self, info: Info) -> User | None:
        return await _user(info, self._model.registered_by_id)

    @strawberry.field
    def note(self) -> str | None:
        return self._model.note

    @strawberry.field
    async def counterparty(self, info: Info) -> Counterparty | None:
        return await _card(info, self._model.counterparty_id)

    @strawberry.field
    async def contact_person(self, info: Info) -> ContactPerson | None:
        if self._model.contact_person_id is None:
            return None
        model = await info.context.loaders.crm.person.load(self._model.contact_person_id)
        return ContactPerson.of(model) if model else None

    @strawberry.field
    async def case(self, info: Info) -> Case | None:
        return await case_of(info, self._model.case_id)

    @strawberry.field(description="The document a DOCUMENT_ADDED event is about, if the viewer may read it.")
    async def document(self, info: Info) -> Document | None:
        if self._model.document_id is None:
            return None
        model = await info.context.loaders.document.load(self._model.document_id)
        return Document.of(model) if model else None

    @strawberry.field(description="The type's current fields with this event's values.")
    async def custom_fields(self, info: Info) -> list[CustomFieldValue]:
        return custom_field_values(await crm_config.event_custom_values(info.context, self._model))

    @strawberry.field(description='What an automatic event records, e.g. {"fields": [...], "changes": {...}}.')
    def details(self) -> JSON:
        return event_details(self._model.details)

    @strawberry.field
    async def settlements(self, info: Info) -> list[Settlement]:
        return [Settlement(_model=s) for s in await info.context.loaders.crm.settlements.load(self._model.id)]

    @strawberry.field
    async def settlement_total(self, info: Info) -> Decimal:
        lines = await info.context.loaders.crm.settlements.load(self._model.id)
        return sum((line.total for line in lines), Decimal("0.00"))

    @strawberry.field
    async def tasks(self, info: Info) -> list[Task]:
        return [Task.of(t) for t in await info.context.loaders.crm.tasks_of_event.load(self._model.id)]


@strawberry.type
class Case(Node):
    _model: strawberry.Private[CaseModel]

    @classmethod
    def of(cls, model: CaseModel) -> Case:
        return cls(id=strawberry.ID(encode_id("Case", model.id)), _model=model)

    @strawberry.field
    def number(self) -> str | None:
        return self._model.number

    @strawberry.field
    def title(self) -> str:
        return self._model.title

    @strawberry.field
    def status(self) -> CaseStatus:
        return CaseStatus(self._model.status)

    @strawberry.field
    def description(self) -> str | None:
        return self._model.description

    @strawberry.field
    async def owner(self, info: Info) -> User | None:
        return await _user(info, self._model.owner_id)

    @strawberry.field
    async def counterparty(self, info: Info) -> Counterparty | None:
        return await _card(info, self._model.counterparty_id)

    @strawberry.field
    def opened_at(self) -> dt.datetime:
        return self._model.opened_at

    @strawberry.field
    def closed_at(self) -> dt.datetime | None:
        return self._model.closed_at

    @strawberry.field(description="Documents of the case the viewer may read, newest first.")
    async def documents(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[Document]:
        page = await crm_cases.documents_of_case(info.context, self._model.id, first, after)
        return Connection.of(page, Document.of)

    @strawberry.field(description="Events of the case, newest first.")
    async def events(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[Event]:
        page = await crm_events.events_of(info.context, "case", self._model.id, first, after)
        return Connection.of(page, Event.of)

    @strawberry.field(description="Tasks of the case, by due date.")
    async def tasks(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[Task]:
        return Connection.of(await crm_cases.tasks_of(info.context, "case", self._model.id, first, after), Task.of)


@strawberry.type
class Task(Node):
    _model: strawberry.Private[TaskModel]

    @classmethod
    def of(cls, model: TaskModel) -> Task:
        return cls(id=strawberry.ID(encode_id("Task", model.id)), _model=model)

    @strawberry.field
    def title(self) -> str:
        return self._model.title

    @strawberry.field
    def description(self) -> str | None:
        return self._model.description

    @strawberry.field
    def status(self) -> TaskStatus:
        return TaskStatus(self._model.status)

    @strawberry.field
    def due_on(self) -> dt.date | None:
        return self._model.due_on

    @strawberry.field
    async def assignee(self, info: Info) -> User | None:
        return await _user(info, self._model.assignee_id)

    @strawberry.field
    async def created_by(self, info: Info) -> User | None:
        return await _user(info, self._model.created_by_id)

    @strawberry.field
    async def event(self, info: Info) -> Event | None:
        if self._model.event_id is None:
            return None
        model = await info.context.loaders.crm.event.load(self._model.event_id)
        return Event.of(model) if model else None

    @strawberry.field
    async def counterparty(self, info: Info) -> Counterparty | None:
        return await _card(info, self._model.counterparty_id)

    @strawberry.field
    async def case(self, info: Info) -> Case | None:
        return await case_of(info, self._model.case_id)

    @strawberry.field
    def created_at(self) -> dt.datetime:
        return self._model.created_at

    @strawberry.field
    def completed_at(self) -> dt.datetime | None:
        return self._model.completed_at


TimelineItem = Annotated[Event | Document, strawberry.union("TimelineItem")]


@strawberry.type
class TimelineEdge:
    node: TimelineItem
    cursor: str


@strawberry.type(description="A card's events and documents in one keyset list, newest first.")
class TimelineConnection:
    edges: list[TimelineEdge]
    page_info: PageInfo
    total_count: int

    @classmethod
    def of(cls, page: Page[Any]) -> TimelineConnection:
        connection = Connection.of(page, timeline_item)
        edges = [TimelineEdge(node=edge.node, cursor=edge.cursor) for edge in connection.edges]
        return cls(edges=edges, page_info=connection.page_info, total_count=connection.total_count)


def timeline_item(model: Any) -> Event | Document:
    return Document.of(model) if isinstance(model, DocumentModel) else Event.of(model)


@strawberry.type
class EventReportRow:
    """One group of the report; the keys not grouped by are null."""

    _row: strawberry.Private[ReportRow]

    @strawberry.field
    async def type(self, info: Info) -> EventType | None:
        if self._row.type_id is None:
            return None
        model = await info.context.loaders.crm.event_type.load(self._row.type_id)
        return EventType.of(model) if model else None

    @strawberry.field(description='"2026-05", on the company\'s calendar (KARTOTEKA_TIME_ZONE), as event numbers.')
    def month(self) -> str | None:
        return self._row.month

    @strawberry.field
    async def user(self, info: Info) -> User | None:
        return await _user(info, self._row.user_id)

    @strawberry.field
    def events(self) -> int:
        return self._row.events

    @strawberry.field
    def settlement_lines(self) -> int:
        return self._row.settlement_lines

    @strawberry.field
    def settlement_total(self) -> Decimal:
        return self._row.settlement_total


@strawberry.type
class EventReport:
    rows: list[EventReportRow]

    @strawberry.field
    def total_events(self) -> int:
        return sum(row._row.events for row in self.rows)

    @strawberry.field
    def settlement_total(self) -> Decimal:
        return sum((row._row.settlement_total for row in self.rows), Decimal("0.00"))
