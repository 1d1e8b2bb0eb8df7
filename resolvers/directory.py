"""People and groups (to pick principals), permission entries, and the audit log."""

from __future__ import annotations

from datetime import datetime

from dms.audit import service as audit
from dms.audit.models import AuditEntry
from dms.identity import queries as identity_queries
from dms.identity.models import Group, User
from dms.pagination import Page
from resolvers.context import RequestContext
from resolvers.ids import decode_optional, parse_id
from resolvers.pages import page_request


async def users(ctx: RequestContext, first: int | None, after: str | None, text: str | None) -> Page[User]:
    page = page_request(ctx, first, after)
    ctx.require_actor()
    async with ctx.read() as uow:
        return await identity_queries.list_users(uow.session, page, text=text)


async def groups(ctx: RequestContext, first: int | None, after: str | None) -> Page[Group]:
    page = page_request(ctx, first, after)
    ctx.require_actor()
    async with ctx.read() as uow:
        return await identity_queries.list_groups(uow.session, page)


async def audit_log(
    ctx: RequestContext,
    first: int | None,
    after: str | None,
    *,
    actor_id: str | None,
    object_id: str | None,
    action: str | None,
    since: datetime | None,
    until: datetime | None,
) -> Page[AuditEntry]:
    page = page_request(ctx, first, after)
    target = parse_id(object_id) if object_id else None
    async with ctx.read() as uow:
        return await audit.list_entries(
            uow.session,
            ctx.require_actor(),
            page,
            actor_id=decode_optional(actor_id, "User", field="actorId"),
            object_type=target[0] if target else ("-" if object_id else None),
            object_id=target[1] if target else None,
            action=action,
            since=since,
            until=until,
        )
