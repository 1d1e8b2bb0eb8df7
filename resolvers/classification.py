"""Document types and workflow states: reading them, and their configuration by admins."""

from __future__ import annotations

from collections.abc import Sequence

from dms.documents import classification
from dms.documents.classification import StatusDefinition
from dms.documents.models import DocumentType
from resolvers.context import RequestContext
from resolvers.ids import decode_id
from resolvers.outcome import Outcome, attempt


async def document_types(ctx: RequestContext) -> list[DocumentType]:
    ctx.require_actor()
    async with ctx.read() as uow:
        return await classification.list_types(uow.session)


async def document_statuses(ctx: RequestContext) -> list[StatusDefinition]:
    ctx.require_actor()
    async with ctx.read() as uow:
        return await classification.statuses(uow.session)


async def create_type(ctx: RequestContext, code: str, name: str, required: Sequence[str]) -> Outcome[DocumentType]:
    async def run() -> DocumentType:
        async with ctx.write() as uow:
            return await classification.create_type(
                uow.session, ctx.require_actor(), code=code, name=name, required_fields=required
            )

    return await attempt(run)


async def update_type(
    ctx: RequestContext, type_id: str, name: str | None, required: Sequence[str] | None
) -> Outcome[DocumentType]:
    async def run() -> DocumentType:
        pk = decode_id(type_id, "DocumentType", field="typeId")
        async with ctx.write() as uow:
            return await classification.update_type(
                uow.session, ctx.require_actor(), pk, name=name, required_fields=required
            )

    return await attempt(run)


async def set_statuses(ctx: RequestContext, definitions: Sequence[StatusDefinition]) -> Outcome[list[StatusDefinition]]:
    async def run() -> list[StatusDefinition]:
        async with ctx.write() as uow:
            return await classification.set_statuses(uow.session, ctx.require_actor(), definitions)

    return await attempt(run)
