"""An index written in several commits (segments) reads every column from the right segment."""

from __future__ import annotations

from tests.search.conftest import find, ids, record


def test_facets_count_right_when_earlier_segments_lack_the_column(build, engine):
    build([record(1, "Faktura pierwsza")])
    engine.upsert([record(2, "Faktura druga", counterparty_id=7, counterparty_name="ACME")])
    engine.upsert([record(3, "Faktura trzecia")])
    result = find(engine, "faktura", facets=frozenset({"counterparty", "document_type", "year"}))
    assert ids(result) == {1, 2, 3}
    assert result.facets["counterparty"] == [("7", 1)]
    assert result.facets["document_type"] == []


def test_a_column_nobody_has_yet_gives_empty_facets(build, engine):
    build([record(1, "Umowa")])
    engine.upsert([record(2, "Umowa druga")])
    result = find(engine, "umowa", facets=frozenset({"counterparty"}))
    assert result.total == 2
    assert result.facets["counterparty"] == []
