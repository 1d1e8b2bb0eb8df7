"""Changes that race each other, on SQLite and PostgreSQL: each check holds against the other writer.

On PostgreSQL two transactions could both pass a check made on what they read and both write
(a binder cycle, a union of two permission lists); `dms.serialise` queues them. Every outcome
here is a clean domain answer: never an integrity error, never a state neither writer asked for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from auth.access import Access
from dms.access import service as access
from dms.access.models import BinderPermission
from dms.actor import Actor
from dms.binders import service as binders
from dms.binders.models import Binder, BinderClosure
from dms.documents import checkouts
from dms.documents import service as documents
from dms.documents.models import Document, DocumentLock
from dms.documents.uploads import IncomingFile
from dms.errors import DomainError
from dms.events import types as event_types
from dms.events.models import Event
from dms.events.service import EventData, register_event
from dms.times import business_time
from dms.uow import unit_of_work
from tests.dms.conftest import chunks_of, make_actor, new_binder, new_document

Change = Callable[[Any], Awaitable[Any]]


async def race(services: Any, *changes: Change) -> list[str]:
    """Run each change in its own unit of work, all at once; "ok" or the domain error's code."""

    async def run(change: Change) -> str:
        try:
            async with unit_of_work(services.db, services.blobs, write=True) as uow:
                await change(uow)
                await uow.commit()
                return "ok"
        except DomainError as error:
            return error.code

    return list(await asyncio.gather(*(run(change) for change in changes)))


async def test_two_binders_moved_under_each_other_at_once_never_make_a_cycle(services: Any, owner: Actor) -> None:
    for round_ in range(5):
        top = await new_binder(services, owner, f"Top {round_}")
        pair = []
        for name in ("A", "B"):
            async with unit_of_work(services.db, services.blobs, write=True) as uow:
                pair.append((await binders.create_binder(uow.session, owner, name, top)).id)
                await uow.commit()
        a, b = pair
        results = await race(
            services,
            lambda uow, a=a, b=b: binders.move_binder(uow.session, owner, a, b),
            lambda uow, a=a, b=b: binders.move_binder(uow.session, owner, b, a),
        )
        assert sorted(results) == ["VALIDATION", "ok"]
        async with services.db.sessions() as session:
            parents = dict((await session.execute(select(Binder.id, Binder.parent_id))).all())
            paths = dict((await session.execute(select(Binder.id, Binder.path))).all())
            below = (await session.execute(select(BinderClosure.ancestor_id, BinderClosure.descendant_id))).all()
        assert not (parents[a] == b and parents[b] == a)
        moved, other = (a, b) if parents[a] == b else (b, a)
        assert paths[moved] == f"{paths[other]}/{paths[moved].rsplit('/', 1)[1]}"
        assert (other, moved) in below and (moved, other) not in below


async def test_of_concurrent_binders_of_one_name_in_one_place_exactly_one_is_made(services: Any, owner: Actor) -> None:
    parent = await new_binder(services, owner, "Umowy")
    results = await race(
        services, *[lambda uow: binders.create_binder(uow.session, owner, "Dostawcy", parent) for _ in range(8)]
    )
    assert sorted(results) == ["CONFLICT"] * 7 + ["ok"]


async def test_a_binder_deleted_while_a_document_is_filed_into_it_keeps_the_document_or_refuses_it(
    services: Any, owner: Actor
) -> None:
    for round_ in range(4):
        binder = await new_binder(services, owner, f"Nowy {round_}")

        async def file_document(uow: Any, binder: int = binder) -> Any:
            return await documents.create_document(
                uow,
                owner,
                binder_id=binder,
                details=documents.DocumentDetails(title="Umowa"),
                source=IncomingFile("umowa.txt", chunks_of(b"x")),
                max_upload_bytes=1024,
            )

        results = await race(
            services, file_document, lambda uow, b=binder: binders.delete_binder(uow.session, owner, b)
        )
        assert sorted(results) in (["CONFLICT", "ok"], ["NOT_FOUND", "ok"])
        async with services.db.sessions() as session:
            left = await session.scalar(select(func.count()).select_from(Binder).where(Binder.id == binder))
            filed = await session.scalar(select(func.count()).select_from(Document).where(Document.binder_id == binder))
        assert (left, filed) in ((1, 1), (0, 0))


