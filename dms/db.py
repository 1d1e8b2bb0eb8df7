"""Engine and session handling for SQLite (WAL, foreign keys on) and PostgreSQL."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.util import await_only

from dms.times import business_month

WRITE_OPTION = "kartoteka_write"
#: How long a writer waits for SQLite's write lock before "database is locked".
BUSY_TIMEOUT_S = 30
#: Connections an SQLite engine keeps open between requests (and as many more it may open at a peak).
SQLITE_POOL_SIZE = 20
_GATE_KEY = "kartoteka_write_gate"


class DatabaseUrlError(ValueError):
    """The database URL cannot be used."""


# SQLSTATE classes of a server that cannot serve now: 08 connection exceptions; 57P shutting
# down, crashed, starting up; 53 out of resources (disk full, out of memory, too many connections).
_UNAVAILABLE_SQLSTATES = ("08", "57P", "53")
# SQLite's ways of saying the same (a syntax error is an OperationalError too, and is not one).
_SQLITE_UNAVAILABLE = (
    "database is locked",
    "unable to open database file",
    "disk I/O error",
    "database or disk is full",
)


def is_unavailable(error: BaseException) -> bool:
    """Whether `error` says the database cannot be reached or used right now (down, restarting,
    its connections dropped, the pool exhausted, SQLite's write lock held too long), as opposed
    to a fault in what was asked of it: a client may try again later."""
    if isinstance(error, SQLAlchemyTimeoutError):
        return True
    if isinstance(error, DBAPIError):
        if error.connection_invalidated:
            return True
        state = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
        if isinstance(state, str) and state.startswith(_UNAVAILABLE_SQLSTATES):
            return True
        return isinstance(error.orig, sqlite3.OperationalError) and str(error.orig).startswith(_SQLITE_UNAVAILABLE)
    # Raised by the driver while connecting, unwrapped: refused, reset, timed out, name not resolved
    # (a database host restarting). Not any OSError: the blob store's errors are its own.
    return isinstance(error, ConnectionError | TimeoutError | socket.gaierror)


def create_engine(url: str, *, echo: bool = False, foreign_keys: bool = True) -> AsyncEngine:
    """Create the async engine; SQLite files get WAL mode, foreign keys and a busy timeout.

    `foreign_keys=False` is for migrations only: SQLite rebuilds a table to change it, and dropping
    the old table with foreign keys on would cascade into the rows that refer to it.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseUrlError(f"malformed database URL: {exc}") from exc
    if parsed.drivername.split("+")[0] == "postgres":  # the scheme Heroku and libpq tools write
        parsed = parsed.set(drivername=parsed.drivername.replace("postgres", "postgresql", 1))
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.drivername != "sqlite+aiosqlite":
            parsed = parsed.set(drivername="sqlite+aiosqlite")
        in_memory = not parsed.database or parsed.database == ":memory:"
        if not in_memory:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # The pool's rollback on every return stays, though it is a round trip to aiosqlite's
        # thread: it is queued behind whatever a cancelled request left in that thread's queue (a
        # BEGIN not yet run), so no connection goes back to the pool inside a transaction.
        # A request reads through several short sessions at once (one per DataLoader batch: a card
        # opens a dozen); connections beyond the pool were opened and closed again for each such
        # request, each a thread of aiosqlite's and a file open. SQLite connections are cheap to keep.
        # An in-memory database lives in its one connection (SQLAlchemy's StaticPool): no pool size.
        pool = {} if in_memory else {"pool_size": SQLITE_POOL_SIZE, "max_overflow": SQLITE_POOL_SIZE}
        engine = create_async_engine(parsed, echo=echo, connect_args={"timeout": BUSY_TIMEOUT_S}, **pool)
        _configure_sqlite(engine, foreign_keys=foreign_keys)
        return engine
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+asyncpg")
        return create_async_engine(parsed, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20)
    raise DatabaseUrlError(f"unsupported database {backend!r}: use sqlite or postgresql")


def _configure_sqlite(engine: AsyncEngine, *, foreign_keys: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # aiosqlite's own transaction handling fights SQLAlchemy's; take it over (SQLAlchemy docs).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
        cursor.close()
        # SQLite knows no time zones: months on the company's calendar come from Python.
        dbapi_connection.create_function("business_month", 1, business_month, deterministic=True)

    gate = WriteGate()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A writing unit of work takes the write lock up front (BEGIN IMMEDIATE): two writers then
        # queue instead of one failing with "database is locked" when it upgrades a read lock.
        # Readers stay deferred, so WAL lets them run beside a writer.
        immediate = connection.get_execution_options().get(WRITE_OPTION, False)
        if immediate:
            gate.enter(connection.info)
        statement = "BEGIN IMMEDIATE" if immediate else "BEGIN"
        try:
            # Straight to the driver: one round trip to its thread, where a cursor through
            # SQLAlchemy would take three (open, execute, close) before every transaction.
            await_only(connection.connection.driver_connection.execute(statement))
        except sqlite3.OperationalError as exc:
            # As SQLAlchemy would have raised it: "database is locked" reads as unavailable.
            raise OperationalError(statement, None, exc) from exc

    @event.listens_for(engine.sync_engine, "commit")
    @event.listens_for(engine.sync_engine, "rollback")
    def _on_end(connection: Any) -> None:
        gate.leave(connection.info)

    @event.listens_for(engine.sync_engine.pool, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        # A connection that goes back to the pool (closed, invalidated) ends its transaction in any case.
        if record is not None:
            gate.leave(record.info)


class WriteGate:
    """This process's writers queue here, first come first served, for SQLite's one write lock.

    SQLite's own busy handler makes a waiting writer sleep and retry with growing pauses (up to
    100 ms), so under load some writers keep missing the moments the lock is free and wait tens of
    seconds while later ones go first. Queueing in order before BEGIN IMMEDIATE keeps the wait
    proportional to the queue; other processes (a separate indexer) still meet busy_timeout.
    The gate is held from BEGIN to COMMIT or ROLLBACK (or the connection's return to the pool).
    """

    def __init__(self, timeout: float | None = None) -> None:
        self._timeout = BUSY_TIMEOUT_S if timeout is None else timeout
        self._locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}

    def _lock(self) -> asyncio.Lock:
        # One lock per event loop: the CLI runs each command in a loop of its own.
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            self._locks = {known: held for known, held in self._locks.items() if not known.is_closed()}
            lock = self._locks[loop] = asyncio.Lock()
        return lock

    def enter(self, info: dict[str, Any]) -> None:
        """Blocking in SQLAlchemy's greenlet: wait (at most the busy timeout) for this process's turn."""
        if info.get(_GATE_KEY) is not None:
            return
        lock = self._lock()
        try:
            await_only(asyncio.wait_for(lock.acquire(), self._timeout))
        except TimeoutError:
            raise OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked")) from None
        info[_GATE_KEY] = lock

    def leave(self, info: dict[str, Any]) -> None:
        lock = info.pop(_GATE_KEY, None)
        if lock is not None and lock.locked():
            lock.release()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True)


async def check_database(engine: AsyncEngine) -> None:
    """Raise with a one-line reason when the database cannot be reached."""
    async with asyncio.timeout(10), engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
