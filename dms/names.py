"""Cleaning names people type or send: binder names, titles, uploaded file names."""

from __future__ import annotations

import unicodedata
from pathlib import PurePosixPath, PureWindowsPath

from dms.errors import ValidationFailed

MAX_FILENAME = 255


def _printable(text: str) -> str:
    # Control characters (Cc) and format characters (Cf: RTL overrides, zero-width joiners) never
    # belong in a name shown to people: they hide or reorder what the name says.
    return "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf"))


def without_controls(text: str, *, keep: str = "") -> str:
    """Text without control characters (but those in `keep`, e.g. line breaks in a note).

    Nobody types a NUL or an escape, and PostgreSQL cannot even store or compare a NUL: text from
    people, stored or searched for, goes through here (or through the stricter name rules below).
    """
    return "".join(ch for ch in text if ch in keep or unicodedata.category(ch) != "Cc")


def _visible(text: str) -> str:
    """Printable words joined by single spaces, normalised (NFC) once the invisible characters are
    gone: one left between a letter and its accent would otherwise keep them from composing."""
    # Split first: a tab or a line break (both control characters) separates words, as a space does.
    return unicodedata.normalize("NFC", " ".join(_printable(" ".join(text.split())).split()))


def clean_name(value: str | None, *, field: str, max_length: int = 255) -> str:
    """A human-given name: normalised (NFC), without control characters, trimmed and non-empty.

    None is what a client sends to clear a field explicitly (`name: null`); a name cannot be cleared.
    """
    name = _visible(value or "")
    if not name:
        raise ValidationFailed(f"{field} must not be empty", field=field)
    if len(name) > max_length:
        raise ValidationFailed(f"{field} is longer than {max_length} characters", field=field)
    return name


def same_name(first: str, second: str) -> bool:
    """Whether two names are one to a reader: the same letters in any case ("Żółć", "żÓŁĆ") and
    either Unicode form. Compared here, not in SQL: SQLite's lower() folds ASCII letters only."""
    return unicodedata.normalize("NFC", first).casefold() == unicodedata.normalize("NFC", second).casefold()


def binder_name(value: str) -> str:
    name = clean_name(value, field="name")
    if "/" in name:
        raise ValidationFailed("a binder name cannot contain '/'", field="name")
    if name in (".", ".."):
        raise ValidationFailed("a binder name cannot be '.' or '..'", field="name")
    return name


def safe_filename(value: str | None) -> str:
    """The client's file name kept as metadata only: no path parts, no control characters.

    Never raises: an unusable name becomes "file". Long names keep their extension.
    """
    # Invisible characters go first: left in until after the split, one could hide a drive ("A\u200b:").
    raw = _printable(value or "")
    # Both separators: a Windows client sends C:\\Users\\…\\umowa.pdf.
    base = PureWindowsPath(PurePosixPath(raw.replace("\\", "/")).name).name
    name = _visible(base).strip(". ")
    # Stripping can uncover a drive (" A:" → "A:"), which names no file.
    while PureWindowsPath(name).drive:
        name = _visible(PureWindowsPath(name).name).strip(". ")
    if len(name) > MAX_FILENAME:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 16:
            name = stem[: MAX_FILENAME - len(ext) - 1].rstrip(". ") + "." + ext
        else:
            # The cut may fall just after a space or a dot: strip again, as for any name.
            name = name[:MAX_FILENAME].rstrip(". ")
    return name or "file"
