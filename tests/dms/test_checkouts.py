"""Locks under real concurrency, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select

from dms.documents import checkouts
from dms.documents.models import DocumentVersion
from dms.documents.uploads import IncomingFile
from dms.errors import DocumentLocked, DomainError
from dms.uow import unit_of_work
from tests.dms.conftest import chunks_of, make_actor


async def test_of_fifty_concurrent_check_outs_exactly_one_wins(services: Any, document_id: int) -> None:
    actors = [await make_actor(services.db, f"user{i}", admin=True) for i in range(50)]

    async def attempt(actor: Any) -> str:
        try:
            async with unit_of_work(services.db, services.blobs, write=True) as uow:
                await checkouts.check_out(uow.session, actor, document_id, ttl=None)
                await uow.commit()
                return "won"
        except DocumentLocked:
            return "locked"

    results = await asyncio.gather(*(attempt(actor) for actor in actors))
    assert results.count("won") == 1
    assert results.count("locked") == 49


async def test_concurrent_check_ins_without_a_lock_never_share_a_version_number(
    services: Any, document_id: int
) -> None:
    actors = [await make_actor(services.db, f"writer{i}", admin=True) for i in range(10)]

    async def attempt(index: int, actor: Any) -> str:
        try:
            async with unit_of_work(services.db, services.blobs, write=True) as uow:
                await checkouts.check_in(
                    uow,
                    actor,
                    document_id,
                    IncomingFile("v.txt", chunks_of(f"version {index}".encode())),
                    max_upload_bytes=1024,
                )
                await uow.commit()
                return "ok"
        except DomainError as error:
            return error.code

    results = await asyncio.gather(*(attempt(i, a) for i, a in enumerate(actors)))
    assert set(results) <= {"ok", "DOCUMENT_LOCKED", "NOT_LOCK_HOLDER"}
    async with services.db.sessions() as session:
        rows = (
            await session.execute(
                select(DocumentVersion.major, DocumentVersion.minor, func.count())
                .where(DocumentVersion.document_id == document_id)
                .group_by(DocumentVersion.major, DocumentVersion.minor)
            )
        ).all()
    assert all(count == 1 for _, _, count in rows)
    assert len(rows) == 1 + results.count("ok")


async def test_an_expired_lease_is_nobodys_lock(services: Any, document_id: int) -> None:
    from datetime import timedelta

    first = await make_actor(services.db, "first", admin=True)
    second = await make_actor(services.db, "second", admin=True)
    async with unit_of_work(services.db, services.blobs, write=True) as uow:
        await checkouts.check_out(uow.session, first, document_id, ttl=timedelta(microseconds=1))
        await uow.commit()
    await asyncio.sleep(0.01)
    async with unit_of_work(services.db, services.blobs, write=True) as uow:
        lock = await checkouts.check_out(uow.session, second, document_id, ttl=None)
        await uow.commit()
    assert lock.holder_id == second.user_id
