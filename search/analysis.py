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

Numbers are also written in groups separated by spaces: a NIP as ``123 456 32 18``, an account
as ``PL61 1090 1014 0000 0712 1981 2874``, a phone as ``+48 601 234 567``, an amount as
``12 345,67``. Such a run of digit groups (two to eight groups of at most four digits, apart by
one space of any kind, the first group possibly a country code) is indexed glued too, from each
group to the end of the run (``1234563218``, ``601234567``), at the run's last position; and a
word of two letters and at least eight digits (``PL1234563218``) also as its digits. An amount
grouped in thousands by commas, as English writes it (``4,200.00``, ``1,250,000``), is indexed
with its whole part glued too (``4200``, ``1250000``), at its last group's position.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from itertools import repeat
from typing import NamedTuple

import snowballstemmer
from anyascii import anyascii

from search.lemmas import english_lemma, polish_lemmas
from search.sgjp import base_forms

#: Bump whenever the terms produced for some text change: indexes built with
#: another version must be rebuilt.
ANALYSIS_VERSION = 15

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

#: Spaces that may sit between the digit groups of one number, among them the no-break and thin
#: spaces word processors put there; a tab or a line break ends a number (table cells, lines).
GROUP_SPACES = frozenset(" \u00a0\u2007\u2009\u202f")
#: A run of more groups than this is a row of figures, not one number.
MAX_NUMBER_GROUPS = 8
#: The longest number kept glued: an IBAN has at most 34 characters.
MAX_NUMBER_DIGITS = 34
_GROUP_RE = re.compile(r"\d{1,4}")
_COUNTRY_RE = re.compile(r"[A-Z]{2}(\d{2})?")
_COUNTRY_NUMBER_RE = re.compile(r"[a-z]{2}(\d{8,32})")
#: How many digits an international phone number has after its ``+`` or ``00`` (E.164: at most 15).
INTERNATIONAL_DIGITS = range(10, 16)
#: Such a number written in one piece, as it stands in text.
INTERNATIONAL_NUMBER_PATTERN = r"\+\d{10,15}(?!\d)"
_INTERNATIONAL_NUMBER_RE = re.compile(r"\+(\d{10,15})(?!\d)")

#: Characters nobody sees that editors put inside words: the soft hyphen (a hyphenation point in
#: Word, CMSs and PDFs: "kon\u00adtra\u00adhen\u00adtów"), zero-width spaces and joiners, the word
#: joiner and a stray byte-order mark. Between letters they are part of the word, and left out of its terms.
INVISIBLE_IN_WORDS = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
_DROP_INVISIBLE = str.maketrans("", "", INVISIBLE_IN_WORDS)
#: Words whose folding and terms each process keeps (most recently used). The words of an
#: archive follow Zipf's law: this many cover nearly every word read; each cached word costs about
#: 0.6 kB (its terms and folded form), so a larger cache mostly holds rare words, in every process
#: (server, indexer, writer workers). 262,144 held some 160 MB once an archive's vocabulary filled it.
WORD_CACHE_SIZE = 65_536

# A word is a run of letters and digits; combining diacritics (text in NFD form) and the invisible
# characters above stay inside the word so character offsets remain those of the input.
_WORD = rf"(?:[^\W_]|[\u0300-\u036f])(?:[^\W_]|[\u0300-\u036f]|[{INVISIBLE_IN_WORDS}]+(?=[^\W_]|[\u0300-\u036f]))*"
_SEPARATOR = r"[/\-._\\@'\u2019]"
COMPOUND_PATTERN = rf"{_WORD}(?:{_SEPARATOR}{_WORD})*"
WORD_PATTERN = _WORD
_COMPOUND_RE = re.compile(COMPOUND_PATTERN)
# A compound with the group space before it when that follows a digit: the end of the compound
# before (compounds are as long as they go), so the two may be groups of one number.
_SPACE = f"[{''.join(sorted(GROUP_SPACES))}]"
_NUMBER_GROUP = rf"\d{{1,4}}(?:{_SEPARATOR}\d+)*(?![^\W_]|{_SEPARATOR}[^\W_])"
#: A whole number written in groups (``+48 601 234 567``, ``PL61 1090 …``), for finding it in a
#: text as one piece (highlighting); what is indexed of it is decided by `iter_tokens` alone.
NUMBER_RUN_PATTERN = rf"(?<![^\W_])(?:[A-Z]{{2}}(?:\d{{2}})?{_SPACE}|\+)?{_NUMBER_GROUP}(?:{_SPACE}{_NUMBER_GROUP})+"
_GROUPED_NUMBER_HINT_RE = re.compile(rf"\d[{''.join(sorted(GROUP_SPACES))}]\d")
_THOUSANDS_HINT_RE = re.compile(r"\d,[0-9]{3}(?![0-9])")
# The gap before a compound that may continue a number: a group space, or the comma of thousands.
_SPACED_COMPOUND_RE = re.compile(rf"((?<=\d)[{''.join(sorted(GROUP_SPACES))},])?({COMPOUND_PATTERN})")
_THOUSANDS_FIRST_RE = re.compile(r"[0-9]{1,3}")
# A later group of thousands; a decimal part (4,200.00) ends the amount.
_THOUSANDS_GROUP_RE = re.compile(r"([0-9]{3})(?:\.[0-9]+)?")
#: An amount grouped in thousands by commas, for finding it in a text as one piece (highlighting).
THOUSANDS_PATTERN = r"(?<![^\W_])[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?(?![^\W_])"
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


