"""Queries of the document side (and the Relay `node`, `me`)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from resolvers import binders, classification, directory, documents, identity, nodes
from resolvers.documents import DocumentFilterArgs
from schema.inputs import AuditFilter, DocumentFilter
from schema.relay import Connection, Node
from schema.types import AuditEntry, Binder, Document, DocumentStatus, DocumentType, Group, User, wrap_node


@strawberry.type
class DocumentQuery:
    @strawberry.field(description="Any object by its global id; null when absent or not readable.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return wrap_node(await nodes.node(info.context, id))

    @strawberry.field
    async def me(self, info: Info) -> User | None:
        model = await identity.me(info.context)
        return User.of(model) if model else None

    @strawberry.field(description="Children of a binder; the viewer's top-level binders when parentId is null.")
    async def binders(self, info: Info, parent_id: strawberry.ID | None = None) -> list[Binder]:
        return [Binder.of(model) for model in await binders.children(info.context, parent_id)]

    @strawberry.field
    async def documents(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: DocumentFilter | None = None,
    ) -> Connection[Document]:
        args = DocumentFilterArgs(
            binder_id=filter.binder_id if filter else None,
            counterparty_id=filter.counterparty_id if filter else None,
            case_id=filter.case_id if filter else None,
            templates=filter.templates if filter else None,
        )
        page = await documents.list_documents(info.context, first, after, args)
        return Connection.of(page, Document.of)

    @strawberry.field(description="Active users, to pick people as principals.")
    async def users(
        self, info: Info, first: int | None = None, after: str | None = None, text: str | None = None
    ) -> Connection[User]:
        return Connection.of(await directory.users(info.context, first, after, text), User.of)

    @strawberry.field
    async def groups(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[Group]:
        return Connection.of(await directory.groups(info.context, first, after), Group.of)

    @strawberry.field(description="The append-only audit log, newest first (administrators only).")
    async def audit_log(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: AuditFilter | None = None,
    ) -> Connection[AuditEntry]:
        f = filter or AuditFilter()
        page = await directory.audit_log(
            info.context,
            first,
            after,
            actor_id=f.actor_id,
            object_id=f.object_id,
            action=f.action,
            since=f.since,
            until=f.until,
        )
        return Connection.of(page, AuditEntry.of)

    @strawberry.field
    async def document_types(self, info: Info) -> list[DocumentType]:
        return [DocumentType.of(model) for model in await classification.document_types(info.context)]

    @strawberry.field(description="The workflow's states, in order; the first is where a new document starts.")
    async def document_statuses(self, info: Info) -> list[DocumentStatus]:
        return [DocumentStatus(code=s.code, name=s.name) for s in await classification.document_statuses(info.context)]

    @strawberry.field(description="Documents in the trash that the viewer may read, newest first.")
    async def trash(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[Document]:
        page = await documents.list_documents(info.context, first, after, DocumentFilterArgs(trashed=True))
        return Connection.of(page, Document.of)
