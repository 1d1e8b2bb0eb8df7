"""Mutations of the document side: each field maps its input, calls one resolver, and wraps the outcome."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from dms.documents.classification import StatusDefinition
from resolvers import binders, classification, documents, identity, uploads
from resolvers.outcome import Outcome
from schema.errors import UserError
from schema.inputs import (
    BinderPayload,
    BinderRefInput,
    BreakLockInput,
    CheckInDocumentInput,
    CreateBinderInput,
    CreateDocumentFromTemplateInput,
    CreateDocumentInput,
    CreateDocumentTypeInput,
    DeletePayload,
    DocumentPayload,
    DocumentRefInput,
    DocumentStatusesPayload,
    DocumentTypePayload,
    LoginInput,
    LoginPayload,
    LogoutPayload,
    MoveBinderInput,
    MoveDocumentInput,
    RenameBinderInput,
    RequestUploadInput,
    RequestUploadPayload,
    RevertDocumentInput,
    SetDocumentStatusesInput,
    SetPermissionsInput,
    UpdateDocumentInput,
    UpdateDocumentTypeInput,
)
from schema.types import Binder, Document, DocumentStatus, DocumentType, User


def _document(outcome: Outcome) -> DocumentPayload:
    value = outcome.value
    return DocumentPayload(document=Document.of(value) if value else None, user_errors=UserError.all(outcome.errors))


def _binder(outcome: Outcome) -> BinderPayload:
    value = outcome.value
    return BinderPayload(binder=Binder.of(value) if value else None, user_errors=UserError.all(outcome.errors))


def _document_type(outcome: Outcome) -> DocumentTypePayload:
    value = outcome.value
    return DocumentTypePayload(
        document_type=DocumentType.of(value) if value else None, user_errors=UserError.all(outcome.errors)
    )


@strawberry.type
class DocumentMutation:
    @strawberry.mutation(description='Returns a bearer token: send it as "Authorization: Bearer <token>".')
    async def login(self, info: Info, input: LoginInput) -> LoginPayload:
        outcome = await identity.log_in(info.context, input.username, input.password)
        issued = outcome.value
        return LoginPayload(
            token=issued.token if issued else None,
            user=User.of(issued.user) if issued else None,
            expires_at=issued.expires_at if issued else None,
            user_errors=UserError.all(outcome.errors),
        )

    @strawberry.mutation(description="Revokes the token this request was sent with.")
    async def logout(self, info: Info) -> LogoutPayload:
        outcome = await identity.log_out(info.context)
        return LogoutPayload(ok=bool(outcome.value), user_errors=UserError.all(outcome.errors))

    @strawberry.mutation
    async def create_binder(self, info: Info, input: CreateBinderInput) -> BinderPayload:
        return _binder(await binders.create_binder(info.context, input.name, input.parent_id))

    @strawberry.mutation
    async def rename_binder(self, info: Info, input: RenameBinderInput) -> BinderPayload:
        return _binder(await binders.rename_binder(info.context, input.binder_id, input.name))

    @strawberry.mutation(description="Moves a binder with everything in it; refuses to make a cycle.")
    async def move_binder(self, info: Info, input: MoveBinderInput) -> BinderPayload:
        return _binder(await binders.move_binder(info.context, input.binder_id, input.parent_id))

    @strawberry.mutation(description="Deletes an empty binder; one with binders or documents is a CONFLICT.")
    async def delete_binder(self, info: Info, input: BinderRefInput) -> DeletePayload:
        outcome = await binders.delete_binder(info.context, input.binder_id)
        return DeletePayload(
            deleted_id=input.binder_id if outcome.value else None, user_errors=UserError.all(outcome.errors)
        )

    @strawberry.mutation(
        description="A place to PUT a file too big for one GraphQL request; then pass its uploadId as stagedUploadId."
    )
    async def request_upload(self, info: Info, input: RequestUploadInput) -> RequestUploadPayload:
        outcome = await uploads.request_upload(info.context, input.filename, int(input.size), input.sha256)
        slot = outcome.value
        return RequestUploadPayload(
            upload_id=strawberry.ID(slot.upload_id) if slot else None,
            upload_url=slot.upload_url if slot else None,
            expires_at=slot.expires_at if slot else None,
            user_errors=UserError.all(outcome.errors),
        )

    @strawberry.mutation(description="Version 1.0 from input.file (a multipart upload) or a staged upload.")
    async def create_document(self, info: Info, input: CreateDocumentInput) -> DocumentPayload:
        return _document(await documents.create_document(info.context, input))

    @strawberry.mutation(description="A new document whose version 1.0 has the template's bytes.")
    async def create_document_from_template(
        self, info: Info, input: CreateDocumentFromTemplateInput
    ) -> DocumentPayload:
        return _document(await documents.create_from_template(info.context, input))

    @strawberry.mutation(description="Changes metadata; never the bytes.")
    async def update_document(self, info: Info, input: UpdateDocumentInput) -> DocumentPayload:
        return _document(await documents.update_document(info.context, input))

    @strawberry.mutation
    async def check_out_document(self, info: Info, input: DocumentRefInput) -> DocumentPayload:
        return _document(await documents.check_out(info.context, input.document_id))

    @strawberry.mutation(description="A new version (minor unless major: true); releases the lock.")
    async def check_in_document(self, info: Info, input: CheckInDocumentInput) -> DocumentPayload:
        return _document(
            await documents.check_in(
                info.context,
                document_id=input.document_id,
                upload=input.file,
                staged_upload_id=input.staged_upload_id,
                comment=input.comment,
                major=bool(input.major),
                expected_version=input.expected_version,
            )
        )

    @strawberry.mutation
    async def cancel_check_out(self, info: Info, input: DocumentRefInput) -> DocumentPayload:
        return _document(await documents.cancel_check_out(info.context, input.document_id))

    @strawberry.mutation
    async def break_lock(self, info: Info, input: BreakLockInput) -> DocumentPayload:
        return _document(await documents.break_lock(info.context, input.document_id, input.reason))

    @strawberry.mutation(description="A new version whose bytes are those of an older one.")
    async def revert_document(self, info: Info, input: RevertDocumentInput) -> DocumentPayload:
        return _document(await documents.revert(info.context, input.document_id, input.version_number, input.comment))

    @strawberry.mutation
    async def move_document(self, info: Info, input: MoveDocumentInput) -> DocumentPayload:
        return _document(await documents.move(info.context, input.document_id, input.binder_id))

    @strawberry.mutation(description="Moves the document to the trash, from where it can be restored.")
    async def delete_document(self, info: Info, input: DocumentRefInput) -> DocumentPayload:
        return _document(await documents.trash(info.context, input.document_id))

    @strawberry.mutation
    async def restore_document(self, info: Info, input: DocumentRefInput) -> DocumentPayload:
        return _document(await documents.restore(info.context, input.document_id))

    @strawberry.mutation(description="Removes a trashed document for good (MANAGE).")
    async def purge_document(self, info: Info, input: DocumentRefInput) -> DeletePayload:
        outcome = await documents.purge(info.context, input.document_id)
        return DeletePayload(
            deleted_id=input.document_id if outcome.value else None, user_errors=UserError.all(outcome.errors)
        )

    @strawberry.mutation(description="Administrators: a new document type.")
    async def create_document_type(self, info: Info, input: CreateDocumentTypeInput) -> DocumentTypePayload:
        return _document_type(
            await classification.create_type(info.context, input.code, input.name, input.required_fields)
        )

    @strawberry.mutation(description="Administrators: rename a type or change what it requires.")
    async def update_document_type(self, info: Info, input: UpdateDocumentTypeInput) -> DocumentTypePayload:
        return _document_type(
            await classification.update_type(info.context, input.type_id, input.name, input.required_fields)
        )

    @strawberry.mutation(description="Administrators: the workflow's states, in order; the first is the initial one.")
    async def set_document_statuses(self, info: Info, input: SetDocumentStatusesInput) -> DocumentStatusesPayload:
        outcome = await classification.set_statuses(
            info.context, [StatusDefinition(s.code, s.name) for s in input.statuses]
        )
        return DocumentStatusesPayload(
            statuses=[DocumentStatus(code=s.code, name=s.name) for s in outcome.value] if outcome.value else None,
            user_errors=UserError.all(outcome.errors),
        )

    @strawberry.mutation(
        description="Replaces the binder's entries (MANAGE needed); its subtree inherits them. A manager"
        " left out of the list keeps MANAGE through an entry of their own; name yourself to step down."
    )
    async def set_binder_permissions(self, info: Info, input: SetPermissionsInput) -> BinderPayload:
        return _binder(await binders.set_permissions(info.context, input.target_id, input.entries))

    @strawberry.mutation(
        description="Replaces the document's own entries (MANAGE needed); they only narrow what its binder"
        " gives the principals they name. A manager left out of the list keeps MANAGE; name yourself to step down."
    )
    async def set_document_permissions(self, info: Info, input: SetPermissionsInput) -> DocumentPayload:
        return _document(await documents.set_permissions(info.context, input.target_id, input.entries))
