"""Bearer tokens: random, shown to the user once, stored only as a SHA-256 digest."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "kt_"  # noqa: S105 - a marker for secret scanners, not a secret


def mint_token() -> tuple[str, str]:
    """Return a new (token, digest) pair: hand out the token, store the digest."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, token_digest(token)


def token_digest(token: str) -> str:
    """The digest under which a token is stored and looked up."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def parse_authorization(header: str | None) -> str | None:
    """Extract the token of an `Authorization: Bearer …` header, or None."""
    if not header:
        return None
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    return credentials.strip()
