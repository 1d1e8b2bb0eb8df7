"""Searching cards and events through the services: every change reaches the index through the outbox."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import shutil
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import pytest

from dms import directory_search
from dms.actor import Actor
from dms.counterparties import details, merge
from dms.counterparties import service as counterparties
from dms.counterparties.customfields import FieldDefinition
from dms.errors import ValidationFailed
from dms.events import service as events
from dms.events.types import create_event_type
from dms.search import SearchUnavailable
from tests.conftest import drain
from tests.dms.conftest import make_actor, new_binder, new_document


async def in_tx(services: Any, work: Callable[[Any], Awaitable[Any]]) -> Any:
    async with services.db.write_sessions() as session:
        result = await work(session)
        await session.commit()
        return result


async def cards(services: Any, actor: Actor, text: str, *, deleted: bool = False) -> list[str]:
    async with services.db.sessions() as session:
        page = await directory_search.search_counterparties(
            session, services.directory, actor, text, first=20, after=None, deleted=deleted
        )
    return [card.name for card in page.items]


async def found_events(services: Any, actor: Actor, text: str) -> tuple[list[int], int]:
    async with services.db.sessions() as session:
        page = await directory_search.search_events(session, services.directory, actor, text, first=20, after=None)
    return [event.id for event in page.items], page.total_count


async def test_every_change_to_a_card_reaches_its_search(services: Any, indexer: Any, owner: Actor) -> None:
    card = await in_tx(
        services, lambda s: counterparties.create_counterparty(s, owner, name="Kowalski i Synowie", nip="526-025-02-74")
    )
    other = await in_tx(services, lambda s: counterparties.create_counterparty(s, owner, name="Zakład Usług Różnych"))
    await in_tx(
        services,
        lambda s: details.add_contact_person(s, owner, other.id, details.PersonChanges(name="Anna Żółtowska")),
    )
    await drain(indexer)
    assert await cards(services, owner, "kowalskiego") == ["Kowalski i Synowie"]
    assert await cards(services, owner, "5260250274") == ["Kowalski i Synowie"]
    assert await cards(services, owner, "526 025 02 74") == ["Kowalski i Synowie"]
    assert await cards(services, owner, "zoltowska") == ["Zakład Usług Różnych"]
    assert await cards(services, owner, "zakladu uslug") == ["Zakład Usług Różnych"]

    await in_tx(
        services,
        lambda s: counterparties.update_counterparty(s, owner, card.id, counterparties.CardChanges(name="Nowak S.A.")),
    )
    await drain(indexer)
    assert await cards(services, owner, "kowalski") == []
    assert await cards(services, owner, "nowaka") == ["Nowak S.A."]

    await in_tx(services, lambda s: merge.merge_counterparties(s, owner, card.id, [other.id]))
    await drain(indexer)
    # The person moved with the merge; the merged card is deleted and found only among the deleted.
    assert await cards(services, owner, "Żółtowska") == ["Nowak S.A."]
    assert await cards(services, owner, "zakład") == []
    assert await cards(services, owner, "zakład", deleted=True) == ["Zakład Usług Różnych"]

    await in_tx(services, lambda s: counterparties.delete_counterparty(s, owner, card.id))
    await drain(indexer)
    assert await cards(services, owner, "nowak") == []
    await in_tx(services, lambda s: counterparties.restore_counterparty(s, owner, card.id))
    await drain(indexer)
    assert await cards(services, owner, "nowak") == ["Nowak S.A."]


async def test_events_are_found_by_note_and_fields_only_by_those_who_may_see_them(
    services: Any, indexer: Any, owner: Actor
) -> None:
    bob = await make_actor(services.db, "bob")
    card = await in_tx(services, lambda s: counterparties.create_counterparty(s, owner, name="Kowalski"))
    meeting = await in_tx(
        services,
        lambda s: create_event_type(
            s, owner, name="Spotkanie", fields=[FieldDefinition(key="subject", label="Temat", kind="text")]
        ),
    )
    registered = await in_tx(
        services,
        lambda s: events.register_event(
            s,
            owner,
            events.EventData(
                type_id=meeting.id,
                note="Klient reklamuje żółte faktury",
                counterparty_id=card.id,
                custom_values={"subject": "Negocjacje cenowe"},
            ),
        ),
    )
    binder = await new_binder(services, owner, "Zarząd")
    await new_document(services, owner, binder, "Poufna umowa z Kowalskim", card.id, content=b"tajne")
    await drain(indexer)

    assert await found_events(services, bob, "zolte fakturze") == ([registered.id], 1)
    assert await found_events(services, bob, "negocjacji") == ([registered.id], 1)
    # The "document added" event names a document bob may not read: not found, not counted.
    assert await found_events(services, bob, "poufnej umowy") == ([], 0)
    secret, total = await found_events(services, owner, "poufnej umowy")
    assert len(secret) == 1 and total == 1


# Parsing is Python: one backend is enough.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_malformed_query_is_a_validation_error(services: Any, owner: Actor) -> None:
    async with services.db.sessions() as session:
        for text in ['"unterminated', "nosuchfield:x", "a AND", "(x"]:
            with pytest.raises(ValidationFailed):
                await directory_search.search_counterparties(
                    session, services.directory, owner, text, first=5, after=None
                )
            with pytest.raises(ValidationFailed):
                await directory_search.search_events(session, services.directory, owner, text, first=5, after=None)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_running_indexer_brings_a_new_card_to_search_and_heals_a_lost_index(
    services: Any, indexer: Any, owner: Actor, settings: Any
) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(indexer.run(poll_seconds=0.05, stop=stop))
    try:
        await in_tx(services, lambda s: counterparties.create_counterparty(s, owner, name="Przedsiębiorstwo Żółw"))
        indexer.wake()
        # The outbox's promise: searchable within 5 s (a bound to stop waiting, not a timing assertion).
        with anyio.fail_after(5):
            for _ in itertools.count():
                # Until the indexer's first round has built the index, search says it is rebuilding.
                with contextlib.suppress(SearchUnavailable):
                    if await cards(services, owner, "przedsiebiorstwa zolwia") == ["Przedsiębiorstwo Żółw"]:
                        break
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await task
    shutil.rmtree(settings.resolved_index_dir / "directory")
    await drain(indexer)
    assert await cards(services, owner, "zolw") == ["Przedsiębiorstwo Żółw"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_cards_and_events_get_their_turn_while_documents_keep_arriving(
    services: Any, indexer: Any, owner: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dms.indexing import indexer as indexing

    await drain(indexer)
    binder = await new_binder(services, owner, "Faktury")
    for number in range(12):
        await new_document(services, owner, binder, f"Faktura {number}", content=b"faktura")
    await in_tx(services, lambda s: counterparties.create_counterparty(s, owner, name="Hurtownia Żółw"))
    # A flood of documents, in small batches and short turns: the outbox is not empty for long.
    indexer.batch_size = indexer.first_batch_size = 2
    monkeypatch.setattr(indexing, "TURN_SECONDS", 0.0)
    documents_waiting: list[int] = []
    apply_cards = indexer.directory.drain_once

    async def noting_the_documents_left() -> int:
        documents_waiting.append(await indexer.pending())
        return await apply_cards()

    monkeypatch.setattr(indexer.directory, "drain_once", noting_the_documents_left)
    stop = asyncio.Event()
    task = asyncio.create_task(indexer.run(poll_seconds=0.05, stop=stop))
    try:
        with anyio.fail_after(30):
            for _ in itertools.count():
                if documents_waiting and not await indexer.pending():
                    break
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await task
    # The card was indexed while most of the documents still waited, not after all of them.
    assert documents_waiting[0] >= 8
    assert await cards(services, owner, "hurtownia") == ["Hurtownia Żółw"]
