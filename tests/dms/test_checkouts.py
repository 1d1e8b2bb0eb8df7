"""Locks under real concurrency, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select

from dms.documents import checkouts
from dms.documents.models import DocumentHistoryEntry, DocumentVersion
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


async def _lapsed_check_out(services: Any, actor: Any, document_id: int) -> None:
    """A check-out whose lease has run out by the time this returns."""
    from datetime import timedelta

    async with unit_of_work(services.db, services.blobs, write=True) as uow:
        await checkouts.check_out(uow.session, actor, document_id, ttl=timedelta(microseconds=1))
        await uow.commit()
    await asyncio.sleep(0.01)


async def test_an_expired_lease_is_nobodys_lock(services: Any, document_id: int) -> None:
    first = await make_actor(services.db, "first", admin=True)
    second = await make_actor(services.db, "second", admin=True)
    await _lapsed_check_out(services, first, document_id)
    async with unit_of_work(services.db, services.blobs, write=True) as uow:
        lock = await checkouts.check_out(uow.session, second, document_id, ttl=None)
        await uow.commit()
    assert lock.holder_id == second.user_id
    async with services.db.sessions() as session:
        entries = (
            await session.execute(
                select(DocumentHistoryEntry.action, DocumentHistoryEntry.actor_id, DocumentHistoryEntry.details)
                .where(DocumentHistoryEntry.document_id == document_id)
                .order_by(DocumentHistoryEntry.id)
            )
        ).all()
    # The history says why the first holder's check-in will be refused.
    assert [(action, actor_id) for action, actor_id, _ in entries[-3:]] == [
        ("checked_out", first.user_id),
        ("lock_expired", None),
        ("checked_out", second.user_id),
    ]
    assert entries[-2][2]["former_holder"] == "first"
    # ...when the second holder has checked in over it meanwhile; the first then says what they edited.
    assert await _check_in(services, second, document_id, b"second", None) == "ok"
    assert await _check_in(services, first, document_id, b"first", None) == "CONFLICT"
    assert await _check_in(services, first, document_id, b"first", "1.1") == "ok"


async def _check_in(services: Any, actor: Any, document_id: int, content: bytes, expected: str | None) -> str:
    """One check-in in its own unit of work: "ok" or the refusal's code."""
    try:
        async with unit_of_work(services.db, services.blobs, write=True) as uow:
            await checkouts.check_in(
                uow,
                actor,
                document_id,
                IncomingFile("v.txt", chunks_of(content)),
                expected_version=expected,
                max_upload_bytes=1024,
            )
            await uow.commit()
            return "ok"
    except DomainError as error:
        return error.code


async def _numbers(services: Any, document_id: int) -> list[tuple[int, int]]:
    async with services.db.sessions() as session:
        rows = await session.execute(
            select(DocumentVersion.major, DocumentVersion.minor)
            .where(DocumentVersion.document_id == document_id)
            .order_by(DocumentVersion.major, DocumentVersion.minor)
        )
        return [(major, minor) for major, minor in rows.all()]


async def test_of_concurrent_check_ins_expecting_the_same_version_exactly_one_lands(
    services: Any, document_id: int
) -> None:
    actors = [await make_actor(services.db, f"editor{i}", admin=True) for i in range(10)]
    results = await asyncio.gather(
        *(_check_in(services, actor, document_id, f"edit {i}".encode(), "1.0") for i, actor in enumerate(actors))
    )
    # Whoever comes second edited 1.0, which is no longer the latest: refused, never silently stacked.
    assert results.count("ok") == 1
    assert set(results) <= {"ok", "CONFLICT", "DOCUMENT_LOCKED"}
    assert await _numbers(services, document_id) == [(1, 0), (1, 1)]


async def test_the_lock_holders_concurrent_check_ins_make_distinct_numbers_and_no_lost_version(
    services: Any, document_id: int
) -> None:
    holder = await make_actor(services.db, "holder", admin=True)
    async with unit_of_work(services.db, services.blobs, write=True) as uow:
        await checkouts.check_out(uow.session, holder, document_id, ttl=None)
        await uow.commit()
    results = await asyncio.gather(
        *(_check_in(services, holder, document_id, f"draft {i}".encode(), None) for i in range(10))
    )
    assert set(results) <= {"ok", "DOCUMENT_LOCKED"}
    # Every check-in that said "ok" is a version of its own, numbered without gaps or repeats.
    assert await _numbers(services, document_id) == [(1, 0)] + [
        (1, minor) for minor in range(1, results.count("ok") + 1)
    ]


async def test_a_document_whose_lease_ran_out_can_be_trashed(services: Any, document_id: int) -> None:
    from dms.documents import service as documents

    holder = await make_actor(services.db, "holder", admin=True)
    await _lapsed_check_out(services, holder, document_id)
    async with unit_of_work(services.db, services.blobs, write=True) as uow:
        trashed = await documents.trash_document(uow.session, holder, document_id)
        await uow.commit()
    assert trashed.trashed_at is not None
