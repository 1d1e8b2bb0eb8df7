"""Base forms of Polish and English words, from simplemma's dictionaries (from Wiktionary: about 3.7
million Polish forms, 180 000 English ones).

The snowball stemmer only cuts endings, so it cannot undo what Polish inflection does inside a
word: mobile vowels (``rachunku`` → ``rachunek``, ``spółek`` → ``spółka``), stem alternations
(``mieście`` → ``miasto``, ``klienci`` → ``klient``, ``miesięcy`` → ``miesiąc``). A dictionary
can. Nor does it know a form typed without Polish letters (``kontrahentow``), so a second
dictionary maps every form with Polish letters, written without them, to its base forms. In
English the stemmer misses the irregular forms (``paid`` → ``pay``, ``children`` → ``child``,
``criteria`` → ``criterion``); the English dictionary has them.

The dictionary ships compressed, and reading it takes seconds. So both are compiled once per
machine into tries in the user's cache directory (``$XDG_CACHE_HOME/kartoteka/lemmas``, by
default ``~/.cache/kartoteka/lemmas``), which every later process loads in a tenth of a second.
Compiling takes about 25 s and briefly 700 MiB (the English one: half a second). One process does
it while the others wait on a lock file. Where no cache directory can be written, each process
reads the compressed dictionaries instead (about 3 s and 60 MiB), without the second Polish one.

Each process loads the dictionaries once, on first use. A server does it before taking requests
(`load`).
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import marisa_trie
import platformdirs
import simplemma
from simplemma.strategies.dictionaries import StreamDictionaryFactory, TrieDictionaryFactory

log = logging.getLogger("kartoteka.search")

LANGUAGE = "pl"
ENGLISH = "en"
#: The Polish letters and what they are when typed without diacritics (as `analysis.fold` has them).
_WITHOUT_POLISH_LETTERS = str.maketrans("ąćęłńóśźż", "acelnoszz")


@dataclass(frozen=True)
class Dictionaries:
    #: form as written → base form
    forms: Mapping[str, str]
    #: form with Polish letters, written without them → its base forms (as bytes, one per form)
    unaccented: marisa_trie.BytesTrie
    #: English form → base form
    english: Mapping[str, str]


_lock = threading.Lock()
_polish: Dictionaries | None = None


def cache_dir() -> Path:
    """Where the compiled dictionaries are kept; the simplemma version is part of the path."""
    return Path(platformdirs.user_cache_dir("kartoteka")) / "lemmas" / f"simplemma-{simplemma.__version__}"


def _unaccented(forms: Mapping[str, str]) -> marisa_trie.BytesTrie:
    def entries() -> Iterator[tuple[str, bytes]]:
        for form, lemma in forms.items():
            lower = form.lower()
            typed = lower.translate(_WITHOUT_POLISH_LETTERS)
            if typed != lower and typed.isascii():
                yield typed, lemma.lower().encode()

    return marisa_trie.BytesTrie(entries())


def _compiled(directory: Path) -> Dictionaries:
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "dictionaries.lock", "a") as lock:
        # Held while the tries are read or written: nobody reads a half-written file, and
        # processes starting together compile them once.
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        unaccented_path = directory / f"{LANGUAGE}-unaccented.dic"
        if not unaccented_path.exists():
            log.info("compiling the Polish dictionary for search, once per machine", extra={"path": str(directory)})
        forms = TrieDictionaryFactory(cache_max_size=1, disk_cache_dir=str(directory)).get_dictionary(LANGUAGE)
        english = TrieDictionaryFactory(cache_max_size=1, disk_cache_dir=str(directory)).get_dictionary(ENGLISH)
        if unaccented_path.exists():
            return Dictionaries(forms, marisa_trie.BytesTrie().load(str(unaccented_path)), english)
        unaccented = _unaccented(forms)
        partial = unaccented_path.with_suffix(".partial")
        unaccented.save(str(partial))
        os.replace(partial, unaccented_path)
        return Dictionaries(forms, unaccented, english)


def _read() -> Dictionaries:
    directory = cache_dir()
    try:
        return _compiled(directory)
    except OSError as exc:
        log.warning(
            "the compiled dictionaries cannot be kept; reading the compressed ones",
            extra={"path": str(directory), "error": str(exc)},
        )
        stream = StreamDictionaryFactory(cache_max_size=2)
        return Dictionaries(stream.get_dictionary(LANGUAGE), marisa_trie.BytesTrie(), stream.get_dictionary(ENGLISH))


def load() -> Dictionaries:
    """The dictionaries, read on the first call; thread-safe."""
    global _polish
    if _polish is None:
        with _lock:
            if _polish is None:
                _polish = _read()
    return _polish


def polish_lemmas(word: str) -> frozenset[str]:
    """The base forms of a lower-case Polish word; empty when the dictionary does not know it.

    A word without Polish letters may be one typed without them, so it also gets the base forms
    of every word it could stand for (``kontrahentow`` → ``kontrahent``; ``sad`` → ``sad``, ``sąd``).
    """
    dictionaries = load()
    lemmas: set[str] = set()
    lemma = dictionaries.forms.get(word)
    if lemma is not None:
        lemmas.add(lemma.lower())
    if word.isascii():
        lemmas.update(value.decode() for value in dictionaries.unaccented.get(word, ()))
    return frozenset(lemmas)


def english_lemma(word: str) -> str | None:
    """The base form of a lower-case English word (``paid`` → ``pay``), or None when the dictionary
    does not know it."""
    lemma = load().english.get(word)
    return lemma.lower() if lemma is not None else None
