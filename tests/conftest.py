"""Shared fixtures: a migrated database on each backend, the app, and logged-in GraphQL clients."""

from __future__ import annotations

import asyncio
import json
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher, profiles
from sqlalchemy.engine import make_url

from auth import passwords
from dms.actor import SYSTEM
from dms.db import create_engine
from dms.identity import service as identity
from dms.migrate import upgrade_sync
from dms.uow import Database
from kartoteka.app import build_search, build_services, create_app
from kartoteka.settings import Settings

pytest_plugins = ["tests.servers.seaweedfs", "tests.servers.postgresql"]

PASSWORD = "correct horse battery"


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> Iterator[None]:
    """argon2-cffi's profile for tests: a hash and a check at production cost take ~170 ms each,
    which every user fixture and login would pay. The hashing stays real Argon2id. Servers started
    as subprocesses, and tests/auth/test_passwords.py, use the production parameters."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "_hasher", PasswordHasher.from_parameters(profiles.CHEAPEST))
        yield


@pytest.fixture(scope="session")
def migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file migrated to head; each test starts from a copy (migrating is the slow part)."""
    path = tmp_path_factory.mktemp("template") / "kartoteka.sqlite3"
    upgrade_sync(f"sqlite+aiosqlite:///{path}")
    return path


async def _pg_execute(url: str, statement: str) -> None:
    from tests.servers.postgresql import execute_statement

    await execute_statement(url, statement)


@pytest.fixture(scope="session")
def migrated_postgres_template(postgres_url: str) -> str:
    """A PostgreSQL database migrated to head, used as the TEMPLATE of each test's database."""
    name = "kartoteka_template"
    asyncio.run(_pg_execute(postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    asyncio.run(_pg_execute(postgres_url, f'CREATE DATABASE "{name}"'))
    upgrade_sync(make_url(postgres_url).set(database=name).render_as_string(hide_password=False))
    return name


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database on each backend, already migrated to head."""
    if request.param == "sqlite":
        path = tmp_path / "kartoteka.sqlite3"
        shutil.copyfile(request.getfixturevalue("migrated_sqlite_template"), path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    template = request.getfixturevalue("migrated_postgres_template")
    server = request.getfixturevalue("postgres_url")
    name = f"kartoteka_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_execute(server, f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_pg_execute(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'kartoteka.sqlite3'}"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key="test-secret-key-not-for-production",
        max_upload_bytes=5 * 1024 * 1024,
        login_max_failures=5,
    )


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Any]:
    built = build_services(settings)
    built.indexer = build_search(settings, built, writer=True)
    yield built
    built.indexer.extractor.close()
    await built.search.close()
    await built.directory.close()
    await built.blobs.close()
    await built.db.engine.dispose()


@pytest.fixture
def indexer(services: Any) -> Any:
    """The indexer of the test's app; tests drain it explicitly (`await drain(indexer)`)."""
    return services.indexer


async def drain(indexer: Any) -> None:
    """Apply every outbox entry to the index, as the running indexer would within moments."""
    await indexer.heal_if_needed()
    while (await indexer.drain()).entries:
        pass
    # Counterparty cards and events; drain_once (not drain) so a failure fails the test.
    while indexer.directory is not None and await indexer.directory.drain_once():
        pass


@pytest.fixture
async def db(services: Any) -> Database:
    return services.db


@pytest.fixture
async def app(settings: Settings, services: Any) -> Any:
    return create_app(settings, services=services)


@dataclass
class GraphQLResult:
    status: int
    body: dict[str, Any]

    @property
    def data(self) -> dict[str, Any]:
        assert not self.body.get("errors"), self.body.get("errors")
        return self.body["data"]

    def payload(self, field: str) -> dict[str, Any]:
        return self.data[field]

    def codes(self, field: str) -> list[str]:
        return [error["code"] for error in self.data[field]["userErrors"]]

    @property
    def error_codes(self) -> list[str | None]:
        return [e.get("extensions", {}).get("code") for e in self.body.get("errors") or []]


class Client:
    """A GraphQL client over HTTP on the ASGI app, as a front-end would use it."""

    def __init__(self, http: httpx.AsyncClient, token: str | None = None, username: str | None = None) -> None:
        self.http = http
        self.token = token
        self.username = username

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    async def gql(self, query: str, **variables: Any) -> GraphQLResult:
        response = await self.http.post("/graphql", json={"query": query, "variables": variables}, headers=self.headers)
        return GraphQLResult(response.status_code, response.json())

    async def upload(self, query: str, variables: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> GraphQLResult:
        """A multipart request per the GraphQL multipart request spec; `files` maps variable paths to files."""
        mapping = {str(i): [f"variables.{path}"] for i, path in enumerate(files)}
        form = {
            "operations": json.dumps({"query": query, "variables": variables}),
            "map": json.dumps(mapping),
        }
        parts = {str(i): (name, content) for i, (name, content) in enumerate(files.values())}
        response = await self.http.post(
            "/graphql",
            data=form,
            files=parts,
            headers={**self.headers, "Apollo-Require-Preflight": "true"},
        )
        return GraphQLResult(response.status_code, response.json())


@pytest.fixture
async def http(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.9", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://kartoteka.test") as client:
        yield client


async def make_user(db: Database, username: str, *, admin: bool = False) -> int:
    async with db.sessions() as session:
        user = await identity.create_user(session, SYSTEM, username, password=PASSWORD, is_admin=admin)
        await session.commit()
        return user.id


async def logged_in(http: httpx.AsyncClient, username: str) -> Client:
    client = Client(http)
    result = await client.gql(
        "mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p}) { token userErrors { code } } }",
        u=username,
        p=PASSWORD,
    )
    token = result.payload("login")["token"]
    assert token, result.body
    return Client(http, token, username)


@pytest.fixture
async def admin(db: Database, http: httpx.AsyncClient) -> Client:
    await make_user(db, "admin", admin=True)
    return await logged_in(http, "admin")


@pytest.fixture
async def alice(db: Database, http: httpx.AsyncClient) -> Client:
    await make_user(db, "alice")
    return await logged_in(http, "alice")


@pytest.fixture
async def bob(db: Database, http: httpx.AsyncClient) -> Client:
    await make_user(db, "bob")
    return await logged_in(http, "bob")


@pytest.fixture
def anonymous(http: httpx.AsyncClient) -> Client:
    return Client(http)


@pytest.fixture
def sample_engine_url(sqlite_url: str) -> Iterator[str]:
    yield sqlite_url


__all__ = ["PASSWORD", "Client", "GraphQLResult", "create_engine", "logged_in", "make_user"]
