"""SQLite tables never hand a deleted row's id to a new row (AUTOINCREMENT)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 17:20:00

Without AUTOINCREMENT, SQLite gives the next row the largest id in the table plus one, so the id of
a purged document, once it was the newest, went to the next document: its global id, its old
download links and its audit entries then named another document. PostgreSQL's sequences never
reuse a value, so only SQLite changes.

SQLite cannot alter a primary key, so each table is rebuilt the way its documentation prescribes
(https://sqlite.org/lang_altertable.html#otheralter): a new table from the old one's own CREATE
statement with the id declared AUTOINCREMENT, the rows copied, the old table dropped, the new one
renamed and the old indexes created again. Migrations run with foreign keys off, and env.py checks
every foreign key before the transaction commits.
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID_COLUMN = re.compile(r"^(\s*)id INTEGER NOT NULL(?=,)", re.MULTILINE)
_PRIMARY_KEY = re.compile(r",\s*CONSTRAINT \"?\w+\"? PRIMARY KEY \(id\)")
_HEADER = re.compile(r"^CREATE TABLE (\"?)(\w+)\1")


def _with_autoincrement(create: str, new_name: str) -> str:
    """The CREATE TABLE statement of the rebuilt table; refuses any shape it does not expect."""
    create, columns = _ID_COLUMN.subn(r"\1id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT", create)
    create, keys = _PRIMARY_KEY.subn("", create)
    create, headers = _HEADER.subn(f'CREATE TABLE "{new_name}"', create)
    if (columns, keys, headers) != (1, 1, 1):
        raise RuntimeError(f"unexpected table definition, left unchanged: {create[:200]}")
    return create


def _tables_to_rebuild(connection: sa.Connection) -> list[str]:
    rows = connection.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    ).all()
    names = []
    for name, create in rows:
        if "AUTOINCREMENT" in create.upper():
            continue
        keys = [row[1] for row in connection.exec_driver_sql(f'PRAGMA table_info("{name}")') if row[5]]
        if keys == ["id"]:
            names.append(name)
    return names


def upgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name != "sqlite":
        return
    for name in _tables_to_rebuild(connection):
        create = connection.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
        ).scalar_one()
        indexes = connection.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL", (name,)
        ).scalars()
        columns = ", ".join(f'"{row[1]}"' for row in connection.exec_driver_sql(f'PRAGMA table_info("{name}")'))
        rebuilt = f"_autoincrement_{name}"
        index_statements = list(indexes)
        connection.exec_driver_sql(_with_autoincrement(create, rebuilt))
        connection.exec_driver_sql(f'INSERT INTO "{rebuilt}" ({columns}) SELECT {columns} FROM "{name}"')
        connection.exec_driver_sql(f'DROP TABLE "{name}"')
        connection.exec_driver_sql(f'ALTER TABLE "{rebuilt}" RENAME TO "{name}"')
        for statement in index_statements:
            connection.exec_driver_sql(statement)


def downgrade() -> None:
    # AUTOINCREMENT only stops ids from being reused; the schema before it works with it as well.
    pass
