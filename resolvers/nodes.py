"""`node(id:)`: any object by its global id, or null when absent or not readable."""

from __future__ import annotations

from typing import Any

from dms.audit import service as audit
from dms.documents import classification
from dms.errors import NotFound, PermissionDenied
from resolvers.context import RequestContext
from resolvers.crm_nodes import crm_node
from resolvers.ids import parse_id


async def node(ctx: RequestContext, global_id: str) -> Any | None:
    parsed = parse_id(global_id)
    if parsed is None:
        return None
    type_name, pk = parsed
    loaders = ctx.loaders
    if type_name == "User":
        return await loaders.user.load(pk)
    if type_name == "Group":
        return await loaders.group.load(pk)
    if type_name == "Binder":
        return await loaders.binder.load(pk)
    if type_name == "Document":
        return await loaders.document.load(pk)
    if type_name == "DocumentVersion":
        version = await loaders.version.load(pk)
        # A version is visible exactly when its document is.
        if version is None or await loaders.document.load(version.document_id) is None:
            return None
        return version
    if type_name in ("DocumentType", "AuditEntry"):
        async with ctx.read() as uow:
            try:
                if type_name == "DocumentType":
                    ctx.require_actor()
                    return await classification.get_type(uow.session, pk)
                return await audit.get_entry(uow.session, ctx.require_actor(), pk)
            except (NotFound, PermissionDenied):
                return None
    return await crm_node(ctx, type_name, pk)
