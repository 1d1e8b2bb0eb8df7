"""The unit of work: one database session, the blob store, and what the transaction must carry."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from dms.db import WRITE_OPTION, session_factory
from storage.base import BlobStore


@dataclass
class Database:
    """The engine and its session maker; one per process."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession] = field(init=False)
    write_sessions: async_sessionmaker[AsyncSession] = field(init=False)

    def __post_init__(self) -> None:
        self.sessions = session_factory(self.engine)
        # Every transaction of a writing session takes the write lock up front (see dms.db).
        self.write_sessions = session_factory(self.engine.execution_options(**{WRITE_OPTION: True}))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name


@dataclass
class UnitOfWork:
    """A session plus the services' collaborators. Writers commit; readers just close."""

    session: AsyncSession
    blobs: BlobStore
    dialect: str
    after_commit: list[Any] = field(default_factory=list)

    async def commit(self) -> None:
        await self.session.commit()

    async def rollback(self) -> None:
        await self.session.rollback()


@asynccontextmanager
async def unit_of_work(db: Database, blobs: BlobStore, *, write: bool = False) -> AsyncIterator[UnitOfWork]:
    """Open a unit of work; a writing one takes the database's write lock up front (SQLite)."""
    async with (db.write_sessions if write else db.sessions)() as session:
        uow = UnitOfWork(session=session, blobs=blobs, dialect=db.dialect)
        try:
            yield uow
        except BaseException:
            await session.rollback()
            raise
