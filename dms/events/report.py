"""The event report: counts and settlement sums per type, month and user, computed in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dms.actor import Actor
from dms.errors import ValidationFailed
from dms.events.models import Event, Settlement
from dms.events.service import visible_to
from dms.times import business_zone_name, utc_period

GROUPINGS = ("type", "month", "user")


@dataclass
class ReportFilter:
    since: datetime | None = None
    until: datetime | None = None
    type_ids: Sequence[int] | None = None
    counterparty_id: int | None = None
    user_ids: Sequence[int] | None = None


@dataclass
class ReportRow:
    """One group: the keys asked for (others None), its event count and settlement sums."""

    type_id: int | None
    month: str | None
    user_id: int | None
    events: int
    settlement_lines: int
    settlement_total: Decimal


def _month(dialect: str) -> Any:
    """ "2026-05" of when the event happened, on the company's calendar: the month its number
    carries (an event at 00:30 on 1 December in Warsaw is December's, not November's as in UTC)."""
    if dialect == "postgresql":
        return func.to_char(func.timezone(business_zone_name(), Event.occurred_at), "YYYY-MM")
    return func.business_month(Event.occurred_at)  # registered on each SQLite connection (dms.db)


async def event_report(
    session: AsyncSession, actor: Actor, filter: ReportFilter, group_by: Sequence[str]
) -> list[ReportRow]:
    """Events matching the filter (`since` inclusive, `until` exclusive, by when they happened),
    grouped by any of type, month and user (the user the event is attributed to); no grouping
    gives one row of totals. Only events the actor may see are counted and summed, so the report
    never reveals how many unreadable documents exist. Settlement totals are summed exactly: in
    cents, in SQL."""
    groups = list(dict.fromkeys(group_by))
    unknown = [g for g in groups if g not in GROUPINGS]
    if unknown:
        raise ValidationFailed(f"group by any of {', '.join(GROUPINGS)}", field="groupBy")
    since, until = utc_period(filter.since, filter.until)
    # Per event first, so an event with many lines still counts once.
    per_event = (
        select(
            Settlement.event_id.label("event_id"),
            func.count().label("lines"),
            # SQLite keeps Numeric as REAL: summing rounded cents keeps the sum exact on both backends.
            func.sum(func.round(Settlement.total * 100)).label("cents"),
        )
        .group_by(Settlement.event_id)
        .subquery("per_event")
    )
    keys: dict[str, Any] = {
        "type": Event.type_id.label("type_id"),
        "month": _month(session.get_bind().dialect.name).label("month"),
        "user": Event.user_id.label("user_id"),
    }
    chosen = [keys[g] for g in groups]
    query = (
        select(
            *chosen,
            func.count(Event.id).label("events"),
            func.coalesce(func.sum(per_event.c.lines), 0).label("lines"),
            func.coalesce(func.sum(per_event.c.cents), 0).label("cents"),
        )
        .select_from(Event)
        .outerjoin(per_event, per_event.c.event_id == Event.id)
        # The rule of the events list, in the same statement: a count must not reveal hidden events.
        .where(visible_to(actor))
    )
    if since is not None:
        query = query.where(Event.occurred_at >= since)
    if until is not None:
        query = query.where(Event.occurred_at < until)
    if filter.type_ids is not None:
        query = query.where(Event.type_id.in_(list(filter.type_ids)))
    if filter.counterparty_id is not None:
        query = query.where(Event.counterparty_id == filter.counterparty_id)
    if filter.user_ids is not None:
        query = query.where(Event.user_id.in_(list(filter.user_ids)))
    if chosen:
        query = query.group_by(*chosen).order_by(*chosen)
    rows = []
    for row in (await session.execute(query)).mappings().all():
        rows.append(
            ReportRow(
                type_id=row.get("type_id"),
                month=row.get("month"),
                user_id=row.get("user_id"),
                events=int(row["events"]),
                settlement_lines=int(row["lines"]),
                settlement_total=Decimal(int(row["cents"])).scaleb(-2),
            )
        )
    return rows
