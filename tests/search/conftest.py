from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path

import pytest

from search.engine import SearchEngine, open_engine, rebuilding
from search.query import parse_query
from search.records import AccessFilter, IndexRecord, SearchRequest, SearchResult


def record(document_id: int, title: str, content: str = "", **fields: object) -> IndexRecord:
    """A record with sensible defaults: binder 1, readable by the token "all"."""
    fields.setdefault("binder_id", 1)
    fields.setdefault("binder_path", "/Archiwum")
    fields.setdefault("binder_ancestor_ids", (1,))
    fields.setdefault("access_tokens", ("all",))
    return IndexRecord(document_id=document_id, title=title, content=content, **fields)  # type: ignore[arg-type]


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[SearchEngine]:
    engine = open_engine(tmp_path / "index")
    yield engine
    engine.close()


@pytest.fixture
def build(engine: SearchEngine) -> Callable[[Iterable[IndexRecord]], SearchEngine]:
    """Rebuild the index from `records` (the way the indexer builds a fresh one)."""

    def build(records: Iterable[IndexRecord]) -> SearchEngine:
        with rebuilding(engine) as rebuild:
            rebuild.upsert(records)
        return engine

    return build


def find(engine: SearchEngine, text: str, access: AccessFilter | None = None, **options: object) -> SearchResult:
    request = SearchRequest(query=parse_query(text), access=access or AccessFilter.everything(), **options)  # type: ignore[arg-type]
    return engine.search(request)


def ids(result: SearchResult) -> set[int]:
    return {hit.document_id for hit in result.hits}


DAY = datetime(2026, 1, 15, 12, 0)
