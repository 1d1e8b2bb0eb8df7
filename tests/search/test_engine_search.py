from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search.engine import SearchEngine
from search.errors import InvalidCursor, QuerySyntaxError
from search.query import parse_query
from search.records import AccessFilter, IndexRecord, SearchRequest
from tests.search.conftest import find, ids, record

Build = Callable[[Iterable[IndexRecord]], SearchEngine]

BOOKKEEPING = AccessFilter.tokens({"group:bookkeeping"})

CORPUS = [
    record(
        1,
        "Faktura FV/2026/0012",
        "Faktura VAT za usługi transportowe. Zażółć gęślą jaźń. Sprzedawca: Żuraw sp. z o.o., "
        "NIP 123-456-32-18. Termin płatności 14 dni.",
        description="Transport palet do magazynu w Piotrkowie",
        document_type="invoice",
        status="approved",
        counterparty_id=10,
        counterparty_name="Żuraw sp. z o.o.",
        counterparty_nip="123-456-32-18",
        binder_id=101,
        binder_path="/Finanse/Faktury",
        binder_ancestor_ids=(100, 101),
        received_at=datetime(2026, 1, 15),
        access_tokens=("group:bookkeeping",),
        tags=("pilne",),
    ),
    record(
        2,
        "Umowa najmu ABC-123/2026",
        "Umowa najmu lokalu użytkowego. Strony umowy ustalają czynsz. W umowie określono kaucję.",
        document_type="contract",
        status="draft",
        counterparty_id=20,
        counterparty_name="Kowalski i Syn",
        binder_id=201,
        binder_path="/Prawne/Umowy",
        binder_ancestor_ids=(200, 201),
        received_at=datetime(2025, 6, 1),
        access_tokens=("group:legal",),
    ),
    record(
        3,
        "Consulting invoice",
        "Invoice for consulting services. All invoices are payable within 14 days.",
        document_type="invoice",
        status="approved",
        counterparty_id=10,
        counterparty_name="Żuraw sp. z o.o.",
        binder_id=102,
        binder_path="/Finanse/Faktury/2026",
        binder_ancestor_ids=(100, 101, 102),
        received_at=datetime(2026, 2, 1),
        access_tokens=("group:bookkeeping", "user:7"),
    ),
    record(
        4,
        "Faktura poufna",
        "Faktura dla zarządu, dane poufne.",
        document_type="invoice",
        status="approved",
        counterparty_id=30,
        counterparty_name="Tajny Kontrahent",
        binder_id=300,
        binder_path="/Zarząd",
        binder_ancestor_ids=(300,),
        received_at=datetime(2026, 3, 1),
        access_tokens=("group:board",),
    ),
    record(
        5,
        "Service contract",
        "The contracts were signed by both parties. Contract value: 10 000 EUR.",
        document_type="contract",
        status="approved",
        binder_id=201,
        binder_path="/Prawne/Umowy",
        binder_ancestor_ids=(200, 201),
        created_at=datetime(2024, 11, 5),
        access_tokens=("group:legal", "group:bookkeeping"),
    ),
    record(
        6,
        "Notatka",
        "Uwaga: <script>alert('x')</script> faktura & rachunek <b>pogrubiony</b>",
        document_type="note",
        status="draft",
        binder_id=1,
        binder_path="/Archiwum",
        binder_ancestor_ids=(1,),
        access_tokens=("group:bookkeeping",),
    ),
]


@pytest.fixture
def corpus(build: Build) -> SearchEngine:
    return build(CORPUS)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("zazolc gesla jazn", 1),
        ("Zażółć gęślą jaźń", 1),
        ("faktury", 1),
        ("fakturze", 1),
        ("fakturach", 1),
        ("faktur", 1),
        ("umowy", 2),
        ("umowie", 2),
        ("umowa", 2),
        ("umowe", 2),
        ("platnosci", 1),
        ("invoices", 3),
        ("invoicing", 3),
        ("contracts", 5),
        ("contract", 5),
        ("FV/2026/0012", 1),
        ("fv/2026/0012", 1),
        ("2026/0012", 1),
        ("0012", 1),
        ("ABC-123/2026", 2),
        ("123/2026", 2),
        ("1234563218", 1),
        ("123-456-32-18", 1),
        ("zuraw", 1),
        ("pilne", 1),
        ("magazynie palety", 1),
    ],
)
def test_query_finds_its_document(corpus: SearchEngine, query: str, expected: int) -> None:
    assert expected in ids(find(corpus, query, limit=50))