def visible(word: str) -> str:
    """`word` without the characters nobody sees in it (see INVISIBLE_IN_WORDS)."""
    return word if word.isascii() else word.translate(_DROP_INVISIBLE)


@lru_cache(maxsize=WORD_CACHE_SIZE)
def fold(word: str) -> str:
    """Lower-case `word` and fold it to ASCII letters and digits ("Zażółć" → "zazolc")."""
    lower = unicodedata.normalize("NFC", visible(word)).lower()
    if lower.isascii():
        return lower
    folded = "".join(ch for ch in anyascii(lower).lower() if ch.isalnum())
    # Symbols with no ASCII rendering keep their own (lower-case) form.
    return folded or lower


def _polish_stem(word: str) -> str:
    return _stemmers.polish.stemWord(word)


#: A currency's sign or code also carries the stems of its name, so that each finds the others:
#: a search for "złotych" finds "1 200 zł" and "PLN 1200", one for "euro" finds "EUR".
_CURRENCY_NAMES: dict[str, tuple[str, ...]] = {
    "zl": (PL_STEM_MARK + "zlot",),
    "pln": (PL_STEM_MARK + "zlot",),
    "eur": (PL_STEM_MARK + "euro", EN_STEM_MARK + "euro"),
    "usd": (PL_STEM_MARK + "dolar", EN_STEM_MARK + "dollar"),
}


@lru_cache(maxsize=WORD_CACHE_SIZE)
def _word_terms(word: str) -> tuple[str, ...]:
    """All index terms of a single word (no separators inside), surface form first."""
    written = unicodedata.normalize("NFC", visible(word))
    lower = written.lower()
    folded = fold(lower)
    if len(folded) > MAX_PART:
        return ()
    terms = [folded]
    if (country_number := _COUNTRY_NUMBER_RE.fullmatch(folded)) is not None:
        terms.append(country_number.group(1))  # PL1234563218 is the NIP 1234563218 too
    if MIN_STEM_WORD <= len(folded) <= MAX_STEM_WORD and folded.isalpha():
        polish: set[str] = set()
        polish_bases = polish_lemmas(lower)
        english_base = english_lemma(lower) if lower.isascii() else None
        # An English word that no Polish word is written like is its own Polish stem: the Polish
        # stemmer would join it to other English words ("taxi" to "tax", "plane" to "plan"), yet
        # its Polish forms must still find it ("emailem", "ticketu" stem to "email", "ticket").
        if not polish_bases and english_base is not None:
            polish.add(folded)
        else:
            for form in {lower, folded}:
                polish.add(fold(_polish_stem(form)))
                for ending, base in _ALTERNATIONS:
                    if form.endswith(ending) and len(form) - len(ending) >= MIN_STEM:
                        polish.add(fold(_polish_stem(form[: -len(ending)] + base)))
                        break
            polish.update(fold(_polish_stem(lemma)) for lemma in polish_bases if lemma != lower)
        # The forms of a first name, or of a plural-only noun, share their base form, which no
        # stem of theirs reliably is (Tomasz → tom, Tomasza → toma; odsetek is also a percentage).
        polish.update(fold(base) for base in base_forms(written))
        terms.extend(PL_STEM_MARK + s for s in sorted(polish) if len(s) >= MIN_STEM)
        english = {_stemmers.english.stemWord(folded)}
        if english_base is not None and english_base != lower:
            english.add(_stemmers.english.stemWord(english_base))
        terms.extend(EN_STEM_MARK + s for s in sorted(english) if len(s) >= MIN_STEM)
    terms.extend(_CURRENCY_NAMES.get(folded, ()))
    return tuple(terms)


