"""Per-request DataLoaders of the CRM side: what hangs on cards, events and cases, one query per kind.

Reached as `ctx.loaders.crm`; every loader reads in a short session of its own, like the document
side's loaders, so a card with 20 documents costs the same queries as one with 3.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from dms.actor import Actor
from dms.cases import service as cases
from dms.counterparties import dictionaries, queries
from dms.counterparties import service as counterparties
from dms.counterparties import types as counterparty_types
from dms.events import service as events
from dms.events import timeline
from dms.events import types as event_types
from dms.pagination import Page
from dms.tasks import service as tasks
from dms.uow import Database

Fetch = Callable[[AsyncSession, list[int]], Awaitable[Sequence[Any]]]
FetchGrouped = Callable[[AsyncSession, list[int]], Awaitable[Mapping[int, Sequence[Any]]]]
FetchPages = Callable[[AsyncSession, list[int]], Awaitable[Mapping[int, Page[Any]]]]


class CrmLoaders:
    def __init__(self, db: Database, actor: Callable[[], Actor]) -> None:
        self._db = db
        self._actor = actor
        self._pages: dict[tuple[Any, ...], DataLoader[int, Page[Any]]] = {}
        # Cards by id, deleted and merged ones too: a link to a card never breaks.
        self.card = self._by_id(counterparties.cards_by_id)
        self.counterparty_type = self._by_id(counterparty_types.types_by_id)
        self.dictionary = self._by_id(dictionaries.dictionaries_by_id)
        self.dictionary_entry = self._by_id(dictionaries.entries_by_id)
        self.entries_of_dictionary = self._grouped(dictionaries.entries_of)
        self.classifications = self._grouped(queries.classifications_of)
        self.addresses = self._grouped(queries.addresses_of)
        self.current_addresses = self._grouped(queries.current_addresses_of)
        self.persons = self._grouped(queries.persons_of)
        self.person = self._by_id(queries.persons_by_id)
        self.contact_methods = self._grouped(queries.contact_methods_of)
        self.bank_accounts = self._grouped(queries.bank_accounts_of)
        self.blocks = self._grouped(queries.blocks_of)
        # An event about a document the actor may not read is None, as the document is.
        self.event = self._by_id(lambda s, keys: events.events_by_id(s, actor(), keys))
        self.event_type = self._by_id(event_types.event_types_by_id)
        self.settlements = self._grouped(events.settlements_of)
        self.case = self._by_id(cases.cases_by_id)
        self.task = self._by_id(tasks.tasks_by_id)
        self.tasks_of_event = self._grouped(tasks.tasks_of_events)

    def events_of(self, holder: str, first: int) -> DataLoader[int, Page[Any]]:
        """First pages, `first` long, of the events of cards or cases (by the holder's id; see
        `dms.events.service.EVENT_HOLDERS`)."""
        return self._first_pages(
            ("events", holder, first),
            lambda session, keys: events.first_pages_of_events(session, self._actor(), holder, keys, first),
        )

    def timelines(self, first: int) -> DataLoader[int, Page[Any]]:
        """First pages, `first` long, of the timelines of cards, by card id."""
        return self._first_pages(
            ("timeline", first),
            lambda session, keys: timeline.first_pages_of_timelines(session, self._actor(), keys, first),
        )

    def cases_of_cards(self, first: int, statuses: Sequence[str] | None) -> DataLoader[int, Page[Any]]:
        """First pages, `first` long, of the cases of cards (of some statuses), by card id."""
        wanted = tuple(statuses) if statuses is not None else None
        return self._first_pages(
            ("cases", first, wanted),
            lambda session, keys: cases.first_pages_of_cases(session, keys, first, statuses=wanted),
        )

    def tasks_of(self, holder: str, first: int, statuses: Sequence[str] | None) -> DataLoader[int, Page[Any]]:
        """First pages, `first` long, of the tasks of cards or cases (of some statuses), by the
        holder's id (see `dms.tasks.service.TASK_HOLDERS`)."""
        wanted = tuple(statuses) if statuses is not None else None
        return self._first_pages(
            ("tasks", holder, first, wanted),
            lambda session, keys: tasks.first_pages_of_tasks(session, holder, keys, first, statuses=wanted),
        )

    def _first_pages(self, kind: tuple[Any, ...], fetch: FetchPages) -> DataLoader[int, Page[Any]]:
        """One loader per kind of list and length (and filter) asked for in the request."""
        loader = self._pages.get(kind)
        if loader is None:

            async def load(keys: list[int]) -> list[Page[Any]]:
                async with self._db.sessions() as session:
                    pages = await fetch(session, keys)
                return [pages[key] for key in keys]

            loader = self._pages[kind] = DataLoader(load)
        return loader

    def _by_id(self, fetch: Fetch) -> DataLoader[int, Any]:
        async def load(keys: list[int]) -> list[Any]:
            async with self._db.sessions() as session:
                found = {item.id: item for item in await fetch(session, keys)}
            return [found.get(key) for key in keys]

        return DataLoader(load)

    def _grouped(self, fetch: FetchGrouped) -> DataLoader[int, list[Any]]:
        async def load(keys: list[int]) -> list[list[Any]]:
            async with self._db.sessions() as session:
                found = await fetch(session, keys)
            return [list(found.get(key, [])) for key in keys]

        return DataLoader(load)

    def clear(self) -> None:
        for loader in vars(self).values():
            if isinstance(loader, DataLoader):
                loader.clear_all()
        self._pages.clear()
