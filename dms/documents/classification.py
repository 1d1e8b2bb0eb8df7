"""Document types and workflow states: configured at run time by administrators."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dms.actor import Actor
from dms.audit import service as audit
from dms.counterparties.common import unique_or_conflict
from dms.documents.models import Document, DocumentStatus, DocumentType
from dms.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from dms.names import clean_name
from dms.serialise import DOCUMENT_STATUSES, queue_behind

CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
# Metadata a document type may require (the client's field names).
REQUIRABLE = {
    "counterparty": "counterparty_id",
    "case": "case_id",
    "receivedOn": "received_on",
    "source": "source",
    "description": "description",
    "tags": "tags",
}
#: The input field a client fills to give a required field.
_INPUT_FIELD = {"counterparty": "counterpartyId", "case": "caseId"}


@dataclass(frozen=True)
class StatusDefinition:
    code: str
    name: str


# In force until an administrator configures the workflow.
DEFAULT_STATUSES = (
    StatusDefinition("new", "Nowy"),
    StatusDefinition("in_progress", "W toku"),
    StatusDefinition("approved", "Zatwierdzony"),
    StatusDefinition("archived", "Zarchiwizowany"),
)


def _admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise PermissionDenied("only administrators configure document types and statuses")


def _code(value: str, field: str = "code") -> str:
    code = value.strip().lower()
    if not CODE.match(code):
        raise ValidationFailed("a code is lower-case letters, digits, - and _ (up to 64)", field=field)
    return code


def _required(fields: Sequence[str]) -> list[str]:
    unknown = sorted(set(fields) - set(REQUIRABLE))
    if unknown:
        raise ValidationFailed(
            f"cannot require {', '.join(unknown)}; choose from {', '.join(sorted(REQUIRABLE))}",
            field="requiredFields",
        )
    return list(dict.fromkeys(fields))


async def create_type(
    session: AsyncSession, actor: Actor, *, code: str, name: str, required_fields: Sequence[str] = ()
) -> DocumentType:
    _admin(actor)
    code = _code(code)
    if await session.scalar(select(DocumentType.id).where(DocumentType.code == code)):
        raise Conflict(f"a document type {code!r} exists", field="code")
    document_type = DocumentType(
        code=code, name=clean_name(name, field="name", max_length=200), required_fields=_required(required_fields)
    )
    async with unique_or_conflict(session, f"a document type {code!r} exists", field="code"):
        session.add(document_type)
    audit.record(session, actor, "document_type.created", object_type="DocumentType", object_id=document_type.id)
    return document_type


async def update_type(
    session: AsyncSession,
    actor: Actor,
    type_id: int,
    *,
    name: str | None = None,
    required_fields: Sequence[str] | None = None,
) -> DocumentType:
    """Rename or change what a type requires; documents already filed keep their metadata as it is."""
    _admin(actor)
    document_type = await session.get(DocumentType, type_id)
    if document_type is None:
        raise NotFound("no such document type", field="typeId")
    if name is not None:
        document_type.name = clean_name(name, field="name", max_length=200)
    if required_fields is not None:
        document_type.required_fields = _required(required_fields)
    audit.record(session, actor, "document_type.changed", object_type="DocumentType", object_id=type_id)
    return document_type


async def list_types(session: AsyncSession) -> list[DocumentType]:
    return list((await session.scalars(select(DocumentType).order_by(DocumentType.name, DocumentType.id))).all())


async def get_type(session: AsyncSession, type_id: int) -> DocumentType:
    """A document type, retired ones too: documents keep theirs."""
    kind = await session.get(DocumentType, type_id)
    if kind is None:
        raise NotFound("no such document type", field="typeId")
    return kind


async def statuses(session: AsyncSession) -> list[StatusDefinition]:
    rows = (await session.scalars(select(DocumentStatus).order_by(DocumentStatus.position, DocumentStatus.id))).all()
    return [StatusDefinition(row.code, row.name) for row in rows] or list(DEFAULT_STATUSES)


async def set_statuses(
    session: AsyncSession, actor: Actor, definitions: Sequence[StatusDefinition]
) -> list[StatusDefinition]:
    """Replace the workflow's states, in order. A state documents are in (trashed ones too)
    cannot be removed: they would be left in a state the workflow no longer has."""
    _admin(actor)
    if not definitions:
        raise ValidationFailed("the workflow needs at least one state", field="statuses")
    # Documents being given a status hold this key shared (`check_status`): the check below sees them.
    await queue_behind(session, DOCUMENT_STATUSES)
    codes = [_code(d.code, "statuses") for d in definitions]
    if len(set(codes)) != len(codes):
        raise ValidationFailed("each state code appears once", field="statuses")
    in_use = await session.execute(
        select(Document.status, func.count()).where(Document.status.not_in(codes)).group_by(Document.status)
    )
    stranded = sorted(f"{status!r} ({count})" for status, count in in_use.all())
    if stranded:
        raise Conflict(
            f"documents are in states this list drops: {', '.join(stranded)}; move them first", field="statuses"
        )
    await session.execute(delete(DocumentStatus))
    for position, (code, definition) in enumerate(zip(codes, definitions, strict=True)):
        try:
            name = clean_name(definition.name, field="name")
        except ValidationFailed as error:
            raise ValidationFailed(error.message, field=["statuses", str(position), "name"]) from error
        session.add(DocumentStatus(code=code, name=name, position=position))
    audit.record(session, actor, "document_statuses.set", codes=codes)
    return await statuses(session)  # as stored: codes lower-cased, names cleaned


async def check_status(session: AsyncSession, status: str) -> str:
    """The status, if the workflow has it; it keeps it until this transaction ends."""
    await queue_behind(session, DOCUMENT_STATUSES, shared=True)
    known = {definition.code for definition in await statuses(session)}
    if status not in known:
        raise ValidationFailed(f"unknown status {status!r}; use one of {', '.join(sorted(known))}", field="status")
    return status


async def initial_status(session: AsyncSession) -> str:
    await queue_behind(session, DOCUMENT_STATUSES, shared=True)
    return (await statuses(session))[0].code


async def check_type_and_requirements(
    session: AsyncSession, document: Document, *, changed: Collection[str] | None = None
) -> None:
    """The document's metadata has what its type requires.

    For an edit, `changed` names the attributes it changes: unless the type itself changes, only
    those are held to the requirements. A field an administrator made required later does not
    block edits of other fields of the documents filed before; it is asked for when they change
    type or clear it.
    """
    if document.document_type_id is None:
        return
    document_type = await session.get(DocumentType, document.document_type_id)
    if document_type is None:
        raise NotFound("no such document type", field="documentTypeId")
    judged = document_type.required_fields
    if changed is not None and "document_type_id" not in changed:
        judged = [field for field in judged if REQUIRABLE[field] in changed]
    missing = [field for field in judged if getattr(document, REQUIRABLE[field], None) in (None, "", [])]
    if missing:
        # The message names them all, so a client is not refused once per field; the field is
        # the first one's input field.
        raise ValidationFailed(
            f"a {document_type.name} needs {', '.join(missing)}", field=_INPUT_FIELD.get(missing[0], missing[0])
        )
