"""HTML snippets with the matched words marked, computed from stored text with our own analysis.

Safe to embed: every character outside the ``<mark>`` tags is HTML-escaped.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from search.analysis import (
    COMPOUND_PATTERN,
    EN_STEM_MARK,
    INTERNATIONAL_NUMBER_PATTERN,
    NUMBER_RUN_PATTERN,
    PL_STEM_MARK,
    THOUSANDS_PATTERN,
    WORD_PATTERN,
    date_in_words,
    fold,
    iter_tokens,
    national_forms,
    prefix_term,
    query_words,
    word_terms,
)
from search.query import Phrase, Prefix, QueryNode, Term, iter_leaves

_SPACE_RE = re.compile(r"\s+")
# A number written in groups is one piece, so that a match of it glued marks all of it.
_PIECE_RE = re.compile(f"{NUMBER_RUN_PATTERN}|{INTERNATIONAL_NUMBER_PATTERN}|{THOUSANDS_PATTERN}|{COMPOUND_PATTERN}")
_WORD_ONLY_RE = re.compile(WORD_PATTERN)
ELLIPSIS = "…"


@dataclass(frozen=True)
class Highlighter:
    """The terms and prefixes of a query that mark words in one field's text."""

    terms: frozenset[str]
    prefixes: tuple[str, ...]
    # The parts of compound query words, which also match as consecutive parts of a compound
    # written otherwise: Bielsku-Białej marks Bielsko-Biała, as the search found it.
    part_runs: tuple[tuple[frozenset[str], ...], ...] = ()
    # Dates in words the query looks for ("3 marca 2026", "March 3, 2026"), marked only where the
    # whole date stands: their words alone ("3", "2026") are in most texts, on their own.
    dates: tuple[re.Pattern[str], ...] = ()
    # Phrases of several positions (alternatives per position, as the index matched them): marked
    # where they stand whole; where a text has none, their words are marked alone as a fallback.
    phrases: tuple[tuple[frozenset[str], ...], ...] = ()
    # Piece → spans that match inside it (empty: no match); the hits of one search share words.
    _seen: dict[str, tuple[tuple[int, int], ...]] = field(default_factory=dict, compare=False, repr=False)
    _loose: dict[tuple[frozenset[str], ...], Highlighter] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def for_query(cls, query: QueryNode, fields: Iterable[str | None]) -> Highlighter:
        """Collect the positive (not negated) words of `query` that search any of `fields`."""
        wanted = set(fields)
        terms: set[str] = set()
        prefixes: list[str] = []
        part_runs: dict[tuple[frozenset[str], ...], None] = {}
        dates: dict[re.Pattern[str], None] = {}
        phrases: dict[tuple[frozenset[str], ...], None] = {}
        for leaf, negated in iter_leaves(query):
            if negated or getattr(leaf, "field", None) not in wanted:
                continue
            if isinstance(leaf, Term):
                for word in query_words(leaf.text):
                    terms.update(word.alternatives)
                    if len(word.parts) > 1:
                        part_runs[tuple(frozenset(alternatives) for alternatives in word.parts)] = None
            elif isinstance(leaf, Phrase) and (date := _date_pattern(leaf.words)) is not None:
                dates[date] = None
            elif isinstance(leaf, Phrase):
                positions = [frozenset(p) for text in leaf.words for word in query_words(text) for p in word.positions]
                if len(positions) > 1:
                    phrases[tuple(positions)] = None
                else:
                    terms.update(*positions)
            elif isinstance(leaf, Prefix) and (prefix := prefix_term(leaf.text)):
                prefixes.append(prefix)
        return cls(frozenset(terms), tuple(prefixes), tuple(part_runs), tuple(dates), tuple(phrases))

    def __bool__(self) -> bool:
        return bool(self.terms or self.prefixes or self.part_runs or self.dates or self.phrases)

    def _matches(self, term: str) -> bool:
        if term in self.terms:
            return True
        return bool(self.prefixes) and term[:1] not in (PL_STEM_MARK, EN_STEM_MARK) and term.startswith(self.prefixes)

    def _matching_pieces(self, text: str) -> dict[str, tuple[tuple[int, int], ...]]:
        """Each distinct word or compound of `text` that matches, with the spans inside it that do.

        Words repeat: finding the distinct ones is done by the regex engine and each is analysed
        once (plain words from the per-word cache), instead of analysing the text token by token.
        """
        pieces: dict[str, tuple[tuple[int, int], ...]] = {}
        seen = self._seen
        for piece in set(_PIECE_RE.findall(text)):
            inside = seen.get(piece)
            if inside is None:
                inside = seen[piece] = self._inside(piece)
            if inside:
                pieces[piece] = inside
        return pieces

    def _inside(self, piece: str) -> tuple[tuple[int, int], ...]:
        if _WORD_ONLY_RE.fullmatch(piece):
            terms = (*word_terms(piece), *national_forms(piece, frozenset()))
            return ((0, len(piece)),) if any(self._matches(term) for term in terms) else ()
        spans = [(t.start, t.end) for t in iter_tokens(piece) if self._matches(t.term)]
        if self.part_runs:
            spans.extend(self._part_runs_inside(piece))
        return tuple(spans)

    def _words_of(self, phrase: tuple[frozenset[str], ...]) -> Highlighter:
        """A highlighter of the phrase's words alone (kept: the hits of one search share it)."""
        loose = self._loose.get(phrase)
        if loose is None:
            loose = self._loose[phrase] = Highlighter(frozenset().union(*phrase), ())
        return loose

    def _part_runs_inside(self, piece: str) -> Iterator[tuple[int, int]]:
        """Spans of consecutive parts of compound `piece` that match a compound query word part by part."""
        parts = [(m.start(), m.end(), frozenset(word_terms(m.group()))) for m in _WORD_ONLY_RE.finditer(piece)]
        for run in self.part_runs:
            for first in range(len(parts) - len(run) + 1):
                if all(parts[first + k][2] & alternatives for k, alternatives in enumerate(run)):
                    yield parts[first][0], parts[first + len(run) - 1][1]

    def spans(self, text: str, *, max_spans: int = 64) -> list[tuple[int, int]]:
        """Character spans of matched words, sorted, overlaps merged; stops after `max_spans`."""
        found: list[tuple[int, int]] = []
        if not self:
            return found
        for date in self.dates:
            found.extend(match.span() for match in date.finditer(text))
        for phrase in self.phrases:
            runs = list(_phrase_runs(text, phrase, max_spans))
            found.extend(runs if runs else self._words_of(phrase).spans(text, max_spans=max_spans))
        pieces = self._matching_pieces(text) if self.terms or self.prefixes or self.part_runs else None
        if not pieces:
            return _merge(found)
        for match in _PIECE_RE.finditer(text):
            inside = pieces.get(match.group())
            if inside is not None:
                base = match.start()
                found.extend((base + start, base + end) for start, end in inside)
                if len(found) >= max_spans:
                    break
        return _merge(found)

    def mark_all(self, text: str) -> str | None:
        """The whole `text` (e.g. a title) with matches marked, or None if nothing matched."""
        spans = self.spans(text)
        return _render(text, spans, 0, len(text)) if spans else None

    def fragments(self, text: str, *, max_fragments: int = 3, width: int = 160) -> list[str]:
        """Up to `max_fragments` snippets of about `width` characters around matches, in text order."""
        spans = self.spans(text, max_spans=max_fragments * 16)
        result: list[str] = []
        i = 0
        while i < len(spans) and len(result) < max_fragments:
            start, end = _window(text, spans[i][0], width)
            inside: list[tuple[int, int]] = []
            while i < len(spans) and spans[i][1] <= end:
                inside.append(spans[i])
                i += 1
            if not inside:
                # A match longer than the window (a compound of thousands of parts): its beginning.
                end = min(spans[i][1], spans[i][0] + width)
                inside.append((spans[i][0], end))
                i += 1
            prefix = ELLIPSIS if start > 0 else ""
            suffix = ELLIPSIS if end < len(text) else ""
            result.append(prefix + _render(text, inside, start, end).strip() + suffix)
        return result


