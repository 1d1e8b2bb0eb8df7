"""The server's logs: one JSON object a line, naming request, user and operation; never a secret or content."""

from __future__ import annotations

import json
import time

import httpx

from tests.e2e.conftest import LiveServer

MARKER = "QX7-content-marker-91f3b2"


def test_logs_name_the_request_and_never_hold_a_password_token_or_content(live_server: LiveServer):
    with httpx.Client(base_url=live_server.base_url, timeout=30) as http:
        login = http.post(
            "/graphql",
            json={
                "query": "mutation LogIn($u: String!, $p: String!) { login(input: {username: $u, password: $p}) { token } }",
                "variables": {"u": live_server.username, "p": live_server.password},
            },
        )
        token = login.json()["data"]["login"]["token"]
        headers = {"Authorization": f"Bearer {token}"}
        binder = http.post(
            "/graphql",
            json={"query": 'mutation MarkerBinder { createBinder(input: {name: "Logi"}) { binder { id } } }'},
            headers=headers,
        ).json()["data"]["createBinder"]["binder"]["id"]
        operations = {
            "query": "mutation UploadMarked($b: ID!, $t: String!, $f: Upload!) { createDocument(input: {binderId: $b,"
            " title: $t, file: $f}) { document { currentVersion { downloadUrl } } userErrors { code } } }",
            "operationName": "UploadMarked",
            # The marker is in the title too: not even a document's metadata text belongs in a log.
            "variables": {"b": binder, "t": f"Notatka {MARKER}", "f": None},
        }
        uploaded = http.post(
            "/graphql",
            data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.f"]})},
            files={"0": ("notatka.txt", f"Notatka służbowa {MARKER} do akt.\n".encode())},
            headers={**headers, "Apollo-Require-Preflight": "true"},
        )
        url = uploaded.json()["data"]["createDocument"]["document"]["currentVersion"]["downloadUrl"]
        assert MARKER in http.get(url).text
        # The indexer extracts the text (and may log about it) in the background: let it run first.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            found = http.post(
                "/graphql", json={"query": f'{{ search(query: "{MARKER}") {{ totalCount }} }}'}, headers=headers
            )
            if found.json()["data"]["search"]["totalCount"]:
                break
            time.sleep(0.2)

    log = live_server.log()
    lines = [json.loads(line) for line in log.splitlines() if line.strip()]  # every line is a JSON object
    upload_line = next(
        line for line in lines if line.get("route") == "/graphql" and line.get("operation") == "UploadMarked"
    )
    assert upload_line["request_id"] == uploaded.headers["x-request-id"]
    assert isinstance(upload_line["user_id"], int)
    assert upload_line["status"] == 200
    assert any(line.get("route") == "/files/{token}/{filename}" for line in lines)

    download_token = url.split("/files/", 1)[1].split("/", 1)[0]
    for secret in (live_server.password, token, download_token, MARKER):
        assert secret not in log, f"{secret[:6]}… appears in the server log"
