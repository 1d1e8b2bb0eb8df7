"""What a mutation resolver returns: the changed object or the domain's refusal."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from dms.errors import DomainError, StorageFailure

T = TypeVar("T")
log = logging.getLogger("kartoteka.api")


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
        if isinstance(error, StorageFailure):
            # The client is told only that nothing was saved; the operator needs the store's own words.
            log.warning("the file store failed a request", extra={"error": repr(error.__cause__ or error)})
        return Outcome(errors=[error])
