"""The PostgreSQL test fixtures give working, isolated databases."""

import asyncpg
from sqlalchemy.engine import make_url

from tests.servers.postgresql import asyncpg_dsn


async def test_the_session_database_answers_select_1(postgres_url: str):
    assert make_url(postgres_url).drivername == "postgresql+asyncpg"
    connection = await asyncpg.connect(asyncpg_dsn(make_url(postgres_url)))
    try:
        assert await connection.fetchval("select 1") == 1
    finally:
        await connection.close()


async def test_a_fresh_database_is_new_and_empty(fresh_postgres_database: str, postgres_url: str):
    url = make_url(fresh_postgres_database)
    assert url.database != make_url(postgres_url).database

    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        assert await connection.fetchval("select current_database()") == url.database
        tables = await connection.fetchval("select count(*) from pg_tables where schemaname = 'public'")
        assert tables == 0
        # The cluster's locale must fold Polish letters, or case-insensitive search breaks.
        assert await connection.fetchval("select lower('ZAŻÓŁĆ')") == "zażółć"
    finally:
        await connection.close()
