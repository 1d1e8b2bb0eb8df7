"""Reading users and groups for display (names only; never hashes)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dms.identity.models import Group, User


async def users_by_id(session: AsyncSession, user_ids: Sequence[int]) -> list[User]:
    if not user_ids:
        return []
    return list((await session.scalars(select(User).where(User.id.in_(list(user_ids))))).all())


async def groups_by_id(session: AsyncSession, group_ids: Sequence[int]) -> list[Group]:
    if not group_ids:
        return []
    return list((await session.scalars(select(Group).where(Group.id.in_(list(group_ids))))).all())
