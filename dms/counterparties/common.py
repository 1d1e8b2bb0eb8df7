"""Small things the CRM services share: the "leave it alone" marker, text folding, admin checks,
validity periods."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from enum import Enum
from typing import TypeVar

from anyascii import anyascii
from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from dms.actor import Actor
from dms.counterparties.models import Counterparty
from dms.errors import Conflict, PermissionDenied, ValidationFailed
from dms.names import clean_name, without_controls


class Keep(Enum):
    """A patch's "not given": the value stays as it is (None means "clear it")."""

    KEEP = "keep"


KEEP = Keep.KEEP

T = TypeVar("T")


def required(value: T | None, *, field: str) -> T:
    """A value that cannot be cleared: None (what a client's explicit null becomes) is refused on `field`."""
    if value is None:
        raise ValidationFailed(f"{field} cannot be cleared; leave it out to keep it as it is", field=field)
    return value


def fold(text: str | None) -> str:
    """Lower-cased ASCII with single spaces: "ŁÓDŹ  Sp. z o.o." → "lodz sp. z o.o."."""
    if not text:
        return ""
    return " ".join(anyascii(unicodedata.normalize("NFC", without_controls(text))).lower().split())


# Each Polish letter sorts right after its base letter; "~" comes after every ASCII letter and digit.
_POLISH_ORDER = {"ą": "a~", "ć": "c~", "ę": "e~", "ł": "l~", "ń": "n~", "ó": "o~", "ś": "s~", "ź": "z~", "ż": "z~~"}


def sort_key(text: str | None) -> str:
    """A key ordering names as a Polish reader does, whatever their case and other accents:
    "abc" < "Akacja" < "Ąkacja" < "Lis" < "Łoś" < "Zebra" < "Źdźbło" < "Żuraw"."""
    lowered = unicodedata.normalize("NFC", without_controls(text or "")).lower()
    return " ".join("".join(_POLISH_ORDER.get(c) or anyascii(c).lower() for c in lowered).split())


def name_keys(card: Counterparty) -> None:
    """Keep the card's search and sort keys in step with its names."""
    card.name_search = f"{fold(card.name)} {fold(card.short_name)}".strip()
    card.sort_name = sort_key(card.name)


def slug(text: str, *, field: str = "code") -> str:
    """A code made from a name: "Źródło pozyskania" → "zrodlo_pozyskania"."""
    code = re.sub(r"[^a-z0-9]+", "_", fold(text)).strip("_")[:64]
    if not code:
        raise ValidationFailed("give a code of letters and digits", field=field)
    if not code[0].isalpha():
        code = ("c_" + code)[:64]
    return code


def clean_code(value: str | None, name: str, *, field: str = "code") -> str:
    """The code an admin gave (checked; "DOST" is taken as "dost", as document type codes are),
    or one made from the name."""
    if value is None or not value.strip():
        return slug(name, field=field)
    code = value.strip().lower()
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,63}", code):
        raise ValidationFailed("a code is letters, digits and _, starting with a letter", field=field)
    return code


def optional_text(value: str | None, *, field: str, max_length: int) -> str | None:
    """A trimmed optional one-line text; empty becomes None."""
    if value is None or not value.strip():
        return None
    return clean_name(value, field=field, max_length=max_length)


def long_text(value: str | None, *, field: str, max_length: int = 10_000) -> str | None:
    """Free text (notes, responsibilities): kept as typed, only trimmed; empty becomes None."""
    if value is None or not value.strip():
        return None
    text = unicodedata.normalize("NFC", without_controls(value, keep="\t\n\r")).strip()
    if not text:
        return None
    if len(text) > max_length:
        raise ValidationFailed(f"{field} is longer than {max_length} characters", field=field)
    return text


def require_admin(actor: Actor, what: str) -> None:
    if not actor.is_admin:
        raise PermissionDenied(f"only administrators configure {what}")


@asynccontextmanager
async def unique_or_conflict(session: AsyncSession, message: str, *, field: str) -> AsyncIterator[None]:
    """Flush inside a savepoint; a unique-constraint violation becomes CONFLICT on `field`.

    The services check first; this catches the race the check cannot see (two writers on PostgreSQL).
    """
    try:
        async with session.begin_nested():
            yield
            await session.flush()
    except IntegrityError as exc:
        raise Conflict(message, field=field) from exc


async def flush_unique(session: AsyncSession, message: str, *, field: str) -> None:
    """Flush pending changes; a unique-constraint violation becomes CONFLICT on `field`."""
    async with unique_or_conflict(session, message, field=field):
        pass


async def card_for_change(session: AsyncSession, counterparty_id: int) -> Counterparty | None:
    """The card, read fresh and locked until commit, for a transaction that changes it or hangs
    something on it (a contact person, an event, a case, a document…).

    A merge locks its cards FOR UPDATE; waiting for it here, then reading the row it committed, means
    nothing is hung on a card that was merged away meanwhile (where nobody would see it again) and no
    change is made from a stale copy of the card. FOR NO KEY UPDATE, not FOR UPDATE: foreign keys
    pointing at the card (KEY SHARE) are not held up. On SQLite the writer is alone; the clause is
    not rendered.
    """
    query = (
        select(Counterparty)
        .where(Counterparty.id == counterparty_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    return await session.scalar(query)


def in_force_at(
    valid_from: ColumnElement[datetime], valid_to: ColumnElement[datetime | None], at: datetime
) -> ColumnElement[bool]:
    """SQL for "in force at `at`" of a row with a validity period (an address, a block): from
    inclusive, to exclusive, the same rule as `dms.counterparties.details.in_force`."""
    return and_(valid_from <= at, or_(valid_to.is_(None), valid_to > at))
