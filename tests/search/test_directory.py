"""The counterparty and event indexes: Polish-aware matching, tax ids in any spelling, ranking, filters."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from search.directory import (
    FIELDS,
    CounterpartyRecord,
    DirectoryIndex,
    DirectoryKind,
    DirectoryRequest,
    EventRecord,
    open_directory,
)
from search.engine import rebuilding
from search.errors import IndexUnavailable, InvalidCursor
from search.query import FIELDS as DOCUMENT_FIELDS
from search.query import parse_query
from search.records import AccessFilter

CARDS = [
    CounterpartyRecord(1, "Kowalski i Synowie sp. j.", "Kowalski", tax_ids=("5260250274", "PL5260250274")),
    CounterpartyRecord(2, "Żółty Dom S.A.", tax_ids=("7010000007",), persons=("Jan Kowalski kierownik zakupów",)),
    CounterpartyRecord(3, "Biuro Rachunkowe Nowak", contacts=("anna.nowak@biuro.pl", "+48 600 100 200")),
    CounterpartyRecord(4, "Kowalski Transport", deleted=True),
]


def _open(tmp_path: Path, kind: DirectoryKind, records: list) -> Iterator[DirectoryIndex]:  # type: ignore[type-arg]
    index = open_directory(tmp_path / kind, kind)
    with rebuilding(index) as rebuild:  # type: ignore[arg-type]
        rebuild.upsert(records)
    yield index
    index.close()


@pytest.fixture
def cards(tmp_path: Path) -> Iterator[DirectoryIndex]:
    yield from _open(tmp_path, "counterparties", CARDS)


def found(index: DirectoryIndex, text: str, **options: object) -> list[int]:
    options.setdefault("access", AccessFilter.everything())
    # Any field the query language knows: the engine, not the parser, is under test.
    query = parse_query(text, fields=DOCUMENT_FIELDS | FIELDS["counterparties"] | FIELDS["events"])
    request = DirectoryRequest(query=query, **options)  # type: ignore[arg-type]
    return [hit.record_id for hit in index.find(request).hits]


def test_cards_are_found_by_inflected_and_diacritic_free_names(cards: DirectoryIndex) -> None:
    assert found(cards, "kowalskiego") == [1, 2]
    assert found(cards, "zolty") == [2]
    assert found(cards, "ŻÓŁTEGO") == [2]
    assert found(cards, "rachunkowego") == [3]


def test_a_name_match_ranks_above_a_contact_person_match(cards: DirectoryIndex) -> None:
    # Card 2 only has a Kowalski among its people; card 1 is named so.
    assert found(cards, "Kowalski") == [1, 2]
    assert found(cards, "counterparty:kowalski") == [1]
    assert found(cards, "content:kowalski") == [2]


@pytest.mark.parametrize(
    "spelling", ["5260250274", "526-025-02-74", "PL5260250274", "526025", "nip:526-025", '"526 025 02 74"']
)
def test_a_nip_is_found_in_any_spelling_and_by_its_beginning(cards: DirectoryIndex, spelling: str) -> None:
    assert found(cards, spelling) == [1]


def test_contact_details_and_deleted_cards(cards: DirectoryIndex) -> None:
    assert found(cards, "anna.nowak@biuro.pl") == [3]
    assert found(cards, "transport") == []
    assert found(cards, "transport", deleted=True) == [4]


def test_pages_follow_cursors_without_repeats(cards: DirectoryIndex) -> None:
    first = cards.find(DirectoryRequest(query=parse_query("kowalski"), limit=1))
    assert first.total == 2 and first.has_next and first.next_cursor is not None
    second = cards.find(DirectoryRequest(query=parse_query("kowalski"), limit=1, after=first.next_cursor))
    assert [h.record_id for h in first.hits + second.hits] == [1, 2]
    assert not second.has_next
    with pytest.raises(InvalidCursor):
        cards.find(DirectoryRequest(query=parse_query("kowalski"), after="not-a-cursor"))


def test_events_are_found_only_through_their_access_tokens(tmp_path: Path) -> None:
    events = [
        EventRecord(10, note="Rozmowa o fakturach za czerwiec", access_tokens=("public",), counterparty_id=1),
        EventRecord(11, title="Umowa poufna", note="faktura", access_tokens=("b:7", "d:70"), counterparty_id=1),
        EventRecord(12, number="SPR/2026/05/0003", note="Spotkanie", access_tokens=("public",), counterparty_id=2),
    ]
    for index in _open(tmp_path, "events", events):
        public = AccessFilter.tokens({"public"})
        assert found(index, "faktury", access=public) == [10]
        assert sorted(found(index, "faktury", access=AccessFilter.tokens({"public", "b:7"}))) == [10, 11]
        assert found(index, "faktury", access=AccessFilter.tokens({"public", "b:7"}, {"d:70"})) == [10]
        assert found(index, "poufnej", access=AccessFilter()) == []
        assert found(index, "2026/05/0003", access=public) == [12]
        assert found(index, "number:SPR/2026", access=public) == [12]
        assert found(index, "faktura", access=AccessFilter.everything(), counterparty_id=2) == []
        # Fields events do not have match nothing rather than being refused.
        assert found(index, "filename:faktura", access=public) == []


def test_a_missing_directory_index_needs_a_rebuild(tmp_path: Path) -> None:
    index = open_directory(tmp_path / "events", "events")
    try:
        assert index.needs_rebuild()
        with pytest.raises(IndexUnavailable):
            index.find(DirectoryRequest(query=parse_query("x"), access=AccessFilter.everything()))
    finally:
        index.close()
