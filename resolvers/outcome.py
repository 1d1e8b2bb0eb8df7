"""What a mutation resolver returns: the changed object or the domain's refusal."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from dms.errors import DomainError

T = TypeVar("T")


@dataclass
class Outcome(Generic[T]):
    value: T | None = None
    errors: list[DomainError] = field(default_factory=list)
    extra: dict[str, object] = field(default_factory=dict)


async def attempt(action: Callable[[], Awaitable[T]]) -> Outcome[T]:
    """Run a mutation; an expected refusal becomes a userError, anything else propagates (and is masked)."""
    try:
        return Outcome(value=await action())
    except DomainError as error:
        return Outcome(errors=[error])
