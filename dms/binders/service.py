"""The binder tree: create, rename, move, delete, list — permissions checked here, in SQL."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, delete, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from auth.access import Access
from dms.access import queries as access_sql
from dms.access.models import BinderPermission, principal_key
from dms.actor import Actor
from dms.audit import service as audit
from dms.binders.models import Binder, BinderClosure
from dms.collation import polish_key
from dms.documents.models import Document
from dms.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from dms.names import binder_name, same_name
from dms.outbox import service as outbox
from dms.serialise import BINDER_TREE, kept_in_place, locked_for_update, on_postgresql, queue_behind


async def get_binder(
    session: AsyncSession,
    actor: Actor,
    binder_id: int,
    *,
    need: Access = Access.READ,
    field: str = "binderId",
    for_change: bool | None = None,
) -> Binder:
    """The binder if the actor may read it (NOT_FOUND on `field` otherwise), and has `need` (PERMISSION_DENIED).

    `for_change` (by default: when `need` is WRITE or more) keeps it from being deleted until commit.
    """
    binder = await session.get(Binder, binder_id)
    level = await access_sql.binder_level(session, actor, binder_id) if binder else Access.NONE
    if binder is None or level < Access.READ:
        raise NotFound("no such binder", field=field)
    if level < need:
        raise PermissionDenied(f"you need {need.name} access to this binder", field=field)
    changing = need >= Access.WRITE if for_change is None else for_change
    if changing and on_postgresql(session) and not await kept_in_place(session, Binder, binder_id):
        # Held until commit, so that a binder something is being put into is not deleted meanwhile.
        raise NotFound("no such binder", field=field)
    return binder


async def readable_binders(session: AsyncSession, actor: Actor, binder_ids: Sequence[int]) -> list[Binder]:
    """The binders among `binder_ids` the actor may read (for DataLoaders), in no order."""
    if not binder_ids:
        return []
    access = access_sql.binder_access(actor, binder_ids)
    query = select(Binder).join(access, access.c.binder_id == Binder.id).where(access.c.access >= int(Access.READ))
    return list((await session.scalars(query)).all())


async def levels_on(session: AsyncSession, actor: Actor, binder_ids: Sequence[int]) -> dict[int, Access]:
    """The actor's level on each binder (absent: NONE)."""
    if not binder_ids:
        return {}
    access = access_sql.binder_access(actor, binder_ids)
    rows = await session.execute(select(access.c.binder_id, access.c.access))
    return {binder_id: Access(int(level)) for binder_id, level in rows.all()}


async def visible_paths(session: AsyncSession, actor: Actor, binder_ids: Sequence[int]) -> dict[int, str]:
    """Each binder's path as far up as the actor may read: the names along `parent` until it
    ends (at the root, or below a binder the actor may not read). A name the actor may not read
    never shows, so a hidden binder stays indistinguishable from none; whoever reads the whole
    chain sees the whole path."""
    if not binder_ids:
        return {}
    if actor.is_admin:
        rows = await session.execute(select(Binder.id, Binder.path).where(Binder.id.in_(list(binder_ids))))
        return {binder_id: path for binder_id, path in rows.all()}
    chains = await session.execute(
        select(BinderClosure.descendant_id, BinderClosure.depth, Binder.id, Binder.name)
        .join(Binder, Binder.id == BinderClosure.ancestor_id)
        .where(BinderClosure.descendant_id.in_(list(binder_ids)))
        .order_by(BinderClosure.descendant_id, BinderClosure.depth)
    )
    ancestry: dict[int, list[tuple[int, str]]] = {}
    for binder_id, _depth, ancestor_id, name in chains.all():
        ancestry.setdefault(binder_id, []).append((ancestor_id, name))
    readable = {
        binder_id
        for binder_id, level in (
            await levels_on(session, actor, list({a for c in ancestry.values() for a, _ in c}))
        ).items()
        if level >= Access.READ
    }
    paths = {}
    for binder_id, chain in ancestry.items():  # the binder itself first, then up
        names = []
        for ancestor_id, name in chain:
            if ancestor_id not in readable:
                break
            names.append(name)
        paths[binder_id] = "/" + "/".join(reversed(names))
    return paths


