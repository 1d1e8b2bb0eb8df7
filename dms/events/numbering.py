"""Numbers for events and cases: a counter row per (scope, period), taken inside the registering
transaction with one INSERT … ON CONFLICT DO UPDATE … RETURNING, so concurrent registrations queue
on the row and numbers never repeat within a period."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from dms.errors import ValidationFailed
from dms.events.models import NUMBER_RESETS, NumberCounter

_TOKEN = re.compile(r"\{(YYYY|YY|MM|N(?::(\d))?)\}")
_BRACES = re.compile(r"[{}]")


def dialect_insert(session: AsyncSession, table: Any) -> Any:
    """INSERT with ON CONFLICT clauses, in the session's dialect (SQLite and PostgreSQL share them)."""
    name = session.get_bind().dialect.name
    return (postgresql.insert if name == "postgresql" else sqlite.insert)(table)


def event_type_scope(type_id: int) -> str:
    """The numbering scope of one event type's counters."""
    return f"event_type:{type_id}"


def period_of(reset: str, at: datetime) -> str:
    """The counter's period for a moment (on the company's calendar, `dms.times.business_time`):
    "-" (never reset), "2026", or "2026-05"."""
    if reset == "yearly":
        return f"{at.year:04d}"
    if reset == "monthly":
        return f"{at.year:04d}-{at.month:02d}"
    return "-"


def check_pattern(pattern: str | None, reset: str) -> str | None:
    """A numbering pattern such as "SPR/{YYYY}/{MM}/{N:4}", checked against the reset rule.

    {N} is the number ({N:4} zero-padded to 4 digits); {YYYY}, {YY}, {MM} the period. A pattern
    reset yearly must show the year, one reset monthly the year and the month, so printed numbers
    stay unique too.
    """
    if reset not in NUMBER_RESETS:
        raise ValidationFailed(f"the counter resets {', '.join(NUMBER_RESETS)}", field="numberReset")
    if pattern is None or not pattern.strip():
        return None
    pattern = pattern.strip()
    if len(pattern) > 100:
        raise ValidationFailed("the pattern is longer than 100 characters", field="numberPattern")
    tokens = [match.group(1) for match in _TOKEN.finditer(pattern)]
    if _BRACES.search(_TOKEN.sub("", pattern)):
        raise ValidationFailed(
            "the pattern has an unknown {…} part; use {YYYY} {YY} {MM} {N} {N:4}", field="numberPattern"
        )
    if sum(token.startswith("N") for token in tokens) != 1:
        raise ValidationFailed("the pattern needs exactly one {N} (the number)", field="numberPattern")
    has_year = "YYYY" in tokens or "YY" in tokens
    if reset in ("yearly", "monthly") and not has_year:
        period = "year" if reset == "yearly" else "month"
        raise ValidationFailed(
            f"a counter reset every {period} needs {{YYYY}} or {{YY}} in the pattern", field="numberPattern"
        )
    if reset == "monthly" and "MM" not in tokens:
        raise ValidationFailed("a counter reset every month needs {MM} in the pattern", field="numberPattern")
    return pattern


def format_number(pattern: str, at: datetime, value: int) -> str:
    def part(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "YYYY":
            return f"{at.year:04d}"
        if name == "YY":
            return f"{at.year % 100:02d}"
        if name == "MM":
            return f"{at.month:02d}"
        width = int(match.group(2) or 1)
        return str(value).zfill(width)

    return _TOKEN.sub(part, pattern)


async def take_next(session: AsyncSession, scope: str, period: str) -> int:
    """The next number of (scope, period), starting at 1; the row stays locked until commit."""
    insert = dialect_insert(session, NumberCounter)
    statement = (
        insert.values(scope=scope, period=period, value=1)
        .on_conflict_do_update(
            index_elements=[NumberCounter.scope, NumberCounter.period],
            set_={"value": NumberCounter.value + 1},
        )
        .returning(NumberCounter.value)
    )
    return int((await session.execute(statement)).scalar_one())
