"""Whoosh queries of our own, where Whoosh's are slow (phrases) or wrong (exclusion).

Phrases are matched by comparing word positions as integers. A phrase is a sequence of
steps, each a set of alternative terms (the forms and stems of one word); it matches
where step *i* has a term at position *p + i* for some *p*. Whoosh's `Sequence` does the
same through `SpanNear` matchers, which build, merge and sort a `Span` object per
position of every alternative in every candidate document: in our searches, where each
step is an OR of stems, that took most of a phrase query's time.

Here the candidates are the documents having every step (Whoosh's own intersection and
union matchers, so skipping and deletions work as for any query), and at each one the
positions of the alternatives found there are read straight from their posting matchers.
Scores are the intersection's, as with `Sequence`.

Whoosh's `AndNotMatcher` checks the excluded side against the first match only when both
start on the same document; when the excluded side starts earlier, the first match is let
through even if it is excluded ("invoice NOT faktura" found the first document of a segment
having both). `AndNot` here starts by skipping the excluded side forward.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import islice
from typing import Any

from whoosh import matching
from whoosh import query as wq
from whoosh.matching import binary, wrappers
from whoosh.util import make_binary_tree

from search.errors import QuerySyntaxError


class AdjacentPhrase(wq.Sequence):
    """`Sequence(steps, slop=1, ordered=True)`, matched by `PhraseMatcher`."""

    def __init__(self, subqueries: list[wq.Query], boost: float = 1.0) -> None:
        super().__init__(subqueries, slop=1, ordered=True, boost=boost)

    def normalize(self) -> wq.Query:
        return self.__class__([q.normalize() for q in self.subqueries], boost=self.boost)

    def _matcher(self, subs: list[wq.Query], searcher: Any, context: Any) -> Any:
        context = context.set(needs_current=True) if context is not None else searcher.context(needs_current=True)
        steps = [q.matcher(searcher, context) for q in subs]
        if not all(step.is_active() for step in steps):
            return matching.NullMatcher()
        matcher: Any = PhraseMatcher(steps)
        return wrappers.WrappingMatcher(matcher, self.boost) if self.boost != 1.0 else matcher


class PhraseMatcher(wrappers.WrappingMatcher):
    """The documents of an intersection of steps whose terms stand at consecutive positions."""

    def __init__(self, steps: Sequence[Any]) -> None:
        self.steps = list(steps)
        self.leaves = [list(step.term_matchers()) for step in self.steps]
        # The same tree as Whoosh's Sequence builds, so scores add up in the same order.
        super().__init__(make_binary_tree(binary.IntersectionMatcher, self.steps))
        self._settle()

    def copy(self) -> PhraseMatcher:
        return self.__class__([step.copy() for step in self.steps])

    def replace(self, minquality: float = 0) -> Any:
        # The leaves are read directly, so the tree is kept as built (as Whoosh's span matchers do).
        return self if self.is_active() else matching.NullMatcher()

    def supports_block_quality(self) -> bool:
        return False

    def _positions(self, leaves: list[Any], docnum: int) -> set[int]:
        found: set[int] = set()
        for leaf in leaves:
            if leaf.is_active() and leaf.id() == docnum:
                found.update(leaf.value_as("positions"))
        return found

    def _adjacent_here(self) -> bool:
        docnum = self.child.id()
        starts = self._positions(self.leaves[0], docnum)
        for offset, leaves in enumerate(self.leaves[1:], start=1):
            if not starts:
                return False
            starts &= {position - offset for position in self._positions(leaves, docnum)}
        return bool(starts)

    def _settle(self) -> None:
        child = self.child
        while child.is_active() and not self._adjacent_here():
            child.next()

    def next(self) -> None:
        self.child.next()
        self._settle()

    def skip_to(self, id: int) -> None:
        self.child.skip_to(id)
        self._settle()

    def all_ids(self) -> Any:
        while self.is_active():
            yield self.id()
            self.next()

    def spans(self) -> list[Any]:
        raise NotImplementedError("phrases are matched by position; nothing here asks for spans")


class AndNot(wq.AndNot):
    """`a` without the documents of `b`, scored by `a` (Whoosh's `AndNot`, first match checked)."""

    def matcher(self, searcher: Any, context: Any = None) -> Any:
        scored = self.a.matcher(searcher, context)
        excluded = self.b.matcher(searcher, searcher.boolean_context())
        return AndNotMatcher(scored, excluded)


class AndNotMatcher(binary.AndNotMatcher):
    def _find_first(self) -> None:
        if self.a.is_active() and self.b.is_active():
            self._find_next()

    # Whoosh's replace() rebuilds with self.__class__, so replacements keep this fix.


#: Index words one prefix may stand for, in one index segment: past it the prefix is refused
#: (each word is a list of documents to read; "ab*" over an index of a million distinct words
#: took seconds, and a few of them in one query most of a minute).
MAX_PREFIX_WORDS = 1000


class BoundedPrefix(wq.Prefix):
    """A prefix that refuses to stand for more than `MAX_PREFIX_WORDS` words; or, `quietly` (a
    prefix the user did not write, such as a number's digits matched against tax ids), stands
    for the first of them only."""

    def __init__(self, fieldname: str, text: str, *, quietly: bool = False, **options: Any) -> None:
        super().__init__(fieldname, text, **options)
        self.quietly = quietly

    def _btexts(self, ixreader: Any) -> list[bytes]:
        words = list(islice(super()._btexts(ixreader), MAX_PREFIX_WORDS + 1))
        if len(words) > MAX_PREFIX_WORDS:
            if self.quietly:
                return words[:MAX_PREFIX_WORDS]
            raise QuerySyntaxError(
                f"More than {MAX_PREFIX_WORDS} words start with {self.text!r}; type more of the word before the *."
            )
        return words
