"""SQLite writers of one process queue at the write gate; it never stays shut after a transaction ends."""

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

import dms.db
from dms.db import create_engine
from dms.uow import Database


@pytest.fixture
async def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Database:
    # A short wait, so that a gate left shut shows up as "database is locked" instead of a hang.
    monkeypatch.setattr(dms.db, "BUSY_TIMEOUT_S", 1)
    database = Database(create_engine(f"sqlite+aiosqlite:///{tmp_path / 'gate.sqlite3'}"))
    async with database.write_sessions() as session:
        await session.execute(text("CREATE TABLE entries (value INTEGER)"))
        await session.commit()
    yield database
    await database.engine.dispose()


async def write(db: Database, value: int) -> None:
    async with db.write_sessions() as session:
        await session.execute(text("INSERT INTO entries VALUES (:value)"), {"value": value})
        await session.commit()


async def values(db: Database) -> list[int]:
    async with db.sessions() as session:
        return sorted((await session.scalars(text("SELECT value FROM entries"))).all())


async def test_a_writer_that_fails_midway_opens_the_gate_for_the_next(db: Database):
    with pytest.raises(RuntimeError):
        async with db.write_sessions() as session:
            await session.execute(text("INSERT INTO entries VALUES (1)"))
            raise RuntimeError("the request failed")

    await write(db, 2)

    assert await values(db) == [2]


async def test_a_writer_closed_without_commit_or_rollback_opens_the_gate(db: Database):
    session = db.write_sessions()
    await session.execute(text("INSERT INTO entries VALUES (1)"))
    await session.close()

    await write(db, 2)

    assert await values(db) == [2]


async def test_a_second_write_inside_a_first_fails_as_locked_instead_of_hanging(db: Database):
    async with db.write_sessions() as outer:
        await outer.execute(text("INSERT INTO entries VALUES (1)"))
        with pytest.raises(OperationalError, match="database is locked"):
            await write(db, 2)
        await outer.commit()

    await write(db, 3)

    assert await values(db) == [1, 3]


async def test_many_concurrent_writers_all_get_their_turn(db: Database):
    import asyncio

    await asyncio.gather(*(write(db, value) for value in range(40)))

    assert await values(db) == list(range(40))


async def test_readers_do_not_queue_behind_a_writer(db: Database):
    async with db.write_sessions() as writer:
        await writer.execute(text("INSERT INTO entries VALUES (1)"))
        assert await values(db) == []  # a reader runs (and sees the last commit) while the write is open
        await writer.commit()
    assert await values(db) == [1]
