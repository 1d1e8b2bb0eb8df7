"""Relay plumbing: the Node interface, PageInfo, and one generic keyset connection."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any, Generic, NewType, TypeVar

import strawberry
from graphql import GraphQLError

from dms.pagination import Page

T = TypeVar("T")


def _parse_long(value: object) -> int:
    # GraphQLError, as Strawberry's own scalars raise: any other exception is, to ErrorPolicy, a
    # server fault to be masked, while a value that is not a Long is the client's mistake.
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise GraphQLError(f"a Long is a whole number, not {value!r:.40}")
    try:
        number = int(value)
    except ValueError:
        raise GraphQLError(f"a Long is a whole number, not {value!r:.40}") from None
    if not -(2**63) <= number < 2**63:
        raise GraphQLError("a Long fits in 64 bits")
    return number


_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def _parse_decimal(value: object) -> Decimal:
    # Written as people write numbers: Decimal() alone also takes "1_000", "1e2", "NaN" and other
    # scripts' digits, and a quantity typed as "1_5" would become 15.
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise GraphQLError(f'a Decimal is a number such as "12.50", not {value!r:.40}')
    text = str(value).strip()
    if isinstance(value, str) and _DECIMAL.fullmatch(text) is None:
        raise GraphQLError(f'a Decimal is a number such as "12.50", not {value!r:.40}')
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise GraphQLError(f'a Decimal is a number such as "12.50", not {value!r:.40}') from None
    if not number.is_finite():
        raise GraphQLError("a Decimal is a finite number")
    return number


DECIMAL_SCALAR = strawberry.scalar(
    name="Decimal",
    description='Decimal (fixed-point), sent and received as a string such as "12.50".',
    serialize=str,
    parse_value=_parse_decimal,
)


# GraphQL's Int stops at 2^31 - 1; file sizes do not.
Long = NewType("Long", int)
LONG_SCALAR = strawberry.scalar(
    name="Long",
    description="A 64-bit whole number (byte counts of large files).",
    serialize=int,
    parse_value=_parse_long,
)


@strawberry.interface
class Node:
    id: strawberry.ID


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None
    has_previous_page: bool
    start_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    node: T
    cursor: str


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    total_count: int

    @classmethod
    def of(cls, page: Page[Any], wrap: Callable[[Any], T]) -> Connection[T]:
        return cls(
            edges=[Edge(node=wrap(item), cursor=cursor) for item, cursor in zip(page.items, page.cursors, strict=True)],
            page_info=PageInfo(
                has_next_page=page.has_next,
                end_cursor=page.end_cursor,
                has_previous_page=page.has_previous,
                start_cursor=page.start_cursor,
            ),
            total_count=page.total_count,
        )
