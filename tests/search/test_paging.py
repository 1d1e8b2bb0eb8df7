"""Relevance cursors over a ranking that changed between pages: nothing is skipped."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from search.paging import Candidate, encode_cursor, page, sort_key


def ranking(scores: dict[int, float]) -> list[Candidate]:
    return [Candidate(document_id, score, 0) for document_id, score in scores.items()]


SCORES = {n: 100.0 - n for n in range(1, 31)}


def first_page() -> str:
    shown, _ = page(ranking(SCORES), "relevance", None, 10)
    assert [c.document_id for c in shown] == list(range(1, 11))
    return encode_cursor(shown[-1], "relevance")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        # Every score rose (a document was added elsewhere): the rest follows the cursor's document.
        ({n: s + 7.5 for n, s in SCORES.items()}, list(range(11, 21))),
        # The cursor's document was edited and sank: the score in the cursor still holds the place.
        ({**SCORES, 10: 1.0}, list(range(11, 21))),
    ],
)
def test_the_next_page_skips_nothing_when_scores_changed(change: dict[int, float], expected: list[int]) -> None:
    following, more = page(ranking(change), "relevance", first_page(), 10)
    assert [c.document_id for c in following] == expected and more


def test_matches_given_as_a_one_off_iterator_are_read_once_and_still_paged() -> None:
    def once() -> Iterator[Candidate]:
        yield from ranking({n: s + 7.5 for n, s in SCORES.items()})

    following, _ = page(once(), "relevance", first_page(), 5)
    assert [c.document_id for c in following] == list(range(11, 16))


def test_a_cursor_scaled_by_the_best_score_goes_on_just_after_its_hit() -> None:
    import random

    rng = random.Random(7)
    candidates = ranking({document_id: rng.uniform(0.1, 37.0) for document_id in range(1, 200)})
    best = max(c.score for c in candidates)
    ordered = sorted(candidates, key=lambda c: sort_key(c, "relevance"))
    for position in range(0, 198, 7):
        cursor = encode_cursor(ordered[position], "relevance", scale=best)
        chosen, _ = page(candidates, "relevance", cursor, 5, scale=best)
        # Scaled down and back up, a score may differ in its last bits: never a repeat, never a skip.
        assert [c.document_id for c in chosen] == [c.document_id for c in ordered[position + 1 : position + 6]]
