"""Tax identifiers, validated with python-stdnum (check digits included)."""

from __future__ import annotations

import re

from stdnum import iban as std_iban
from stdnum.eu import vat as std_vat
from stdnum.exceptions import ValidationError
from stdnum.pl import nip as std_nip
from stdnum.pl import regon as std_regon

from dms.errors import ValidationFailed


def normalise_nip(value: str, *, field: str = "nip") -> str:
    """ "123-456-32-18" → "1234563218"; an invalid NIP (check digit included) is a VALIDATION error."""
    try:
        nip = std_nip.validate(value)
    except ValidationError as exc:
        raise ValidationFailed(f"not a valid NIP: {exc.message}", field=field) from exc
    if nip == "0" * 10:  # its check digit works out, but no tax office issues it
        raise ValidationFailed("not a valid NIP: 0000000000 is a placeholder", field=field)
    return nip


def normalise_regon(value: str, *, field: str = "regon") -> str:
    try:
        return std_regon.validate(value)
    except ValidationError as exc:
        raise ValidationFailed(f"not a valid REGON: {exc.message}", field=field) from exc


def normalise_vat(value: str, *, field: str = "vatNumber") -> str:
    try:
        number = std_vat.validate(value)
    except ValidationError as exc:
        raise ValidationFailed(f"not a valid EU VAT number: {exc.message}", field=field) from exc
    # Greece writes its VAT numbers with EL (VIES too), not its ISO code: one number, one spelling.
    return "EL" + number[2:] if number.startswith("GR") else number


def normalise_iban(value: str, *, field: str = "iban") -> str:
    """An IBAN, compact; a Polish account number (NRB: 26 digits, as invoices print it) is the
    Polish IBAN without its "PL"."""
    compact = std_iban.compact(value)
    if compact.isdigit() and len(compact) == _NRB_DIGITS:
        compact = "PL" + compact
    elif compact.isdigit():
        raise ValidationFailed(
            f"not a valid IBAN: it starts with a country code (PL…), or is a Polish account number of "
            f"{_NRB_DIGITS} digits",
            field=field,
        )
    try:
        return std_iban.validate(compact)
    except ValidationError as exc:
        raise ValidationFailed(f"not a valid IBAN: {exc.message}", field=field) from exc


_NRB_DIGITS = 26


def polish_vat_matches(nip: str | None, vat_number: str | None) -> bool:
    """A Polish company's EU VAT number is its NIP with "PL" in front."""
    return nip is None or vat_number is None or not vat_number.startswith("PL") or vat_number[2:] == nip


def vat_prefix(text: str) -> str | None:
    """ "pl 123-456" → "PL123456": the start of a VAT number as stored, when the text could be one."""
    try:
        compact = std_vat.compact(text)
    except ValidationError:  # no EU country code in front
        return None
    if not _VAT_START.match(compact):
        return None
    return "EL" + compact[2:] if compact.startswith("GR") else compact


_VAT_START = re.compile(r"^[A-Z]{2}[0-9A-Z+*]{2,}$")


def format_nip(value: str) -> str:
    return std_nip.format(value)


def format_iban(value: str) -> str:
    return std_iban.format(value)