def test_phrase_requires_adjacent_words_in_order(corpus: SearchEngine) -> None:
    assert ids(find(corpus, '"umowa najmu"')) == {2}
    assert ids(find(corpus, '"umowy najmu"')) == {2}  # inflection applies inside phrases too
    assert ids(find(corpus, '"najmu umowa"')) == set()
    assert ids(find(corpus, '"gesla jazn"')) == {1}


def test_prefix_query_expands_over_folded_words(corpus: SearchEngine) -> None:
    assert ids(find(corpus, "fakt*")) == {1, 4, 6}
    assert ids(find(corpus, "zazo*")) == {1}
    assert ids(find(corpus, "FV/20*")) == {1}


def test_boolean_operators(corpus: SearchEngine) -> None:
    assert ids(find(corpus, "faktura NOT poufne")) == {1, 6}
    assert ids(find(corpus, "faktura -poufne")) == {1, 6}
    assert ids(find(corpus, "kaucję OR consulting")) == {2, 3}
    assert ids(find(corpus, "(kaucja OR consulting) AND invoice")) == {3}
    assert ids(find(corpus, "faktura zarządu")) == {4}
    assert ids(find(corpus, "NOT faktura", limit=50)) == {2, 3, 5}


def test_field_queries_search_only_their_field(corpus: SearchEngine) -> None:
    assert ids(find(corpus, "title:faktura")) == {1, 4}
    assert ids(find(corpus, "content:faktura")) == {1, 4, 6}
    assert ids(find(corpus, "type:contract")) == {2, 5}
    assert ids(find(corpus, "type:CONTRACT")) == {2, 5}
    assert ids(find(corpus, "status:draft")) == {2, 6}
    assert ids(find(corpus, "counterparty:zuraw")) == {1, 3}
    assert ids(find(corpus, "nip:123-456-32-18")) == {1}
    assert ids(find(corpus, "binder:finanse")) == {1, 3}
    assert ids(find(corpus, "description:magazyn")) == {1}
    assert ids(find(corpus, "tags:pilne")) == {1}
    assert ids(find(corpus, 'title:"umowa najmu"')) == {2}


def test_match_all_lists_every_visible_document(corpus: SearchEngine) -> None:
    assert find(corpus, "", limit=50).total == len(CORPUS)
    assert find(corpus, "*", BOOKKEEPING, limit=50).total == 4


def test_injection_like_queries_are_just_words(corpus: SearchEngine) -> None:
    assert find(corpus, "'; DROP TABLE documents; --").total == 0
    assert ids(find(corpus, "<script>")) == {6}


class TestAccess:
    def test_a_document_without_the_users_token_is_never_returned(self, corpus: SearchEngine) -> None:
        result = find(corpus, "faktura", BOOKKEEPING, limit=50)
        assert ids(result) == {1, 6}
        assert result.total == 2

    def test_totals_and_facets_do_not_count_hidden_documents(self, corpus: SearchEngine) -> None:
        facets = frozenset({"document_type", "counterparty", "year"})
        everyone = find(corpus, "faktura", facets=facets)
        restricted = find(corpus, "faktura", BOOKKEEPING, facets=facets)
        assert everyone.total == 3 and restricted.total == 2
        assert ("30", 1) in everyone.facets["counterparty"]
        assert "30" not in dict(restricted.facets["counterparty"])
        assert dict(restricted.facets["document_type"]) == {"invoice": 1, "note": 1}
        assert dict(restricted.facets["year"]) == {"2026": 1}

    def test_excluding_tokens_hide_a_document_even_with_a_matching_grant(self, corpus: SearchEngine) -> None:
        access = AccessFilter.tokens({"group:bookkeeping"}, none_of={"user:7"})
        assert ids(find(corpus, "invoice", access)) == set()
        assert ids(find(corpus, "invoice", BOOKKEEPING)) == {3}

    def test_any_of_several_tokens_grants(self, corpus: SearchEngine) -> None:
        access = AccessFilter.tokens({"group:legal", "group:board"})
        assert ids(find(corpus, "faktura OR umowa", access)) == {2, 4}

    def test_default_access_filter_shows_nothing(self, corpus: SearchEngine) -> None:
        result = corpus.search(SearchRequest(query=parse_query("faktura"), facets=frozenset({"year"})))
        assert (result.total, result.hits, result.facets) == (0, (), {"year": []})


