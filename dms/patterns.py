"""Admin-supplied regular expressions (custom field patterns), matched with Google RE2.

Why RE2 and not Python's `re`: `re` backtracks, so a pattern such as ``(a+)+$`` against a value of
a few dozen characters takes seconds to minutes, and it runs on the server's event loop, so one
card write would stall every request. RE2 matches in time linear in the value, whatever the
pattern. The price is that RE2 refuses what it cannot do in linear time: back-references
(``\\1``) and look-arounds (``(?=…)``, ``(?<!…)``); such a pattern is refused when it is defined.

Differences from `re` that an administrator may notice (patterns work on UTF-8 text, so Polish
letters in classes such as ``[A-ZĄĆĘŁŃÓŚŹŻ]`` and literals work as before):

- ``\\w``, ``\\d``, ``\\s`` and ``\\b`` are ASCII-only in RE2 (in `re` they are Unicode-aware), so
  ``\\w+`` no longer matches "Łódź"; write ``[\\p{L}\\p{N}_]+`` or ``\\p{L}+`` for letters of any
  alphabet, or list the Polish letters in a class;
- ``\\Z`` is not supported (use ``\\z`` or nothing: patterns always match the whole value);
- ``{,n}`` is a literal in RE2, not "0 to n times" (write ``{0,n}``).

A pattern stored before RE2 was used may no longer compile; values of such a field are refused
(never checked with `re`) until an administrator fixes the pattern.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import re2

# Without this RE2 (absl) writes every parse error of an admin's pattern to stderr.
_OPTIONS = re2.Options()
_OPTIONS.log_errors = False


class PatternError(ValueError):
    """A pattern RE2 cannot compile; the message says why, in RE2's words."""


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> Any:
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else "invalid pattern"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", errors="replace")
        raise PatternError(str(reason)) from exc
    except UnicodeEncodeError as exc:  # a lone surrogate: not text RE2 (or anyone) can read
        raise PatternError("the pattern is not valid Unicode text") from exc


def check_pattern(pattern: str) -> None:
    """Raise PatternError when RE2 cannot compile `pattern`."""
    _compiled(pattern)


def full_match(pattern: str, text: str) -> bool:
    """Whether the whole of `text` matches `pattern` (as `re.fullmatch`), in time linear in `text`.

    Raises PatternError when RE2 cannot compile `pattern`. Text that is not valid Unicode (a lone
    surrogate) never matches.
    """
    compiled = _compiled(pattern)
    try:
        return compiled.fullmatch(text) is not None
    except UnicodeEncodeError:
        return False
