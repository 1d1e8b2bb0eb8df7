"""Login, logout, the current user."""

from __future__ import annotations

from datetime import timedelta

from dms.identity import service as identity
from dms.identity.models import User
from dms.identity.service import IssuedToken, LoginPolicy
from resolvers.context import RequestContext
from resolvers.outcome import Outcome, attempt


async def log_in(ctx: RequestContext, username: str, password: str) -> Outcome[IssuedToken]:
    limits = ctx.limits
    policy = LoginPolicy(
        max_failures=limits.login_max_failures,
        window=timedelta(seconds=limits.login_window_seconds),
        token_ttl=timedelta(seconds=limits.token_ttl_seconds),
    )

    async def run() -> IssuedToken:
        async with ctx.write() as uow:
            return await identity.log_in(uow.session, username, password, address=ctx.client_address, policy=policy)

    return await attempt(run)


async def log_out(ctx: RequestContext) -> Outcome[bool]:
    async def run() -> bool:
        async with ctx.write() as uow:
            await identity.log_out(uow.session, ctx.require_actor())
        return True

    return await attempt(run)


async def me(ctx: RequestContext) -> User | None:
    if ctx.actor is None:
        return None
    return await ctx.loaders.user.load(ctx.actor.user_id)
