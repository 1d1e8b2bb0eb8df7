"""Password hashing with Argon2id (argon2-cffi); plain passwords never leave this module's callers."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()

# Verifying against this keeps a login for an unknown user as slow as one with a wrong password,
# so timing does not tell the two apart.
_DUMMY_HASH = _hasher.hash("kartoteka-dummy-password")


def hash_password(password: str) -> str:
    """Return an Argon2id hash of `password`, salted, in the PHC string format."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches `password_hash`; a missing (or empty) hash is checked against a
    dummy and never matches."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)