def word_terms(word: str) -> tuple[str, ...]:
    """The index terms of one plain word (no separators inside), surface form first; cached."""
    return _word_terms(word)


@lru_cache(maxsize=65_536)
def number_group(text: str, *, first: bool) -> str | None:
    """The digits of `text` if it can be one space-separated group of a number, else None.

    A group is up to four digits, or digits joined by separators whose first part has up to four
    (``601``, ``123-456``); the first group of a number may also be a country code (``PL``, ``PL61``:
    its digits only) or carry a ``+`` (``+48``).
    """
    if first:
        if text.startswith("+"):
            text = text[1:]
        elif (country := _COUNTRY_RE.fullmatch(text)) is not None:
            return country.group(1) or ""
    if not text or not text[0].isdigit() or _COMPOUND_RE.fullmatch(text) is None:
        return None
    parts = _WORD_RE.findall(text)
    if _GROUP_RE.fullmatch(parts[0]) is None or not all(part.isascii() and part.isdigit() for part in parts):
        return None
    return "".join(parts)


def number_forms(groups: list[str]) -> list[str]:
    """The glued forms of a number written in `groups` (their digits): from each group to the end,
    as long as at least two groups are glued, each once."""
    if not 2 <= len(groups) <= MAX_NUMBER_GROUPS:
        return []
    forms: list[str] = []
    for start in range(len(groups) - 1):
        glued = "".join(groups[start:])
        if groups[start] and len(glued) <= MAX_NUMBER_DIGITS and glued not in forms:
            forms.append(glued)
    return forms


class _NumberRun:
    """The digit groups of a number being read, one compound at a time."""

    __slots__ = ("end", "groups", "last_position", "starts")

    def __init__(self) -> None:
        self.groups: list[str] = []
        self.starts: list[int] = []
        self.end = -1
        self.last_position = 0

    def take(self, compound: str, spaced: bool, start: int, end: int, last_position: int) -> list[Token]:
        """Read the next compound (`spaced`: one group space apart from the one before); the glued
        tokens of a number it ends, to come before its own tokens."""
        continues = bool(self.groups) and spaced
        digits = number_group(compound, first=False) if continues else None
        finished: list[Token] = []
        if digits is None:
            finished = self.tokens()
            self.groups, self.starts = [], []
            digits = number_group(compound, first=True)
            if digits is None:
                return finished
        self.groups.append(digits)
        self.starts.append(start)
        self.end = end
        self.last_position = last_position
        return finished

    def tokens(self) -> list[Token]:
        """The glued forms of the number read so far, at its last position, spanning from the
        group each starts at to the number's end."""
        forms = number_forms(self.groups)
        if not forms:
            return []
        starts = {"".join(self.groups[i:]): self.starts[i] for i in range(len(self.groups) - 1, -1, -1)}
        return [Token(form, self.last_position, starts[form], self.end) for form in forms]


class _ThousandsRun:
    """An amount grouped in thousands by commas (``4,200.00``) being read, one compound at a time."""

    __slots__ = ("digits", "end", "groups", "position", "start")

    def __init__(self) -> None:
        self.digits = ""
        self.groups = 0
        self.start = self.end = self.position = 0

    def take(self, compound: str, gap: str, start: int, position: int) -> Token | None:
        """Read the next compound (`gap`: the comma or group space between it and a digit right
        before it, else empty); the glued token of an amount it ends."""
        if self.digits and gap == ",":
            if (group := _THOUSANDS_GROUP_RE.fullmatch(compound)) is None:
                # 12,345,6789 or 4 200,00: not grouped in thousands after all.
                self.digits, self.groups = "", 0
                return None
            self.digits += group[1]
            self.groups += 1
            self.end, self.position = start + 3, position
            return None if group[0] == group[1] else self.token()
        finished = self.token()
        # After a group space the compound is a later group of a number (4 200,000: 4200 whole).
        if gap not in GROUP_SPACES and _THOUSANDS_FIRST_RE.fullmatch(compound) is not None:
            self.digits, self.groups = compound, 1
            self.start, self.end, self.position = start, start + len(compound), position
        return finished

    def token(self) -> Token | None:
        """The glued whole part of the amount read so far (None for a lone group); starts afresh."""
        finished = None
        if self.groups >= 2 and len(self.digits) <= MAX_NUMBER_DIGITS:
            finished = Token(self.digits, self.position, self.start, self.end)
        self.digits, self.groups = "", 0
        return finished


