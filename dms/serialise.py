"""Writers that must not interleave, queued one behind another on PostgreSQL.

Under PostgreSQL's READ COMMITTED two transactions can both read a row, both pass a check ("the
new parent is not below me", "nobody holds the lock", "the document is not in the trash") and
both write: a binder cycle, a lock broken twice, a restored document that was purged. Each check
is therefore made after taking a lock on what it protects, and re-reads what it checks.

SQLite needs none of this: its write gate (`dms.db.WriteGate`) lets one writing transaction run
at a time, and SQLAlchemy does not render FOR UPDATE there, so these calls cost SQLite nothing.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

Row = TypeVar("Row")

#: Advisory lock keys (any constants, distinct from `dms.counterparties.merge.MERGE_LOCK`).
BINDER_TREE = 0x62696E646572  # "binder": creating, moving, renaming and deleting binders
DOCUMENT_STATUSES = 0x737461747573  # "status": the workflow's list of statuses


def on_postgresql(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def queue_behind(session: AsyncSession, key: int, *, shared: bool = False) -> None:
    """Wait until no other transaction holds `key` (exclusively, or for `shared`, exclusively only),
    then hold it until this transaction ends."""
    if on_postgresql(session):
        take = func.pg_advisory_xact_lock_shared if shared else func.pg_advisory_xact_lock
        await session.execute(select(take(key)))


async def queue_behind_name(session: AsyncSession, name: str) -> None:
    """`queue_behind` for a key made of a text, e.g. one user's logins from one address."""
    if on_postgresql(session):
        await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(name, 0))))


async def locked_for_update(
    session: AsyncSession, model: type[Row], row_id: int, *, to_delete: bool = False
) -> Row | None:
    """The row as committed now, locked against other writers until this transaction ends (None if
    it is gone). FOR NO KEY UPDATE: rows that only refer to it (a lock, a version) can still be
    added; `to_delete` waits for those too (FOR UPDATE), so that a check for them sees them all."""
    query: Any = select(model).where(model.id == row_id)  # type: ignore[attr-defined]
    query = query.with_for_update(key_share=not to_delete).execution_options(populate_existing=True)
    return await session.scalar(query)  # type: ignore[no-any-return]


async def kept_in_place(session: AsyncSession, model: type[Row], row_id: int) -> bool:
    """Hold the row (FOR KEY SHARE) so that it is not deleted while something is put into it;
    False if it is gone already."""
    query: Any = select(model.id).where(model.id == row_id)  # type: ignore[attr-defined]
    return await session.scalar(query.with_for_update(read=True, key_share=True)) is not None


async def held_shared(session: AsyncSession, model: type[Row], row_id: int) -> Row | None:
    """The row as committed now, held (FOR SHARE) until this transaction ends: a change of it
    (`locked_for_update`) waits for this transaction, and this one for a change under way."""
    query: Any = select(model).where(model.id == row_id)  # type: ignore[attr-defined]
    query = query.with_for_update(read=True).execution_options(populate_existing=True)
    return await session.scalar(query)  # type: ignore[no-any-return]