async def children(session: AsyncSession, actor: Actor, parent_id: int | None) -> list[Binder]:
    """Readable children of a binder, by name; with no parent, the actor's top-level binders.

    A user who may read a binder but not its parent sees it at the top level, so no binder they may
    read is out of reach.
    """
    if parent_id is not None:
        await get_binder(session, actor, parent_id, field="parentId")
        return (await children_of(session, actor, [parent_id]))[parent_id]
    access = access_sql.binder_access(actor)
    query = select(Binder).join(access, access.c.binder_id == Binder.id).where(access.c.access >= int(Access.READ))
    if not actor.is_admin:
        parent_access = aliased(access)
        query = query.outerjoin(parent_access, parent_access.c.binder_id == Binder.parent_id).where(
            (Binder.parent_id.is_(None)) | (parent_access.c.access.is_(None)) | (parent_access.c.access < 1)
        )
    else:
        query = query.where(Binder.parent_id.is_(None))
    return sorted((await session.scalars(query)).all(), key=_in_order)


async def children_of(session: AsyncSession, actor: Actor, parent_ids: Sequence[int]) -> dict[int, list[Binder]]:
    """The readable children of each of the binders, by name, in one query (a tree shown a level
    at a time asks for every binder's). Callers reach the parents only through ones the actor may read."""
    ids = list(dict.fromkeys(parent_ids))
    access = access_sql.binder_access(actor)
    query = (
        select(Binder.parent_id, Binder)
        .join(access, access.c.binder_id == Binder.id)
        .where(access.c.access >= int(Access.READ), Binder.parent_id.in_(ids))
    )
    found: dict[int, list[Binder]] = {parent_id: [] for parent_id in ids}
    for parent_id, binder in (await session.execute(query)).all():
        found[parent_id].append(binder)
    return {parent_id: sorted(children, key=_in_order) for parent_id, children in found.items()}


def _in_order(binder: Binder) -> tuple[tuple[tuple[int, int], ...], str, int]:
    """Polish alphabetical order; the name as written and the id settle ties."""
    return (polish_key(binder.name), binder.name, binder.id)


async def _ensure_unique_sibling(
    session: AsyncSession, actor: Actor, parent_id: int | None, name: str, *, exclude: int | None = None
) -> None:
    """No two binders the actor can see side by side have one name.

    Siblings the actor may not read do not count: a refusal would tell that a binder of that name
    exists ("Zwolnienia 2027"), and one they may not read must be indistinguishable from none.
    Tree changes queue one behind another (BINDER_TREE), so nothing changes between look and write.
    """
    query = select(Binder.id, Binder.name).where(
        Binder.parent_id.is_(None) if parent_id is None else Binder.parent_id == parent_id
    )
    if not actor.is_admin:
        access = access_sql.binder_access(actor)
        query = query.join(access, access.c.binder_id == Binder.id).where(access.c.access >= int(Access.READ))
    for sibling_id, sibling_name in (await session.execute(query)).all():
        if sibling_id != exclude and same_name(sibling_name, name):
            raise Conflict(f"a binder named {name!r} already exists here", field="name")


