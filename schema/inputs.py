"""Inputs and payloads of the mutations."""

from __future__ import annotations

import datetime as dt

import strawberry
from graphql import GraphQLError
from starlette.datastructures import UploadFile
from strawberry.file_uploads import Upload

from schema.errors import UserError
from schema.relay import Long
from schema.types import Access, Binder, Document, DocumentStatus, DocumentType, User


def _parse_upload(value: object) -> UploadFile:
    # A file only ever arrives as a part of a multipart request mapped onto a variable; a string
    # literal in the query or in JSON variables is not a file, and must not reach a resolver as one.
    # GraphQLError, as Strawberry's own scalars raise: ErrorPolicy masks any other exception.
    if not isinstance(value, UploadFile):
        raise GraphQLError("a file is sent as a part of a multipart request (the GraphQL multipart request spec)")
    return value


UPLOAD_SCALAR = strawberry.scalar(
    name="Upload",
    description="Represents a file upload.",
    serialize=lambda value: value,
    parse_value=_parse_upload,
)


@strawberry.input
class LoginInput:
    username: str
    password: str


@strawberry.type
class LoginPayload:
    token: str | None
    user: User | None
    expires_at: dt.datetime | None = None
    user_errors: list[UserError]


@strawberry.type
class LogoutPayload:
    ok: bool
    user_errors: list[UserError]


@strawberry.input
class AuditFilter:
    actor_id: strawberry.ID | None = None
    object_id: strawberry.ID | None = None
    action: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


@strawberry.input
class CreateBinderInput:
    name: str
    parent_id: strawberry.ID | None = None


@strawberry.input
class RenameBinderInput:
    binder_id: strawberry.ID
    name: str


@strawberry.input
class MoveBinderInput:
    binder_id: strawberry.ID
    parent_id: strawberry.ID | None = None


@strawberry.input
class BinderRefInput:
    binder_id: strawberry.ID


@strawberry.type
class BinderPayload:
    binder: Binder | None
    user_errors: list[UserError]


@strawberry.type
class DeletePayload:
    deleted_id: strawberry.ID | None
    user_errors: list[UserError]


@strawberry.input(description="Conditions that all hold; a left-out one does not filter.")
class DocumentFilter:
    binder_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Documents filed in this binder itself, as `Binder.documents` lists them (search's"
        " `binderId` covers the binders below it too).",
    )
    counterparty_id: strawberry.ID | None = strawberry.field(
        default=None, description="Documents of this counterparty."
    )
    case_id: strawberry.ID | None = strawberry.field(default=None, description="Documents of this case.")
    templates: bool | None = strawberry.field(
        default=None, description="true: only templates; false: no templates; left out: both."
    )


@strawberry.input(description="Exactly one of file / stagedUploadId.")
class CreateDocumentInput:
    binder_id: strawberry.ID
    title: str
    file: Upload | None = None
    staged_upload_id: strawberry.ID | None = None
    counterparty_id: strawberry.ID | None = None
    case_id: strawberry.ID | None = None
    received_on: dt.date | None = None
    source: str | None = None
    status: str | None = None
    description: str | None = None
    tags: list[str] | None = None
    is_template: bool | None = None
    document_type_id: strawberry.ID | None = None


@strawberry.input
class CreateDocumentFromTemplateInput:
    template_id: strawberry.ID
    binder_id: strawberry.ID
    title: str | None = strawberry.field(default=None, description="The template's title when omitted.")
    counterparty_id: strawberry.ID | None = None
    case_id: strawberry.ID | None = None
    received_on: dt.date | None = None
    source: str | None = None
    status: str | None = None
    description: str | None = None
    tags: list[str] | None = None
    is_template: bool | None = None
    document_type_id: strawberry.ID | None = None


@strawberry.input
class UpdateDocumentInput:
    """A field left out stays as it is; null clears it (where a document may lack it)."""

    document_id: strawberry.ID
    title: str | None = strawberry.UNSET
    counterparty_id: strawberry.ID | None = strawberry.UNSET
    case_id: strawberry.ID | None = strawberry.UNSET
    received_on: dt.date | None = strawberry.UNSET
    source: str | None = strawberry.UNSET
    status: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    tags: list[str] | None = strawberry.UNSET
    is_template: bool | None = strawberry.UNSET
    document_type_id: strawberry.ID | None = strawberry.UNSET
    status_comment: str | None = strawberry.field(
        default=None, description="Why the status changes; kept in the history."
    )


@strawberry.input
class CreateDocumentTypeInput:
    code: str
    name: str
    required_fields: list[str] = strawberry.field(default_factory=list)


@strawberry.input
class UpdateDocumentTypeInput:
    type_id: strawberry.ID
    name: str | None = None
    required_fields: list[str] | None = None


@strawberry.type
class DocumentTypePayload:
    document_type: DocumentType | None
    user_errors: list[UserError]


@strawberry.input
class DocumentStatusInput:
    code: str
    name: str


@strawberry.input
class SetDocumentStatusesInput:
    statuses: list[DocumentStatusInput]


@strawberry.type
class DocumentStatusesPayload:
    statuses: list[DocumentStatus] | None
    user_errors: list[UserError]


@strawberry.input
class DocumentRefInput:
    document_id: strawberry.ID


@strawberry.input
class CheckInDocumentInput:
    document_id: strawberry.ID
    file: Upload | None = None
    staged_upload_id: strawberry.ID | None = None
    comment: str | None = None
    major: bool | None = False
    expected_version: str | None = None


@strawberry.input
class BreakLockInput:
    document_id: strawberry.ID
    reason: str


@strawberry.input
class RevertDocumentInput:
    document_id: strawberry.ID
    version_number: str
    comment: str | None = None


@strawberry.input
class MoveDocumentInput:
    document_id: strawberry.ID
    binder_id: strawberry.ID


@strawberry.type
class DocumentPayload:
    document: Document | None
    user_errors: list[UserError]


@strawberry.input
class PermissionEntryInput:
    principal_id: strawberry.ID
    access: Access


@strawberry.input
class SetPermissionsInput:
    target_id: strawberry.ID
    entries: list[PermissionEntryInput]


@strawberry.input
class RequestUploadInput:
    filename: str
    size: Long
    sha256: str | None = None


@strawberry.type
class RequestUploadPayload:
    upload_id: strawberry.ID | None
    upload_url: str | None = strawberry.field(description="PUT the file's bytes here, as the request body.")
    expires_at: dt.datetime | None
    user_errors: list[UserError]
