"""Starlette authentication backend: `Authorization: Bearer <token>` → an authenticated identity.

It knows no tables: the composition root hands it a function that resolves a token to an identity.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.authentication import AuthCredentials, AuthenticationBackend, AuthenticationError, BaseUser
from starlette.requests import HTTPConnection

from auth.tokens import parse_authorization


class AuthenticatedUser(BaseUser):
    """The identity Starlette puts on `request.user`; `principal` is whatever the resolver returned."""

    def __init__(self, identity: Any, username: str, token_digest: str) -> None:
        self.principal = identity
        self.token_digest = token_digest
        self._username = username

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def display_name(self) -> str:
        return self._username


TokenResolver = Callable[[str], Awaitable[AuthenticatedUser | None]]


class TokenCheckUnavailable(AuthenticationError):
    """The store of tokens cannot be asked right now: the request can be neither let in nor refused."""


class BearerTokenBackend(AuthenticationBackend):
    """Looks the bearer token up; an unknown, expired or revoked token is simply anonymous."""

    def __init__(self, resolve: TokenResolver) -> None:
        self._resolve = resolve

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        token = parse_authorization(conn.headers.get("authorization"))
        if token is None:
            return None
        user = await self._resolve(token)
        if user is None:
            return None
        return AuthCredentials(["authenticated"]), user
