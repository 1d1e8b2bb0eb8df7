"""Turning `first`/`after` arguments into a page request within the configured limits."""

from __future__ import annotations

from dms.errors import ValidationFailed
from dms.pagination import PageRequest
from resolvers.context import RequestContext


def page_request(ctx: RequestContext, first: int | None, after: str | None) -> PageRequest:
    limit = ctx.limits.max_page_size
    if first is None:
        first = ctx.limits.default_page_size
    if first < 0:
        raise ValidationFailed("first must not be negative", field="first")
    if first > limit:
        raise ValidationFailed(f"first may be at most {limit}", field="first")
    return PageRequest(first=first, after=after)
