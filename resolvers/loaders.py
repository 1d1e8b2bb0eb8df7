"""Per-request DataLoaders: related objects in one query per kind, whatever the page size."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from auth.access import Access
from dms.access import service as access
from dms.actor import Actor
from dms.binders import service as binders
from dms.documents import checkouts
from dms.documents import queries as document_queries
from dms.documents import service as documents
from dms.documents.models import DocumentLock
from dms.identity import queries as identity_queries
from dms.pagination import Page
from dms.uow import Database
from resolvers.crm_loaders import CrmLoaders

K = TypeVar("K")
V = TypeVar("V")


def _no_page() -> Page[Any]:
    """The page of a list the actor may not see."""
    return Page(items=[], cursors=[], has_next=False, has_previous=False, total_count=0)


def _by_id(items: Sequence[Any], keys: Sequence[int], attr: str = "id") -> list[Any]:
    found = {getattr(item, attr): item for item in items}
    return [found.get(key) for key in keys]


class Loaders:
    """DataLoaders for one request, for one actor: each yields None for what the actor may not read."""

    def __init__(self, db: Database, actor: Actor | None) -> None:
        self._db = db
        self._actor = actor
        self.user = self._loader(lambda s, keys: identity_queries.users_by_id(s, keys))
        self.group = self._loader(lambda s, keys: identity_queries.groups_by_id(s, keys))
        self.binder = self._loader(lambda s, keys: binders.readable_binders(s, self._need_actor(), keys))
        self.document = self._loader(lambda s, keys: documents.readable_documents(s, self._need_actor(), keys))
        self.version = self._loader(lambda s, keys: document_queries.versions_by_id(s, keys))
        self.lock = self._loader(lambda s, keys: document_queries.locks_of(s, keys), attr="document_id")
        self.document_type = self._loader(lambda s, keys: document_queries.document_types_by_id(s, keys))
        self.document_level = DataLoader(self._levels)
        self.binder_level = DataLoader(self._binder_levels)
        self.binder_path = DataLoader(self._binder_paths)
        self.binder_children = DataLoader(self._binder_children)
        self.crm = CrmLoaders(db, self._need_actor)
        self._first_pages: dict[tuple[str, int], DataLoader[int, Page[Any]]] = {}
        # A target's own permission entries; shown only to its managers (see the schema's `permissions`).
        self.binder_entries = self._grouped(access.binder_entries_of)
        self.document_entries = self._grouped(access.document_entries_of)

    def _grouped(
        self, fetch: Callable[[Any, list[int]], Awaitable[dict[int, list[Any]]]]
    ) -> DataLoader[int, list[Any]]:
        async def load(keys: list[int]) -> list[list[Any]]:
            async with self._db.sessions() as session:
                found = await fetch(session, keys)
            return [found[key] for key in keys]

        return DataLoader(load)

    def first_page(self, kind: str, first: int) -> DataLoader[int, Page[Any]]:
        """First pages of one of the lists of documents (`dms.documents.queries.DOCUMENT_LISTS`),
        `first` long, by document id: one loader per list and length asked for in the request."""
        loader = self._first_pages.get((kind, first))
        if loader is None:

            async def load(keys: list[int]) -> list[Page[Any]]:
                # Every document reaching here was shown to this actor; checked again (the levels
                # are loaded for the page anyway), so that no later path can list another's.
                levels = await self.document_level.load_many(keys)
                readable = [key for key, level in zip(keys, levels, strict=True) if level >= Access.READ]
                async with self._db.sessions() as session:
                    pages = await document_queries.first_pages_of(session, kind, readable, first)
                return [pages.get(key) or _no_page() for key in keys]

            loader = self._first_pages[(kind, first)] = DataLoader(load)
        return loader

    def documents_of(self, holder: str, first: int) -> DataLoader[int, Page[Any]]:
        """First pages, `first` long, of the documents of binders, cards or cases (by the holder's
        id; see `dms.documents.service.DOCUMENT_HOLDERS`): one loader per kind and length asked for."""
        loader = self._first_pages.get((holder, first))
        if loader is None:

            async def load(keys: list[int]) -> list[Page[Any]]:
                async with self._db.sessions() as session:
                    pages = await documents.first_pages_of_documents(
                        session, self._need_actor(), holder, await self._readable_holders(holder, keys), first
                    )
                return [pages.get(key) or _no_page() for key in keys]

            loader = self._first_pages[(holder, first)] = DataLoader(load)
        return loader

    async def _readable_holders(self, holder: str, keys: list[int]) -> list[int]:
        """The binders among `keys` the actor may read (checked again, as `first_page` does);
        cards and cases are open to every user, their documents filtered one by one."""
        if holder != "binder":
            return keys
        levels = await self.binder_level.load_many(keys)
        return [key for key, level in zip(keys, levels, strict=True) if level >= Access.READ]

    async def _binder_children(self, keys: list[int]) -> list[list[Any]]:
        readable = await self._readable_holders("binder", keys)
        async with self._db.sessions() as session:
            found = await binders.children_of(session, self._need_actor(), readable)
        return [found.get(key, []) for key in keys]

    def _need_actor(self) -> Actor:
        if self._actor is None:
            raise PermissionError("anonymous requests load nothing")
        return self._actor

    def _loader(
        self, fetch: Callable[[Any, list[int]], Awaitable[Sequence[Any]]], attr: str = "id"
    ) -> DataLoader[int, Any]:
        async def load(keys: list[int]) -> list[Any]:
            async with self._db.sessions() as session:
                return _by_id(await fetch(session, keys), keys, attr)

        return DataLoader(load)

    async def _levels(self, keys: list[int]) -> list[Access]:
        async with self._db.sessions() as session:
            levels = await documents.level_on(session, self._need_actor(), keys)
        return [levels.get(key, Access.NONE) for key in keys]

    async def _binder_levels(self, keys: list[int]) -> list[Access]:
        async with self._db.sessions() as session:
            levels = await binders.levels_on(session, self._need_actor(), keys)
        return [levels.get(key, Access.NONE) for key in keys]

    async def _binder_paths(self, keys: list[int]) -> list[str]:
        async with self._db.sessions() as session:
            paths = await binders.visible_paths(session, self._need_actor(), keys)
        return [paths[key] for key in keys]

    def clear(self) -> None:
        for loader in (
            self.user,
            self.group,
            self.binder,
            self.document,
            self.version,
            self.lock,
            self.document_level,
            self.binder_level,
            self.binder_path,
            self.binder_children,
            self.document_type,
            self.binder_entries,
            self.document_entries,
        ):
            loader.clear_all()
        self._first_pages.clear()
        self.crm.clear()


def live_lock(lock: DocumentLock | None) -> DocumentLock | None:
    """Hide an expired lease: it no longer locks anything."""
    return lock if lock is None or checkouts.lock_is_live(lock) else None
