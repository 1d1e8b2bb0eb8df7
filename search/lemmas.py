"""Base forms of Polish words, from simplemma's dictionary (about 3.7 million forms, from Wiktionary).

The snowball stemmer only cuts endings, so it cannot undo what Polish inflection does inside a
word: mobile vowels (``rachunku`` → ``rachunek``, ``spółek`` → ``spółka``), stem alternations
(``mieście`` → ``miasto``, ``klienci`` → ``klient``, ``miesięcy`` → ``miesiąc``). A dictionary
can.

The dictionary ships compressed, and reading it takes seconds. So it is compiled once per machine
into a trie in the user's cache directory (``$XDG_CACHE_HOME/kartoteka/lemmas``, by default
``~/.cache/kartoteka/lemmas``), which every later process loads in a tenth of a second. Compiling
takes about ten seconds and briefly 700 MiB. One process does it while the others wait on a lock
file. Where no cache directory can be written, each process reads the compressed dictionary
instead (about 3 s and 60 MiB).

Each process loads the dictionary once, on first use. A server does it before taking requests
(`load`).
"""

from __future__ import annotations

import fcntl
import logging
import threading
from collections.abc import Mapping
from pathlib import Path

import platformdirs
import simplemma
from simplemma.strategies.dictionaries import StreamDictionaryFactory, TrieDictionaryFactory

log = logging.getLogger("kartoteka.search")

LANGUAGE = "pl"

_lock = threading.Lock()
_polish: Mapping[str, str] | None = None


def cache_dir() -> Path:
    """Where the compiled dictionary is kept; the simplemma version is part of the path."""
    return Path(platformdirs.user_cache_dir("kartoteka")) / "lemmas" / f"simplemma-{simplemma.__version__}"


def _compiled(directory: Path) -> Mapping[str, str]:
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / f"{LANGUAGE}.lock", "a") as lock:
        # Held while the trie is read or written: nobody reads a half-written file, and processes
        # starting together compile it once.
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        if not (directory / f"{LANGUAGE}.dic").exists():
            log.info(
                "compiling the Polish dictionary for search, once for this machine", extra={"path": str(directory)}
            )
        return TrieDictionaryFactory(cache_max_size=1, disk_cache_dir=str(directory)).get_dictionary(LANGUAGE)


def _read() -> Mapping[str, str]:
    directory = cache_dir()
    try:
        return _compiled(directory)
    except OSError as exc:
        log.warning(
            "the compiled Polish dictionary cannot be kept; reading the compressed one",
            extra={"path": str(directory), "error": str(exc)},
        )
        return StreamDictionaryFactory(cache_max_size=1).get_dictionary(LANGUAGE)


def load() -> Mapping[str, str]:
    """The Polish dictionary (form → base form), read on the first call; thread-safe."""
    global _polish
    if _polish is None:
        with _lock:
            if _polish is None:
                _polish = _read()
    return _polish


def polish_lemma(word: str) -> str | None:
    """The base form of a lower-case Polish word, or None when the dictionary does not know it."""
    lemma = load().get(word)
    return lemma.lower() if lemma is not None else None