#: How far past a phrase's first word its other words are looked for, per position.
_PHRASE_REACH = 96


def _phrase_runs(text: str, phrase: tuple[frozenset[str], ...], limit: int) -> Iterator[tuple[int, int]]:
    """Spans where `phrase` stands whole in `text`, found as the index finds it: from each word that
    matches its first position, the text that follows is analysed and its positions compared."""
    # The regex engine finds the distinct words and then their places; Python looks at each distinct
    # word once (a long text repeats its words) and at the places where a phrase may start.
    starts = [word for word in set(_WORD_ONLY_RE.findall(text)) if not phrase[0].isdisjoint(word_terms(word))]
    if not starts:
        return
    count = 0
    for word in re.finditer(rf"(?<!\w)(?:{'|'.join(map(re.escape, starts))})(?!\w)", text):
        # Most places of a common first word are followed by something else: ruled out cheaply.
        after = _WORD_ONLY_RE.search(text, word.end(), word.end() + _PHRASE_REACH)
        if after is None or phrase[1].isdisjoint(word_terms(after.group())):
            continue
        at = word.start()
        matched: dict[int, tuple[int, int]] = {}
        for token in iter_tokens(text[at : at + _PHRASE_REACH * len(phrase)]):
            if token.position < len(phrase) and token.position not in matched and token.term in phrase[token.position]:
                matched[token.position] = (token.start, token.end)
        if len(matched) == len(phrase):
            yield at + matched[0][0], at + matched[len(phrase) - 1][1]
            count += 1
            if count >= limit:
                return


