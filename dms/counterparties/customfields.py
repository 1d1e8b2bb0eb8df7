"""Custom fields: definitions kept on a type (counterparty type, event type), values kept as JSON.

A definition is a dict: ``{"key", "label", "kind", "required", "pattern", "dictionaryId"}`` where
kind is one of text, number (an integer), decimal, date, boolean, choice, multichoice; choices are
the codes of a dictionary's entries. Values are stored by key in canonical JSON form: text as a
string, number as an int, decimal as a string ("12.50", never a float), date as "YYYY-MM-DD",
boolean as a bool, choice as an entry code, multichoice as a list of entry codes.

What changing a type does to stored values (nothing is ever rewritten or lost):

- a **removed** field's value stays in the JSON, hidden: it is not shown, not validated, and comes
  back if a field with the same key is added again;
- a field whose **kind changed** shows a stored value only if it still reads as the new kind;
  otherwise it reads as empty until someone writes a new value (the old one is kept until then);
- a field made **required**, or a changed pattern, is enforced the next time someone writes that
  object's custom values, not retroactively, so renaming an old card never fails on it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from dms import patterns
from dms.errors import ValidationFailed

# Values go back to clients as JSON numbers; a JavaScript client reads larger ones wrong.
MAX_WHOLE = 2**53 - 1
KINDS = ("text", "number", "decimal", "date", "boolean", "choice", "multichoice")
CHOICE_KINDS = ("choice", "multichoice")
MAX_FIELDS = 100
MAX_TEXT = 4000
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DECIMAL_RE = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass(frozen=True)
class FieldDefinition:
    key: str
    label: str
    kind: str
    required: bool = False
    pattern: str | None = None
    dictionary_id: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "kind": self.kind,
            "required": self.required,
            "pattern": self.pattern,
            "dictionaryId": self.dictionary_id,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> FieldDefinition:
        return cls(
            key=raw["key"],
            label=raw["label"],
            kind=raw["kind"],
            required=bool(raw.get("required")),
            pattern=raw.get("pattern"),
            dictionary_id=raw.get("dictionaryId"),
        )


def definitions_of(stored: Sequence[Mapping[str, Any]] | None) -> list[FieldDefinition]:
    return [FieldDefinition.from_json(raw) for raw in stored or []]


def check_definitions(fields: Sequence[FieldDefinition], known_dictionaries: set[int]) -> list[FieldDefinition]:
    """The definitions an admin gave, checked: unique keys, known kinds, compilable patterns."""
    if len(fields) > MAX_FIELDS:
        raise ValidationFailed(f"a type may have at most {MAX_FIELDS} fields", field="fields")
    seen: set[str] = set()
    checked = []
    for index, field in enumerate(fields):
        where = ["fields", str(index)]
        key = field.key.strip()
        if not _KEY.match(key):
            raise ValidationFailed(
                "a field key is lower-case letters, digits and _, starting with a letter", field=[*where, "key"]
            )
        if key in seen:
            raise ValidationFailed(f"the key {key!r} is used twice", field=[*where, "key"])
        seen.add(key)
        label = " ".join(field.label.split())
        if not label or len(label) > 200:
            raise ValidationFailed("a field needs a label of at most 200 characters", field=[*where, "label"])
        if field.kind not in KINDS:
            raise ValidationFailed(f"a field's kind is one of {', '.join(KINDS)}", field=[*where, "kind"])
        pattern = field.pattern or None
        if pattern is not None:
            if field.kind != "text":
                raise ValidationFailed("only text fields have a pattern", field=[*where, "pattern"])
            if len(pattern) > 300:
                raise ValidationFailed("the pattern is too long", field=[*where, "pattern"])
            try:
                patterns.check_pattern(pattern)
            except patterns.PatternError as exc:
                message = f"not a valid regular expression (back-references and look-arounds are not supported): {exc}"
                raise ValidationFailed(message, field=[*where, "pattern"]) from exc
        dictionary_id = field.dictionary_id
        if field.kind in CHOICE_KINDS:
            if dictionary_id is None or dictionary_id not in known_dictionaries:
                raise ValidationFailed("a choice field needs an existing dictionary", field=[*where, "dictionaryId"])
        else:
            dictionary_id = None
        checked.append(FieldDefinition(key, label, field.kind, field.required, pattern, dictionary_id))
    return checked


def _coerce(field: FieldDefinition, value: Any) -> Any:
    """The canonical stored form of `value` for the field's kind; ValueError when it is not one."""
    kind = field.kind
    if kind == "text":
        if not isinstance(value, str):
            raise ValueError("expected text")
        # Line breaks and tabs are kept (a text field may hold a few lines); other control and
        # invisible format characters are not text anyone typed, and alone they are no value.
        text = "".join(ch for ch in value if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf")).strip()
        if len(text) > MAX_TEXT:
            raise ValueError(f"longer than {MAX_TEXT} characters")
        return text
    if kind == "number":
        whole: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            whole = value
        elif isinstance(value, float) and value.is_integer():
            whole = int(value)
        elif isinstance(value, str) and re.fullmatch(r"-?\d{1,18}", value.strip()):
            whole = int(value.strip())
        if whole is None:
            raise ValueError("expected a whole number")
        if abs(whole) > MAX_WHOLE:
            raise ValueError(f"expected a whole number between -{MAX_WHOLE} and {MAX_WHOLE}")
        return whole
    if kind == "decimal":
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ValueError("expected a decimal number")
        # A float from JSON goes through its shortest repr, so 12.3 stays 12.3. Written as people
        # write numbers: Decimal() alone would also take "1_000", "1e2" and other scripts' digits.
        text = str(value).strip().replace(",", ".")
        if not isinstance(value, float) and _DECIMAL_RE.fullmatch(text) is None:
            raise ValueError("expected a decimal number such as 12.50 or -3,75")
        try:
            number = Decimal(text)
        except InvalidOperation as exc:
            raise ValueError("expected a decimal number") from exc
        if not number.is_finite() or abs(number) >= Decimal(10) ** 18:
            raise ValueError("expected a finite decimal number")
        return format(number, "f")
    if kind == "date":
        if not isinstance(value, str):
            raise ValueError("expected a date as YYYY-MM-DD")
        text = value.strip()
        try:
            # fromisoformat also takes 20260102; people and clients write 2026-01-02.
            day = date.fromisoformat(text) if _DATE_RE.fullmatch(text) else None
        except ValueError:
            day = None
        if day is None:
            raise ValueError("expected a date as YYYY-MM-DD")
        if not 1900 <= day.year <= 2999:
            raise ValueError("expected a date between 1900 and 2999")
        return day.isoformat()
    if kind == "boolean":
        if not isinstance(value, bool):
            raise ValueError("expected true or false")
        return value
    if kind == "choice":
        if not isinstance(value, str) or not value:
            raise ValueError("expected the code of one of the field's choices")
        return value
    if kind == "multichoice":
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ValueError("expected a list of choice codes")
        return list(dict.fromkeys(value))
    raise ValueError(f"unknown kind {kind}")


def _matches(field: FieldDefinition, text: str, *, where: list[str]) -> bool:
    """Whether `text` matches the field's pattern; a stored pattern RE2 refuses (see dms.patterns)
    cannot vouch for any value, so the value is refused until an administrator fixes the pattern."""
    try:
        return patterns.full_match(field.pattern or "", text)
    except patterns.PatternError as exc:
        message = f"{field.label}: the field's pattern can no longer be checked; an administrator must fix it"
        raise ValidationFailed(message, field=where) from exc


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def apply_values(
    fields: Sequence[FieldDefinition],
    stored: Mapping[str, Any] | None,
    given: Mapping[str, Any],
    choices: Mapping[int, set[str]],
    *,
    field_name: str = "customFields",
) -> dict[str, Any]:
    """`stored` updated with `given` (null clears a value), validated against the current fields.

    Every current field is checked (required ones must have a value); values of fields the type no
    longer has are kept as they are. `choices` maps a dictionary id to its active entry codes.
    """
    if not isinstance(given, Mapping):
        raise ValidationFailed("custom fields are an object of values by field key", field=field_name)
    by_key = {field.key: field for field in fields}
    result = dict(stored or {})
    for key, value in given.items():
        field = by_key.get(key)
        if field is None:
            raise ValidationFailed(f"there is no field {key!r} in this type", field=[field_name, key])
        if _empty(value):
            result.pop(key, None)
            continue
        try:
            canonical = _coerce(field, value)
        except ValueError as exc:
            raise ValidationFailed(f"{field.label}: {exc}", field=[field_name, key]) from exc
        if field.pattern and not _matches(field, canonical, where=[field_name, key]):
            raise ValidationFailed(f"{field.label}: does not match the required format", field=[field_name, key])
        if field.kind in CHOICE_KINDS:
            allowed = choices.get(field.dictionary_id or 0, set())
            picked = canonical if isinstance(canonical, list) else [canonical]
            unknown = [code for code in picked if code not in allowed]
            if unknown:
                message = f"{field.label}: not one of the choices: {', '.join(unknown)}"
                raise ValidationFailed(message, field=[field_name, key])
        result[key] = canonical
    for field, value in visible_values(fields, result):
        if field.required and _empty(value):
            raise ValidationFailed(f"{field.label} is required", field=[field_name, field.key])
    return result


def visible_values(
    fields: Sequence[FieldDefinition], stored: Mapping[str, Any] | None
) -> list[tuple[FieldDefinition, Any]]:
    """Each current field with its value as the field's kind reads it now (None when empty or hidden)."""
    stored = stored or {}
    shown = []
    for field in fields:
        value = stored.get(field.key)
        if value is not None:
            try:
                value = _coerce(field, value)
            except ValueError:
                value = None
        shown.append((field, value))
    return shown


def dictionaries_used(fields: Sequence[FieldDefinition]) -> set[int]:
    return {field.dictionary_id for field in fields if field.kind in CHOICE_KINDS and field.dictionary_id is not None}
