"""Keeping database and blob store in agreement: gc (orphan blobs) and fsck (every version's bytes)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, select

from dms.documents.models import DocumentVersion, StagedUpload
from dms.uow import Database
from storage.base import BlobNotFound, BlobStore

Progress = Callable[[int], None]


@dataclass
class GcReport:
    examined: int = 0
    deleted: int = 0
    kept: int = 0


@dataclass
class FsckReport:
    checked: int = 0
    missing: list[str] = field(default_factory=list)
    corrupt: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.corrupt


async def _referenced(db: Database, key: str) -> bool:
    async with db.sessions() as session:
        in_versions = await session.scalar(select(DocumentVersion.id).where(DocumentVersion.sha256 == key).limit(1))
        if in_versions is not None:
            return True
        staged = await session.scalar(
            select(StagedUpload.id).where(StagedUpload.sha256 == key, StagedUpload.consumed_at.is_(None)).limit(1)
        )
        return staged is not None


async def collect_garbage(
    db: Database, blobs: BlobStore, *, dry_run: bool = False, progress: Progress | None = None
) -> GcReport:
    """Delete every blob no version points at. Each key is re-checked just before deletion, so a
    version committed while gc runs keeps its bytes (its blob was written before its row)."""
    report = GcReport()
    async for key in blobs.keys():
        report.examined += 1
        if await _referenced(db, key):
            report.kept += 1
        else:
            if not dry_run:
                await blobs.delete(key)
            report.deleted += 1
        if progress:
            progress(1)
    return report


async def count_versions_blobs(db: Database) -> int:
    async with db.sessions() as session:
        return int(await session.scalar(select(func.count(func.distinct(DocumentVersion.sha256)))) or 0)


async def check_blobs(db: Database, blobs: BlobStore, *, progress: Progress | None = None) -> FsckReport:
    """Re-hash the bytes of every referenced blob and report the missing and the corrupt ones."""
    report = FsckReport()
    last = ""
    while True:
        async with db.sessions() as session:
            keys = list(
                (
                    await session.scalars(
                        select(DocumentVersion.sha256)
                        .where(DocumentVersion.sha256 > last)
                        .group_by(DocumentVersion.sha256)
                        .order_by(DocumentVersion.sha256)
                        .limit(500)
                    )
                ).all()
            )
        if not keys:
            return report
        for key in keys:
            report.checked += 1
            digest = hashlib.sha256()
            try:
                async for chunk in await blobs.open(key):
                    digest.update(chunk)
            except BlobNotFound:
                report.missing.append(key)
            else:
                if digest.hexdigest() != key:
                    report.corrupt.append(key)
            if progress:
                progress(1)
        last = keys[-1]