async def test_permissions_replaced_at_once_end_as_one_of_the_lists(services: Any, owner: Actor) -> None:
    bob = await make_actor(services.db, "bob")
    carol = await make_actor(services.db, "carol")
    binder = await new_binder(services, owner, "Kadry")
    lists = [
        [access.Entry("User", bob.user_id, Access.READ)],
        [access.Entry("User", carol.user_id, Access.WRITE)],
        [access.Entry("User", bob.user_id, Access.MANAGE)],
    ]
    for _ in range(3):
        results = await race(
            services,
            *[lambda uow, e=entries: access.set_binder_permissions(uow.session, owner, binder, e) for entries in lists],
        )
        assert results == ["ok"] * 3
        async with services.db.sessions() as session:
            rows = (
                await session.execute(
                    select(BinderPermission.principal, BinderPermission.access).where(
                        BinderPermission.binder_id == binder
                    )
                )
            ).all()
        stored = sorted((principal, access_) for principal, access_ in rows)
        assert stored in [sorted((f"u:{e.principal_id}", int(e.access)) for e in entries) for entries in lists]


async def test_a_trashed_document_restored_and_purged_at_once_ends_one_way(services: Any, owner: Actor) -> None:
    binder = await new_binder(services, owner, "Archiwum")
    for round_ in range(4):
        document_id = await new_document(services, owner, binder, f"Umowa {round_}")
        await race(services, lambda uow, d=document_id: documents.trash_document(uow.session, owner, d))
        results = await race(
            services,
            lambda uow, d=document_id: documents.restore_document(uow.session, owner, d),
            lambda uow, d=document_id: documents.purge_document(uow.session, owner, d),
        )
        async with services.db.sessions() as session:
            kept = await session.get(Document, document_id)
        if kept is None:
            assert sorted(results) == ["NOT_FOUND", "ok"]  # purged first: nothing left to restore
        else:
            assert sorted(results) == ["CONFLICT", "ok"] and kept.trashed_at is None


async def test_a_document_is_never_both_in_the_trash_and_checked_out(services: Any, owner: Actor) -> None:
    binder = await new_binder(services, owner, "Robocze")
    for round_ in range(4):
        document_id = await new_document(services, owner, binder, f"Pismo {round_}")
        results = await race(
            services,
            lambda uow, d=document_id: documents.trash_document(uow.session, owner, d),
            lambda uow, d=document_id: checkouts.check_out(uow.session, owner, d, ttl=None),
        )
        assert sorted(results) == ["CONFLICT", "ok"]
        async with services.db.sessions() as session:
            trashed = (await session.get(Document, document_id)).trashed_at is not None
            locked = await session.get(DocumentLock, document_id) is not None
        assert trashed != locked


async def test_a_lock_cancelled_and_broken_at_once_is_ended_once(services: Any, owner: Actor, document_id: int) -> None:
    holder = await make_actor(services.db, "holder", admin=True)
    for _ in range(4):
        async with unit_of_work(services.db, services.blobs, write=True) as uow:
            await checkouts.check_out(uow.session, holder, document_id, ttl=None)
            await uow.commit()
        results = await race(
            services,
            lambda uow: checkouts.cancel_check_out(uow.session, holder, document_id),
            lambda uow: checkouts.break_lock(uow.session, owner, document_id, reason="urlop"),
        )
        assert sorted(results) == ["NOT_CHECKED_OUT", "ok"]


async def test_a_reset_changed_while_the_first_number_is_given_never_gives_it_again(
    services: Any, owner: Actor
) -> None:
    for round_ in range(5):
        async with unit_of_work(services.db, services.blobs, write=True) as uow:
            created = await event_types.create_event_type(
                uow.session, owner, name=f"Reklamacja {round_}", number_pattern="REK/{YYYY}/{N}"
            )
            await uow.commit()
        type_id = created.id
        results = await race(
            services,
            lambda uow, t=type_id: register_event(uow.session, owner, EventData(type_id=t)),
            lambda uow, t=type_id: event_types.update_event_type(uow.session, owner, t, number_reset="yearly"),
        )
        assert results[0] == "ok" and results[1] in ("ok", "CONFLICT"), results
        async with services.db.sessions() as session:
            periods = (await session.scalars(select(Event.number_period).where(Event.type_id == type_id))).all()
        # The reset changed only before the first number was given, which then follows it.
        year = str(business_time(datetime.now(UTC)).year)
        assert periods == ([year] if results[1] == "ok" else ["-"]), (results, periods)
