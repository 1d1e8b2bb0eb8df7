"""Binder queries and mutations: translate ids, call one service, return what it gives."""

from __future__ import annotations

from collections.abc import Sequence

from auth.access import Access
from dms.access import service as access
from dms.binders import service as binders
from dms.binders.models import Binder
from dms.documents import service as documents
from dms.documents.models import Document
from dms.pagination import Page
from resolvers.context import RequestContext
from resolvers.ids import decode_id, decode_optional
from resolvers.outcome import Outcome, attempt
from resolvers.pages import page_request
from resolvers.permissions import entries_from_input


async def children(ctx: RequestContext, parent_id: str | None) -> list[Binder]:
    parent = decode_optional(parent_id, "Binder", field="parentId")
    async with ctx.read() as uow:
        return await binders.children(uow.session, ctx.require_actor(), parent)


async def create_binder(ctx: RequestContext, name: str, parent_id: str | None) -> Outcome[Binder]:
    async def run() -> Binder:
        parent = decode_optional(parent_id, "Binder", field="parentId")
        async with ctx.write() as uow:
            return await binders.create_binder(uow.session, ctx.require_actor(), name, parent)

    return await attempt(run)


async def rename_binder(ctx: RequestContext, binder_id: str, name: str) -> Outcome[Binder]:
    async def run() -> Binder:
        async with ctx.write() as uow:
            return await binders.rename_binder(
                uow.session, ctx.require_actor(), decode_id(binder_id, "Binder", field="binderId"), name
            )

    return await attempt(run)


async def move_binder(ctx: RequestContext, binder_id: str, parent_id: str | None) -> Outcome[Binder]:
    async def run() -> Binder:
        binder = decode_id(binder_id, "Binder", field="binderId")
        parent = decode_optional(parent_id, "Binder", field="parentId")
        async with ctx.write() as uow:
            return await binders.move_binder(uow.session, ctx.require_actor(), binder, parent)

    return await attempt(run)


async def delete_binder(ctx: RequestContext, binder_id: str) -> Outcome[bool]:
    async def run() -> bool:
        async with ctx.write() as uow:
            await binders.delete_binder(
                uow.session, ctx.require_actor(), decode_id(binder_id, "Binder", field="binderId")
            )
        return True

    return await attempt(run)


async def set_permissions(ctx: RequestContext, target_id: str, entries: Sequence[object]) -> Outcome[Binder]:
    async def run() -> Binder:
        binder_id = decode_id(target_id, "Binder", field="targetId")
        parsed = entries_from_input(entries)
        async with ctx.write() as uow:
            await access.set_binder_permissions(uow.session, ctx.require_actor(), binder_id, parsed)
        return await ctx.loaders.binder.load(binder_id)

    return await attempt(run)


async def children_of(ctx: RequestContext, binder: Binder) -> list[Binder]:
    """A binder's readable children; every binder's of a list at once."""
    return await ctx.loaders.binder_children.load(binder.id)


async def documents_in(ctx: RequestContext, binder: Binder, first: int | None, after: str | None) -> Page[Document]:
    page = page_request(ctx, first, after)
    if not page.after:
        # A first page, as a list of binders asks for each of them: batched for the whole list.
        return await ctx.loaders.documents_of("binder", page.first).load(binder.id)
    async with ctx.read() as uow:
        return await documents.list_documents(uow.session, ctx.require_actor(), page, binder_id=binder.id)


async def level(ctx: RequestContext, binder_id: int) -> Access:
    return await ctx.loaders.binder_level.load(binder_id)
