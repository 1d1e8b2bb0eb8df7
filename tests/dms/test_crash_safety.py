"""Bytes are stored before the row that points at them: a failed commit leaves only an orphan."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from dms.binders import service as binders
from dms.documents import service as documents
from dms.documents.models import Document, DocumentVersion
from dms.documents.uploads import IncomingFile
from dms.maintenance import DamagedVersion, check_blobs, collect_garbage, versions_of
from dms.uow import unit_of_work
from tests.dms.conftest import chunks_of, new_binder, new_document

CONTENT = b"bytes whose row never made it"


class CommitFailed(Exception):
    pass


async def test_a_commit_failing_after_the_put_leaves_an_orphan_that_gc_removes(services: Any, owner: Any) -> None:
    async with unit_of_work(services.db, services.blobs, write=True) as uow:
        binder = await binders.create_binder(uow.session, owner, "Umowy")
        await uow.commit()
    with pytest.raises(CommitFailed):
        async with unit_of_work(services.db, services.blobs, write=True) as uow:
            await documents.create_document(
                uow,
                owner,
                binder_id=binder.id,
                details=documents.DocumentDetails(title="Umowa"),
                source=IncomingFile("umowa.txt", chunks_of(CONTENT)),
                max_upload_bytes=1024,
            )
            raise CommitFailed  # the process dies between the put and the commit
    key = hashlib.sha256(CONTENT).hexdigest()
    assert await services.blobs.exists(key)
    async with services.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Document)) == 0
        assert await session.scalar(select(func.count()).select_from(DocumentVersion)) == 0
    assert (await check_blobs(services.db, services.blobs)).ok
    kept = await collect_garbage(services.db, services.blobs)
    assert kept.deleted == 0 and kept.too_young == 1
    report = await collect_garbage(services.db, services.blobs, grace=timedelta(0))
    assert report.deleted == 1
    assert not await services.blobs.exists(key)


async def test_gc_never_removes_bytes_a_version_points_at(services: Any, owner: Any, document_id: int) -> None:
    report = await collect_garbage(services.db, services.blobs, grace=timedelta(0))
    assert report.deleted == 0 and report.kept == 1
    assert (await check_blobs(services.db, services.blobs)).ok


async def test_fsck_reports_corrupt_and_missing_bytes(services: Any, owner: Any, document_id: int, settings) -> None:
    async with services.db.sessions() as session:
        version = await session.scalar(select(DocumentVersion).where(DocumentVersion.document_id == document_id))
    path = settings.data_dir / "blobs" / version.sha256[:2] / version.sha256[2:4] / version.sha256
    path.write_bytes(b"tampered")
    assert (await check_blobs(services.db, services.blobs)).corrupt == [version.sha256]
    path.unlink()
    assert (await check_blobs(services.db, services.blobs)).missing == [version.sha256]
    # The operator learns which documents to restore or check in again.
    async with services.db.sessions() as session:
        title = (await session.get(Document, document_id)).title
    assert await versions_of(services.db, [version.sha256]) == {
        version.sha256: [DamagedVersion(document_id, title, "1.0", trashed=False)]
    }


async def test_gc_forgets_the_cached_text_of_bytes_no_version_refers_to(services: Any, owner: Any, tmp_path) -> None:
    from dms.indexing.texts import TextCache
    from dms.maintenance import forget_unreferenced_texts
    from search.extraction import Extraction

    await new_document(services, owner, await new_binder(services, owner, "Kadry"), "Umowa", content=b"kept words")
    texts = TextCache(tmp_path / "texts")
    kept, purged = hashlib.sha256(b"kept words").hexdigest(), hashlib.sha256(b"purged words").hexdigest()
    for key in (kept, purged):
        texts.write(key, Extraction(f"text of {key}", "ok", None, False))

    assert await forget_unreferenced_texts(services.db, texts, grace=timedelta(0), dry_run=True) == 1
    assert texts.read(purged) is not None
    assert await forget_unreferenced_texts(services.db, texts, grace=timedelta(0)) == 1
    assert texts.read(purged) is None and texts.read(kept) is not None
    assert await forget_unreferenced_texts(services.db, texts, grace=timedelta(hours=1)) == 0  # too young
