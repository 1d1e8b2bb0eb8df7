"""docker-compose.yml's production shape, run without Docker: PostgreSQL + S3 + `serve` + a separate indexer.

The settings come from docker-compose.yml itself (parsed, with compose's `${…}` interpolation), so the
compose file and this test cannot drift apart. Only what names the network differs: the database URL,
the S3 endpoint, its credentials and bucket, and the index path point at this test's own servers.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from typer.testing import CliRunner

from kartoteka.cli import app as cli
from kartoteka.settings import Settings
from tests.cli.test_cli import kartoteka
from tests.servers.kartoteka import kartoteka_environment, running_kartoteka
from tests.servers.seaweedfs import S3Server

ROOT = Path(__file__).parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
PASSWORD = "compose-shaped-password"
# What compose resolves from .env: the required secret (the MinIO credentials have defaults).
DOT_ENV = {"KARTOTEKA_SECRET_KEY": "a-long-random-secret-from-dot-env"}
# Settings that name places on the compose network or volumes; the test points them at its own.
NETWORK_SETTINGS = {
    "KARTOTEKA_DATABASE_URL",
    "KARTOTEKA_STORAGE_URL",
    "KARTOTEKA_S3_ENDPOINT",
    "KARTOTEKA_S3_ACCESS_KEY",
    "KARTOTEKA_S3_SECRET_KEY",
    "KARTOTEKA_INDEX_DIR",
}
_VARIABLE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def interpolate(value: str, environment: dict[str, str]) -> str:
    """Compose's `${NAME}`, `${NAME:-default}`, `${NAME:?error}` and `$$`."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, operator, argument = match.groups()
        given = environment.get(name)
        if operator in (":-", "-"):
            return given if given or (operator == "-" and given is not None) else argument
        if operator in (":?", "?") and not given:
            raise AssertionError(f"compose refuses to start without {name}: {argument}")
        return given or ""

    return _VARIABLE.sub(replace, value)


def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def service_environment(service: str) -> dict[str, str]:
    environment = compose()["services"][service]["environment"]
    return {name: interpolate(str(value), DOT_ENV) for name, value in environment.items()}