def written_with_plus(text: str) -> frozenset[str]:
    """The digits of the international phone numbers written in one piece after a ``+`` in `text`."""
    return frozenset(_INTERNATIONAL_NUMBER_RE.findall(text)) if "+" in text else frozenset()


def national_forms(word: str, with_plus: frozenset[str]) -> tuple[str, ...]:
    """The forms of an international phone number written in one piece (``+48601234567``,
    ``0048601234567``) that people search for: without its prefix, and without its country code
    (one to three digits; which one is not known, so all three), as written in the country.

    `with_plus`: the numbers `written_with_plus` in the text that `word` comes from.
    """
    if word in with_plus:
        digits, forms = word, ()
    elif word.startswith("00"):
        digits = word[2:]
        forms = (digits,)
    else:
        return ()
    if not (digits.isascii() and digits.isdigit() and len(digits) in INTERNATIONAL_DIGITS):
        return ()
    return (*forms, *(digits[length:] for length in (1, 2, 3)))


def _may_be_number(compound: str) -> bool:
    first = compound[0]
    return first.isdigit() or (first.isupper() and len(compound) in (2, 4) and compound[1].isupper())


def iter_tokens(text: str) -> Iterator[Token]:
    """Yield the index terms of `text` with positions and character offsets, in text order.

    Terms of one word share its position; a compound's run terms sit at the
    position of their first part.  Deterministic: the same text always gives
    the same tokens.
    """
    position = 0
    number = _NumberRun()
    thousands = _ThousandsRun()
    with_plus = written_with_plus(text)
    for compound in _COMPOUND_RE.finditer(text):
        group = compound.group()
        plain = _SEPARATOR_RE.search(group) is None
        if number.groups or _may_be_number(group):
            words = 1 if plain else len(_WORD_RE.findall(group))
            start = compound.start()
            spaced = start - number.end == 1 and text[number.end] in GROUP_SPACES
            yield from number.take(group, spaced, start, compound.end(), position + words - 1)
        if thousands.digits or group[0].isdigit():
            start = compound.start()
            gap = text[start - 1] if start >= 2 and text[start - 2].isdecimal() else ""
            if (amount := thousands.take(group, gap, start, position)) is not None:
                yield amount
        if plain:
            # The common case: a plain word.
            for term in _word_terms(group):
                yield Token(term, position, compound.start(), compound.end())
            if group[0] == "0" or group in with_plus:
                for term in national_forms(group, with_plus):
                    yield Token(term, position, compound.start(), compound.end())
            position += 1
            continue
        tokens, words = _compound_tokens(group, compound.start(), position)
        yield from tokens
        position += words
    yield from number.tokens()
    if (amount := thousands.token()) is not None:
        yield amount


