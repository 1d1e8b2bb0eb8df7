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


def clean_name(value: str, *, field: str, max_length: int = 255) -> str:
    """A human-given name: normalised (NFC), without control characters, trimmed and non-empty."""
    name = " ".join(_printable(unicodedata.normalize("NFC", value)).split())
    if not name:
        raise ValidationFailed(f"{field} must not be empty", field=field)
    if len(name) > max_length:
        raise ValidationFailed(f"{field} is longer than {max_length} characters", field=field)
    return name


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
    raw = unicodedata.normalize("NFC", value or "")
    raw = raw.replace("\x00", "")
    # Both separators: a Windows client sends C:\\Users\\…\\umowa.pdf.
    base = PureWindowsPath(PurePosixPath(raw.replace("\\", "/")).name).name
    name = " ".join(_printable(base).split()).strip(". ")
    if not name:
        return "file"
    if len(name) > MAX_FILENAME:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 16:
            name = stem[: MAX_FILENAME - len(ext) - 1] + "." + ext
        else:
            name = name[:MAX_FILENAME]
    return name
