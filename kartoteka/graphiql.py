"""GraphiQL without the internet: Strawberry's page, with its scripts and styles served by us."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from strawberry.http.ides import get_graphql_ide_html

STATIC_DIR = Path(__file__).with_name("static") / "graphiql"
STATIC_PATH = "/static/graphiql"
# Strawberry's template loads every asset from this CDN. The vendored folder keeps the CDN's paths,
# so swapping the prefix is the whole rewrite.
CDN_PREFIX = "https://unpkg.com/"


@cache
def _template() -> str:
    return get_graphql_ide_html(graphql_ide="graphiql").replace("Strawberry GraphiQL", "Kartoteka GraphiQL")


def offline_graphiql_html(root_path: str = "") -> str:
    """The GraphiQL page with every asset URL pointing at `<root_path>/static/graphiql/`."""
    return _template().replace(CDN_PREFIX, f"{root_path.rstrip('/')}{STATIC_PATH}/")