class TestFilters:
    def test_binder_filter_covers_the_whole_subtree(self, corpus: SearchEngine) -> None:
        assert ids(find(corpus, "*", binder_id=100, limit=50)) == {1, 3}
        assert ids(find(corpus, "*", binder_id=101, limit=50)) == {1, 3}
        assert ids(find(corpus, "*", binder_id=102, limit=50)) == {3}

    def test_counterparty_type_and_status_filters(self, corpus: SearchEngine) -> None:
        assert ids(find(corpus, "*", counterparty_id=10)) == {1, 3}
        assert ids(find(corpus, "*", document_type="contract")) == {2, 5}
        assert ids(find(corpus, "*", status="draft")) == {2, 6}
        assert ids(find(corpus, "faktura", status="approved")) == {1, 4}

    def test_date_range_is_inclusive(self, corpus: SearchEngine) -> None:
        january = {"date_from": datetime(2026, 1, 15), "date_to": datetime(2026, 2, 1)}
        assert ids(find(corpus, "*", **january)) == {1, 3}
        assert ids(find(corpus, "*", date_from=datetime(2026, 2, 2))) == {4}
        assert ids(find(corpus, "*", date_to=date(2026, 1, 15))) == {1, 2, 5}

    def test_date_filter_on_a_named_date_field(self, corpus: SearchEngine) -> None:
        assert ids(find(corpus, "*", date_field="created_at", date_to=datetime(2025, 1, 1))) == {5}

    def test_aware_datetimes_compare_in_utc(self, corpus: SearchEngine) -> None:
        start = datetime(2026, 1, 15, 1, 0, tzinfo=UTC) - timedelta(hours=2)
        assert 1 in ids(find(corpus, "*", date_from=start, date_to=datetime(2026, 1, 15)))


