"""Version numbers: 1.0, 1.1, … 2.0 — a check-in is minor unless it is major."""

from __future__ import annotations

import re

_NUMBER = re.compile(r"^(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})$")


def next_number(current: tuple[int, int] | None, *, major: bool) -> tuple[int, int]:
    if current is None:
        return (1, 0)
    if major:
        return (current[0] + 1, 0)
    return (current[0], current[1] + 1)


def parse_number(text: str) -> tuple[int, int] | None:
    """ "2.13" → (2, 13); anything else → None."""
    match = _NUMBER.match(text.strip())
    return (int(match.group(1)), int(match.group(2))) if match else None


def format_number(number: tuple[int, int]) -> str:
    return f"{number[0]}.{number[1]}"
