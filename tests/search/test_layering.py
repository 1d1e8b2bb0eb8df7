from __future__ import annotations

import ast
from pathlib import Path

import pytest

SEARCH = Path(__file__).resolve().parents[2] / "search"
OURS = {"dms", "storage", "auth", "kartoteka", "schema", "resolvers"}


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("path", sorted(SEARCH.glob("*.py")), ids=lambda p: p.name)
def test_search_imports_nothing_of_the_domain_and_only_its_whoosh_modules_import_whoosh(path: Path) -> None:
    roots = imported_roots(path)
    assert not roots & OURS
    if not path.name.startswith("whoosh_"):
        assert "whoosh" not in roots
