"""SQLite transactions: writers of one process queue at the write gate, which never stays shut after a
transaction ends; no connection goes back to the pool inside one; each costs few trips to the driver's thread."""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

import dms.db
from dms.db import create_engine, is_unavailable
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


async def test_a_connection_returned_inside_a_transaction_is_rolled_back(db: Database):
    # Below SQLAlchemy's Connection (which ends its own transactions): only the pool's reset
    # stands between a transaction left open and the next user of the connection.
    pooled = await db.engine.raw_connection()
    await pooled.driver_connection.execute("BEGIN IMMEDIATE")
    await pooled.driver_connection.execute("INSERT INTO entries VALUES (1)")
    pooled.close()

    await write(db, 2)

    assert await values(db) == [2]


async def test_a_write_lock_held_by_another_process_reads_as_the_database_being_unavailable(
    db: Database, tmp_path: Path
):
    other = sqlite3.connect(tmp_path / "gate.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(OperationalError, match="database is locked") as refused:
            await write(db, 1)
    finally:
        other.rollback()
        other.close()

    assert is_unavailable(refused.value)
    await write(db, 2)
    assert await values(db) == [2]


@contextmanager
def trips_to_the_driver(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """What aiosqlite hands its connection's thread, one entry per round trip from the event loop."""
    trips: list[str] = []
    hand_over = aiosqlite.Connection._execute

    async def counted(connection: aiosqlite.Connection, function, *args, **kwargs):
        trips.append(getattr(function, "__name__", repr(function)))
        return await hand_over(connection, function, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    yield trips


async def test_a_read_and_a_write_each_cost_a_few_trips_to_the_driver(db: Database, monkeypatch: pytest.MonkeyPatch):
    await values(db)  # the pool holds a connection now
    with trips_to_the_driver(monkeypatch) as trips:
        await values(db)
        # BEGIN; cursor, SELECT, fetch, close; ROLLBACK; the pool's ROLLBACK on return.
        assert len(trips) == 7, trips
        trips.clear()
        await write(db, 1)
        # BEGIN IMMEDIATE; cursor, INSERT, close; COMMIT; the pool's ROLLBACK on return.
        assert len(trips) == 6, trips
