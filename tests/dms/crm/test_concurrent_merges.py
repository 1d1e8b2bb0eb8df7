"""Merges racing each other and the things being hung on the cards they touch, on SQLite and PostgreSQL.

Every call ends, within a bound, with success or a domain refusal; nothing that succeeded is left on
a card that a merge deleted (which nobody would ever see again), and every merged card points at a
live one.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import func, select

from dms.actor import Actor
from dms.counterparties import details, merge
from dms.counterparties import service as counterparties
from dms.counterparties.details import PersonChanges
from dms.counterparties.models import ContactPerson, Counterparty
from dms.counterparties.service import CardChanges
from dms.errors import DomainError
from dms.events import types as event_types
from dms.events.models import Event
from dms.events.service import EventData, register_event
from tests.dms.crm.conftest import in_tx

CARDS = 8
# Ten of each at once: within PostgreSQL's connection pool (10 + 20 overflow), so no call waits for
# a connection while others wait for its row locks.
MERGES = PEOPLE = EVENTS = 10
# Far above what any call needs; only a deadlock or a lost wake-up would reach it.
HANG_LIMIT_S = 60.0


async def bounded(work: Callable[[], Awaitable[Any]]) -> tuple[str, Any]:
    """("ok", result) or (the refusal's code, None); a call still running after HANG_LIMIT_S fails the test."""
    try:
        return "ok", await asyncio.wait_for(work(), HANG_LIMIT_S)
    except DomainError as refusal:
        return refusal.code, None


async def test_concurrent_merges_lose_nothing_hung_on_the_cards_they_touch(
    db: Any, admin: Actor, seller: Actor
) -> None:
    cards = [
        (await in_tx(db, lambda s, i=i: counterparties.create_counterparty(s, seller, name=f"ACME {i}"))).id
        for i in range(CARDS)
    ]
    call = (await in_tx(db, lambda s: event_types.create_event_type(s, admin, name="Telefon"))).id
    rng = random.Random(7)
    merges = []
    for _ in range(MERGES):
        target, *sources = rng.sample(cards, rng.choice((2, 3)))
        merges.append((target, sources))

    def merging(target: int, sources: list[int]) -> Callable[[], Awaitable[Any]]:
        return lambda: in_tx(db, lambda s: merge.merge_counterparties(s, seller, target, sources))

    def adding_person(card: int, name: str) -> Callable[[], Awaitable[Any]]:
        return lambda: in_tx(db, lambda s: details.add_contact_person(s, seller, card, PersonChanges(name=name)))

    def registering(card: int) -> Callable[[], Awaitable[Any]]:
        return lambda: in_tx(db, lambda s: register_event(s, seller, EventData(type_id=call, counterparty_id=card)))

    work = (
        [merging(target, sources) for target, sources in merges]
        + [adding_person(rng.choice(cards), f"Osoba {i}") for i in range(PEOPLE)]
        + [registering(rng.choice(cards)) for _ in range(EVENTS)]
    )
    rng.shuffle(work)
    outcomes = await asyncio.gather(*(bounded(one) for one in work))

    assert {code for code, _ in outcomes} <= {"ok", "NOT_FOUND"}
    merged = [result for code, result in outcomes if code == "ok" and isinstance(result, Counterparty)]
    people = [result.id for code, result in outcomes if code == "ok" and isinstance(result, ContactPerson)]
    events = [result.id for code, result in outcomes if code == "ok" and isinstance(result, Event)]
    assert merged, "at least the first merge to run cannot be refused"
    async with db.sessions() as session:
        live = set((await session.scalars(select(Counterparty.id).where(Counterparty.deleted_at.is_(None)))).all())
        assert len(live) == CARDS - await session.scalar(
            select(func.count()).select_from(Counterparty).where(Counterparty.merged_into_id.is_not(None))
        )
        pointers = (
            await session.execute(select(Counterparty.merged_into_id).where(Counterparty.deleted_at.is_not(None)))
        ).scalars()
        assert set(pointers) <= live, "a merged card points at a card merged away since"
        person_cards = dict((await session.execute(select(ContactPerson.id, ContactPerson.counterparty_id))).all())
        assert sorted(person_cards) == sorted(people)
        assert set(person_cards.values()) <= live, "a contact person added during a merge hangs on a deleted card"
        event_cards = dict(
            (await session.execute(select(Event.id, Event.counterparty_id).where(Event.type_id == call))).all()
        )
        assert sorted(event_cards) == sorted(events)
        assert set(event_cards.values()) <= live, "an event registered during a merge hangs on a deleted card"


async def test_a_card_changed_while_it_is_merged_into_keeps_both_changes(db: Any, seller: Actor) -> None:
    target = await in_tx(db, lambda s: counterparties.create_counterparty(s, seller, name="ACME"))
    sources = [
        (
            await in_tx(
                db,
                lambda s, i=i: counterparties.create_counterparty(
                    s, seller, name=f"ACME dup {i}", details=CardChanges(regon="123456785" if i == 0 else None)
                ),
            )
        ).id
        for i in range(3)
    ]

    outcomes = await asyncio.gather(
        bounded(lambda: in_tx(db, lambda s: merge.merge_counterparties(s, seller, target.id, sources))),
        *(
            bounded(
                lambda i=i: in_tx(
                    db,
                    lambda s: counterparties.update_counterparty(
                        s, seller, target.id, CardChanges(short_name=f"ACME {i}")
                    ),
                )
            )
            for i in range(5)
        ),
    )
    assert [code for code, _ in outcomes] == ["ok"] * 6
    async with db.sessions() as session:
        card = await session.get(Counterparty, target.id)
        # The merge's REGON and the last edit's short name, both: neither overwrote the other.
        assert card.regon == "123456785"
        assert card.short_name in {f"ACME {i}" for i in range(5)}
