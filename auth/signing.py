"""Signed, expiring values (download and upload URLs) with itsdangerous."""

from __future__ import annotations

from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer


class InvalidSignature(Exception):
    """The value was forged, altered, or signed for another purpose."""


class ExpiredSignature(InvalidSignature):
    """The value was genuine but is past its lifetime."""


class Signer:
    """Signs small JSON payloads for one purpose (the salt keeps purposes apart)."""

    def __init__(self, secret_key: str, purpose: str) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt=f"kartoteka.{purpose}")

    def sign(self, payload: Any) -> str:
        return self._serializer.dumps(payload)

    def unsign(self, token: str, *, max_age_seconds: int) -> Any:
        try:
            return self._serializer.loads(token, max_age=max_age_seconds)
        except SignatureExpired as exc:
            raise ExpiredSignature("the link has expired") from exc
        except BadSignature as exc:
            raise InvalidSignature("the link is not valid") from exc
