"""Fixtures of the CRM service tests: just a database (no blob store, no index) and two actors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from dms.actor import Actor
from dms.db import create_engine
from dms.documents import service as documents
from dms.documents.uploads import IncomingFile
from dms.uow import Database, unit_of_work
from tests.dms.conftest import chunks_of, make_actor

# Rules whose logic is Python run on SQLite only; whatever depends on SQL runs on both backends.
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """Just the database: these rules need neither the blob store nor the search index."""
    database = Database(create_engine(database_url))
    yield database
    await database.engine.dispose()


async def in_tx(db: Any, work: Any) -> Any:
    async with db.write_sessions() as session:
        result = await work(session)
        await session.commit()
        return result


@pytest.fixture
async def admin(db: Any) -> Actor:
    return await make_actor(db, "admin", admin=True)


@pytest.fixture
async def seller(db: Any) -> Actor:
    return await make_actor(db, "seller")


async def new_document(services: Any, actor: Actor, binder_id: int, title: str, counterparty_id: int | None) -> int:
    """A document added through the service (its "document added" event recorded); its id."""
    async with unit_of_work(services.db, services.blobs, write=True) as uow:
        document = await documents.create_document(
            uow,
            actor,
            binder_id=binder_id,
            details=documents.DocumentDetails(title=title, counterparty_id=counterparty_id),
            source=IncomingFile(f"{title}.txt", chunks_of(title.encode())),
            max_upload_bytes=1024,
        )
        await uow.commit()
        return document.id
