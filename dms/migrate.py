"""Alembic, driven from code: `kartoteka db upgrade`, start-up and tests all go through here."""

from __future__ import annotations

import anyio
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", "dms:migrations")
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_sync(database_url: str, revision: str = "head") -> None:
    """Apply migrations up to `revision`; runs its own event loop, so call it outside one."""
    command.upgrade(alembic_config(database_url), revision)


async def upgrade(database_url: str, revision: str = "head") -> None:
    """Apply migrations from async code (Alembic's env runs its own loop, so in a worker thread)."""
    await anyio.to_thread.run_sync(upgrade_sync, database_url, revision)


async def is_up_to_date(engine: AsyncEngine, database_url: str) -> bool:
    heads = set(ScriptDirectory.from_config(alembic_config(database_url)).get_heads())
    async with engine.connect() as connection:
        current = await connection.run_sync(lambda c: set(MigrationContext.configure(c).get_current_heads()))
    return current == heads


async def schema_revisions(database_url: str) -> tuple[set[str], set[str]]:
    """The revisions the database is at (empty: no schema yet) and the code's heads."""
    from dms.db import create_engine

    heads = set(ScriptDirectory.from_config(alembic_config(database_url)).get_heads())
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            current = await connection.run_sync(lambda c: set(MigrationContext.configure(c).get_current_heads()))
    finally:
        await engine.dispose()
    return current, heads


def known_revisions(database_url: str) -> set[str]:
    """Every revision this code has a migration for."""
    return {script.revision for script in ScriptDirectory.from_config(alembic_config(database_url)).walk_revisions()}
