"""Queries the domain builds: binder subtrees (`InBinders`), and matching a clause against one text
the way the index matches it (`matches_text`), which the domain uses to resolve ``binder:``."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest

from search.engine import SearchEngine
from search.query import (
    And,
    InBinders,
    MatchAll,
    Not,
    Or,
    Phrase,
    Prefix,
    QueryNode,
    Subtree,
    Term,
    is_single_word,
    iter_leaves,
    matches_text,
    parse_query,
    replace_leaves,
)
from search.records import AccessFilter, IndexRecord, SearchRequest
from tests.search.conftest import ids, record

Build = Callable[[Iterable[IndexRecord]], SearchEngine]

# Binder tree: 1 /Umowy, 2 /Umowy/2026, 3 /Umowy/2026/Poufne, 4 /Umowy/2026/Poufne/Jawne, 5 /Inne.
ANCESTORS = {1: (1,), 2: (1, 2), 3: (1, 2, 3), 4: (1, 2, 3, 4), 5: (5,)}
PATHS = {1: "/Umowy", 2: "/Umowy/2026", 3: "/Umowy/2026/Poufne", 4: "/Umowy/2026/Poufne/Jawne", 5: "/Inne"}


@pytest.fixture
def tree(build: Build) -> SearchEngine:
    """Document n sits in binder n, all with the word "umowa" in the title."""
    return build(
        record(n, f"Umowa {n}", binder_id=n, binder_path=PATHS[n], binder_ancestor_ids=ANCESTORS[n]) for n in PATHS
    )


def found(engine: SearchEngine, query: QueryNode, **options: object) -> set[int]:
    request = SearchRequest(query=query, access=AccessFilter.everything(), limit=50, **options)  # type: ignore[arg-type]
    result = engine.search(request)
    assert result.total == len(result.hits)
    return ids(result)


@pytest.mark.parametrize(
    ("subtrees", "expected"),
    [
        ((), set()),
        ((Subtree(1),), {1, 2, 3, 4}),
        ((Subtree(2),), {2, 3, 4}),
        ((Subtree(1, (3,)),), {1, 2}),
        ((Subtree(1, (3,)), Subtree(4)), {1, 2, 4}),  # a cut, and a subtree of its own below it
        ((Subtree(1, (2,)), Subtree(5)), {1, 5}),
        ((Subtree(99),), set()),
    ],
)
def test_in_binders_finds_exactly_its_subtrees(tree: SearchEngine, subtrees: tuple[Subtree, ...], expected: set[int]):
    assert found(tree, InBinders(subtrees)) == expected


def test_in_binders_combines_like_any_clause(tree: SearchEngine) -> None:
    inside = InBinders((Subtree(1, (3,)),))
    nowhere = InBinders(())
    assert found(tree, And((Term(None, "umowa"), inside))) == {1, 2}
    assert found(tree, And((Term(None, "umowa"), Not(inside)))) == {3, 4, 5}
    assert found(tree, Not(inside)) == {3, 4, 5}
    assert found(tree, Or((inside, Term("title", "5")))) == {1, 2, 5}
    # Matching nothing: nothing in an AND, everything under a NOT, no part of an OR.
    assert found(tree, And((Term(None, "umowa"), nowhere))) == set()
    assert found(tree, Not(nowhere)) == {1, 2, 3, 4, 5}
    assert found(tree, And((Term(None, "umowa"), Not(nowhere)))) == {1, 2, 3, 4, 5}
    assert found(tree, Or((nowhere, Term("title", "5")))) == {5}
    assert found(tree, inside, binder_id=2) == {2}


def test_in_binders_adds_the_same_score_to_every_match(tree: SearchEngine) -> None:
    request = SearchRequest(query=InBinders((Subtree(1),)), access=AccessFilter.everything(), limit=50)
    assert len({hit.score for hit in tree.search(request).hits}) == 1


def test_in_binders_has_no_words_to_highlight_and_is_kept_by_replace_leaves() -> None:
    inside = InBinders((Subtree(1),))
    query = And((Term("binder", "umowy"), Not(inside), Term(None, "faktura")))
    assert [leaf for leaf, _ in iter_leaves(query)] == [Term("binder", "umowy"), Term(None, "faktura")]
    replaced = replace_leaves(query, lambda leaf: inside if leaf.field == "binder" else leaf)
    assert replaced == And((inside, Not(inside), Term(None, "faktura")))
    assert replace_leaves(MatchAll(), lambda leaf: inside) == MatchAll()


BINDER_TEXTS = [
    "/Przejęcie Kowalpol – tajne/Materiały dla działu prawnego",
    "/Umowy/2026/Dostawcy",
    "/Umowy najmu",
    "/Faktury/FV-2026-0012",
    "/Kadry/Zażółć gęślą jaźń",
]
BINDER_QUERIES = [
    "tajne",
    "TAJNE",
    "przejecie",
    '"Przejęcie"',
    '"przejecie kowalpol"',
    '"kowalpol przejecie"',
    "kowal*",
    "materialy",
    "materiałów",
    "dzial",
    '"działu prawnego"',
    '"tajne materialy"',
    "tajne/materialy",
    "umowa",
    "umowy/2026",
    "2026/dostawcy",
    "umo*",
    '"umowa najmu"',
    "fv/2026/0012",
    "0012",
    "fv-2026*",
    "zazolc",
    '"gesla jazn"',
    "nic",
]


@pytest.mark.parametrize("text", BINDER_QUERIES)
def test_matches_text_agrees_with_the_index(build: Build, text: str) -> None:
    engine = build(record(n, "x", binder_path=path) for n, path in enumerate(BINDER_TEXTS, start=1))
    query = parse_query(f"binder:{text}")
    by_engine = found(engine, query)
    leaves = [leaf for leaf, _ in iter_leaves(query)]
    assert len(leaves) == 1
    leaf = leaves[0]
    assert isinstance(leaf, Term | Phrase | Prefix)
    by_text = {n for n, path in enumerate(BINDER_TEXTS, start=1) if matches_text(leaf, path)}
    assert by_text == by_engine


def test_matches_text_examples() -> None:
    assert matches_text(Term("binder", "tajne"), "/Przejęcie Kowalpol – tajne")
    assert matches_text(Term("binder", "przejecie"), "/Przejęcie Kowalpol – tajne")
    assert not matches_text(Term("binder", "tajne"), "/Materiały dla działu prawnego")
    assert matches_text(Phrase("binder", ("działu", "prawnego")), "/Materiały dla działu prawnego")
    assert not matches_text(Phrase("binder", ("prawnego", "działu")), "/Materiały dla działu prawnego")
    assert matches_text(Prefix("binder", "mat"), "/Materiały")
    assert not matches_text(Prefix("binder", "ate"), "/Materiały")
    assert not matches_text(Term("binder", "tajne"), "")


@pytest.mark.parametrize(
    ("node", "single"),
    [
        (Term("binder", "umowy"), True),
        (Term("binder", "Zażółć"), True),
        (Prefix("binder", "umo"), True),
        (Term("binder", "umowy/2026"), False),
        (Term("binder", "FV-2026"), False),
        (Prefix("binder", "fv-20"), False),
        (Phrase("binder", ("umowa", "najmu")), False),
    ],
)
def test_is_single_word(node: Term | Phrase | Prefix, single: bool) -> None:
    assert is_single_word(node) is single


@pytest.mark.parametrize("text", [q for q in BINDER_QUERIES if '"' not in q or " " not in q])
def test_a_single_word_matches_a_path_when_it_matches_one_of_its_names(text: str) -> None:
    leaf = next(leaf for leaf, _ in iter_leaves(parse_query(f"binder:{text}")))
    assert isinstance(leaf, Term | Phrase | Prefix)
    if not is_single_word(leaf):
        return
    for path in BINDER_TEXTS:
        assert matches_text(leaf, path) == any(matches_text(leaf, name) for name in path.split("/")[1:])