def term_positions(text: str) -> dict[str, list[int]]:
    """Every index term of `text` with the positions it occurs at: `iter_tokens` grouped by term.

    Terms come in the order of their first occurrence and positions in the order `iter_tokens`
    yields them.  Indexing needs no character offsets, and skipping a token object per term
    makes this several times faster than `iter_tokens`.
    """
    found: dict[str, list[int]] = {}
    position = 0
    number = _NumberRun()
    thousands = _ThousandsRun()
    # Text without digits apart by a space or a comma has no number written in groups: the cheaper scan.
    commas = _THOUSANDS_HINT_RE.search(text) is not None
    numbers = commas or _GROUPED_NUMBER_HINT_RE.search(text) is not None
    compounds = _SPACED_COMPOUND_RE.findall(text) if numbers else zip(repeat(""), _COMPOUND_RE.findall(text))
    with_plus = written_with_plus(text)
    for gap, compound in compounds:
        plain = _SEPARATOR_RE.search(compound) is None
        if numbers and (number.groups or _may_be_number(compound)):
            words = 1 if plain else len(_WORD_RE.findall(compound))
            # Character offsets are for highlights; the gap says all that positions need.
            for token in number.take(compound, gap in GROUP_SPACES, 0, 0, position + words - 1):
                _add_position(found, token.term, token.position)
        if commas and (thousands.digits or compound[0].isdigit()):
            if (amount := thousands.take(compound, gap, 0, position)) is not None:
                _add_position(found, amount.term, amount.position)
        if plain:
            for term in _word_terms(compound):
                if (positions := found.get(term)) is None:
                    found[term] = [position]
                else:
                    positions.append(position)
            if compound[0] == "0" or compound in with_plus:
                for term in national_forms(compound, with_plus):
                    _add_position(found, term, position)
            position += 1
            continue
        tokens, words = _compound_tokens(compound, 0, position)
        for token in tokens:
            if (positions := found.get(token.term)) is None:
                found[token.term] = [token.position]
            else:
                positions.append(token.position)
        position += words
    for token in number.tokens():
        _add_position(found, token.term, token.position)
    if (amount := thousands.token()) is not None:
        _add_position(found, amount.term, amount.position)
    return found


def _add_position(found: dict[str, list[int]], term: str, position: int) -> None:
    if (positions := found.get(term)) is None:
        found[term] = [position]
    else:
        positions.append(position)


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
    if (
        count == 3
        and surfaces[0][:1].isdigit()
        and (when := _date_term(tuple(surfaces)))
        and when != "/".join(surfaces)
    ):
        tokens.append(Token(when, first, parts[0][1], parts[-1][2]))
    glued = _glued_terms(surfaces)
    tokens.extend(Token(term, first, parts[0][1], parts[-1][2]) for term in glued)
    if glued and glued[0].isdigit():
        # A number glued (12.345 → 12345) also stands where it ends, as one written in groups
        # apart by spaces does: what follows it (its decimals, "zł") is next to it either way.
        tokens.append(Token(glued[0], first + count - 1, parts[0][1], parts[-1][2]))
    return tokens, count


@lru_cache(maxsize=4096)
def _date_term(surfaces: tuple[str, ...]) -> str | None:
    """A calendar date written in digits (``3.03.2026``, ``03/03/2026``, ``2026-03-03``) as one
    term, ``2026/03/03``, however it was ordered, separated and padded; None for anything else.
    The day comes first unless the year does, as Europe writes dates (``03/04/2026``: 3 April)."""
    if len(surfaces) != 3 or not all(part.isascii() and part.isdigit() for part in surfaces):
        return None
    first, middle, last = surfaces
    if len(last) == 4 and len(first) <= 2 and len(middle) <= 2:
        year, month, day = last, middle, first
    elif len(first) == 4 and len(middle) <= 2 and len(last) <= 2:
        year, month, day = first, middle, last
    else:
        return None
    try:
        date(int(year), int(month), int(day))
    except ValueError:
        return None
    return f"{year}/{int(month):02d}/{int(day):02d}"


#: Month names (folded) as dates are written in words: Polish in the genitive ("3 marca 2026"), in
#: the nominative and abbreviated; English in full and abbreviated ("March 3, 2026", "3 Mar 2026").
MONTHS: dict[str, int] = {
    name: number
    for number, names in enumerate(
        (
            "stycznia styczen sty january jan",
            "lutego luty lut february feb",
            "marca marzec mar march",
            "kwietnia kwiecien kwi april apr",
            "maja maj may",
            "czerwca czerwiec cze june jun",
            "lipca lipiec lip july jul",
            "sierpnia sierpien sie august aug",
            "wrzesnia wrzesien wrz september sep sept",
            "pazdziernika pazdziernik paz october oct",
            "listopada listopad lis november nov",
            "grudnia grudzien gru december dec",
        ),
        start=1,
    )
    for name in names.split()
}


#: Month names as the phrases that write a date in words use them: the Polish genitive, English.
_POLISH_MONTHS = (
    "stycznia lutego marca kwietnia maja czerwca lipca sierpnia września października listopada grudnia"
).split()
_ENGLISH_MONTHS = "January February March April May June July August September October November December".split()


_ORDINAL_RE = re.compile(r"(?<=\d)(?:st|nd|rd|th)$", re.IGNORECASE)


