"""userErrors: the one mapping from domain refusals to what clients read."""

from __future__ import annotations

import strawberry

from dms.errors import DomainError


@strawberry.type
class UserError:
    field: list[str] | None
    message: str
    code: str

    @classmethod
    def of(cls, error: DomainError) -> UserError:
        return cls(field=error.field, message=error.message, code=error.code)

    @classmethod
    def all(cls, errors: list[DomainError]) -> list[UserError]:
        return [cls.of(error) for error in errors]
