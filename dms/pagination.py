"""Keyset pagination: every list pages by the values of its sort key, never by OFFSET."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, TypeDecorator, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased

from dms.errors import ValidationFailed

T = TypeVar("T")


@dataclass(frozen=True)
class SortKey:
    """Columns that order a list; the last one must be unique (usually the id)."""

    columns: tuple[tuple[InstrumentedAttribute[Any], bool], ...]  # (column, descending)

    @classmethod
    def of(cls, *columns: tuple[InstrumentedAttribute[Any], bool]) -> SortKey:
        return cls(tuple(columns))

    @property
    def tag(self) -> str:
        """Names the order a cursor was made in, so that a cursor of another list (other columns,
        another direction) is refused instead of quietly paging from somewhere else."""
        order = ",".join(f"{column}{'-' if descending else '+'}" for column, descending in self.columns)
        return hashlib.blake2s(order.encode(), digest_size=4).hexdigest()


@dataclass(frozen=True)
class PageRequest:
    first: int
    after: str | None = None


@dataclass
class Page(Generic[T]):
    items: list[T]
    cursors: list[str]
    has_next: bool
    has_previous: bool
    total_count: int

    @property
    def end_cursor(self) -> str | None:
        return self.cursors[-1] if self.cursors else None

    @property
    def start_cursor(self) -> str | None:
        return self.cursors[0] if self.cursors else None


def escape_like(text: str) -> str:
    """Escape LIKE wildcards (with backslash) so user text matches literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps(list(values), separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError) as exc:
        raise ValidationFailed("the cursor is not valid", field="after") from exc
    if not isinstance(values, list) or len(values) != arity:
        raise ValidationFailed("the cursor is not valid", field="after")
    if not all(v is None or (isinstance(v, str | int | float) and not isinstance(v, bool)) for v in values):
        raise ValidationFailed("the cursor is not valid", field="after")
    return values


def _python_type(column: Any) -> type | None:
    sql_type = column.type
    while isinstance(sql_type, TypeDecorator):
        sql_type = sql_type.impl_instance
    try:
        return sql_type.python_type
    except NotImplementedError:
        return None


def _typed(key: SortKey, values: list[Any]) -> list[Any]:
    """The cursor's values as the key's columns take them; anything else is the client's bad cursor.

    A cursor comes back from the client: a value the database cannot compare with the column (text
    for a number, a number past 64 bits, a NUL in text, null) must be a VALIDATION error, never a
    database error.
    """
    typed = []
    for (column, _), value in zip(key.columns, values, strict=True):
        expected = _python_type(column)
        if value is None:
            raise ValidationFailed("the cursor is not valid", field="after")
        if expected is int:
            ok = isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63
        elif expected is str:
            ok = isinstance(value, str) and "\x00" not in value
        elif expected is float:
            ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        elif expected is datetime:
            try:
                value = datetime.fromisoformat(value) if isinstance(value, str) else None
            except ValueError:
                value = None
            ok = value is not None and value.tzinfo is not None
        else:
            ok = True
        if not ok:
            raise ValidationFailed("the cursor is not valid", field="after")
        typed.append(value)
    return typed


def _after(key: SortKey, values: list[Any]) -> ColumnElement[bool]:
    """Rows strictly after `values` in the key's order: (a > x) OR (a = x AND b > y) …"""
    clauses = []
    for index, (column, descending) in enumerate(key.columns):
        equal = [col == values[i] for i, (col, _) in enumerate(key.columns[:index])]
        beyond = column < values[index] if descending else column > values[index]
        clauses.append(and_(*equal, beyond))
    return or_(*clauses)


def _key_values(item: Any, key: SortKey) -> list[Any]:
    values = []
    for column, _ in key.columns:
        value = getattr(item, column.key)
        values.append(value if value is None or isinstance(value, int | str | float) else str(value))
    return values


async def paginate(
    session: AsyncSession, query: Select[tuple[T]], key: SortKey, request: PageRequest, *, count: bool = True
) -> Page[T]:
    """One page of `query` in the key's order, plus the total (before paging)."""
    if request.first < 0:
        raise ValidationFailed("first must not be negative", field="first")
    paged = query
    has_previous = False
    if request.after:
        tag, *values = decode_cursor(request.after, len(key.columns) + 1)
        if tag != key.tag:
            raise ValidationFailed("the cursor belongs to another list", field="after")
        paged = paged.where(_after(key, _typed(key, values)))
        has_previous = True
    order = [column.desc() if descending else column.asc() for column, descending in key.columns]
    rows = list((await session.scalars(paged.order_by(*order).limit(request.first + 1))).unique().all())
    has_next = len(rows) > request.first
    items = rows[: request.first]
    total = 0
    if count:
        total = int(await session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0)
    return Page(
        items=items,
        cursors=[encode_cursor([key.tag, *_key_values(item, key)]) for item in items],
        has_next=has_next,
        has_previous=has_previous,
        total_count=total,
    )


async def first_pages(
    session: AsyncSession,
    query: Select[tuple[T]],
    parent: InstrumentedAttribute[Any],
    parent_ids: Sequence[int],
    key: SortKey,
    first: int,
) -> dict[int, Page[T]]:
    """The first page of each parent's rows of `query` (the rows whose `parent` is that id), as
    `paginate` would make it with no cursor, for all parents in two statements: the pages (each
    parent's rows numbered in the key's order) and the totals. A list of documents each showing
    its first versions is then a constant number of statements, not two per document."""
    ids = list(dict.fromkeys(parent_ids))
    if not ids:
        return {}
    order = [column.desc() if descending else column.asc() for column, descending in key.columns]
    scoped = query.where(parent.in_(ids))
    numbered = scoped.add_columns(func.row_number().over(partition_by=parent, order_by=order).label("place")).subquery()
    # By name: the rows may be a query's shape rather than a table's (a card's timeline).
    entity = aliased(query.column_descriptions[0]["entity"], numbered, adapt_on_names=True)
    rows = await session.execute(
        select(entity, numbered.c.place).where(numbered.c.place <= first + 1).order_by(numbered.c.place)
    )
    grouped: dict[int, list[T]] = {parent_id: [] for parent_id in ids}
    for item, _place in rows.all():
        grouped[getattr(item, parent.key)].append(item)
    counted = scoped.order_by(None).subquery()
    totals = dict(
        (await session.execute(select(counted.c[parent.key], func.count()).group_by(counted.c[parent.key]))).all()
    )
    return {
        parent_id: Page(
            items=items[:first],
            cursors=[encode_cursor([key.tag, *_key_values(item, key)]) for item in items[:first]],
            has_next=len(items) > first,
            has_previous=False,
            total_count=int(totals.get(parent_id, 0)),
        )
        for parent_id, items in grouped.items()
    }
