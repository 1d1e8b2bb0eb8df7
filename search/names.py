"""Polish first names in their base form, from Morfeusz 2 and its dictionary (SGJP).

Contracts and letters name people in every case ("reprezentowaną przez Tomasza Kowalskiego",
"pełnomocnictwo dla Pawła", "Marii Nowak"), and the search box gets the name as the user thinks
of it ("Tomasz"). Surnames behave like ordinary words and the stemmer or simplemma's dictionary
joins their forms; first names they do not: Wiktionary's forms have none, and the stemmer cuts
"Tomasz" to "tom" but "Tomasza" to "toma", "Marek" to "marek" but "Marka" to "mark". The
grammatical dictionary of Polish knows every first name's forms.

Morfeusz reads the word as written: a capitalised "Marka" may be Marek's, the lower-case
"marka" (a brand) is not; a lower-case word nothing else is written like ("tomasza") is still
the name.

Morfeusz ships built for Linux on x86-64, macOS and Windows; elsewhere (`AVAILABLE` is False)
first names match as before, where their stems meet.
"""

from __future__ import annotations

import threading
from typing import Any

try:
    import morfeusz2
except ImportError:  # pragma: no cover - no wheel for this platform (Linux on ARM)
    morfeusz2 = None

#: False where Morfeusz has no build (Linux on ARM): first names then meet only where their stems
#: do. A query's words are alternatives, so an index built with names still answers as before.
AVAILABLE = morfeusz2 is not None

#: The qualifier SGJP gives the readings of a word as a first name.
_FIRST_NAME = "imię"

_lock = threading.Lock()
_analyser: Any = None


def _morfeusz() -> Any:
    global _analyser
    if _analyser is None:
        # Analysis only: the generator's tables take 10 MiB more (45 MiB without them).
        _analyser = morfeusz2.Morfeusz(generate=False, expand_tags=False)
    return _analyser


def first_names(word: str) -> frozenset[str]:
    """The first names, lower-case, that `word` (one word, case as written) is a form of:
    ``Tomasza`` → ``tomasz``, ``Pawłowi`` → ``paweł``, ``Marii`` → ``maria``; empty for any other word."""
    if not AVAILABLE:
        return frozenset()
    # One analyser for all threads: it is not documented as thread-safe, and a lookup takes
    # microseconds (the callers cache what they get per word).
    with _lock:
        readings = _morfeusz().analyse(word)
    # A word Morfeusz splits into pieces ("Tomaszże": a name and a particle) is no name as a whole.
    if any(end != 1 for _start, end, _reading in readings):
        return frozenset()
    names = set()
    for _start, _end, (_form, lemma, _tag, qualifiers, _labels) in readings:
        if _FIRST_NAME in qualifiers:
            # Homonymous lemmas carry a sense after a colon: "Tomasz:Sm1".
            names.add(lemma.split(":", 1)[0].lower())
    return frozenset(names)


def load() -> None:
    """Load the dictionary now (a server does, before taking requests) rather than on first use."""
    if AVAILABLE:
        with _lock:
            _morfeusz()
