"""The SQL that filters by access agrees with the reference rules of `auth.access` on random trees."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auth.access import Access, effective, inherited, narrowed
from dms.access import queries
from dms.access.models import BinderPermission, DocumentPermission, principal_key
from dms.actor import Actor
from dms.binders.models import Binder, BinderClosure
from dms.db import create_engine, session_factory
from dms.documents.models import Document
from dms.identity.models import Group, GroupMembership, User
from dms.models import Base

LEVELS = st.sampled_from(list(Access))
USER, OTHER_USER = 1, 2
GROUPS = (1, 2, 3)


@dataclass
class World:
    parents: list[int | None]  # parents[i] is the parent index of binder i (always < i)
    binder_entries: list[dict[str, Access]]  # principal key → level, per binder
    document_entries: dict[str, Access]  # on one document in the last binder
    member_of: set[int]


@st.composite
def worlds(draw: st.DrawFn) -> World:
    count = draw(st.integers(1, 8))
    parents: list[int | None] = [None]
    for index in range(1, count):
        parents.append(draw(st.one_of(st.none(), st.integers(0, index - 1))))
    principals = st.sampled_from([f"u:{USER}", f"u:{OTHER_USER}", *(f"g:{g}" for g in GROUPS)])
    entries = [draw(st.dictionaries(principals, LEVELS, max_size=3)) for _ in range(count)]
    document_entries = draw(st.dictionaries(principals, LEVELS, max_size=2))
    member_of = draw(st.sets(st.sampled_from(GROUPS)))
    return World(parents, entries, document_entries, member_of)


def _mine(world: World, entries: dict[str, Access]) -> list[Access]:
    keys = {f"u:{USER}", *(f"g:{g}" for g in world.member_of)}
    return [level for key, level in entries.items() if key in keys]


def expected(world: World, binder: int) -> Access:
    chain = []
    node: int | None = binder
    while node is not None:
        chain.append(_mine(world, world.binder_entries[node]))
        node = world.parents[node]
    return inherited(chain)


async def measure(world: World) -> tuple[list[Access], Access]:
    engine = create_engine("sqlite+aiosqlite:///:memory:")
    try:
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        async with session_factory(engine)() as session:
            session.add_all([User(id=USER, username="u1"), User(id=OTHER_USER, username="u2")])
            session.add_all([Group(id=g, name=f"g{g}") for g in GROUPS])
            await session.flush()
            session.add_all([GroupMembership(group_id=g, user_id=USER) for g in world.member_of])
            for index, parent in enumerate(world.parents):
                session.add(
                    Binder(
                        id=index + 1,
                        name=f"b{index}",
                        parent_id=None if parent is None else parent + 1,
                        path="",
                    )
                )
            await session.flush()
            for index in range(len(world.parents)):
                depth, node = 0, index
                while node is not None:
                    session.add(BinderClosure(ancestor_id=node + 1, descendant_id=index + 1, depth=depth))
                    node, depth = world.parents[node], depth + 1
                for key, level in world.binder_entries[index].items():
                    kind, pk = key.split(":")
                    user_id, group_id = (int(pk), None) if kind == "u" else (None, int(pk))
                    session.add(
                        BinderPermission(
                            binder_id=index + 1,
                            user_id=user_id,
                            group_id=group_id,
                            principal=principal_key(user_id, group_id),
                            access=int(level),
                        )
                    )
            last = len(world.parents)
            session.add(Document(id=1, title="d", binder_id=last, tags=[]))
            await session.flush()
            for key, level in world.document_entries.items():
                kind, pk = key.split(":")
                user_id, group_id = (int(pk), None) if kind == "u" else (None, int(pk))
                session.add(
                    DocumentPermission(
                        document_id=1,
                        user_id=user_id,
                        group_id=group_id,
                        principal=principal_key(user_id, group_id),
                        access=int(level),
                    )
                )
            await session.commit()
            actor = Actor(user_id=USER, username="u1")
            binder_levels = [await queries.binder_level(session, actor, i + 1) for i in range(last)]
            return binder_levels, await queries.document_level(session, actor, 1)
    finally:
        await engine.dispose()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds())
def test_sql_access_matches_the_reference_rules(world: World) -> None:
    binder_levels, document_level = asyncio.run(measure(world))
    assert binder_levels == [expected(world, index) for index in range(len(world.parents))]
    last = len(world.parents) - 1
    assert document_level == narrowed(expected(world, last), _mine(world, world.document_entries))


def test_admins_manage_everywhere_whatever_the_entries() -> None:
    assert effective([[Access.NONE]], [Access.NONE], is_admin=True) is Access.MANAGE


def test_the_nearest_binder_with_an_entry_decides_even_when_it_grants_less() -> None:
    assert inherited([[], [Access.NONE], [Access.MANAGE]]) is Access.NONE


def test_among_entries_on_the_same_binder_the_highest_wins() -> None:
    assert inherited([[Access.READ, Access.WRITE]]) is Access.WRITE


def test_a_document_entry_never_grants_more_than_the_binder() -> None:
    assert narrowed(Access.READ, [Access.MANAGE]) is Access.READ
    assert narrowed(Access.WRITE, [Access.NONE]) is Access.NONE
    assert narrowed(Access.WRITE, []) is Access.WRITE
