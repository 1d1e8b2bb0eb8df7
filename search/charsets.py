"""Decoding text of unknown encoding, with a bias for the encodings Polish files really use."""

from __future__ import annotations

import codecs

import charset_normalizer

_POLISH_LETTERS = frozenset("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ")
# What Polish text turns into when read with the wrong one of CP1250 and
# ISO-8859-2: C1 control characters, and the symbols or Czech/Slovak letters
# sitting on the bytes where the other encoding keeps ą, ś, ź, Ą, Ś, Ź.
_IMPLAUSIBLE = frozenset("±¶¦¬ˇ¤šŠťŤžŽľĽ") | frozenset(chr(c) for c in range(0x80, 0xA0))
_POLISH_CANDIDATES = ("cp1250", "iso8859_2")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
#: Detection looks at this much of the input; enough for any real file.
SAMPLE_BYTES = 256 * 1024


def known_encoding(name: str | None) -> str | None:
    """The Python codec name for a declared charset, or None if Python does not know it."""
    if not name:
        return None
    try:
        return codecs.lookup(name.strip().strip("\"'")).name
    except (LookupError, ValueError):
        return None


def polish_score(text: str) -> int:
    """How Polish-plausible a decoding is: Polish letters count for, implausible characters against."""
    good = sum(ch in _POLISH_LETTERS for ch in text)
    bad = sum(ch in _IMPLAUSIBLE for ch in text)
    return good - 3 * bad


def detect_encoding(data: bytes, declared: str | None = None) -> str:
    """Pick the encoding of `data`: a BOM, then a declared charset that decodes cleanly, then UTF-8,
    then whichever of CP1250 / ISO-8859-2 reads as Polish, then charset-normalizer's guess."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding
    sample = data[:SAMPLE_BYTES]
    declared_codec = known_encoding(declared)
    if declared_codec is not None and _decodes(sample, declared_codec):
        return declared_codec
    if _decodes(sample, "utf-8"):
        return "utf-8"
    scored = []
    for encoding in _POLISH_CANDIDATES:
        if _decodes(sample, encoding):
            scored.append((polish_score(sample.decode(encoding)), encoding))
    if scored:
        # Ties go to CP1250, the encoding of Windows, where most such files come from.
        best_score, best = max(scored, key=lambda item: (item[0], item[1] == "cp1250"))
        if best_score > 0:
            return best
    guess = charset_normalizer.from_bytes(sample).best()
    if guess is not None:
        return guess.encoding
    return declared_codec or "cp1250"


def decode_text(data: bytes, declared: str | None = None) -> str:
    """Decode bytes of plain text, never failing (undecodable bytes become U+FFFD)."""
    encoding = detect_encoding(data, declared)
    return data.decode(encoding, errors="replace")


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        # A multi-byte character cut at the end of a sample is not an error.
        codecs.getincrementaldecoder(encoding)(errors="strict").decode(data, final=False)
    except (UnicodeDecodeError, LookupError):
        return False
    return True
