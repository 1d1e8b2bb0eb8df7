"""The one indexer: drains the outbox into the search index, and rebuilds the index when it must.

It is the only writer of the index (Whoosh allows one). An outbox row is deleted only after the index
commit that reflects it; applying a row twice is harmless (upsert by id, delete of a missing id).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import anyio
from sqlalchemy import delete, func, select, update

from dms.base import utcnow
from dms.documents.models import Document, DocumentVersion
from dms.indexing.directory import DirectoryIndexer
from dms.indexing.rebuilds import swapped_in_when_done
from dms.indexing.records import IndexSource, record_of, sources_for
from dms.indexing.texts import TextCache
from dms.outbox import service as outbox
from dms.outbox.models import OutboxEntry
from dms.uow import Database
from search.engine import IndexRebuilding, IndexUnavailable
from search.extraction import Extraction, Extractor
from search.formats import can_extract, extractor_version
from search.records import IndexRecord
from search.service import AsyncSearchEngine
from storage.base import BlobNotFound, BlobStore, StorageUnavailable

log = logging.getLogger("kartoteka.indexer")
#: Extraction outcomes that leave a file's words out of search although it has some.
_UNREAD = frozenset({"failed", "too_large", "timeout"})

_MISSING_BYTES = Extraction("", "failed", "the file's bytes are missing from storage")

Progress = Callable[[int], None]

#: Documents whose text is fetched (cache, storage, extraction) at the same time.
TEXT_CONCURRENCY = 4


@dataclass
class DrainReport:
    entries: int = 0
    indexed: int = 0
    removed: int = 0
    #: The drain's turn ended with entries perhaps left (see `Indexer.drain`).
    unfinished: bool = False


@dataclass
class _Batch:
    entry_ids: list[int]
    records: list[IndexRecord]
    gone: list[int]

    @property
    def last_entry_id(self) -> int:
        return max(self.entry_ids)


@dataclass
class _RebuildBatch:
    ids: list[int]
    records: list[IndexRecord]


B = TypeVar("B")


async def overlapped(
    first: Callable[[], Awaitable[B | None]],
    following: Callable[[B], Awaitable[B | None]],
    write: Callable[[B], Awaitable[None]],
) -> None:
    """Write batches one at a time and in order, each next batch prepared while the previous one is written.

    Preparing a batch (reading the database, fetching, extracting and caching text) mostly waits,
    on storage, the extraction workers and the disk, while an index write mostly computes in the
    writer processes: overlapping the two keeps the machine busy.
    """
    batch = await first()
    while batch is not None:
        writing = asyncio.ensure_future(write(batch))
        try:
            upcoming = await following(batch)
        finally:
            # An index write is never abandoned halfway because preparing the next batch failed.
            await asyncio.wait([writing])
        writing.result()
        batch = upcoming


#: How long the indexer's loop drains one outbox (documents; cards and events) before the other's turn.
TURN_SECONDS = 2.0

#: The longest wait between two attempts while indexing keeps failing (a database or storage outage).
MAX_BACKOFF_SECONDS = 30.0


async def _first_of(*events: asyncio.Event, seconds: float) -> None:
    """Wait until any of `events` is set, or `seconds` have passed."""
    waits = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()


@dataclass
class Indexer:
    db: Database
    blobs: BlobStore
    engine: AsyncSearchEngine
    extractor: Extractor
    texts: TextCache
    # A backlog goes in big batches: each Whoosh commit writes segments that later merges cost
    # again, so fewer, bigger commits index several times faster (see search.whoosh_engine's
    # BATCH_SIZE). The text budget bounds the memory a batch holds (one document may carry up to
    # 2 M characters).
    batch_size: int = 4000
    batch_text_chars: int = 32_000_000
    # A drain's first batch is smaller: nothing is being written while it is prepared.
    first_batch_size: int = 1000
    # Counterparty cards and events (their own indexes and outbox), drained after the documents.
    directory: DirectoryIndexer | None = None
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _failures: int = 0

    def wake(self) -> None:
        """Something was committed: look at the outbox now rather than at the next poll."""
        self._wake.set()

    async def _text_of(self, version: DocumentVersion) -> Extraction:
        if not can_extract(version.mime_type):
            # Nothing to read: do not fetch the bytes (a whole S3 GET) only to drop them.
            return Extraction("", "unsupported", f"no text extractor for {version.mime_type}")
        extractor = extractor_version(version.mime_type)
        try:
            local = await self.blobs.local_path(version.sha256)
        except BlobNotFound:
            # An older extractor's text is better than none once the bytes are gone.
            return await self.texts.get(version.sha256) or _MISSING_BYTES
        if local is not None:
            # One worker thread looks in the cache, extracts and caches: a backlog's documents
            # each cost one hop to a thread instead of three.
            return await anyio.to_thread.run_sync(self._local_text, version.sha256, local, version.mime_type, extractor)
        cached = await self.texts.get(version.sha256, extractor=extractor)
        if cached is not None:
            return cached
        try:
            source = await self.blobs.open(version.sha256)
        except BlobNotFound:
            return await self.texts.get(version.sha256) or _MISSING_BYTES
        extraction = await self.extractor.extract_async(source, version.mime_type)
        await self.texts.put(version.sha256, extraction, extractor=extractor)
        return extraction

    def _local_text(self, sha256: str, path: Path, mime_type: str, extractor: int) -> Extraction:
        """The text of a blob this machine holds as a file, read by the extraction worker itself."""
        cached = self.texts.read(sha256, extractor=extractor)
        if cached is not None:
            return cached
        extraction = self.extractor.extract(path, mime_type)
        self.texts.write(sha256, extraction, extractor=extractor)
        return extraction

    async def records(self, sources: dict[int, IndexSource], *, text_budget: int | None = None) -> list[IndexRecord]:
        """Index records with extracted text; a version's changed extraction outcome is saved on it.

        With `text_budget`, stops after the record that takes the text past it (at least one record).
        """
        records = []
        changed: dict[int, Extraction] = {}
        chars = 0
        pending = list(sources.values())
        while pending and not (text_budget is not None and records and chars >= text_budget):
            # A few at a time: one document's cache lookup and write overlap another's extraction.
            window, pending = pending[:TEXT_CONCURRENCY], pending[TEXT_CONCURRENCY:]
            extractions = await asyncio.gather(*(self._text_of(source.version) for source in window))
            for source, extraction in zip(window, extractions, strict=True):
                if text_budget is not None and records and chars >= text_budget:
                    break  # extracted all the same: the cache keeps it for the next batch
                if source.version.extraction_status != extraction.status:
                    changed[source.version.id] = extraction
                    if extraction.status in _UNREAD:
                        # Searchable by its metadata only: an operator may want to know (once).
                        log.warning(
                            "a document's text could not be read",
                            extra={
                                "document_id": source.version.document_id,
                                "version_id": source.version.id,
                                "status": extraction.status,
                                "error": extraction.error,
                            },
                        )
                records.append(record_of(source, extraction.text, extraction.status))
                chars += len(extraction.text)
        if changed:
            async with self.db.write_sessions() as session:
                # One statement for the batch (executemany by primary key), not one per version.
                await session.execute(
                    update(DocumentVersion),
                    [
                        {
                            "id": version_id,
                            "extraction_status": outcome.status,
                            "extraction_error": outcome.error or None,
                        }
                        for version_id, outcome in changed.items()
                    ],
                )
                await session.commit()
        return records

    async def drain_once(self) -> DrainReport:
        """Apply one batch of outbox entries; returns what it did (0 entries: the outbox is empty)."""
        batch = await self._prepare()
        if batch is None:
            return DrainReport()
        return await self._apply(batch)

    async def drain(self, *, turn_seconds: float | None = None) -> DrainReport:
        """Apply outbox entries until none are left, each batch prepared while the previous one is written.

        With `turn_seconds`, no batch starts after that long (the report says `unfinished`): while
        documents keep arriving the outbox is never empty, and the cards' and events' outbox,
        drained in the same loop, waited minutes for its turn.
        """
        total = DrainReport()
        ends = None if turn_seconds is None else time.monotonic() + turn_seconds

        async def write(batch: _Batch) -> None:
            report = await self._apply(batch)
            total.entries += report.entries
            total.indexed += report.indexed
            total.removed += report.removed

        async def following(previous: _Batch) -> _Batch | None:
            if ends is not None and time.monotonic() >= ends:
                total.unfinished = True
                return None
            return await self._prepare(after=previous.last_entry_id)

        await overlapped(lambda: self._prepare(limit=min(self.first_batch_size, self.batch_size)), following, write)
        return total

    async def _prepare(self, *, after: int = 0, limit: int | None = None) -> _Batch | None:
        """The next batch of outbox entries (ids above `after`) with their index records, or None."""
        async with self.db.sessions() as session:
            entries = (
                await session.execute(
                    select(OutboxEntry.id, OutboxEntry.document_id)
                    .where((OutboxEntry.not_before.is_(None)) | (OutboxEntry.not_before <= utcnow()))
                    .where(OutboxEntry.id > after)
                    .order_by(OutboxEntry.id)
                    .limit(limit or self.batch_size)
                )
            ).all()
            if not entries:
                return None
            document_ids = sorted({document_id for _, document_id in entries})
            sources = dict(sorted((await sources_for(session, document_ids)).items()))
        records = await self.records(sources, text_budget=self.batch_text_chars)
        if len(records) < len(sources):
            # Over the text budget: this batch ends at the last document it holds; the rest wait.
            last = records[-1].document_id
            document_ids = [document_id for document_id in document_ids if document_id <= last]
            entries = [entry for entry in entries if entry[1] <= last]
        gone = [document_id for document_id in document_ids if document_id not in sources]
        return _Batch([entry_id for entry_id, _ in entries], records, gone)

    async def _apply(self, batch: _Batch) -> DrainReport:
        """Write a batch to the index, then remove its outbox entries."""
        if batch.records:
            await self.engine.upsert(batch.records)
        if batch.gone:
            await self.engine.delete(batch.gone)
        async with self.db.write_sessions() as session:
            await session.execute(delete(OutboxEntry).where(OutboxEntry.id.in_(batch.entry_ids)))
            await session.commit()
        return DrainReport(entries=len(batch.entry_ids), indexed=len(batch.records), removed=len(batch.gone))

    async def _after_failure(self, error: Exception, poll_seconds: float, stop: asyncio.Event) -> None:
        """Put off the failing batch and wait, longer after each failure in a row (up to
        `MAX_BACKOFF_SECONDS`): the cause may be the database itself, down for a while, and the
        loop must outlive it rather than end with the first error it meets while reporting one."""
        self._failures += 1
        try:
            await self._postpone(error)
        except Exception as postponing:
            log.warning(
                "indexing waits for the database to come back",
                extra={"error": str(postponing).splitlines()[0] if str(postponing) else type(postponing).__name__},
            )
        # A shutdown does not wait the back-off out.
        await _first_of(stop, seconds=min(poll_seconds * 2 ** min(self._failures, 16), MAX_BACKOFF_SECONDS))

    async def _postpone(self, error: Exception) -> None:
        """A failing batch waits a little, so one bad moment does not spin the loop."""
        async with self.db.write_sessions() as session:
            await outbox.postpone_oldest(session, OutboxEntry, error)
            await session.commit()

    async def rebuild(self, *, progress: Progress | None = None, batch: int | None = None, resume: bool = False) -> int:
        """Build a fresh index from the database and storage beside the live one, then swap it in;
        the number of documents it holds.

        Streams documents in keyset batches (ascending ids), so memory stays bounded whatever the
        archive's size, each batch prepared while the previous one is written. With `resume`, a
        rebuild that was interrupted goes on after the last document it committed. Changes
        committed meanwhile stay in the outbox, applied after the swap.
        """
        batch = batch or self.batch_size
        rebuild = await self.engine.begin_rebuild(resume=resume)
        done = 0
        last_id = await rebuild.resumed_after() if resume else 0
        if last_id:
            # What the interrupted run indexed counts too: the result is the documents indexed.
            async with self.db.sessions() as session:
                already = await session.scalar(
                    select(func.count())
                    .select_from(Document)
                    .where(Document.id <= last_id, Document.trashed_at.is_(None))
                )
            done = int(already or 0)
            if progress:
                progress(done)

        async def prepare(after: int, limit: int) -> _RebuildBatch | None:
            async with self.db.sessions() as session:
                ids = list(
                    (
                        await session.scalars(
                            select(Document.id)
                            .where(Document.id > after, Document.trashed_at.is_(None))
                            .order_by(Document.id)
                            .limit(limit)
                        )
                    ).all()
                )
                if not ids:
                    return None
                sources = dict(sorted((await sources_for(session, ids)).items()))
            records = await self.records(sources, text_budget=self.batch_text_chars)
            if len(records) < len(sources):
                # Over the text budget: the next batch starts after the last document held.
                ids = [document_id for document_id in ids if document_id <= records[-1].document_id]
            return _RebuildBatch(ids, records)

        async def write(prepared: _RebuildBatch) -> None:
            nonlocal done
            await rebuild.upsert(prepared.records)
            done += len(prepared.records)
            if progress:
                progress(len(prepared.ids))

        async with swapped_in_when_done(rebuild):
            await overlapped(
                lambda: prepare(last_id, min(self.first_batch_size, batch)),
                lambda previous: prepare(previous.ids[-1], batch),
                write,
            )
        log.info("index rebuilt", extra={"documents": done})
        return done

    async def heal_if_needed(self) -> bool:
        """Rebuild when the index is missing, unreadable or of an older schema; True when it did.

        The directory indexes are healed first (they are small); the answer is about documents.
        """
        if self.directory is not None:
            await self.directory.heal_if_needed()
        if not await self.engine.needs_rebuild():
            return False
        # A new data directory or an upgrade: expected, so not a warning.
        log.info("building the search index from the database (it was missing, unreadable or older)")
        await self.rebuild()
        return True

    async def run(self, *, poll_seconds: float = 0.5, stop: asyncio.Event | None = None) -> None:
        """Drain the outbox until stopped, healing the index first and whenever it breaks."""
        stop = stop or asyncio.Event()
        while not stop.is_set():
            unfinished = False
            try:
                await self.heal_if_needed()
                # Documents, then cards and events, a turn each: neither outbox waits on the other's flood.
                if not stop.is_set():
                    unfinished = (await self.drain(turn_seconds=TURN_SECONDS)).unfinished
                if self.directory is not None and not stop.is_set():
                    unfinished = await self.directory.drain(turn_seconds=TURN_SECONDS) or unfinished
                if not unfinished and not stop.is_set():
                    await self.engine.settle()
            except (IndexRebuilding, IndexUnavailable) as error:
                log.warning("search index unavailable; will rebuild", extra={"error": str(error)})
                await asyncio.sleep(poll_seconds)
                continue
            except (StorageUnavailable, OSError) as error:
                log.error("indexing failed; retrying", extra={"error": str(error)})
                await self._after_failure(error, poll_seconds, stop)
            except Exception as error:
                log.exception("indexing failed; retrying")
                await self._after_failure(error, poll_seconds, stop)
            else:
                self._failures = 0
            if unfinished:
                continue  # the other outbox had its turn; this one goes on at once
            self._wake.clear()
            await _first_of(self._wake, stop, seconds=poll_seconds)

    async def pending(self) -> int:
        async with self.db.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(OutboxEntry)) or 0)
