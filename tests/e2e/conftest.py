"""One real `kartoteka serve` (uvicorn on 127.0.0.1, embedded indexer) shared by the end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cli.test_cli import kartoteka
from tests.servers.kartoteka import KartotekaProcess, kartoteka_environment, running_kartoteka

USERNAME = "admin"
PASSWORD = "pass-phrase-4d7e1c0a-never-logged"


@dataclass(frozen=True)
class LiveServer:
    process: KartotekaProcess
    username: str
    password: str

    @property
    def base_url(self) -> str:
        assert self.process.base_url is not None
        return self.process.base_url

    def log(self) -> str:
        return self.process.log()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`kartoteka serve` with DEBUG logs (the strictest test of what logs may contain) and one admin."""
    data_dir: Path = tmp_path_factory.mktemp("live") / "data"
    created = kartoteka(data_dir, "user", "create", USERNAME, "--admin", "--password-stdin", stdin=f"{PASSWORD}\n")
    assert created.returncode == 0, created.stderr
    environment = kartoteka_environment(data_dir, KARTOTEKA_LOG_LEVEL="DEBUG", KARTOTEKA_INDEXER_POLL_SECONDS="0.2")
    with running_kartoteka(data_dir, environment=environment) as process:
        yield LiveServer(process, USERNAME, PASSWORD)
