"""`kartoteka serve` as an operator starts it: migrations, API and embedded indexer in one process."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx

from tests.cli.test_cli import kartoteka
from tests.servers.kartoteka import KartotekaProcess, running_kartoteka

PASSWORD = "a-long-password"


def sign_in(client: httpx.Client, data_dir: Path) -> dict[str, str]:
    """The first admin, created with the CLI as an operator does, logged in over HTTP: its headers."""
    created = kartoteka(data_dir, "user", "create", "admin", "--admin", "--password-stdin", stdin=PASSWORD + "\n")
    assert created.returncode == 0, created.stderr
    login = client.post(
        "/graphql",
        json={"query": f'mutation {{ login(input: {{username: "admin", password: "{PASSWORD}"}}) {{ token }} }}'},
    )
    return {"Authorization": f"Bearer {login.json()['data']['login']['token']}"}


def create_document(
    client: httpx.Client, headers: dict[str, str], binder_name: str, filename: str, content: bytes
) -> dict[str, Any]:
    """A new binder and a document in it, uploaded as a front-end does (GraphQL multipart)."""
    binder = client.post(
        "/graphql",
        json={
            "query": "mutation($n: String!) { createBinder(input: {name: $n}) { binder { id } } }",
            "variables": {"n": binder_name},
        },
        headers=headers,
    ).json()["data"]["createBinder"]["binder"]["id"]
    operations = {
        "query": "mutation($f: Upload!, $b: ID!, $t: String!) { createDocument(input: {binderId: $b, title: $t, file: $f})"
        " { document { id currentVersion { downloadUrl } } userErrors { code } } }",
        "variables": {"f": None, "b": binder, "t": filename.rsplit(".", 1)[0].capitalize()},
    }
    uploaded = client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.f"]})},
        files={"0": (filename, content)},
        headers={**headers, "Apollo-Require-Preflight": "true"},
    ).json()["data"]["createDocument"]
    assert uploaded["userErrors"] == []
    return dict(uploaded["document"])


def test_a_checked_in_document_is_searchable_within_five_seconds(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with running_kartoteka(data_dir) as server:
        with httpx.Client(base_url=server.base_url, timeout=10) as client:
            headers = sign_in(client, data_dir)
            create_document(
                client, headers, "Faktury", "faktura.txt", "Faktura za usługi transportowe, zażółć gęślą jaźń".encode()
            )
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
    # uvicorn shuts down gracefully, then re-raises the signal so the exit status tells why it stopped.
    assert server.returncode in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in server.log()


def open_blob_files(pid: int, blobs: Path) -> list[str]:
    """The files under `blobs` that the process holds open."""
    held = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed while we looked
            continue
        if target.startswith(str(blobs)):
            held.append(target)
    return held


def test_a_download_abandoned_half_way_leaves_no_file_open(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    content = os.urandom(32 * 1024 * 1024)
    with running_kartoteka(data_dir) as server:
        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            headers = sign_in(client, data_dir)
            url = create_document(client, headers, "Skany", "skan.bin", content)["currentVersion"]["downloadUrl"]
            blobs = data_dir / "blobs"

            # A small receive buffer: the server cannot push the whole file into the connection
            # (and be done reading it) before the client looks; on loopback it could otherwise.
            slow = httpx.HTTPTransport(socket_options=[(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)])
            with httpx.Client(transport=slow, timeout=30) as slow_client, slow_client.stream("GET", url) as response:
                # Held: a raw iterator dropped after one piece would close the connection at once.
                pieces = response.iter_raw(1024 * 1024)
                first = next(pieces)
                assert first and content.startswith(first)
                assert open_blob_files(server.process.pid, blobs), "the file is open while it is being sent"
            # The client hung up with most of the file unsent: the server lets the file go.
            deadline = time.monotonic() + 10
            while open_blob_files(server.process.pid, blobs) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert open_blob_files(server.process.pid, blobs) == []

            whole = client.get(url)
            assert hashlib.sha256(whole.content).digest() == hashlib.sha256(content).digest()
            assert open_blob_files(server.process.pid, blobs) == []


def wait_for_log(process: KartotekaProcess, text: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while text not in process.log():
        assert process.process.poll() is None, process.log()
        assert time.monotonic() < deadline, f"{text!r} not logged:\n{process.log()}"
        time.sleep(0.1)


def test_one_indexer_writes_the_index_and_a_second_waits_to_take_over(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with ExitStack() as running:
        first = running.enter_context(running_kartoteka(data_dir, log_path=tmp_path / "first.log"))
        standby = running.enter_context(running_kartoteka(data_dir, "indexer", log_path=tmp_path / "standby.log"))
        wait_for_log(standby, "waiting to take over")
        assert "took over" not in standby.log()

        first.stop()  # the embedded indexer goes with its server
        wait_for_log(standby, "took over the search index")

        # A server started while an indexer runs serves, and only reads the index.
        reader = running.enter_context(running_kartoteka(data_dir, log_path=tmp_path / "reader.log"))
        assert "only reads it" in reader.log()
        started = [json.loads(line) for line in reader.log().splitlines() if '"serving"' in line]
        assert started and started[0]["indexer"] == "elsewhere" and started[0]["schema"]
        assert '"indexer": "embedded"' in first.log() or '"indexer":"embedded"' in first.log()
        with httpx.Client(base_url=reader.base_url, timeout=10) as client:
            headers = sign_in(client, data_dir)
            create_document(client, headers, "Faktury", "faktura.txt", b"Faktura za transport")
            deadline = time.monotonic() + 10
            found = 0
            while not found and time.monotonic() < deadline:  # indexed by the standby, now the indexer
                result = client.post(
                    "/graphql", json={"query": '{ search(query: "transportu") { totalCount } }'}, headers=headers
                )
                found = result.json()["data"]["search"]["totalCount"]
                time.sleep(0.2)
            assert found == 1

            # When that indexer stops, the reading server writes the index itself.
            standby.stop()
            wait_for_log(reader, "took over the search index")
            create_document(client, headers, "Umowy", "umowa.txt", b"Umowa najmu magazynu")
            deadline = time.monotonic() + 10
            found = 0
            while not found and time.monotonic() < deadline:
                result = client.post(
                    "/graphql", json={"query": '{ search(query: "magazynu") { totalCount } }'}, headers=headers
                )
                found = result.json()["data"]["search"]["totalCount"]
                time.sleep(0.2)
            assert found == 1
            assert client.get("/healthz").json()["indexer"] == {"ok": True}


def test_behind_a_trusted_proxy_failed_logins_count_per_client_not_for_everyone(tmp_path: Path) -> None:
    from tests.servers.kartoteka import kartoteka_environment

    data_dir = tmp_path / "data"
    environment = kartoteka_environment(
        data_dir, KARTOTEKA_FORWARDED_ALLOW_IPS="127.0.0.1", KARTOTEKA_LOGIN_MAX_FAILURES="2"
    )
    with (
        running_kartoteka(data_dir, environment=environment) as server,
        httpx.Client(base_url=server.base_url) as client,
    ):
        sign_in(client, data_dir)

        def log_in(password: str, client_address: str) -> dict[str, Any]:
            query = f'mutation {{ login(input: {{username: "admin", password: "{password}"}}) {{ token userErrors {{ code }} }} }}'
            answer = client.post("/graphql", json={"query": query}, headers={"X-Forwarded-For": client_address})
            return dict(answer.json()["data"]["login"])

        for _ in range(3):
            log_in("a wrong guess", "203.0.113.7")
        assert log_in(PASSWORD, "203.0.113.7")["userErrors"] == [{"code": "RATE_LIMITED"}]
        # The real admin, elsewhere behind the same proxy, is not locked out by the guesser.
        assert log_in(PASSWORD, "198.51.100.20")["token"]


def test_an_idle_connection_outlives_the_clients_own_keep_alive(tmp_path: Path) -> None:
    import http.client
    from urllib.parse import urlsplit

    with running_kartoteka(tmp_path / "data") as server:
        address = urlsplit(server.base_url)
        connection = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=30)
        try:
            for _ in range(2):
                connection.request("GET", "/healthz")
                assert connection.getresponse().read()
                # Longer than httpx keeps an idle connection (5 s): the client gives it up first.
                time.sleep(6)
            connection.request("GET", "/healthz")
            assert connection.getresponse().status == 200
        finally:
            connection.close()
