"""Times as clients give them: with their time zone, within years the database and Python can hold."""

from __future__ import annotations

from datetime import UTC, datetime

from dms.errors import ValidationFailed

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
    """A filter's start and end, each checked by `utc_time`."""
    return (
        None if since is None else utc_time(since, field=fields[0]),
        None if until is None else utc_time(until, field=fields[1]),
    )
