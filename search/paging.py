"""Engine-neutral ordering, cursors and facet counting over the matches of one search.

Order is total and stable: relevance sorts by (score desc, document id asc),
date by (date desc, document id desc).  A cursor names the last hit shown by
its sort key, and the next page is everything strictly after that key, so no
offset is ever used and paging neither skips nor repeats a document while the
index stays the same.  Relevance scores change with every change to the index,
so a relevance cursor goes on from where its document ranks now (see `page`).
"""

from __future__ import annotations

import base64
import binascii
import heapq
import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from search.errors import InvalidCursor
from search.records import SortOrder

#: Sort value of documents without a date: after every dated document.
MISSING_DATE = -(2**62)

SortKey = tuple[float, int]


@dataclass(frozen=True, slots=True)
class Candidate:
    """One visible match before paging; `ref` is the engine's own handle (e.g. a doc number)."""

    document_id: int
    score: float
    date_key: int
    ref: Any = None


def sort_key(candidate: Candidate, sort: SortOrder) -> SortKey:
    if sort == "date":
        return (-candidate.date_key, -candidate.document_id)
    return (-candidate.score, candidate.document_id)


def encode_cursor(candidate: Candidate, sort: SortOrder, listing: str = "documents", *, scale: float = 1.0) -> str:
    """An opaque, URL-safe cursor pointing just after `candidate` in `sort` order of `listing`
    (which search made it: documents, counterparties, events).

    A relevance cursor holds the score divided by `scale`, the best visible match's: a raw score
    weighs words by their rarity in the whole index, unreadable documents included, and a client
    can read what a cursor holds (base64 JSON), so it must hold no more than the hits show."""
    value: str | int = (
        (candidate.score / scale if scale > 0 else 0.0).hex() if sort == "relevance" else candidate.date_key
    )
    raw = json.dumps([sort[0], value, candidate.document_id, listing[0]], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: SortOrder, listing: str = "documents", *, scale: float = 1.0) -> SortKey:
    """The sort key a cursor points after (its relative score times `scale`, the best match's now);
    `InvalidCursor` if it is malformed, from another order or from another search."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        kind, value, document_id, made_by = json.loads(raw)
        if not isinstance(document_id, int) or isinstance(document_id, bool):
            raise ValueError("document id")
        if made_by != listing[0]:
            raise InvalidCursor("The cursor belongs to another search.")
        if kind != sort[0]:
            raise InvalidCursor("The cursor belongs to a different sort order.")
        if sort == "relevance":
            return (-float.fromhex(value) * scale, document_id)
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError("date")
        return (-value, -document_id)
    except InvalidCursor:
        raise
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, OverflowError) as error:
        raise InvalidCursor("The cursor is not valid.") from error


def page(
    candidates: Iterable[Candidate],
    sort: SortOrder,
    after: str | None,
    limit: int,
    listing: str = "documents",
    *,
    scale: float = 1.0,
) -> tuple[list[Candidate], bool]:
    """The `limit` candidates following cursor `after` in `sort` order, and whether more follow;
    `scale` as the cursors were made with (see `encode_cursor`)."""
    items: Iterable[Candidate] = candidates
    if after is not None:
        bound = decode_cursor(after, sort, listing, scale=scale)
        if sort == "relevance":
            # Scores are relative to the whole index: any document added or changed since the
            # page before moves them all, and the score in the cursor then points elsewhere in
            # the ranking (whole pages were skipped). The document the cursor names is found
            # where it ranks now, and the page goes on from there, or from the score in the
            # cursor if that comes first (the document itself changed and sank): a page may then
            # repeat a hit, but none is skipped. Two passes over the matches, none kept.
            if iter(candidates) is candidates:  # a one-off iterator: kept, to be read twice
                candidates = list(candidates)
            anchor = next((c for c in candidates if c.document_id == bound[1]), None)
            if anchor is not None:
                here = sort_key(anchor, sort)
                # A score scaled down and back up may differ from the anchor's own in its last bits:
                # then the anchor itself is where the page goes on from, never repeated.
                same = math.isclose(here[0], bound[0], rel_tol=1e-9, abs_tol=1e-12)
                bound = here if same else min(bound, here)
        items = (c for c in candidates if sort_key(c, sort) > bound)
    chosen = heapq.nsmallest(limit + 1, items, key=lambda c: sort_key(c, sort))
    return chosen[:limit], len(chosen) > limit


def count_facet(values: Iterable[str | None], limit: int) -> list[tuple[str, int]]:
    """(value, count) pairs, most frequent first (ties by value); documents without a value are not counted."""
    return rank_facet(Counter(v for v in values if v), limit)


def rank_facet(counts: Mapping[str, int], limit: int) -> list[tuple[str, int]]:
    """The `limit` most frequent values of counted ones, ties by value."""
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]
