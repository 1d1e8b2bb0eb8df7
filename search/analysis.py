"""Text analysis for Polish and English documents, shared by every search engine.

The engine indexes exactly the terms produced here and looks up exactly the
terms `query_words` asks for, so matching rules live in one place whatever
engine stands behind the search layer.

Each word is indexed as several terms at the same position:

* its *surface* form: lower-case, diacritics folded (``Zażółć`` → ``zazolc``);
* Polish stems, marked with ``~``: the snowball stem of the word as written,
  folded afterwards, and the stem of the folded word (so text typed without
  diacritics stems the same way), plus the stems of the base form guessed by
  undoing the consonant alternations of the Polish locative and dative
  (``fakturze`` → ``faktura``, ``kontrahencie`` → ``kontrahenta``), which the
  stemmer does not undo on its own, and the stems of the base forms the Polish
  dictionary gives for the word (`search.lemmas`: ``rachunku`` → ``rachunek``,
  ``spółek`` → ``spółka``, ``mieście`` → ``miasto``, ``kontrahentow`` →
  ``kontrahent``);
* its English stem, marked with ``^`` (``invoices`` → ``^invoic``), and the stem of its English
  base form where the dictionary has one the stemmer cannot reach (``paid`` → ``^pay``,
  ``children`` → ``^child``).

A query word matches a document word when they share any term.  The stem marks
keep stems apart from surface forms, so a prefix query only ever expands over
words as written.

Document numbers and other compounds joined by ``/ - . _ \\ @`` (``FV/2026/0012``,
``123-456-32-18``) are indexed part by part (each part at its own position),
and additionally as every contiguous run of at least two parts with the
separators normalised to ``/`` (``fv/2026/0012``, ``2026/0012``, ``fv/2026``)
and as all parts glued together (``1234563218``).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import snowballstemmer
from anyascii import anyascii

from search.lemmas import english_lemma, polish_lemmas

#: Bump whenever the terms produced for some text change: indexes built with
#: another version must be rebuilt.
ANALYSIS_VERSION = 4

PL_STEM_MARK = "~"
EN_STEM_MARK = "^"

#: Words shorter than this (after folding) are not stemmed: stems of short
#: words collide too easily ("kot" and "kota" are fine, "to" and "ta" are not).
#: Three letters are enough: "tax" must find "taxes", "rok" must find "roku".
MIN_STEM_WORD = 3
#: Stems shorter than this are dropped for the same reason.
MIN_STEM = 3
#: Parts longer than this are indexed as surface only (hashes, base64 noise).
MAX_STEM_WORD = 40
#: Parts longer than this are not indexed at all.
MAX_PART = 100
#: Compounds with more parts than this get only their whole form and parts,
#: not every sub-run (a long path would otherwise produce n² terms).
MAX_RUN_PARTS = 8

# A word is a run of letters and digits; combining diacritics (text in NFD
# form) stay inside the word so character offsets remain those of the input.
_WORD = r"(?:[^\W_]|[\u0300-\u036f])+"
_SEPARATOR = r"[/\-._\\@]"
COMPOUND_PATTERN = rf"{_WORD}(?:{_SEPARATOR}{_WORD})*"
WORD_PATTERN = _WORD
_COMPOUND_RE = re.compile(COMPOUND_PATTERN)
_WORD_RE = re.compile(_WORD)
_SEPARATOR_RE = re.compile(_SEPARATOR)
_HAS_WORD_RE = re.compile(r"[^\W_]")

# Locative/dative endings with their nominative counterparts: the snowball
# stemmer turns "fakturze" into "fakturz" but "faktura" into "faktur".
_ALTERNATIONS: tuple[tuple[str, str], ...] = (
    ("dzie", "da"),
    ("cie", "ta"),
    ("rze", "ra"),
    ("dze", "ga"),
    ("ce", "ka"),
)


class Token(NamedTuple):
    """One indexed term at a word position, with the word's character span in the input."""

    term: str
    position: int
    start: int
    end: int


