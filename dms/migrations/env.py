"""Alembic environment: runs migrations over the async engine of the configured database."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from alembic.operations import ops
from sqlalchemy import ForeignKeyConstraint
from sqlalchemy.engine import Connection

from dms.db import create_engine
from dms.models import Base

config = context.config
target_metadata = Base.metadata
#: The advisory lock key migrations queue on (any constant of our own: "Kartoteka" in ASCII, cut).
MIGRATION_LOCK = 0x4B617274


def _deferred_foreign_keys(_context: object, _revision: object, directives: list[Any]) -> None:
    """Emit `use_alter` foreign keys (documents ↔ versions point at each other) after both tables.

    Alembic leaves them out of CREATE TABLE and emits nothing else, so without this they would
    silently never exist.
    """
    script = directives[0]
    for upgrade in script.upgrade_ops_list:
        deferred = []
        for op in upgrade.ops:
            if isinstance(op, ops.CreateTableOp):
                late = [c for c in op.columns if isinstance(c, ForeignKeyConstraint) and c.use_alter]
                # By identity: == on columns builds SQL expressions instead of comparing.
                op.columns = [c for c in op.columns if not any(c is fk for fk in late)]
                deferred += [(op.table_name, constraint) for constraint in late]
        for table_name, constraint in deferred:
            targets = [element.target_fullname.split(".") for element in constraint.elements]
            create = ops.CreateForeignKeyOp(
                constraint.name,
                table_name,
                targets[0][0],
                list(constraint.column_keys),
                [column for _, column in targets],
                ondelete=constraint.ondelete,
            )
            upgrade.ops.append(ops.ModifyTableOps(table_name, [create]))


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        process_revision_directives=_deferred_foreign_keys,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Servers and an indexer started together on one database would each create the same
            # tables; the others wait here, then find the schema current. Held until commit.
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
        context.run_migrations()
        if connection.dialect.name == "sqlite":
            _check_foreign_keys(connection)


def _check_foreign_keys(connection: Connection) -> None:
    """Migrations run on SQLite with foreign keys off (see dms.db.create_engine): whatever they
    did must still satisfy every foreign key before it commits."""
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        tables = sorted({row[0] for row in broken})
        raise RuntimeError(f"the migration broke {len(broken)} foreign keys in {', '.join(tables)}")


async def _run_async() -> None:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "", foreign_keys=False)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async())