async def create_binder(session: AsyncSession, actor: Actor, name: str, parent_id: int | None = None) -> Binder:
    """A new binder. Under a parent it needs WRITE there; a root binder's creator gets MANAGE on it."""
    name = binder_name(name)
    await queue_behind(session, BINDER_TREE)
    parent = (
        await get_binder(session, actor, parent_id, need=Access.WRITE, field="parentId")
        if parent_id is not None
        else None
    )
    await _ensure_unique_sibling(session, actor, parent_id, name)
    binder = Binder(
        name=name,
        parent_id=parent_id,
        path=f"{parent.path if parent else ''}/{name}",
        created_by_id=actor.user_id or None,
    )
    session.add(binder)
    await session.flush()
    session.add(BinderClosure(ancestor_id=binder.id, descendant_id=binder.id, depth=0))
    if parent is not None:
        await session.execute(
            insert(BinderClosure).from_select(
                ["ancestor_id", "descendant_id", "depth"],
                select(BinderClosure.ancestor_id, literal(binder.id), BinderClosure.depth + 1).where(
                    BinderClosure.descendant_id == parent.id
                ),
            )
        )
    elif actor.user_id:
        session.add(
            BinderPermission(
                binder_id=binder.id,
                user_id=actor.user_id,
                principal=principal_key(actor.user_id, None),
                access=int(Access.MANAGE),
            )
        )
    await session.flush()
    return binder


def _documents_in_subtree(binder_id: int) -> select:  # type: ignore[valid-type]
    return (
        select(Document.id)
        .join(BinderClosure, BinderClosure.descendant_id == Document.binder_id)
        .where(BinderClosure.ancestor_id == binder_id)
    )


async def _rewrite_paths(session: AsyncSession, binder: Binder, old_path: str) -> None:
    """Give every binder below `binder` its new path (the subtree moved or was renamed)."""
    rows = await session.execute(
        select(Binder.id, Binder.path)
        .join(BinderClosure, BinderClosure.descendant_id == Binder.id)
        .where(BinderClosure.ancestor_id == binder.id, BinderClosure.depth > 0)
    )
    for descendant_id, path in rows.all():
        await session.execute(
            update(Binder).where(Binder.id == descendant_id).values(path=binder.path + path[len(old_path) :])
        )
    await outbox.enqueue_selected(session, _documents_in_subtree(binder.id), "binder.path")


async def rename_binder(session: AsyncSession, actor: Actor, binder_id: int, name: str) -> Binder:
    await queue_behind(session, BINDER_TREE)
    # Like a move, a rename changes where everything below is found, for everyone who reads it.
    binder = await get_binder(session, actor, binder_id, need=Access.MANAGE)
    name = binder_name(name)
    await _ensure_unique_sibling(session, actor, binder.parent_id, name, exclude=binder.id)
    old_path = binder.path
    parent_path = old_path[: old_path.rfind("/")]
    old_name = binder.name
    binder.name = name
    binder.path = f"{parent_path}/{name}"
    await _rewrite_paths(session, binder, old_path)
    if old_name != name:
        audit.record(
            session,
            actor,
            "binder.renamed",
            object_type="Binder",
            object_id=binder.id,
            from_name=old_name,
            to_name=name,
        )
    return binder


