"""What every resolver gets: the actor, the services of the process, per-request DataLoaders."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from starlette.requests import Request

from auth.signing import Signer
from dms.actor import Actor
from dms.errors import Unauthenticated
from dms.uow import Database, UnitOfWork, unit_of_work
from storage.base import BlobStore


@dataclass(frozen=True)
class Limits:
    max_upload_bytes: int
    max_page_size: int
    default_page_size: int
    lock_ttl: timedelta | None
    token_ttl_seconds: int
    download_url_ttl_seconds: int
    staged_upload_ttl_seconds: int
    login_max_failures: int
    login_window_seconds: int
    redirect_downloads: bool = False


@dataclass
class Services:
    """The process-wide collaborators, built once by the composition root."""

    db: Database
    blobs: BlobStore
    download_signer: Signer
    upload_signer: Signer
    limits: Limits
    search: Any = None
    # The counterparty and event indexes (`search.directory.DirectoryIndexes`).
    directory: Any = None
    # Called after a unit of work commits (the embedded indexer's wake-up); None when nobody listens.
    on_commit: Any = None
    # Where clients reach the server (KARTOTEKA_PUBLIC_URL); None: where each request came to.
    public_url: str | None = None


#: Database sessions one request may hold at once for its reads. Strawberry resolves sibling fields
#: concurrently, so a page of 100 documents asking each for something not batched by a DataLoader
#: would otherwise take 100 connections: the whole pool, which every other request then waits for.
READS_PER_REQUEST = 4
# Set inside a read: a read nested in it (same task, or a task it started) uses the outer one's slot
# instead of waiting for another, which could deadlock once every slot is held by an outer read.
_IN_READ: ContextVar[bool] = ContextVar("kartoteka_in_read", default=False)


@dataclass
class RequestContext:
    services: Services
    request: Request | None
    actor: Actor | None
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    loaders: Any = None
    _read_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(READS_PER_REQUEST))

    @property
    def limits(self) -> Limits:
        return self.services.limits

    @property
    def client_address(self) -> str:
        if self.request is not None and self.request.client is not None:
            return self.request.client.host
        return "unknown"

    def absolute_url(self, path: str) -> str:
        """`path` (starting with /) as a link a client can follow: under the configured public
        address, else the one this request came to (its Host header, which a proxy may rewrite)."""
        if self.services.public_url is not None:
            return self.services.public_url + path
        return (str(self.request.base_url).rstrip("/") if self.request is not None else "") + path

    def require_actor(self) -> Actor:
        if self.actor is None:
            raise Unauthenticated()
        return self.actor

    @asynccontextmanager
    async def read(self) -> AsyncIterator[UnitOfWork]:
        if _IN_READ.get():
            async with unit_of_work(self.services.db, self.services.blobs) as uow:
                yield uow
            return
        async with self._read_slots:
            token = _IN_READ.set(True)
            try:
                async with unit_of_work(self.services.db, self.services.blobs) as uow:
                    yield uow
            finally:
                _IN_READ.reset(token)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[UnitOfWork]:
        """A writing unit of work, committed when the block ends without an exception."""
        async with unit_of_work(self.services.db, self.services.blobs, write=True) as uow:
            yield uow
            await uow.commit()
        if self.services.on_commit is not None:
            self.services.on_commit()
        if self.loaders is not None:
            self.loaders.clear()
