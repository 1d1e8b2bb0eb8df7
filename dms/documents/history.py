"""Recording what happened to a document, in its history (and the audit log where it matters)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dms.actor import Actor
from dms.documents.models import DocumentHistoryEntry


def add(
    session: AsyncSession,
    document_id: int,
    action: str,
    actor: Actor | None,
    *,
    version_id: int | None = None,
    **details: Any,
) -> None:
    session.add(
        DocumentHistoryEntry(
            document_id=document_id,
            action=action,
            actor_id=actor.user_id if actor and actor.user_id else None,
            version_id=version_id,
            details=details,
        )
    )
