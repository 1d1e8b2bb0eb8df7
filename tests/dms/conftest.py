"""Fixtures for service-level tests: users, a binder and a document made through the services."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from dms.actor import SYSTEM, Actor
from dms.binders import service as binders
from dms.documents import service as documents
from dms.documents.uploads import IncomingFile
from dms.identity import service as identity
from dms.uow import unit_of_work


async def chunks_of(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def make_actor(db: Any, username: str, *, admin: bool = False) -> Actor:
    async with db.sessions() as session:
        user = await identity.create_user(session, SYSTEM, username, password="a long password", is_admin=admin)
        await session.commit()
        return Actor(user_id=user.id, username=username, is_admin=admin)


@pytest.fixture
async def owner(db: Any) -> Actor:
    return await make_actor(db, "owner", admin=True)


@pytest.fixture
async def document_id(services: Any, owner: Actor) -> int:
    async with unit_of_work(services.db, services.blobs, write=True) as uow:
        binder = await binders.create_binder(uow.session, owner, "Umowy")
        await uow.commit()
        binder_id = binder.id
    async with unit_of_work(services.db, services.blobs, write=True) as uow:
        document = await documents.create_document(
            uow,
            owner,
            binder_id=binder_id,
            details=documents.DocumentDetails(title="Umowa"),
            source=IncomingFile("umowa.txt", chunks_of(b"v1")),
            max_upload_bytes=1024,
        )
        await uow.commit()
        return document.id


async def new_binder(services: Any, actor: Actor, name: str) -> int:
    """A top-level binder made through the service; its id."""
    async with unit_of_work(services.db, services.blobs, write=True) as uow:
        binder = await binders.create_binder(uow.session, actor, name)
        await uow.commit()
        return binder.id


async def new_document(
    services: Any,
    actor: Actor,
    binder_id: int,
    title: str,
    counterparty_id: int | None = None,
    content: bytes | None = None,
) -> int:
    """A document added through the service (its "document added" event recorded); its id."""
    async with unit_of_work(services.db, services.blobs, write=True) as uow:
        document = await documents.create_document(
            uow,
            actor,
            binder_id=binder_id,
            details=documents.DocumentDetails(title=title, counterparty_id=counterparty_id),
            source=IncomingFile(f"{title}.txt", chunks_of(content if content is not None else title.encode())),
            max_upload_bytes=1024,
        )
        await uow.commit()
        return document.id
