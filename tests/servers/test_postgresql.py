"""The PostgreSQL test fixtures give working, isolated databases, and clean up after themselves."""

import subprocess

import asyncpg
from sqlalchemy.engine import make_url

from tests.servers import server_unavailable
from tests.servers.postgresql import OWNER_FILE, ThrowawayCluster, asyncpg_dsn, find_postgres_bin


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


def test_a_cluster_abandoned_by_a_killed_session_is_reaped_by_the_next():
    bin_dir = find_postgres_bin()
    if bin_dir is None:
        server_unavailable("PostgreSQL binaries not found")
    cluster = ThrowawayCluster(bin_dir)
    cluster.start()
    dead = subprocess.Popen(["true"])
    dead.wait()
    (cluster.base / OWNER_FILE).write_text(str(dead.pid))  # as if its pytest had been killed

    ThrowawayCluster.reap_abandoned(bin_dir)

    assert not cluster.base.exists()