class TestOrderAndPaging:
    def test_relevance_puts_the_best_match_first(self, corpus: SearchEngine) -> None:
        result = find(corpus, "faktura")
        assert result.hits[0].document_id in {1, 4}  # title matches outrank a mention in the text
        scores = [hit.score for hit in result.hits]
        assert scores == sorted(scores, reverse=True)

    def test_date_sort_is_newest_first_and_undated_last(self, corpus: SearchEngine) -> None:
        result = find(corpus, "*", sort="date", limit=50)
        assert [hit.document_id for hit in result.hits] == [4, 3, 1, 2, 5, 6]

    @pytest.mark.parametrize("sort", ["relevance", "date"])
    def test_pages_neither_lose_nor_repeat_documents(self, build: Build, sort: str) -> None:
        records = [
            record(
                i,
                f"Faktura {i}",
                "faktura " * (i % 4 + 1),
                received_at=datetime(2026, 1, 1) + timedelta(days=i % 3),  # many ties
            )
            for i in range(1, 38)
        ]
        engine = build(records)
        seen: list[int] = []
        after = None
        while True:
            result = find(engine, "faktura", sort=sort, limit=5, after=after)
            assert result.total == 37
            seen += [hit.document_id for hit in result.hits]
            if not result.has_next:
                assert result.next_cursor is None
                break
            assert result.next_cursor == result.hits[-1].cursor
            after = result.next_cursor
        everything = [hit.document_id for hit in find(engine, "faktura", sort=sort, limit=50).hits]
        assert seen == everything
        assert sorted(seen) == list(range(1, 38))

    def test_date_paging_after_the_index_changed_neither_repeats_nor_skips(self, build: Build) -> None:
        # Date keys do not depend on index statistics, so a cursor survives writes.
        dated = [record(i, f"Umowa {i}", "umowa", received_at=datetime(2026, 1, i)) for i in range(1, 11)]
        engine = build(dated)
        first = find(engine, "umowa", sort="date", limit=4)
        engine.upsert([record(99, "Umowa nowa", "umowa", received_at=datetime(2026, 2, 1))])
        engine.delete([10])  # already shown: must not disturb what follows
        second = find(engine, "umowa", sort="date", limit=50, after=first.next_cursor)
        assert [h.document_id for h in first.hits] == [10, 9, 8, 7]
        assert [h.document_id for h in second.hits] == [6, 5, 4, 3, 2, 1]

    def test_relevance_paging_after_the_index_changed_goes_on_from_the_cursors_document(self, build: Build) -> None:
        # Every document added moves every score: the score in a cursor no longer says where its
        # document ranks (here the whole rest was lost, as all scores rose past it).
        # Texts of one length: their order by relevance does not change, only their scores do.
        texts = ["targets " * (i % 5 + 1) + "reszta " * (5 - i % 5) for i in range(1, 30)]
        engine = build([record(i, f"Raport {i}", text) for i, text in enumerate(texts, start=1)])
        first = find(engine, "targets", limit=5)
        engine.upsert([record(100 + i, f"Inny {i}", "zupełnie inne słowa") for i in range(6)])
        rest: list[int] = []
        after = first.next_cursor
        while after is not None:
            result = find(engine, "targets", limit=5, after=after)
            rest += [hit.document_id for hit in result.hits]
            after = result.next_cursor
        shown = [hit.document_id for hit in first.hits]
        assert sorted(shown + rest) == list(range(1, 30))
        assert rest == [h.document_id for h in find(engine, "targets", limit=50).hits if h.document_id not in shown]

    def test_a_relevance_cursor_whose_document_left_goes_on_from_its_score(self, build: Build) -> None:
        engine = build([record(i, f"Umowa {i}", "umowa " * i) for i in range(1, 11)])
        first = find(engine, "umowa", limit=3)
        engine.delete([first.hits[-1].document_id])
        second = find(engine, "umowa", limit=50, after=first.next_cursor)
        shown = {hit.document_id for hit in first.hits}
        assert {hit.document_id for hit in second.hits} == set(range(1, 11)) - shown

    def test_a_hit_cursor_resumes_right_after_that_hit(self, corpus: SearchEngine) -> None:
        everything = find(corpus, "*", sort="date", limit=50).hits
        rest = find(corpus, "*", sort="date", after=everything[1].cursor, limit=50).hits
        assert [h.document_id for h in rest] == [h.document_id for h in everything[2:]]

    @pytest.mark.parametrize("cursor", ["", "garbage", "eyJhIjoxfQ", "WyJyIiwxLDJd"])
    def test_malformed_cursor_is_refused(self, corpus: SearchEngine, cursor: str) -> None:
        with pytest.raises(InvalidCursor):
            find(corpus, "faktura", after=cursor)

    def test_cursor_of_another_sort_order_is_refused(self, corpus: SearchEngine) -> None:
        cursor = find(corpus, "*", sort="date", limit=1).next_cursor
        with pytest.raises(InvalidCursor):
            find(corpus, "*", sort="relevance", after=cursor)


