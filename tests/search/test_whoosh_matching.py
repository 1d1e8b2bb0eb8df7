"""Our own match collection gives exactly what plain Whoosh gives for the same index and query.

The engine collects matches itself (access as cached per-segment maps, cached columns and
field lengths, phrases matched by integer positions). The reference here is the plain
Whoosh way: `Sequence` for phrases, the access filter joined into the query, Whoosh's own
BM25F and collector — except for exclusions, where Whoosh's `AndNot` is wrong (see
`search.whoosh_queries`; the last tests here pin that). Hits, scores, order, totals and facets must all agree, on an index of
several segments with updated and deleted documents, for users with different access.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from whoosh import query as wq

from search import whoosh_engine, whoosh_matches
from search.engine import rebuilding
from search.paging import rank_facet
from search.query import parse_query
from search.records import AccessFilter, IndexRecord, SearchRequest
from search.whoosh_engine import WhooshEngine
from search.whoosh_queries import AndNot
from tests.search.conftest import find, ids, record

WORDS = "faktura faktury umowa umowy najmu termin płatności invoice invoices payment terms order delivery".split()
TOKENS = [f"binder:{n}" for n in range(6)]
TYPES = ["invoice", "contract", "letter", ""]
FACETS = frozenset({"document_type", "counterparty", "year"})


def _random_record(rng: random.Random, document_id: int) -> IndexRecord:
    return record(
        document_id,
        " ".join(rng.choices(WORDS, k=rng.randint(1, 3))),
        " ".join(rng.choices(WORDS, k=rng.randint(5, 40))),
        document_type=rng.choice(TYPES),
        counterparty_id=rng.choice([None, 1, 2, 3]),
        counterparty_name=rng.choice(["", "ACME", "Żuraw"]),
        received_at=datetime(rng.choice([2024, 2025, 2026]), rng.randint(1, 12), 1),
        access_tokens=tuple(rng.sample(TOKENS, k=rng.randint(1, 2))) + (("rare",) if rng.random() < 0.03 else ()),
    )


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[WhooshEngine, dict[int, IndexRecord]]]:
    """~300 documents in several segments; some updated (new access, new words), some deleted."""
    rng = random.Random(20261123)
    engine = WhooshEngine()
    engine.open(Path(tmp_path_factory.mktemp("matching")) / "index")
    live = {n: _random_record(rng, n) for n in range(1, 121)}
    with rebuilding(engine) as rebuild:
        rebuild.upsert(live.values())
    for start in (121, 181, 241):
        batch = {n: _random_record(rng, n) for n in range(start, start + 60)}
        engine.upsert(batch.values())
        live.update(batch)
        updated = {n: _random_record(rng, n) for n in rng.sample(sorted(live), 15)}
        engine.upsert(updated.values())
        live.update(updated)
        gone = rng.sample(sorted(live), 8)
        engine.delete(gone)
        for n in gone:
            del live[n]
    yield engine, live
    engine.close()


QUERIES = [
    "faktura",
    "faktury",
    "platnosci",
    "invoice",
    "faktura AND payment",
    "umowa OR order",
    "invoice NOT faktura",
    '"umowa najmu"',
    '"termin płatności"',
    '"payment terms"',
    '"faktura faktura"',
    '"order delivery invoice"',
    "title:faktura",
    "faktur*",
]
ACCESS = [
    AccessFilter.everything(),
    AccessFilter.tokens({"binder:0"}),
    AccessFilter.tokens({"binder:1", "binder:2", "binder:3"}),
    AccessFilter.tokens({"binder:1", "binder:2"}, {"binder:2"}),
    AccessFilter.tokens({"binder:5"}, {"binder:0"}),
    AccessFilter.tokens({"rare"}),  # a few documents per segment: skipped to, not tested one by one
    AccessFilter.tokens({"rare", "binder:9"}, {"binder:1"}),
]


def _plain_whoosh(
    engine: WhooshEngine, request: SearchRequest, monkeypatch: pytest.MonkeyPatch
) -> list[tuple[float, int]]:
    """(score, document id) of every visible match, best first, found the plain Whoosh way."""
    with monkeypatch.context() as patch:
        patch.setattr(whoosh_engine, "AdjacentPhrase", lambda steps, boost=1.0: wq.Sequence(steps, slop=1, boost=boost))
        query = engine._translator.translate(request.query)
    access = request.access
    if not access.unrestricted:
        query = wq.Require(query, wq.Or([wq.Term("access", t) for t in sorted(access.any_of_tokens)]))
        if access.none_of_tokens:
            query = AndNot(query, wq.Or([wq.Term("access", t) for t in sorted(access.none_of_tokens)]))
    _, index = engine._live_index()
    with index.searcher() as searcher:
        found = [(hit.score, int(hit["id"])) for hit in searcher.search(query, limit=None)]
    return sorted(found, key=lambda item: (-item[0], item[1]))


@pytest.mark.parametrize("text", QUERIES)
def test_hits_scores_order_totals_and_facets_are_plain_whooshs(corpus, text, monkeypatch):
    engine, live = corpus
    for access in ACCESS:
        request = SearchRequest(query=parse_query(text), access=access, limit=200, facets=FACETS, highlight=False)
        expected = _plain_whoosh(engine, request, monkeypatch)
        result = engine.search(request)
        assert result.total == len(expected), (text, access)
        # Scores are shown relative to the best visible match.
        best = expected[0][0] if expected else 1.0
        assert [(hit.score, hit.document_id) for hit in result.hits] == [
            (score / best, document_id) for score, document_id in expected[:200]
        ], (text, access)
        matched = [live[document_id] for _, document_id in expected]
        assert result.facets["document_type"] == rank_facet(
            Counter(r.document_type for r in matched if r.document_type), 20
        )
        assert result.facets["counterparty"] == rank_facet(
            Counter(str(r.counterparty_id) for r in matched if r.counterparty_id is not None), 20
        )
        assert result.facets["year"] == rank_facet(Counter(str(r.facet_year) for r in matched), 20)


def test_a_user_who_may_read_few_documents_is_served_by_skipping(corpus):
    engine, _ = corpus
    with engine._searcher() as searcher:
        maps = [
            engine._segments.access(segment_id, sub.reader(), AccessFilter.tokens({"rare"}))
            for sub, _, segment_id in whoosh_matches.leaves(searcher)
        ]
    for m in maps:
        assert (m.few is not None) == (m.admitted.count(1) < len(m.admitted) * whoosh_matches.SPARSE_ACCESS)
        assert m.few is None or list(m.few) == [d for d, seen in enumerate(m.admitted) if seen]
    assert any(m.few for m in maps)  # so the comparisons with plain Whoosh above cover skipping


@pytest.mark.parametrize("text", ["faktura OR invoice", '"umowa najmu"', "invoice NOT faktura", "faktur*"])
def test_date_order_sees_the_same_documents_unscored(corpus, text, monkeypatch):
    engine, live = corpus
    access = AccessFilter.tokens({"binder:1", "binder:4", "rare"}, {"binder:2"})
    request = SearchRequest(query=parse_query(text), access=access, sort="date", limit=200)
    expected = {document_id for _, document_id in _plain_whoosh(engine, request, monkeypatch)}
    result = engine.search(request)
    assert {hit.document_id for hit in result.hits} == expected
    keys = [(live[hit.document_id].date, hit.document_id) for hit in result.hits]
    assert keys == sorted(keys, reverse=True)


def test_a_changed_permission_shows_at_once_although_access_is_cached(tmp_path):
    engine = WhooshEngine()
    engine.open(tmp_path / "index")
    try:
        with rebuilding(engine) as rebuild:
            rebuild.upsert([record(1, "Faktura", access_tokens=("binder:1",)), record(2, "Faktura")])
        reader = AccessFilter.tokens({"binder:1"})

        def visible() -> set[int]:
            request = SearchRequest(query=parse_query("faktura"), access=reader)
            return {hit.document_id for hit in engine.search(request).hits}

        assert visible() == {1}  # the access map of the first segment is now cached
        engine.upsert(
            [record(1, "Faktura", access_tokens=("binder:2",)), record(2, "Faktura", access_tokens=("binder:1",))]
        )
        assert visible() == {2}
        engine.delete([2])
        assert visible() == set()
    finally:
        engine.close()


def test_segments_merged_away_leave_the_cache(tmp_path):
    engine = WhooshEngine()
    engine.open(tmp_path / "index")
    try:
        with rebuilding(engine) as rebuild:
            rebuild.upsert([record(1, "Faktura")])
        cache = engine._segments
        access = AccessFilter.tokens({"all"})
        for n in range(2, 6):
            engine.upsert([record(n, "Faktura")])
            engine.search(SearchRequest(query=parse_query("faktura"), access=access))
        assert len(cache._columns) > 1
        _, index = engine._live_index()
        index.writer().commit(optimize=True)
        result = engine.search(SearchRequest(query=parse_query("faktura"), access=access))
        assert result.total == 5
        live = _live_segments(engine)
        assert len(live) == 1
        assert set(cache._columns) == live
        assert {segment_id for segment_id, *_ in cache._access} == live
        assert {segment_id for segment_id, _ in cache._lengths} == live
    finally:
        engine.close()


def _live_segments(engine: WhooshEngine) -> set[str]:
    _, index = engine._live_index()
    with index.reader() as reader:
        return {leaf.segment().segment_id() for leaf, _ in reader.leaf_readers()}


def test_the_idle_indexer_reads_new_segments_ahead_of_searches(tmp_path):
    engine = WhooshEngine()
    engine.open(tmp_path / "index")
    try:
        with rebuilding(engine) as rebuild:
            rebuild.upsert([record(1, "Faktura")])
        engine.settle()
        assert not engine._segments._columns  # nobody searches here: nothing is cached
        engine.search(SearchRequest(query=parse_query("faktura"), access=AccessFilter.everything()))
        engine.upsert([record(2, "Umowa")])
        engine.settle()
        live = _live_segments(engine)
        assert len(live) == 2
        assert set(engine._segments._columns) == live
        assert {(s, "content") for s in live} <= set(engine._segments._lengths)
    finally:
        engine.close()


def test_access_maps_stay_within_their_byte_budget(corpus):
    engine, _ = corpus
    cache = whoosh_matches.SegmentCache(access_bytes=1)
    with engine._searcher() as searcher:
        leaves = whoosh_matches.leaves(searcher)
        for sub, _, segment_id in leaves:
            for token in TOKENS:
                cache.access(segment_id, sub.reader(), AccessFilter.tokens({token}))
    assert len(cache._access) == 1  # only the newest one, whatever its size


def test_an_excluded_word_excludes_the_first_match_of_a_segment_too(build, engine):
    # Whoosh's own AndNot let the first match through when the excluded side started earlier.
    build([record(1, "Umowa najmu"), record(2, "Faktura za najem i umowa"), record(3, "Faktura")])
    assert ids(find(engine, "faktura NOT umowa")) == {3}
    assert ids(find(engine, "NOT umowa")) == {3}


def test_a_document_narrowed_away_stays_hidden_when_it_is_the_first_match(build, engine):
    build([record(1, "Umowa", access_tokens=("binder:1",)), record(2, "Faktura", access_tokens=("binder:1", "doc:2"))])
    narrowed = AccessFilter.tokens({"binder:1"}, {"doc:2"})
    assert ids(find(engine, "faktura", narrowed)) == set()
    assert find(engine, "faktura OR umowa", narrowed, facets=frozenset({"year"})).total == 1


def test_a_prefix_the_user_did_not_write_stands_quietly_for_its_first_thousand_words(tmp_path: Path) -> None:
    from whoosh import fields
    from whoosh.filedb.filestore import RamStorage

    from search.errors import QuerySyntaxError
    from search.whoosh_queries import MAX_PREFIX_WORDS, BoundedPrefix

    index = RamStorage().create_index(fields.Schema(nip=fields.ID(stored=True)))
    with index.writer() as writer:
        for n in range(MAX_PREFIX_WORDS + 5):
            writer.add_document(nip=f"526{n:07d}")
    with index.searcher() as searcher:
        with pytest.raises(QuerySyntaxError):
            searcher.search(BoundedPrefix("nip", "526"), limit=None)
        quiet = searcher.search(BoundedPrefix("nip", "526", quietly=True), limit=None)
        assert len(quiet) == MAX_PREFIX_WORDS
        assert len(searcher.search(BoundedPrefix("nip", "52600010"), limit=None)) == 5
