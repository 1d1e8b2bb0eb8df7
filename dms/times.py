"""Times as clients give them: with their time zone, within years the database and Python can hold."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from dms.errors import ValidationFailed

#: The company's calendar: where months and years start for numbering (KARTOTEKA_TIME_ZONE).
DEFAULT_BUSINESS_ZONE = "Europe/Warsaw"
_business_zone = ZoneInfo(DEFAULT_BUSINESS_ZONE)


def use_business_zone(name: str) -> None:
    """Set the company's time zone (once, at start-up); a name zoneinfo does not know is a ValueError."""
    global _business_zone
    try:
        _business_zone = ZoneInfo(name)
    except (KeyError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def business_time(at: datetime) -> datetime:
    """The moment on the company's calendar: an event at 00:30 on 1 March in Warsaw is March's."""
    return at.astimezone(_business_zone)


def business_zone_name() -> str:
    """The company's time zone by its IANA name (for databases that convert times themselves)."""
    return _business_zone.key


def business_month(stored: str | None) -> str | None:
    """ "2026-05": the month on the company's calendar of a time as SQLite keeps it (UTC, as text)."""
    if stored is None:
        return None
    at = datetime.fromisoformat(stored)
    return business_time(at if at.tzinfo is not None else at.replace(tzinfo=UTC)).strftime("%Y-%m")


EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)


def utc_time(value: datetime, *, field: str | list[str]) -> datetime:
    """The time in UTC; a time without its time zone, or outside the years 1900–2999, is refused."""
    if value.utcoffset() is None:
        raise ValidationFailed("give the time with its time zone", field=field)
    # Compared before converting: the comparison cannot overflow, the conversion can.
    if not EARLIEST <= value < LATEST:
        raise ValidationFailed("give a time between the years 1900 and 2999", field=field)
    return value.astimezone(UTC)


def utc_period(
    since: datetime | None, until: datetime | None, *, fields: tuple[str, str] = ("from", "to")
) -> tuple[datetime | None, datetime | None]:
    """A filter's start and end, each checked by `utc_time`; an end not after the start is refused
    (such a period holds nothing: a typo, not a question)."""
    start = None if since is None else utc_time(since, field=fields[0])
    end = None if until is None else utc_time(until, field=fields[1])
    if start is not None and end is not None and end <= start:
        raise ValidationFailed("the period must end after it starts", field=fields[1])
    return start, end