#: Polish letters, and the letters people type for them: a date's month matches either way.
_WITH_POLISH_LETTERS = {"a": "aą", "c": "cć", "e": "eę", "l": "lł", "n": "nń", "o": "oó", "s": "sś", "z": "zźż"}
#: Between the words of a date: spaces, a comma ("March 3, 2026"), an abbreviation's dot ("Mar. 3").
_DATE_GAP = r"[\s,.]+"


def _date_pattern(words: tuple[str, ...]) -> re.Pattern[str] | None:
    """A pattern for the date three words write (day or month first), with or without Polish
    letters, a day's leading zero, commas and dots; None when they write no date."""
    if date_in_words(words) is None:
        return None
    parts = []
    for word in (word.rstrip(",") for word in words):
        if word.isdigit():
            parts.append("0?" + str(int(word)) if len(word) <= 2 else word)
        else:
            parts.append(
                "".join(
                    f"[{_WITH_POLISH_LETTERS[c]}]" if c in _WITH_POLISH_LETTERS else re.escape(c) for c in fold(word)
                )
            )
    return re.compile(r"(?<![\w.])" + _DATE_GAP.join(parts) + r"(?!\w)", re.IGNORECASE)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _window(text: str, match_start: int, width: int) -> tuple[int, int]:
    """A window of about `width` characters with the match a third of the way in, cut at spaces."""
    start = max(0, match_start - width // 3)
    end = min(len(text), start + width)
    if start > 0:
        space = text.find(" ", start, match_start)
        start = space + 1 if space != -1 else start
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > match_start else end
    return start, end


def _render(text: str, spans: list[tuple[int, int]], start: int, end: int) -> str:
    out: list[str] = []
    cursor = start
    for span_start, span_end in spans:
        out.append(_escape(text[cursor:span_start]))
        out.append("<mark>" + _escape(text[span_start:span_end]) + "</mark>")
        cursor = span_end
    out.append(_escape(text[cursor:end]))
    return "".join(out)


def _escape(text: str) -> str:
    # Extracted text is full of line breaks and runs of spaces; a snippet reads as one line.
    return html.escape(_SPACE_RE.sub(" ", text), quote=True)