@dataclass(frozen=True)
class QueryWord:
    """What one word of a query matches.

    `alternatives`: index terms any of which matches the word as a whole.
    `parts`: for a compound (``FV/2026/0012``), the alternatives of each part,
    which sit at consecutive positions in the index; empty for a simple word.
    """

    alternatives: tuple[str, ...]
    parts: tuple[tuple[str, ...], ...] = ()

    @property
    def positions(self) -> tuple[tuple[str, ...], ...]:
        """Alternatives per position, as this word occupies them inside a phrase."""
        return self.parts or (self.alternatives,)


class _Stemmers(threading.local):
    # Snowball stemmer objects keep their working string on the instance, so
    # two threads must never share one.
    def __init__(self) -> None:
        self.polish = snowballstemmer.stemmer("polish")
        self.english = snowballstemmer.stemmer("english")


_stemmers = _Stemmers()


def has_word(text: str) -> bool:
    """True when `text` contains at least one letter or digit, i.e. something indexable."""
    return _HAS_WORD_RE.search(text) is not None


@lru_cache(maxsize=262_144)
def fold(word: str) -> str:
    """Lower-case `word` and fold it to ASCII letters and digits ("Zażółć" → "zazolc")."""
    lower = unicodedata.normalize("NFC", word).lower()
    if lower.isascii():
        return lower
    folded = "".join(ch for ch in anyascii(lower).lower() if ch.isalnum())
    # Symbols with no ASCII rendering keep their own (lower-case) form.
    return folded or lower


def _polish_stem(word: str) -> str:
    return _stemmers.polish.stemWord(word)


@lru_cache(maxsize=262_144)
def _word_terms(word: str) -> tuple[str, ...]:
    """All index terms of a single word (no separators inside), surface form first."""
    lower = unicodedata.normalize("NFC", word).lower()
    folded = fold(lower)
    if len(folded) > MAX_PART:
        return ()
    terms = [folded]
    if MIN_STEM_WORD <= len(folded) <= MAX_STEM_WORD and folded.isalpha():
        polish: set[str] = set()
        for form in {lower, folded}:
            polish.add(fold(_polish_stem(form)))
            for ending, base in _ALTERNATIONS:
                if form.endswith(ending) and len(form) - len(ending) >= MIN_STEM:
                    polish.add(fold(_polish_stem(form[: -len(ending)] + base)))
                    break
        polish.update(fold(_polish_stem(lemma)) for lemma in polish_lemmas(lower) if lemma != lower)
        terms.extend(PL_STEM_MARK + s for s in sorted(polish) if len(s) >= MIN_STEM)
        english = {_stemmers.english.stemWord(folded)}
        if lower.isascii() and (lemma := english_lemma(lower)) is not None and lemma != lower:
            english.add(_stemmers.english.stemWord(lemma))
        terms.extend(EN_STEM_MARK + s for s in sorted(english) if len(s) >= MIN_STEM)
    return tuple(terms)


def word_terms(word: str) -> tuple[str, ...]:
    """The index terms of one plain word (no separators inside), surface form first; cached."""
    return _word_terms(word)


def iter_tokens(text: str) -> Iterator[Token]:
    """Yield the index terms of `text` with positions and character offsets, in text order.

    Terms of one word share its position; a compound's run terms sit at the
    position of their first part.  Deterministic: the same text always gives
    the same tokens.
    """
    position = 0
    for compound in _COMPOUND_RE.finditer(text):
        group = compound.group()
        if _SEPARATOR_RE.search(group) is None:
            # The common case: a plain word.
            for term in _word_terms(group):
                yield Token(term, position, compound.start(), compound.end())
            position += 1
            continue
        tokens, words = _compound_tokens(group, compound.start(), position)
        yield from tokens
        position += words