async def move_binder(session: AsyncSession, actor: Actor, binder_id: int, new_parent_id: int | None) -> Binder:
    """Move a binder (MANAGE on it; WRITE on the new parent; only admins make new roots)."""
    # One tree change at a time: two moves each checked against the tree before the other's
    # (A under B, B under A) would make a cycle; a child created meanwhile would keep old ancestors.
    await queue_behind(session, BINDER_TREE)
    binder = await get_binder(session, actor, binder_id, need=Access.MANAGE)
    if new_parent_id == binder.parent_id:
        return binder
    new_parent = None
    if new_parent_id is not None:
        new_parent = await get_binder(session, actor, new_parent_id, need=Access.WRITE, field="parentId")
        below = await session.scalar(
            select(BinderClosure.depth).where(
                BinderClosure.ancestor_id == binder.id, BinderClosure.descendant_id == new_parent_id
            )
        )
        if below is not None:
            raise ValidationFailed("a binder cannot be moved into itself or below itself", field="parentId")
    elif not actor.is_admin:
        raise PermissionDenied("only administrators make a binder a top-level binder")
    await _ensure_unique_sibling(session, actor, new_parent_id, binder.name, exclude=binder.id)

    subtree = select(BinderClosure.descendant_id).where(BinderClosure.ancestor_id == binder.id)
    outside_ancestors = select(BinderClosure.ancestor_id).where(
        BinderClosure.descendant_id == binder.id, BinderClosure.depth > 0
    )
    await session.execute(
        delete(BinderClosure).where(
            BinderClosure.descendant_id.in_(subtree), BinderClosure.ancestor_id.in_(outside_ancestors)
        )
    )
    if new_parent is not None:
        above = aliased(BinderClosure)
        below = aliased(BinderClosure)
        await session.execute(
            insert(BinderClosure).from_select(
                ["ancestor_id", "descendant_id", "depth"],
                select(above.ancestor_id, below.descendant_id, above.depth + below.depth + 1)
                .select_from(above)
                .join(below, and_(above.descendant_id == new_parent.id, below.ancestor_id == binder.id)),
            )
        )
    old_path = binder.path
    old_parent_id = binder.parent_id
    binder.parent_id = new_parent_id
    binder.path = f"{new_parent.path if new_parent else ''}/{binder.name}"
    await _rewrite_paths(session, binder, old_path)
    # Inherited access changes with the new ancestors: the index must learn it too.
    await outbox.enqueue_selected(session, _documents_in_subtree(binder.id), "binder.moved")
    audit.record(
        session,
        actor,
        "binder.moved",
        object_type="Binder",
        object_id=binder.id,
        from_binder=old_parent_id,
        to_binder=new_parent_id,
    )
    return binder


async def delete_binder(session: AsyncSession, actor: Actor, binder_id: int) -> None:
    """Delete an empty binder (MANAGE); one with binders or documents (trashed ones too) is a CONFLICT."""
    await queue_behind(session, BINDER_TREE)
    binder = await get_binder(session, actor, binder_id, need=Access.MANAGE)
    # Documents being filed into it hold it (FOR KEY SHARE): wait for them, then look.
    await locked_for_update(session, Binder, binder.id, to_delete=True)
    if await session.scalar(select(Binder.id).where(Binder.parent_id == binder.id).limit(1)) is not None:
        raise Conflict("the binder has binders in it", field="binderId")
    if await session.scalar(select(Document.id).where(Document.binder_id == binder.id).limit(1)) is not None:
        raise Conflict("the binder has documents in it (check its trash too)", field="binderId")
    await session.execute(delete(BinderPermission).where(BinderPermission.binder_id == binder.id))
    await session.execute(delete(BinderClosure).where(BinderClosure.descendant_id == binder.id))
    await session.delete(binder)
    audit.record(session, actor, "binder.deleted", object_type="Binder", object_id=binder.id, path=binder.path)


async def visible_outline(session: AsyncSession, actor: Actor) -> tuple[dict[int, int | None], dict[int, str]]:
    """The whole tree's shape, and what of it the actor may see by name; two dicts:

    every binder's parent (by id only: a shape that names nothing), and every binder the actor may
    read with its path as `visible_paths` gives it — names up to the first binder the actor may not
    read. For matching binder names against what the actor may know of them (search's ``binder:``).
    """
    access = access_sql.binder_access(actor)
    rows = (
        await session.execute(
            select(Binder.id, Binder.parent_id, Binder.name, access.c.access).outerjoin(
                access, access.c.binder_id == Binder.id
            )
        )
    ).all()
    parents = {binder_id: parent_id for binder_id, parent_id, _name, _level in rows}
    names = {binder_id: name for binder_id, _parent, name, level in rows if level is not None and level >= Access.READ}
    paths: dict[int, str] = {}
    for binder_id in names:
        chain = []  # from this binder up to the first whose path is known or whose parent is hidden
        current: int | None = binder_id
        while current is not None and current in names and current not in paths and len(chain) <= len(names):
            # The length bound: a damaged tree (a cycle) must not hang the server.
            chain.append(current)
            current = parents[current]
        above = paths.get(current, "") if current is not None else ""
        for link in reversed(chain):
            above = paths[link] = f"{above}/{names[link]}"
    return parents, paths