def date_in_digits(text: str) -> str | None:
    """The date one word writes in digits (``2026-03-03``, ``3.03.2026``), as the term it is also
    indexed as (``2026/03/03``); None if it writes none."""
    compound = _COMPOUND_RE.fullmatch(text.rstrip(".,;:!?)"))
    return _date_term(tuple(_WORD_RE.findall(compound.group()))) if compound is not None else None


def _ordinal(day: int) -> str:
    """The day as English writes it in a date, ordinal: 1st, 2nd, 3rd, 4th, 11th, 21st."""
    suffix = "th" if day % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def date_phrases(term: str) -> tuple[tuple[str, ...], ...]:
    """The ways a document writes the date ``term`` (``2026/03/03``) in words, as phrases of words:
    ``3 marca 2026``; ``March 3 2026``, ``3 March 2026``, in full or short (``Mar``), with the day
    as a number or an ordinal (``March 3rd, 2026``, ``3rd March 2026``)."""
    year, month, day = term.split("/")
    number = int(month) - 1
    english = _ENGLISH_MONTHS[number]
    months = (english, english[:3]) if len(english) > 3 else (english,)
    phrases = [(str(int(day)), _POLISH_MONTHS[number], year)]
    for written_day in (str(int(day)), _ordinal(int(day))):
        for name in months:
            phrases += [(name, written_day, year), (written_day, name, year)]
    return tuple(phrases)


def date_in_words(words: tuple[str, ...]) -> str | None:
    """The date three words write, day first ("3 marca 2026") or month first ("March 3, 2026"), as
    the term a date written in digits is also indexed as (``2026/03/03``); None if they write none."""
    if len(words) != 3:
        return None
    first, middle, year = (word.rstrip(",") for word in words)
    if fold(middle) in MONTHS:
        day, month = first, MONTHS[fold(middle)]
    elif fold(first) in MONTHS:
        day, month = middle, MONTHS[fold(first)]
    else:
        return None
    day = _ORDINAL_RE.sub("", day)  # "3rd", as English may write it
    if not (day.isascii() and day.isdigit() and len(day) <= 2 and year.isascii() and year.isdigit() and len(year) == 4):
        return None
    return _date_term((day, str(month), year))


@lru_cache(maxsize=65_536)
def _glued(surfaces: tuple[str, ...]) -> str | None:
    """A compound's parts written together (``e-mail`` → ``email``, ``601-234-567`` →
    ``601234567``), as people also write it; None when that would be another word.

    Glued digits of a short number with parts not grouped by thousands are another number:
    ``2.1`` is a version, ``12.5`` a fraction, not ``21`` or ``125``.
    """
    glued = "".join(surfaces)
    if len(glued) > MAX_PART:
        return None
    if glued.isdigit() and len(glued) < 6 and not all(len(part) == 3 for part in surfaces[1:]):
        return None
    return glued


def _glued_terms(surfaces: list[str]) -> tuple[str, ...]:
    """The index terms of a compound's glued form: a glued word (``email``, ``obrien``) is a word
    like any other, with its stems, so that each spelling finds the other."""
    glued = _glued(tuple(surfaces))
    if glued is None:
        return ()
    return _word_terms(glued) if glued.isalpha() else (glued,)


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
            terms = _lookup_terms(_word_terms(pieces[0]))
            if pieces[0].startswith("00") and (international := national_forms(pieces[0], frozenset())):
                terms = (*terms, international[0])  # 0048601234567 is also +48601234567
            if terms:
                words.append(QueryWord(terms))
            continue
        surfaces = [fold(p) for p in pieces]
        when = _date_term(tuple(surfaces)) if len(surfaces) == 3 else None
        whole = tuple(
            dict.fromkeys(["/".join(surfaces), *([when] if when else []), *_lookup_terms(_glued_terms(surfaces))])
        )
        words.append(QueryWord(whole, tuple(_lookup_terms(_word_terms(p)) or (fold(p),) for p in pieces)))
    return words


def query_terms(word: str) -> list[str]:
    """The alternative index terms a single query word matches (the first word, if `word` has several)."""
    words = query_words(word)
    return list(words[0].alternatives) if words else []


def prefix_term(text: str) -> str:
    """Normalise the text before a ``*`` the way surface and compound terms are written."""
    return "/".join(fold(m.group()) for m in _WORD_RE.finditer(text))
