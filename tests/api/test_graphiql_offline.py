"""GraphiQL at GET /graphql loads every script and style from the app itself, never from a CDN."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

ASSET = re.compile(r'<(?:script|link)\b[^>]*?(?:src|href)="([^"]+)"[^>]*?integrity="([^"]+)"', re.S)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_ide_page_refers_only_to_assets_the_app_serves_unchanged(http):
    page = await http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "GraphiQL" in page.text
    assets = ASSET.findall(page.text)
    assert len(assets) == 7  # react, react-dom, js-cookie, graphiql js+css, explorer js+css
    assert not re.search(r'(?:src|href)="(?:https?:)?//', page.text), "an asset still comes from another host"
    for url, integrity in assets:
        assert url.startswith("/static/graphiql/"), url
        served = await http.get(url)
        assert served.status_code == 200, f"{url} is not vendored (see kartoteka/static/graphiql/README.md)"
        algorithm, _, expected = integrity.partition("-")
        # Byte for byte the published release: the browser checks the same hash before running it.
        assert base64.b64encode(hashlib.new(algorithm, served.content).digest()).decode() == expected, url


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_static_files_do_not_escape_their_folder(http):
    assert (await http.get("/static/graphiql/../../settings.py")).status_code == 404
    assert (await http.get("/static/graphiql/%2e%2e/%2e%2e/settings.py")).status_code == 404
