"""Acts on whole cards that reach the documents filed on them: merging a card moves its documents,
deleting or restoring one decides whether they can still be filed, linked and worked on from it.
Any user may keep cards; such acts on a card holding documents they may not change are an
administrator's (or of someone who may change them all)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.access import Access
from dms.access import queries as access_sql
from dms.actor import Actor
from dms.documents.models import Document
from dms.errors import PermissionDenied


async def require_documents_writable(
    session: AsyncSession, actor: Actor, card_ids: Sequence[int], *, refusal: str, field: str
) -> None:
    """Refuse (`refusal`, naming `field`) unless the actor may change every document on the cards."""
    if actor.is_admin:
        return
    writable, _ = access_sql.documents_with_access(actor, Access.WRITE)
    beyond_reach = await session.scalar(
        select(Document.id)
        .where(
            Document.counterparty_id.in_(list(card_ids)),
            Document.id.not_in(writable.with_only_columns(Document.id)),
        )
        .limit(1)
    )
    if beyond_reach is not None:
        # Neither which documents nor how many: only that the act is not this user's to do.
        raise PermissionDenied(refusal, field=field)
