"""Reading users and groups for display (names only; never hashes)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from dms.identity.models import Group, GroupMembership, User
from dms.names import without_controls
from dms.pagination import Page, PageRequest, SortKey, escape_like, paginate


async def users_by_id(session: AsyncSession, user_ids: Sequence[int]) -> list[User]:
    if not user_ids:
        return []
    return list((await session.scalars(select(User).where(User.id.in_(list(user_ids))))).all())


async def groups_by_id(session: AsyncSession, group_ids: Sequence[int]) -> list[Group]:
    if not group_ids:
        return []
    return list((await session.scalars(select(Group).where(Group.id.in_(list(group_ids))))).all())


async def list_users(session: AsyncSession, page: PageRequest, *, text: str | None = None) -> Page[User]:
    """Active users by username, for picking people (as principals, assignees)."""
    query = select(User).where(User.is_active.is_(True))
    text = without_controls(text or "").strip()
    if text:
        pattern = "%" + escape_like(text.lower()) + "%"
        query = query.where(
            or_(
                func.lower(User.username).like(pattern, escape="\\"),
                func.lower(User.display_name).like(pattern, escape="\\"),
            )
        )
    return await paginate(session, query, SortKey.of((User.username, False), (User.id, False)), page)


async def list_groups(session: AsyncSession, page: PageRequest) -> Page[Group]:
    return await paginate(session, select(Group), SortKey.of((Group.name, False), (Group.id, False)), page)


async def members_of(session: AsyncSession, group_ids: Sequence[int]) -> list[tuple[int, User]]:
    rows = await session.execute(
        select(GroupMembership.group_id, User)
        .join(User, User.id == GroupMembership.user_id)
        .where(GroupMembership.group_id.in_(list(group_ids)))
        .order_by(User.username)
    )
    return [(group_id, user) for group_id, user in rows.all()]