class TestHighlights:
    def test_matched_words_are_marked_in_the_content(self, corpus: SearchEngine) -> None:
        hit = find(corpus, "zazolc gesla").hits[0]
        assert "<mark>Zażółć</mark> <mark>gęślą</mark>" in hit.highlights[0]

    def test_inflected_matches_are_marked(self, corpus: SearchEngine) -> None:
        hit = find(corpus, "umowa").hits[0]
        assert "<mark>umowy</mark>" in hit.highlights[0] and "<mark>umowie</mark>" in hit.highlights[0]

    def test_everything_outside_marks_is_html_escaped(self, corpus: SearchEngine) -> None:
        [hit] = find(corpus, "rachunek").hits
        snippet = hit.highlights[0]
        assert "<script>" not in snippet and "<b>" not in snippet
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in snippet
        assert "&amp; <mark>rachunek</mark> &lt;b&gt;" in snippet

    def test_title_is_highlighted_separately(self, corpus: SearchEngine) -> None:
        hit = next(h for h in find(corpus, "2026/0012").hits if h.document_id == 1)
        assert hit.title_highlight == "Faktura FV/<mark>2026/0012</mark>"

    def test_a_match_in_the_description_alone_is_marked_in_the_description(self, corpus: SearchEngine) -> None:
        [hit] = find(corpus, "Piotrkowa").hits
        assert hit.highlights == ("Transport palet do magazynu w <mark>Piotrkowie</mark>",)

    def test_negated_words_are_not_marked(self, corpus: SearchEngine) -> None:
        [hit] = find(corpus, "kaucję -faktura").hits
        assert "<mark>kaucję</mark>" in hit.highlights[0]
        assert all("<mark>faktur" not in h for h in hit.highlights)

    def test_long_content_gives_short_fragments_around_matches(self, build: Build) -> None:
        filler = "lorem ipsum dolor sit amet " * 200
        engine = build([record(1, "Długi", filler + "tutaj jest faktura końcowa " + filler)])
        [hit] = find(engine, "faktura").hits
        [fragment] = hit.highlights
        assert "<mark>faktura</mark>" in fragment
        assert fragment.startswith("…") and fragment.endswith("…")
        assert len(fragment) < 250

    def test_a_match_longer_than_a_fragment_shows_its_beginning(self, build: Build) -> None:
        compound = "-".join(["ab"] * 20_000)
        engine = build([record(1, "Kody", f"znacznik {compound} koniec")])
        [hit] = find(engine, "ab-ab*").hits
        [fragment] = hit.highlights
        assert fragment.startswith("znacznik <mark>ab-ab-") and fragment.endswith("</mark>…")
        assert len(fragment) < 250

    def test_highlighting_can_be_switched_off(self, corpus: SearchEngine) -> None:
        hit = find(corpus, "faktura", highlight=False).hits[0]
        assert hit.highlights == () and hit.title_highlight is None


def test_facets_count_every_visible_match_not_just_the_page(corpus: SearchEngine) -> None:
    result = find(corpus, "*", limit=1, facets=frozenset({"document_type", "year", "counterparty"}))
    assert dict(result.facets["document_type"]) == {"invoice": 3, "contract": 2, "note": 1}
    assert dict(result.facets["year"]) == {"2026": 3, "2025": 1, "2024": 1}
    assert result.facets["counterparty"][0] == ("10", 2)


def test_a_prefix_standing_for_too_many_words_is_refused(build: Build) -> None:
    # Each word a prefix stands for is a list of documents to read: past a thousand it is refused.
    words = " ".join(f"ab{i:04d}x" for i in range(1001))
    engine = build([record(1, "Kody", words), record(2, "Abonament", "abonament na rok")])
    with pytest.raises(QuerySyntaxError, match="start with 'ab'"):
        find(engine, "ab*")
    assert ids(find(engine, "abo*")) == {2}
    assert ids(find(engine, "ab099*")) == {1}


def test_query_syntax_error_surfaces_from_parsing_not_from_the_engine(corpus: SearchEngine) -> None:
    with pytest.raises(QuerySyntaxError):
        find(corpus, '"unterminated')


@pytest.fixture(scope="module")
def shared_corpus(tmp_path_factory: pytest.TempPathFactory) -> SearchEngine:
    from search.engine import open_engine, rebuilding

    engine = open_engine(tmp_path_factory.mktemp("fuzz") / "index")
    with rebuilding(engine) as rebuild:
        rebuild.upsert(CORPUS)
    return engine


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=80))
def test_any_query_text_searches_or_raises_query_syntax_error(shared_corpus: SearchEngine, text: str) -> None:
    try:
        request = SearchRequest(query=parse_query(text), access=BOOKKEEPING, facets=frozenset({"year"}))
    except QuerySyntaxError:
        return
    result = shared_corpus.search(request)
    assert result.total >= len(result.hits)
    assert ids(result) <= {1, 3, 5, 6}
