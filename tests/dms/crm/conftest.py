"""Fixtures of the CRM service tests: just a database (no blob store, no index) and two actors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from dms.actor import Actor
from dms.db import create_engine
from dms.uow import Database
from tests.dms.conftest import make_actor

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