def test_compose_sets_only_settings_that_exist_and_runs_commands_the_cli_has():
    known = {f"KARTOTEKA_{name.upper()}" for name in Settings.model_fields}
    services = compose()["services"]
    for name in ("app", "indexer"):
        environment = service_environment(name)
        assert set(environment) - known == set(), f"{name} sets unknown settings"
        Settings(**{key.removeprefix("KARTOTEKA_").lower(): value for key, value in environment.items()})
        help_run = CliRunner().invoke(cli, [*services[name]["command"], "--help"])
        assert help_run.exit_code == 0, help_run.output
    app, indexer = service_environment("app"), service_environment("indexer")
    assert app == indexer
    assert app["KARTOTEKA_EMBEDDED_INDEXER"] == "false"  # the indexer service is the only index writer
    assert app["KARTOTEKA_DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert app["KARTOTEKA_STORAGE_URL"].startswith("s3://")
    index_volume = next(v for v in services["app"]["volumes"] if v.endswith(":" + app["KARTOTEKA_INDEX_DIR"]))
    assert index_volume in services["indexer"]["volumes"]
    assert services["indexer"]["command"] == ["indexer"]
    with pytest.raises(AssertionError, match="KARTOTEKA_SECRET_KEY"):
        interpolate(compose()["services"]["app"]["environment"]["KARTOTEKA_SECRET_KEY"], {})


def test_the_image_installs_libmagic_and_copies_every_package():
    dockerfile = DOCKERFILE.read_text()
    assert re.search(r"apt-get install[^\n]*libmagic1", dockerfile)
    assert "KARTOTEKA_DATA_DIR=/data" in dockerfile
    pyproject = (ROOT / "pyproject.toml").read_text()
    packages = re.search(r"include = \[([^\]]*)\]", pyproject)
    assert packages is not None
    for package in re.findall(r'"(\w+)\*"', packages.group(1)):
        assert re.search(rf"^COPY {package} \./{package}$", dockerfile, re.M), f"the image lacks {package}/"


def test_a_document_uploaded_to_serve_is_found_through_the_separate_indexer(
    tmp_path: Path, fresh_postgres_database: str, s3_server: S3Server
):
    from_compose = service_environment("app")
    settings = from_compose | {
        "KARTOTEKA_DATABASE_URL": fresh_postgres_database,
        "KARTOTEKA_STORAGE_URL": f"s3://kartoteka-tests/compose-{uuid.uuid4().hex}",
        "KARTOTEKA_S3_ENDPOINT": s3_server.endpoint,
        "KARTOTEKA_S3_ACCESS_KEY": s3_server.access_key,
        "KARTOTEKA_S3_SECRET_KEY": s3_server.secret_key,
        "KARTOTEKA_INDEX_DIR": str(tmp_path / "index"),
        "KARTOTEKA_INDEXER_POLL_SECONDS": "0.2",
    }
    assert {name for name in settings if settings[name] != from_compose.get(name)} <= NETWORK_SETTINGS | {
        "KARTOTEKA_INDEXER_POLL_SECONDS"
    }
    data_dir = tmp_path / "data"
    environment = kartoteka_environment(data_dir, **settings)
    services = compose()["services"]
    # In compose's order: migrate (one-shot), then the indexer and the app side by side.
    migrated = kartoteka(data_dir, *services["migrate"]["command"], **settings)
    assert migrated.returncode == 0, migrated.stderr
    created = kartoteka(
        data_dir, "user", "create", "admin", "--admin", "--password-stdin", stdin=f"{PASSWORD}\n", **settings
    )
    assert created.returncode == 0, created.stderr
    indexer_command = services["indexer"]["command"]
    with (
        running_kartoteka(
            data_dir, *indexer_command, environment=environment, log_path=tmp_path / "indexer.log"
        ) as indexer,
        running_kartoteka(data_dir, "serve", environment=environment, log_path=tmp_path / "app.log") as app,
        httpx.Client(base_url=app.base_url, timeout=30) as http,
    ):
        token = http.post(
            "/graphql",
            json={
                "query": 'mutation($p: String!) { login(input: {username: "admin", password: $p}) { token } }',
                "variables": {"p": PASSWORD},
            },
        ).json()["data"]["login"]["token"]
        headers = {"Authorization": f"Bearer {token}"}
        binder = http.post(
            "/graphql",
            json={"query": 'mutation { createBinder(input: {name: "Kompozycja"}) { binder { id } } }'},
            headers=headers,
        ).json()["data"]["createBinder"]["binder"]["id"]
        operations = {
            "query": "mutation($b: ID!, $f: Upload!) { createDocument(input: {binderId: $b,"
            ' title: "Zlecenie", file: $f}) { document { id } userErrors { code } } }',
            "variables": {"b": binder, "f": None},
        }
        uploaded = http.post(
            "/graphql",
            data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.f"]})},
            files={"0": ("zlecenie.txt", "Zlecenie przeglądu gaśnic w magazynie północnym.".encode())},
            headers={**headers, "Apollo-Require-Preflight": "true"},
        ).json()["data"]["createDocument"]
        assert uploaded["userErrors"] == []
        deadline = time.monotonic() + 15
        while True:
            found = http.post(
                "/graphql",
                json={"query": '{ search(query: "gasnic polnocnym") { edges { node { document { id } } } } }'},
                headers=headers,
            ).json()["data"]["search"]["edges"]
            if found or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert [edge["node"]["document"]["id"] for edge in found] == [uploaded["document"]["id"]], indexer.log()[-3000:]
        assert indexer.process.poll() is None
    # `serve` ran no indexer of its own: the separate process did the indexing.
    assert '"logger": "kartoteka.indexer"' not in app.log()
