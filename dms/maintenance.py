"""Keeping database and blob store in agreement: gc (orphan blobs) and fsck (every version's bytes)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import anyio
from sqlalchemy import delete, func, select, text

from dms.base import utcnow
from dms.binders.models import Binder, BinderClosure
from dms.documents.models import Document, DocumentVersion, StagedUpload
from dms.indexing.texts import TextCache
from dms.uow import Database
from storage.base import BlobNotFound, BlobStore

Progress = Callable[[int], None]

# Longer than any upload takes between storing its bytes and committing its version row.
DEFAULT_GRACE = timedelta(hours=1)


@dataclass
class GcReport:
    examined: int = 0
    deleted: int = 0
    kept: int = 0
    too_young: int = 0
    expired_uploads: int = 0
    leftovers: int = 0
    texts: int = 0


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


async def _forget_expired_uploads(db: Database, *, dry_run: bool) -> int:
    """Staged uploads nobody used in time: their rows go; their bytes become ordinary orphans."""
    async with db.write_sessions() as session:
        expired = StagedUpload.expires_at < utcnow()
        unused = StagedUpload.consumed_at.is_(None)
        count = int(await session.scalar(select(func.count()).select_from(StagedUpload).where(expired, unused)) or 0)
        if not dry_run and count:
            await session.execute(delete(StagedUpload).where(expired, unused))
            await session.commit()
        return count


async def collect_garbage(
    db: Database,
    blobs: BlobStore,
    *,
    grace: timedelta = DEFAULT_GRACE,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> GcReport:
    """Delete every blob no version (nor live staged upload) points at.

    Bytes are written before the row that points at them commits, so a blob younger than `grace`
    may belong to a version being saved right now: it is kept for a later run. Each older key is
    re-checked just before deletion. Leftovers of interrupted writes older than `grace` go too.
    """
    report = GcReport()
    report.expired_uploads = await _forget_expired_uploads(db, dry_run=dry_run)
    cutoff = utcnow() - grace
    async for key in blobs.keys():
        report.examined += 1
        if progress:
            progress(1)
        if await _referenced(db, key):
            report.kept += 1
            continue
        modified_at = (await blobs.stat(key)).modified_at
        if modified_at is None or modified_at > cutoff:
            report.too_young += 1
            continue
        if not dry_run:
            await blobs.delete(key)
        report.deleted += 1
    report.leftovers = await blobs.purge_stale(grace, keep=await _waiting_uploads(db), dry_run=dry_run)
    return report


async def _waiting_uploads(db: Database) -> set[str]:
    """The keys of staged uploads that may still be used: their bytes wait in staging."""
    async with db.sessions() as session:
        waiting = select(StagedUpload.staging_key).where(
            StagedUpload.consumed_at.is_(None), StagedUpload.expires_at >= utcnow()
        )
        return set((await session.scalars(waiting)).all())


async def looks_unrelated(db: Database, blobs: BlobStore) -> bool:
    """Whether the database refers to no bytes at all while the store holds some: most likely a
    database other than the store's (a new, empty one), against which every blob is garbage."""
    if await count_versions_blobs(db) > 0 or await _waiting_uploads(db):
        return False
    async for _key in blobs.keys():
        return True
    return False


async def count_versions_blobs(db: Database) -> int:
    async with db.sessions() as session:
        return int(await session.scalar(select(func.count(func.distinct(DocumentVersion.sha256)))) or 0)


@dataclass(frozen=True)
class DamagedVersion:
    """A version whose bytes fsck found missing or corrupt, as an operator looks it up."""

    document_id: int
    title: str
    number: str
    trashed: bool


async def versions_of(db: Database, keys: Sequence[str]) -> dict[str, list[DamagedVersion]]:
    """The versions (of any document, trashed ones too) whose bytes are each of `keys`."""
    found: dict[str, list[DamagedVersion]] = {key: [] for key in keys}
    if not keys:
        return found
    async with db.sessions() as session:
        rows = await session.execute(
            select(DocumentVersion, Document.title, Document.trashed_at)
            .join(Document, Document.id == DocumentVersion.document_id)
            .where(DocumentVersion.sha256.in_(list(keys)))
            .order_by(DocumentVersion.document_id, DocumentVersion.major, DocumentVersion.minor)
        )
        for version, title, trashed_at in rows.all():
            found[version.sha256].append(
                DamagedVersion(version.document_id, title, version.number, trashed_at is not None)
            )
    return found


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


async def database_problems(db: Database) -> list[str]:
    """What is wrong with the database itself: SQLite's own check of its file (a backup restored
    over a crashed server's leftover WAL mixes two databases), and a binder tree whose stored
    ancestors or paths disagree with its parents (access is inherited through those ancestors)."""
    problems: list[str] = []
    async with db.sessions() as session:
        if db.dialect == "sqlite":
            checked = [row[0] for row in (await session.execute(text("PRAGMA quick_check"))).all()]
            problems += [f"database file: {line}" for line in checked if line != "ok"]
        rows = (await session.execute(select(Binder.id, Binder.parent_id, Binder.name, Binder.path))).all()
        stored = set((await session.execute(select(BinderClosure.ancestor_id, BinderClosure.descendant_id))).all())
    parents = {binder_id: parent_id for binder_id, parent_id, _name, _path in rows}
    names = {binder_id: name for binder_id, _parent, name, _path in rows}
    expected: set[tuple[int, int]] = set()
    for binder_id, _parent, _name, path in rows:
        chain = [binder_id]
        while (parent := parents.get(chain[-1])) is not None and parent not in chain and len(chain) <= len(rows):
            chain.append(parent)
        if parent is not None:
            problems.append(f"binder {binder_id}: its parents form a cycle")
            continue
        expected.update((ancestor, binder_id) for ancestor in chain)
        built = "".join(f"/{names[link]}" for link in reversed(chain))
        if path != built:
            problems.append(f"binder {binder_id}: stored path {path!r}, its parents make {built!r}")
    for ancestor, descendant in sorted(expected - stored):
        problems.append(f"binder {descendant}: missing ancestor {ancestor}")
    for ancestor, descendant in sorted(stored - expected):
        if descendant in parents and ancestor in parents:
            problems.append(f"binder {descendant}: stray ancestor {ancestor}, which grants its access")
    return problems


#: Cached texts looked up in the database at a time.
_TEXT_BATCH = 500


async def forget_unreferenced_texts(
    db: Database, texts: TextCache, *, grace: timedelta = DEFAULT_GRACE, dry_run: bool = False
) -> int:
    """Delete the cached texts of bytes no version refers to any more (a purged document's words
    would otherwise stay on disk for good); how many."""
    older_than = (utcnow() - grace).timestamp()
    keys = await anyio.to_thread.run_sync(lambda: list(texts.keys(older_than=older_than)))
    forgotten = 0
    for start in range(0, len(keys), _TEXT_BATCH):
        batch = keys[start : start + _TEXT_BATCH]
        async with db.sessions() as session:
            used = set(
                (await session.scalars(select(DocumentVersion.sha256).where(DocumentVersion.sha256.in_(batch)))).all()
            )
        unused = [key for key in batch if key not in used]
        if not dry_run:
            await anyio.to_thread.run_sync(lambda unused=unused: [texts.forget(key) for key in unused])
        forgotten += len(unused)
    return forgotten
