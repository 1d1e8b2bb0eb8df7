"""GraphiQL in a real headless Chromium, with every request to another host refused (as if offline)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import BrowserContext, Route, sync_playwright

from tests.e2e.conftest import LiveServer
from tests.servers import server_unavailable

CHROMIUM = "/usr/bin/chromium"
# A quiet, throwaway browser: no sync, no updates, no background calls home, nothing kept between runs.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
RESULT = "() => document.querySelector('.result-window .CodeMirror').CodeMirror.getValue()"


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[BrowserContext]:
    """Debian's chromium driven by Playwright (which never downloads a browser of its own here)."""
    if not os.access(CHROMIUM, os.X_OK):
        server_unavailable(f"Chromium unavailable: {CHROMIUM} not found (apt-get install chromium)")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            tmp_path / "chromium-profile",  # a fresh user-data-dir
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_FLAGS,
        )
        try:
            yield context
        finally:
            context.close()


def test_graphiql_runs_a_query_with_a_bearer_token_set_in_its_headers_editor(
    live_server: LiveServer, browser: BrowserContext
):
    token = httpx.post(
        f"{live_server.base_url}/graphql",
        json={
            "query": "mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p}) { token } }",
            "variables": {"u": live_server.username, "p": live_server.password},
        },
        timeout=30,
    ).json()["data"]["login"]["token"]
    elsewhere: list[str] = []

    def only_our_server(route: Route) -> None:
        if route.request.url.startswith(live_server.base_url + "/"):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort("internetdisconnected")

    browser.route("**/*", only_our_server)
    page = browser.new_page()
    page.goto(f"{live_server.base_url}/graphql")
    page.click(".graphiql-query-editor .CodeMirror")
    page.keyboard.press("Control+A")
    page.keyboard.insert_text("{ me { username } }")
    page.get_by_role("button", name="Headers").click()
    page.click(".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror")
    page.keyboard.insert_text(json.dumps({"Authorization": f"Bearer {token}"}))
    page.click(".graphiql-execute-button")
    page.wait_for_function(f"() => ({RESULT})().includes('data')", timeout=15_000)

    assert json.loads(page.evaluate(RESULT)) == {"data": {"me": {"username": live_server.username}}}
    assert elsewhere == []
