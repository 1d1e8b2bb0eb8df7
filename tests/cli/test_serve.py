"""`kartoteka serve` as an operator starts it: migrations, API and embedded indexer in one process."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.cli.test_cli import kartoteka


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_checked_in_document_is_searchable_within_five_seconds(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = _free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("KARTOTEKA_")} | {
        "KARTOTEKA_DATA_DIR": str(data_dir),
        "KARTOTEKA_SECRET_KEY": "serve-test-secret",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "kartoteka", "serve", "--port", str(port)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            assert time.monotonic() < deadline, "the server did not become healthy"
            time.sleep(0.2)
        created = kartoteka(
            data_dir, "user", "create", "admin", "--admin", "--password-stdin", stdin="a-long-password\n"
        )
        assert created.returncode == 0, created.stderr
        with httpx.Client(base_url=base, timeout=10) as client:
            login = client.post(
                "/graphql",
                json={"query": 'mutation { login(input: {username: "admin", password: "a-long-password"}) { token } }'},
            )
            headers = {"Authorization": f"Bearer {login.json()['data']['login']['token']}"}
            binder = client.post(
                "/graphql",
                json={"query": 'mutation { createBinder(input: {name: "Faktury"}) { binder { id } } }'},
                headers=headers,
            ).json()["data"]["createBinder"]["binder"]["id"]
            operations = {
                "query": 'mutation($f: Upload!, $b: ID!) { createDocument(input: {binderId: $b, title: "Faktura", file: $f})'
                " { document { id } userErrors { code } } }",
                "variables": {"f": None, "b": binder},
            }
            uploaded = client.post(
                "/graphql",
                data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.f"]})},
                files={"0": ("faktura.txt", "Faktura za usługi transportowe, zażółć gęślą jaźń".encode())},
                headers={**headers, "Apollo-Require-Preflight": "true"},
            )
            assert uploaded.json()["data"]["createDocument"]["userErrors"] == []
            committed = time.monotonic()
            found = 0
            while time.monotonic() - committed < 5 and not found:
                result = client.post(
                    "/graphql",
                    json={"query": '{ search(query: "transportowych zazolc") { totalCount } }'},
                    headers=headers,
                ).json()
                found = (result.get("data") or {}).get("search", {}).get("totalCount", 0)
                time.sleep(0.1)
            assert found == 1
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        finally:
            if server.poll() is None:
                server.kill()
    # uvicorn shuts down gracefully, then re-raises the signal so the exit status tells why it stopped.
    assert server.returncode in (0, -signal.SIGTERM)
    assert server.stderr is not None
    assert "Application shutdown complete" in server.stderr.read()
