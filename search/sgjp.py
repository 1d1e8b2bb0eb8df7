"""Base forms simplemma's dictionary lacks, from Morfeusz 2 and the grammatical dictionary of
Polish (SGJP): first names, and nouns used only in the plural.

Contracts and letters name people in every case ("reprezentowaną przez Tomasza Kowalskiego",
"pełnomocnictwo dla Pawła", "Marii Nowak"), and the search box gets the name as the user thinks
of it ("Tomasz"). Surnames behave like ordinary words and the stemmer or simplemma's dictionary
joins their forms; first names they do not: Wiktionary's forms have none, and the stemmer cuts
"Tomasz" to "tom" but "Tomasza" to "toma", "Marek" to "marek" but "Marka" to "mark".

A noun used only in the plural may share a form with another word's base form, which is all
simplemma then knows: "odsetek" is a percentage there, never the genitive of "odsetki" (interest),
as in "naliczenie odsetek". Only common nouns count: "Marki" (a town) must not join "Marek".

Morfeusz reads the word as written: a capitalised "Marka" may be Marek's, the lower-case
"marka" (a brand) is not; a lower-case word nothing else is written like ("tomasza") is still
the name.

Morfeusz ships built for Linux on x86-64, macOS and Windows; elsewhere (`AVAILABLE` is False)
these words match as before, where their stems meet.
"""

from __future__ import annotations

import threading
from typing import Any

try:
    import morfeusz2
except ImportError:  # pragma: no cover - no wheel for this platform (Linux on ARM)
    morfeusz2 = None

#: False where Morfeusz has no build (Linux on ARM): these words then meet only where their stems
#: do. A query's words are alternatives, so an index built with them still answers as before.
AVAILABLE = morfeusz2 is not None

#: The qualifiers SGJP gives the readings of a word as a first name, and as a common noun.
_FIRST_NAME = "imię"
_COMMON_NOUN = "nazwa_pospolita"

_lock = threading.Lock()
_analyser: Any = None


def _morfeusz() -> Any:
    global _analyser
    if _analyser is None:
        # Analysis only: the generator's tables take 10 MiB more (45 MiB without them).
        _analyser = morfeusz2.Morfeusz(generate=False, expand_tags=False)
    return _analyser


def base_forms(word: str) -> frozenset[str]:
    """The base forms, lower-case, of `word` (one word, case as written) as a first name or a
    plural-only common noun: ``Tomasza`` → ``tomasz``, ``Pawłowi`` → ``paweł``, ``Marii`` →
    ``maria``, ``odsetek`` → ``odsetki``; empty for any other word."""
    if not AVAILABLE:
        return frozenset()
    # One analyser for all threads: it is not documented as thread-safe, and a lookup takes
    # microseconds (the callers cache what they get per word).
    with _lock:
        readings = _morfeusz().analyse(word)
    # A word Morfeusz splits into pieces ("Tomaszże": a name and a particle) is neither as a whole.
    if any(end != 1 for _start, end, _reading in readings):
        return frozenset()
    bases = set()
    for _start, _end, (_form, lemma, tag, qualifiers, _labels) in readings:
        # The depreciative plural ("te Marki") makes half the capitalised plurals a first name's.
        if tag.startswith("depr"):
            continue
        if _FIRST_NAME in qualifiers or (_COMMON_NOUN in qualifiers and tag.endswith(":pt")):
            # Homonymous lemmas carry a sense after a colon: "Tomasz:Sm1".
            bases.add(lemma.split(":", 1)[0].lower())
    return frozenset(bases)


def load() -> None:
    """Load the dictionary now (a server does, before taking requests) rather than on first use."""
    if AVAILABLE:
        with _lock:
            _morfeusz()
