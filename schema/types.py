"""The object types clients read. Each wraps a domain model; related objects come through DataLoaders."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from auth.access import Access as AccessLevel
from dms.audit.models import AuditEntry as AuditModel
from dms.binders.models import Binder as BinderModel
from dms.documents.models import Document as DocumentModel
from dms.documents.models import DocumentHistoryEntry as HistoryModel
from dms.documents.models import DocumentLock as LockModel
from dms.documents.models import DocumentType as DocumentTypeModel
from dms.documents.models import DocumentVersion as VersionModel
from dms.documents.models import Download as DownloadModel
from dms.identity.models import Group as GroupModel
from dms.identity.models import User as UserModel
from resolvers import binders as binder_resolvers
from resolvers import documents as document_resolvers
from resolvers.files import download_url
from resolvers.history_details import client_details
from resolvers.ids import encode_id
from resolvers.loaders import live_lock
from schema.relay import Connection, Long, Node

if TYPE_CHECKING:
    from schema.crm import Counterparty
    from schema.crm.work import Case


@strawberry.enum
class Access(Enum):
    NONE = "NONE"
    READ = "READ"
    WRITE = "WRITE"
    MANAGE = "MANAGE"


@strawberry.type
class User(Node):
    _model: strawberry.Private[UserModel]

    @classmethod
    def of(cls, model: UserModel) -> User:
        return cls(id=strawberry.ID(encode_id("User", model.id)), _model=model)

    @strawberry.field
    def username(self) -> str:
        return self._model.username

    @strawberry.field
    def display_name(self) -> str:
        return self._model.display_name or self._model.username

    @strawberry.field
    def is_admin(self) -> bool:
        return self._model.is_admin


@strawberry.type
class Group(Node):
    _model: strawberry.Private[GroupModel]

    @classmethod
    def of(cls, model: GroupModel) -> Group:
        return cls(id=strawberry.ID(encode_id("Group", model.id)), _model=model)

    @strawberry.field
    def name(self) -> str:
        return self._model.name


async def _user(info: Info, user_id: int | None) -> User | None:
    if user_id is None:
        return None
    model = await info.context.loaders.user.load(user_id)
    return User.of(model) if model else None


@strawberry.type
class BinderViewerCan:
    read: bool
    write: bool
    manage: bool
    create_documents: bool
    set_permissions: bool


@strawberry.type
class Binder(Node):
    _model: strawberry.Private[BinderModel]

    @classmethod
    def of(cls, model: BinderModel) -> Binder:
        return cls(id=strawberry.ID(encode_id("Binder", model.id)), _model=model)

    @strawberry.field
    def name(self) -> str:
        return self._model.name

    @strawberry.field(
        description='Names from the root down, e.g. "/Umowy/2026/Dostawcy"; it starts where `parent` '
        "ends: at the root, or below a binder the viewer may not read."
    )
    async def path(self, info: Info) -> str:
        return await info.context.loaders.binder_path.load(self._model.id)

    @strawberry.field(description="Null at the top, and where the viewer may not read the parent.")
    async def parent(self, info: Info) -> Binder | None:
        if self._model.parent_id is None:
            return None
        model = await info.context.loaders.binder.load(self._model.parent_id)
        return Binder.of(model) if model else None

    @strawberry.field
    async def children(self, info: Info) -> list[Binder]:
        return [Binder.of(model) for model in await binder_resolvers.children_of(info.context, self._model)]

    @strawberry.field
    async def documents(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[Document]:
        page = await binder_resolvers.documents_in(info.context, self._model, first, after)
        return Connection.of(page, Document.of)

    @strawberry.field
    async def viewer_can(self, info: Info) -> BinderViewerCan:
        level = await binder_resolvers.level(info.context, self._model.id)
        return BinderViewerCan(
            read=level >= AccessLevel.READ,
            write=level >= AccessLevel.WRITE,
            manage=level >= AccessLevel.MANAGE,
            create_documents=level >= AccessLevel.WRITE,
            set_permissions=level >= AccessLevel.MANAGE,
        )

    @strawberry.field(
        description="The binder's own entries; shown to those who may change them (MANAGE), empty for other readers."
    )
    async def permissions(self, info: Info) -> list[PermissionEntry]:
        loaders = info.context.loaders
        if await loaders.binder_level.load(self._model.id) < AccessLevel.MANAGE:
            return []
        return [PermissionEntry.of(e) for e in await loaders.binder_entries.load(self._model.id)]

    @strawberry.field
    def created_at(self) -> dt.datetime:
        return self._model.created_at


@strawberry.type
class Lock:
    _model: strawberry.Private[LockModel]

    @strawberry.field
    async def holder(self, info: Info) -> User:
        user = await _user(info, self._model.holder_id)
        assert user is not None
        return user

    @strawberry.field
    def locked_at(self) -> dt.datetime:
        return self._model.locked_at

    @strawberry.field
    def expires_at(self) -> dt.datetime | None:
        return self._model.expires_at


@strawberry.type
class DocumentVersion(Node):
    _model: strawberry.Private[VersionModel]

    @classmethod
    def of(cls, model: VersionModel) -> DocumentVersion:
        return cls(id=strawberry.ID(encode_id("DocumentVersion", model.id)), _model=model)

    @strawberry.field(description='"1.0", "1.1", "2.0": minor check-ins bump the minor part.')
    def number(self) -> str:
        return self._model.number

    @strawberry.field
    def filename(self) -> str:
        return self._model.filename

    @strawberry.field(description="In bytes. A GraphQL Int ends below 2 GiB: larger files need byteSize.")
    def size(self) -> int:
        return self._model.size

    @strawberry.field(description="In bytes, for files of any size.")
    def byte_size(self) -> Long:
        return Long(self._model.size)

    @strawberry.field
    def sha256(self) -> str:
        return self._model.sha256

    @strawberry.field
    def mime_type(self) -> str:
        return self._model.mime_type

    @strawberry.field
    def created_at(self) -> dt.datetime:
        return self._model.created_at

    @strawberry.field
    async def created_by(self, info: Info) -> User:
        user = await _user(info, self._model.created_by_id)
        assert user is not None
        return user

    @strawberry.field
    def comment(self) -> str | None:
        return self._model.comment

    @strawberry.field(description="Text extraction for search: pending, ok, empty, unsupported, failed, …")
    def extraction_status(self) -> str:
        return self._model.extraction_status

    @strawberry.field(description="Plain HTTP GET with Range support; signed for the viewer and expiring.")
    def download_url(self, info: Info) -> str:
        return download_url(info.context, self._model)


@strawberry.type
class Download:
    _model: strawberry.Private[DownloadModel]

    @strawberry.field
    async def user(self, info: Info) -> User:
        user = await _user(info, self._model.user_id)
        assert user is not None
        return user

    @strawberry.field
    def at(self) -> dt.datetime:
        return self._model.at

    @strawberry.field
    async def version(self, info: Info) -> DocumentVersion:
        return DocumentVersion.of(await info.context.loaders.version.load(self._model.version_id))

    @strawberry.field(deprecation_reason="A float; use byteCount, a whole number.")
    def bytes(self) -> float:
        return float(self._model.bytes_sent)

    @strawberry.field(description="Bytes asked for: the file's size, or the range's. Recorded when the sending starts.")
    def byte_count(self) -> Long:
        return Long(self._model.bytes_sent)


@strawberry.type
class HistoryEntry:
    _model: strawberry.Private[HistoryModel]
    # Who was given or refused what is for those who may change it, as the permissions themselves are.
    _entries_hidden: strawberry.Private[bool] = False

    @strawberry.field(description="created, checked_out, checked_in, check_out_cancelled, lock_broken, …")
    def action(self) -> str:
        return self._model.action

    @strawberry.field
    async def actor(self, info: Info) -> User | None:
        return await _user(info, self._model.actor_id)

    @strawberry.field
    def at(self) -> dt.datetime:
        return self._model.at

    @strawberry.field
    async def version(self, info: Info) -> DocumentVersion | None:
        if self._model.version_id is None:
            return None
        model = await info.context.loaders.version.load(self._model.version_id)
        return DocumentVersion.of(model) if model else None

    @strawberry.field(
        description="What else the entry says; objects by their global ids, fields by their API names. The"
        " entries of a permissions change are shown to those who may manage the document."
    )
    def details(self) -> JSON:
        if self._entries_hidden and self._model.action == "permissions_changed":
            return {}
        return client_details(self._model.details)


@strawberry.type
class DocumentType(Node):
    _model: strawberry.Private[DocumentTypeModel]

    @classmethod
    def of(cls, model: DocumentTypeModel) -> DocumentType:
        return cls(id=strawberry.ID(encode_id("DocumentType", model.id)), _model=model)

    @strawberry.field
    def code(self) -> str:
        return self._model.code

    @strawberry.field
    def name(self) -> str:
        return self._model.name

    @strawberry.field(description="Metadata a document of this type must have: counterparty, case, receivedOn, …")
    def required_fields(self) -> list[str]:
        return list(self._model.required_fields or [])


@strawberry.type
class DocumentStatus:
    code: str
    name: str


@strawberry.type
class DocumentViewerCan:
    read: bool
    write: bool
    manage: bool
    check_out: bool
    check_in: bool
    cancel_check_out: bool
    break_lock: bool
    set_permissions: bool
    trash: bool = strawberry.field(description="deleteDocument: a live document nobody has checked out.")
    restore: bool = strawberry.field(description="restoreDocument: a document in the trash.")
    purge: bool = strawberry.field(description="purgeDocument: a document in the trash, for its managers.")
    move: bool = strawberry.field(description="moveDocument, into a binder the viewer may write in.")


@strawberry.type
class Document(Node):
    _model: strawberry.Private[DocumentModel]

    @classmethod
    def of(cls, model: DocumentModel) -> Document:
        return cls(id=strawberry.ID(encode_id("Document", model.id)), _model=model)

    @strawberry.field
    def title(self) -> str:
        return self._model.title

    @strawberry.field
    async def binder(self, info: Info) -> Binder:
        return Binder.of(await info.context.loaders.binder.load(self._model.binder_id))

    @strawberry.field
    async def counterparty(self, info: Info) -> Annotated[Counterparty, strawberry.lazy("schema.crm")] | None:
        from schema.crm import Counterparty

        if self._model.counterparty_id is None:
            return None
        # The card even when deleted (softly, to be restored) or merged: the link holds, as a case's does.
        model = await info.context.loaders.crm.card.load(self._model.counterparty_id)
        return Counterparty.of(model) if model else None

    @strawberry.field(description="The case the document belongs to, if any.")
    async def case(self, info: Info) -> Annotated[Case, strawberry.lazy("schema.crm.work")] | None:
        from schema.crm.work import case_of

        return await case_of(info, self._model.case_id)

    @strawberry.field(description="Null when not checked out.")
    async def lock(self, info: Info) -> Lock | None:
        model = live_lock(await info.context.loaders.lock.load(self._model.id))
        return Lock(_model=model) if model else None

    @strawberry.field
    async def current_version(self, info: Info) -> DocumentVersion:
        return DocumentVersion.of(await info.context.loaders.version.load(self._model.current_version_id))

    @strawberry.field
    async def versions(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[DocumentVersion]:
        page = await document_resolvers.versions(info.context, self._model, first, after)
        return Connection.of(page, DocumentVersion.of)

    @strawberry.field
    async def downloads(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[Download]:
        page = await document_resolvers.downloads(info.context, self._model, first, after)
        return Connection.of(page, lambda model: Download(_model=model))

    @strawberry.field(description="Everything that happened to the document, oldest first.")
    async def history(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[HistoryEntry]:
        page = await document_resolvers.history(info.context, self._model, first, after)
        hidden = await info.context.loaders.document_level.load(self._model.id) < AccessLevel.MANAGE
        return Connection.of(page, lambda model: HistoryEntry(_model=model, _entries_hidden=hidden))

    @strawberry.field(description="The code of its workflow state (see documentStatuses).")
    def status(self) -> str:
        return self._model.status

    @strawberry.field
    async def document_type(self, info: Info) -> DocumentType | None:
        if self._model.document_type_id is None:
            return None
        model = await info.context.loaders.document_type.load(self._model.document_type_id)
        return DocumentType.of(model) if model else None

    @strawberry.field
    def source(self) -> str | None:
        return self._model.source

    @strawberry.field
    def description(self) -> str | None:
        return self._model.description

    @strawberry.field
    def tags(self) -> list[str]:
        return list(self._model.tags or [])

    @strawberry.field
    def received_on(self) -> dt.date | None:
        return self._model.received_on

    @strawberry.field
    def is_template(self) -> bool:
        return self._model.is_template

    @strawberry.field
    def created_at(self) -> dt.datetime:
        return self._model.created_at

    @strawberry.field
    def updated_at(self) -> dt.datetime:
        return self._model.updated_at

    @strawberry.field
    def trashed_at(self) -> dt.datetime | None:
        return self._model.trashed_at

    @strawberry.field
    async def owner(self, info: Info) -> User | None:
        return await _user(info, self._model.owner_id)

    @strawberry.field(
        description=(
            "The document's own (narrowing) entries; shown to those who may change them (MANAGE), "
            "empty for other readers."
        )
    )
    async def permissions(self, info: Info) -> list[PermissionEntry]:
        loaders = info.context.loaders
        if await loaders.document_level.load(self._model.id) < AccessLevel.MANAGE:
            return []
        return [PermissionEntry.of(e) for e in await loaders.document_entries.load(self._model.id)]

    @strawberry.field(description="What the viewer may do now, so a client can grey out buttons.")
    async def viewer_can(self, info: Info) -> DocumentViewerCan:
        ctx = info.context
        level = await ctx.loaders.document_level.load(self._model.id)
        lock = live_lock(await ctx.loaders.lock.load(self._model.id))
        mine = lock is not None and ctx.actor is not None and lock.holder_id == ctx.actor.user_id
        live = self._model.trashed_at is None
        return DocumentViewerCan(
            read=level >= AccessLevel.READ,
            write=live and level >= AccessLevel.WRITE,
            manage=level >= AccessLevel.MANAGE,
            check_out=live and level >= AccessLevel.WRITE and (lock is None or mine),
            check_in=live and level >= AccessLevel.WRITE and (lock is None or mine),
            cancel_check_out=live and mine,
            break_lock=live and lock is not None and level >= AccessLevel.MANAGE,
            set_permissions=level >= AccessLevel.MANAGE,
            trash=live and level >= AccessLevel.WRITE and lock is None,
            restore=not live and level >= AccessLevel.WRITE,
            purge=not live and level >= AccessLevel.MANAGE,
            move=live and level >= AccessLevel.MANAGE,
        )


@strawberry.type
class PermissionEntry:
    _user_id: strawberry.Private[int | None]
    _group_id: strawberry.Private[int | None]
    access: Access

    @classmethod
    def of(cls, model: Any) -> PermissionEntry:
        return cls(_user_id=model.user_id, _group_id=model.group_id, access=Access(AccessLevel(model.access).name))

    @strawberry.field(description="A User or a Group.")
    async def principal(self, info: Info) -> Annotated[User | Group, strawberry.union("Principal")]:
        if self._user_id is not None:
            user = await _user(info, self._user_id)
            assert user is not None
            return user
        return Group.of(await info.context.loaders.group.load(self._group_id))


@strawberry.type
class AuditEntry(Node):
    _model: strawberry.Private[AuditModel]

    @classmethod
    def of(cls, model: AuditModel) -> AuditEntry:
        return cls(id=strawberry.ID(encode_id("AuditEntry", model.id)), _model=model)

    @strawberry.field
    def at(self) -> dt.datetime:
        return self._model.at

    @strawberry.field(description="login.failed, permissions.set, lock.broken, document.downloaded, …")
    def action(self) -> str:
        return self._model.action

    @strawberry.field
    async def actor(self, info: Info) -> User | None:
        return await _user(info, self._model.actor_id)

    @strawberry.field(description="The name the actor had (or tried, for a failed login).")
    def actor_name(self) -> str | None:
        return self._model.actor_name or self._model.details.get("username")

    @strawberry.field
    def address(self) -> str | None:
        return self._model.address

    @strawberry.field(description="Global id of the object acted on, if any.")
    def object_id(self) -> strawberry.ID | None:
        model = self._model
        if model.object_type is None or model.object_id is None:
            return None
        return strawberry.ID(encode_id(model.object_type, model.object_id))

    @strawberry.field(description="What else the entry says; principals and moved-between objects by their global ids.")
    def details(self) -> JSON:
        return client_details(self._model.details)


def wrap_node(model: Any) -> Node | None:
    """The GraphQL type for a domain model `node(id:)` found."""
    from schema.crm import wrap_crm_node

    for model_type, wrapper in (
        (UserModel, User.of),
        (GroupModel, Group.of),
        (BinderModel, Binder.of),
        (DocumentModel, Document.of),
        (VersionModel, DocumentVersion.of),
        (DocumentTypeModel, DocumentType.of),
        (AuditModel, AuditEntry.of),
    ):
        if isinstance(model, model_type):
            return wrapper(model)
    return wrap_crm_node(model)
