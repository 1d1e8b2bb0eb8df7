"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from dms.migrate import is_up_to_date, upgrade_sync
from dms.models import Base


async def test_migrated_database_matches_the_models(services: Any, settings: Any) -> None:
    engine = services.db.engine

    def differences(connection: Any) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)

    async with engine.connect() as connection:
        diff = await connection.run_sync(differences)
    assert diff == [], "run `make migration` and commit the result"
    assert await is_up_to_date(engine, settings.resolved_database_url)


def _schema(connection: sqlite3.Connection) -> tuple[set[str], dict[str, list[Any]]]:
    indexes = {
        sql for (sql,) in connection.execute("SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
    }
    tables = [
        name
        for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    keys = {name: connection.execute(f'PRAGMA foreign_key_list("{name}")').fetchall() for name in tables}
    return indexes, keys


def test_an_sqlite_database_upgraded_to_never_reuse_ids_keeps_its_rows_indexes_and_keys(tmp_path: Path) -> None:
    path = tmp_path / "kartoteka.sqlite3"
    upgrade_sync(f"sqlite+aiosqlite:///{path}", "0002")
    card = (
        "INSERT INTO counterparties (id, name, name_search, nip, custom_values, created_at, updated_at, merged_into_id)"
        " VALUES (?, ?, ?, ?, '{}', '2026-12-01 10:00:00', '2026-12-01 10:00:00', ?)"
    )
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute(card, (1, "Żuraw sp. z o.o.", "zuraw", "5260250274", None))
        connection.execute(card, (2, "Żuraw (duplikat)", "zuraw duplikat", None, 1))
        connection.execute(card, (3, "Gęś s.c.", "ges", None, None))
        connection.execute("DELETE FROM counterparties WHERE id = 3")
        before = _schema(connection)
    connection.close()

    upgrade_sync(f"sqlite+aiosqlite:///{path}")

    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA foreign_keys = ON")
        rows = connection.execute("SELECT id, name, nip, merged_into_id FROM counterparties ORDER BY id").fetchall()
        assert rows == [(1, "Żuraw sp. z o.o.", "5260250274", None), (2, "Żuraw (duplikat)", None, 1)]
        assert _schema(connection) == before
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
        with pytest.raises(sqlite3.IntegrityError):  # the partial unique index on active NIPs is back
            connection.execute(card, (None, "Kopia", "kopia", "5260250274", None))
        new_id = connection.execute(card, (None, "Nowy", "nowy", None, None)).lastrowid
        connection.execute("DELETE FROM counterparties WHERE id = ?", (new_id,))
        assert connection.execute(card, (None, "Nowszy", "nowszy", None, None)).lastrowid == new_id + 1
    connection.close()


def test_processes_migrating_one_new_postgresql_database_at_once_all_succeed(
    fresh_postgres_database: str, tmp_path: Path
) -> None:
    import asyncio
    import os
    import subprocess
    import sys

    from dms.migrate import schema_revisions

    # Two servers and an indexer started together: each upgrades the database first.
    environment = {k: v for k, v in os.environ.items() if not k.startswith("KARTOTEKA_")} | {
        "KARTOTEKA_DATABASE_URL": fresh_postgres_database,
        "KARTOTEKA_SECRET_KEY": "migration-test-secret-key",
    }
    started = [
        subprocess.Popen(
            [sys.executable, "-m", "kartoteka", "db", "upgrade", "--data-dir", str(tmp_path / f"data{n}")],
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(3)
    ]
    finished = [(process.wait(timeout=120), process.stderr.read() if process.stderr else "") for process in started]

    assert [code for code, _ in finished] == [0, 0, 0], finished
    current, heads = asyncio.run(schema_revisions(fresh_postgres_database))
    assert current == heads