def term_positions(text: str) -> dict[str, list[int]]:
    """Every index term of `text` with the positions it occurs at: `iter_tokens` grouped by term.

    Terms come in the order of their first occurrence and positions in the order `iter_tokens`
    yields them.  Indexing needs no character offsets, and skipping a token object per term
    makes this several times faster than `iter_tokens`.
    """
    found: dict[str, list[int]] = {}
    position = 0
    for compound in _COMPOUND_RE.findall(text):
        if _SEPARATOR_RE.search(compound) is None:
            for term in _word_terms(compound):
                if (positions := found.get(term)) is None:
                    found[term] = [position]
                else:
                    positions.append(position)
            position += 1
            continue
        tokens, words = _compound_tokens(compound, 0, position)
        for token in tokens:
            if (positions := found.get(token.term)) is None:
                found[token.term] = [token.position]
            else:
                positions.append(token.position)
        position += words
    return found


def _compound_tokens(compound: str, base: int, first: int) -> tuple[list[Token], int]:
    """The tokens of a compound of several words starting at word position `first`, and its word count.

    Each part's own terms at its position, then every run of parts (or, for a long compound, only
    the whole) at the position of its first part, then all parts glued together.
    """
    tokens: list[Token] = []
    parts: list[tuple[str, int, int]] = []
    for offset, word in enumerate(_WORD_RE.finditer(compound)):
        start, end = base + word.start(), base + word.end()
        parts.append((fold(word.group()), start, end))
        tokens.extend(Token(term, first + offset, start, end) for term in _word_terms(word.group()))
    surfaces = [p[0] for p in parts]
    count = len(parts)
    if count <= MAX_RUN_PARTS:
        for i in range(count - 1):
            for j in range(i + 2, count + 1):
                tokens.append(Token("/".join(surfaces[i:j]), first + i, parts[i][1], parts[j - 1][2]))
    else:
        tokens.append(Token("/".join(surfaces), first, parts[0][1], parts[-1][2]))
    glued = "".join(surfaces)
    if len(glued) <= MAX_PART:
        tokens.append(Token(glued, first, parts[0][1], parts[-1][2]))
    return tokens, count


def analyze(text: str) -> list[Token]:
    """Return every index term of `text` (see `iter_tokens`)."""
    return list(iter_tokens(text))


def _lookup_terms(terms: tuple[str, ...]) -> tuple[str, ...]:
    """Which of a query word's terms need looking up: a stemmed word's stems stand for its surface.

    The English stem is taken from the folded word, so every indexed word that folds like the query
    word carries that same stem: the surface form's postings would find nothing more, yet cost as
    much to read as the stem's.  (Ranking loses only the small edge an exact form would add.)
    """
    if any(term.startswith(EN_STEM_MARK) for term in terms[1:]):
        return terms[1:]
    return terms


def query_words(text: str) -> list[QueryWord]:
    """Split query text into words and give, for each, the index terms it matches.

    A simple word matches any of its stem terms, or its surface form when it has no stems.  A compound
    matches its normalised whole form or its glued form; its `parts` let the
    engine also find it as consecutive parts (e.g. ``umowy-zlecenia`` in a
    document that says ``umowa-zlecenie``).
    """
    words: list[QueryWord] = []
    for compound in _COMPOUND_RE.finditer(text):
        pieces = [m.group() for m in _WORD_RE.finditer(compound.group())]
        if len(pieces) == 1:
            terms = _word_terms(pieces[0])
            if terms:
                words.append(QueryWord(_lookup_terms(terms)))
            continue
        surfaces = [fold(p) for p in pieces]
        whole = tuple(dict.fromkeys(["/".join(surfaces), "".join(surfaces)]))
        words.append(QueryWord(whole, tuple(_lookup_terms(_word_terms(p)) or (fold(p),) for p in pieces)))
    return words


def query_terms(word: str) -> list[str]:
    """The alternative index terms a single query word matches (the first word, if `word` has several)."""
    words = query_words(word)
    return list(words[0].alternatives) if words else []


def prefix_term(text: str) -> str:
    """Normalise the text before a ``*`` the way surface and compound terms are written."""
    return "/".join(fold(m.group()) for m in _WORD_RE.finditer(text))
