"""Relay plumbing: the Node interface, PageInfo, and one generic keyset connection."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import strawberry

from dms.pagination import Page

T = TypeVar("T")


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
