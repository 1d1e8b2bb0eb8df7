"""Cases group documents and events of one counterparty; tasks are planned work around them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from auth.access import Access
from dms.access import service as access
from dms.actor import Actor
from dms.binders import service as binders
from dms.cases import service as cases
from dms.counterparties import service as counterparties
from dms.documents import service as documents
from dms.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from dms.events import types as event_types
from dms.events.models import Event
from dms.events.service import EventData, register_event
from dms.outbox.directory import DirectoryOutboxEntry
from dms.pagination import PageRequest
from dms.tasks import service as tasks
from dms.tasks.service import TaskChanges
from tests.dms.conftest import make_actor, new_document
from tests.dms.crm.conftest import in_tx, sqlite_only


@pytest.fixture
async def colleague(db: Any) -> Actor:
    return await make_actor(db, "colleague")


async def new_card(db: Any, actor: Actor, name: str) -> int:
    return (await in_tx(db, lambda s: counterparties.create_counterparty(s, actor, name=name))).id


async def test_cases_are_numbered_per_year_unless_a_number_is_given(db, seller):
    card = await new_card(db, seller, "ACME")
    first = await in_tx(db, lambda s: cases.create_case(s, seller, title="Reklamacja", counterparty_id=card))
    typed = await in_tx(db, lambda s: cases.create_case(s, seller, title="Umowa", counterparty_id=card, number="UM/1"))
    second = await in_tx(db, lambda s: cases.create_case(s, seller, title="Oferta", counterparty_id=card))
    year = datetime.now(UTC).year
    assert (first.number, typed.number, second.number) == (f"SPR/{year}/0001", "UM/1", f"SPR/{year}/0002")
    assert first.owner_id == seller.user_id
    with pytest.raises(Conflict) as taken:
        await in_tx(db, lambda s: cases.create_case(s, seller, title="Znowu", counterparty_id=card, number="UM/1"))
    assert taken.value.field == ["number"]


@sqlite_only
async def test_closing_a_case_stamps_the_date_and_stops_it_taking_new_things(db, services, seller):
    card = await new_card(db, seller, "ACME")
    case = await in_tx(db, lambda s: cases.create_case(s, seller, title="Reklamacja", counterparty_id=card))
    kept = await in_tx(db, lambda s: tasks.create_task(s, seller, TaskChanges(title="Oddzwonić", case_id=case.id)))
    closed = await in_tx(db, lambda s: cases.update_case(s, seller, case.id, status="closed"))
    assert closed.closed_at is not None
    with pytest.raises(Conflict):
        await in_tx(db, lambda s: cases.move_to_case(s, seller, case.id, event_ids=[]))
    # Nothing new comes in any other way either: a new event, task or document, or one moved in.
    admin = await make_actor(db, "boss", admin=True)
    call = (await in_tx(db, lambda s: event_types.create_event_type(s, admin, name="Telefon"))).id
    binder = await in_tx(db, lambda s: binders.create_binder(s, seller, name="Reklamacje"))
    document_id = await new_document(services, seller, binder.id, "Pismo", counterparty_id=card)
    refusals = [
        lambda s: register_event(s, seller, EventData(type_id=call, case_id=case.id)),
        lambda s: tasks.create_task(s, seller, TaskChanges(title="Nowe", case_id=case.id)),
        lambda s: documents.update_document(s, seller, document_id, documents.DocumentDetails(case_id=case.id)),
    ]
    for refused in refusals:
        with pytest.raises(Conflict) as conflict:
            await in_tx(db, refused)
        assert conflict.value.field == ["caseId"]
    # What it holds may still be finished.
    done = await in_tx(db, lambda s: tasks.update_task(s, seller, kept.id, TaskChanges(status="done")))
    assert done.status == "done"
    reopened = await in_tx(db, lambda s: cases.update_case(s, seller, case.id, status="open"))
    assert reopened.closed_at is None
    with pytest.raises(ValidationFailed):
        await in_tx(db, lambda s: cases.update_case(s, seller, case.id, status="archived"))


async def test_documents_and_events_move_between_cases_of_their_counterparty(db, services, seller):
    admin = await make_actor(db, "boss", admin=True)
    card = await new_card(db, seller, "ACME")
    other_card = await new_card(db, seller, "Inna firma")
    complaint = await in_tx(db, lambda s: cases.create_case(s, seller, title="Reklamacja", counterparty_id=card))
    offer = await in_tx(db, lambda s: cases.create_case(s, seller, title="Oferta", counterparty_id=card))
    binder = (await in_tx(db, lambda s: binders.create_binder(s, seller, "Sprawy"))).id
    loose = await new_document(services, seller, binder, "Pismo", None)
    foreign = await new_document(services, seller, binder, "Obce", other_card)
    call = (await in_tx(db, lambda s: event_types.create_event_type(s, admin, name="Telefon"))).id
    event = await in_tx(db, lambda s: register_event(s, seller, EventData(type_id=call, counterparty_id=card)))

    await in_tx(db, lambda s: cases.move_to_case(s, seller, complaint.id, document_ids=[loose], event_ids=[event.id]))
    await in_tx(db, lambda s: cases.move_to_case(s, seller, offer.id, document_ids=[loose], event_ids=[event.id]))
    async with db.sessions() as session:
        moved = await documents.get_document(session, seller, loose)
        in_offer = await documents.list_documents(session, seller, PageRequest(10), case_id=offer.id)
        in_complaint = await documents.list_documents(session, seller, PageRequest(10), case_id=complaint.id)
    assert (moved.case_id, moved.counterparty_id) == (offer.id, card)  # a loose document takes the case's card
    assert (in_offer.total_count, in_complaint.total_count) == (1, 0)
    with pytest.raises(ValidationFailed) as wrong_card:
        await in_tx(db, lambda s: cases.move_to_case(s, seller, offer.id, document_ids=[foreign]))
    assert wrong_card.value.field == ["documentIds"]
    out = await in_tx(db, lambda s: cases.move_to_case(s, seller, None, document_ids=[loose]))
    assert out is None


async def test_an_event_without_a_card_moved_into_a_case_is_indexed_again_under_the_cases_card(db, seller):
    admin = await make_actor(db, "boss", admin=True)
    card = await new_card(db, seller, "ACME")
    complaint = await in_tx(db, lambda s: cases.create_case(s, seller, title="Reklamacja", counterparty_id=card))
    call = (await in_tx(db, lambda s: event_types.create_event_type(s, admin, name="Telefon"))).id
    event = await in_tx(db, lambda s: register_event(s, seller, EventData(type_id=call, note="Oddzwonić")))
    queued = select(DirectoryOutboxEntry.reason).where(
        DirectoryOutboxEntry.kind == "event", DirectoryOutboxEntry.item_id == event.id
    )
    async with db.sessions() as session:
        assert (await session.scalars(queued)).all() == ["registered"]
    await in_tx(db, lambda s: cases.move_to_case(s, seller, complaint.id, event_ids=[event.id]))
    async with db.sessions() as session:
        assert (await session.scalars(queued)).all() == ["registered", "moved"]
        assert (await session.get(Event, event.id)).counterparty_id == card


async def test_moving_a_document_into_a_case_needs_write_on_it(db, services, seller, colleague):
    card = await new_card(db, seller, "ACME")
    case = await in_tx(db, lambda s: cases.create_case(s, colleague, title="Reklamacja", counterparty_id=card))
    binder = (await in_tx(db, lambda s: binders.create_binder(s, seller, "Moje"))).id
    document = await new_document(services, seller, binder, "Umowa", card)
    with pytest.raises(NotFound) as refused:
        await in_tx(db, lambda s: cases.move_to_case(s, colleague, case.id, document_ids=[document]))
    assert refused.value.field == ["documentIds"]
    # Nor the "document added" event about it: to the colleague that event does not exist.
    async with db.sessions() as session:
        added = await session.scalar(select(Event.id).where(Event.document_id == document))
    assert added is not None
    with pytest.raises(NotFound) as refused:
        await in_tx(db, lambda s: cases.move_to_case(s, colleague, case.id, event_ids=[added]))
    assert refused.value.field == ["eventIds"]
    entries = [
        access.Entry("User", seller.user_id, Access.MANAGE),
        access.Entry("User", colleague.user_id, Access.READ),
    ]
    await in_tx(db, lambda s: access.set_binder_permissions(s, seller, binder, entries))
    with pytest.raises(PermissionDenied):
        await in_tx(db, lambda s: cases.move_to_case(s, colleague, case.id, document_ids=[document]))


async def test_my_tasks_come_by_due_date_with_undated_ones_last(db, seller, colleague):
    for title, due in (("Bez terminu", None), ("Jutro", date(2030, 1, 2)), ("Dziś", date(2030, 1, 1))):
        await in_tx(
            db,
            lambda s, title=title, due=due: tasks.create_task(
                s, colleague, TaskChanges(title=title, due_on=due, assignee_id=seller.user_id)
            ),
        )
    mine_too = await in_tx(db, lambda s: tasks.create_task(s, seller, TaskChanges(title="Sobie")))
    await in_tx(db, lambda s: tasks.update_task(s, seller, mine_too.id, TaskChanges(status="done")))
    await in_tx(db, lambda s: tasks.create_task(s, colleague, TaskChanges(title="Cudze")))
    async with db.sessions() as session:
        first = await tasks.my_tasks(session, seller, PageRequest(2))
        rest = await tasks.my_tasks(session, seller, PageRequest(2, after=first.end_cursor))
        done = await tasks.my_tasks(session, seller, PageRequest(5), statuses=["done"])
    assert [t.title for t in first.items + rest.items] == ["Dziś", "Jutro", "Bez terminu"]
    assert [t.title for t in done.items] == ["Sobie"] and done.items[0].completed_at is not None


@sqlite_only
async def test_a_task_links_only_things_of_one_counterparty_and_real_colleagues(db, seller):
    admin = await make_actor(db, "boss", admin=True)
    card = await new_card(db, seller, "ACME")
    other = await new_card(db, seller, "Inna")
    call = (await in_tx(db, lambda s: event_types.create_event_type(s, admin, name="Telefon"))).id
    event = await in_tx(db, lambda s: register_event(s, seller, EventData(type_id=call, counterparty_id=card)))
    linked = await in_tx(db, lambda s: tasks.create_task(s, seller, TaskChanges(title="Oddzwonić", event_id=event.id)))
    assert linked.counterparty_id == card  # taken from the event
    with pytest.raises(ValidationFailed) as mismatch:
        await in_tx(
            db, lambda s: tasks.create_task(s, seller, TaskChanges(title="X", event_id=event.id, counterparty_id=other))
        )
    assert mismatch.value.field == ["eventId"]
    with pytest.raises(NotFound) as nobody:
        await in_tx(db, lambda s: tasks.create_task(s, seller, TaskChanges(title="X", assignee_id=4242)))
    assert nobody.value.field == ["assigneeId"]
