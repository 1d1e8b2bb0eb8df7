"""Small things the CRM services share: the "leave it alone" marker, text folding, admin checks."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from enum import Enum

from anyascii import anyascii
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from dms.actor import Actor
from dms.errors import Conflict, PermissionDenied, ValidationFailed
from dms.names import clean_name


class Keep(Enum):
    """A patch's "not given": the value stays as it is (None means "clear it")."""

    KEEP = "keep"


KEEP = Keep.KEEP


def fold(text: str | None) -> str:
    """Lower-cased ASCII with single spaces: "ŁÓDŹ  Sp. z o.o." → "lodz sp. z o.o."."""
    if not text:
        return ""
    return " ".join(anyascii(unicodedata.normalize("NFC", text)).lower().split())


def slug(text: str, *, field: str = "code") -> str:
    """A code made from a name: "Źródło pozyskania" → "zrodlo_pozyskania"."""
    code = re.sub(r"[^a-z0-9]+", "_", fold(text)).strip("_")[:64]
    if not code:
        raise ValidationFailed("give a code of letters and digits", field=field)
    if not code[0].isalpha():
        code = ("c_" + code)[:64]
    return code


def clean_code(value: str | None, name: str, *, field: str = "code") -> str:
    """The code an admin gave (checked), or one made from the name."""
    if value is None or not value.strip():
        return slug(name, field=field)
    code = value.strip()
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,63}", code):
        raise ValidationFailed("a code is lower-case letters, digits and _, starting with a letter", field=field)
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
    text = unicodedata.normalize("NFC", value).strip()
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
