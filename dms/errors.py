"""Domain refusals: one class per refusal, named as the users would say it; `code` is the API's."""

from __future__ import annotations

from collections.abc import Sequence


class DomainError(Exception):
    code = "DOMAIN_ERROR"
    default_message = "the operation was refused"
    #: The input field a refusal of this kind is about, when it is always the same one.
    default_field: str | None = None

    def __init__(self, message: str | None = None, *, field: Sequence[str] | str | None = None) -> None:
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        field = field if field is not None else self.default_field
        self.field: list[str] | None = [field] if isinstance(field, str) else list(field) if field else None


class NotFound(DomainError):
    """Also what an object the actor may not read looks like: the two are indistinguishable."""

    code = "NOT_FOUND"
    default_message = "not found"


class PermissionDenied(DomainError):
    code = "PERMISSION_DENIED"
    default_message = "you may see this but not do that"


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"
    default_message = "log in first"


class ValidationFailed(DomainError):
    code = "VALIDATION"
    default_message = "invalid input"


class Conflict(DomainError):
    code = "CONFLICT"
    default_message = "conflicts with the current state"


class InvalidCredentials(DomainError):
    code = "INVALID_CREDENTIALS"
    default_message = "wrong username or password"


class TooManyAttempts(DomainError):
    code = "RATE_LIMITED"
    default_message = "too many failed logins; try again later"


class DocumentLocked(DomainError):
    code = "DOCUMENT_LOCKED"
    default_field = "documentId"  # the lock is the document's

    def __init__(self, holder: str | None = None) -> None:
        super().__init__(f"the document is checked out by {holder}" if holder else "the document is checked out")
        self.holder = holder


class NotLockHolder(DomainError):
    code = "NOT_LOCK_HOLDER"
    default_field = "documentId"  # the lock is the document's
    default_message = "the document is checked out by someone else"


class DocumentNotCheckedOut(DomainError):
    code = "NOT_CHECKED_OUT"
    default_field = "documentId"  # the lock is the document's
    default_message = "the document is not checked out"


class StaleVersion(Conflict):
    default_message = "the document has a newer version than the one you edited"


class BytesMissing(Conflict):
    default_message = (
        "the bytes of this version are missing from storage; an administrator finds such damage with kartoteka fsck"
    )


class UploadTooLarge(ValidationFailed):
    code = "UPLOAD_TOO_LARGE"
    default_message = "the file is larger than the upload limit"


class StorageFailure(DomainError):
    code = "STORAGE_UNAVAILABLE"
    default_message = "the file store is not available; nothing was saved"
