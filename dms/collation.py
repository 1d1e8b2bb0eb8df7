"""Names in the order a Polish reader looks for them: "aneksy, Czersk, Ćwiczenia, Lublin, Łódź".

Code-point order puts every capital before every small letter and every Polish letter after "z"
("Zamość, aneksy, Ćwiczenia, Łódź"). ICU's Polish collation is the thorough answer, but PyICU
builds only against the system's ICU libraries, which a fresh machine lacks: the Polish alphabet
(with the Latin letters it borrows) and a base-letter rule for foreign accents cover binder names.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

#: The Polish alphabet, with q, v and x where Latin has them.
_ALPHABET = "aąbcćdeęfghijklłmnńoópqrsśtuvwxyzźż"
_RANK = {letter: 2 * index for index, letter in enumerate(_ALPHABET)}
#: A run of ASCII digits, or any one other character.
_PIECES = re.compile(r"([0-9]+)|(.)", re.DOTALL)


@lru_cache(maxsize=4096)
def polish_key(name: str) -> tuple[tuple[int, int], ...]:
    """A sort key for `name`: numbers before letters and by their value ("2" before "10"), letters
    in Polish order in any case, a foreign accented letter just after its base letter ("é" after
    "e", before "ę"), anything else (spaces, punctuation) first, by code point."""
    key = []
    for number, char in _PIECES.findall(unicodedata.normalize("NFC", name).casefold()):
        if number:
            key.append((1, int(number)))
        elif char in _RANK:
            key.append((2, _RANK[char]))
        elif (base := unicodedata.normalize("NFD", char)[0]) in _RANK:
            key.append((2, _RANK[base] + 1))
        else:
            key.append((0, ord(char)))
    return tuple(key)
