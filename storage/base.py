"""The blob-store interface: immutable bytes addressed by their SHA-256.

Everything above ``storage/`` sees only what is defined here; whether the bytes live in a
directory or a bucket is decided once, in :func:`storage.factory.open_blob_store`.
"""

import asyncio
import hashlib
import logging
import re
import threading
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Protocol, Self, runtime_checkable
from urllib.parse import quote

from anyascii import anyascii
from anyio import to_thread

log = logging.getLogger("kartoteka.storage")

#: Size of the pieces bytes are read, hashed and written in: large enough to keep
#: per-chunk overhead (thread hops, syscalls) negligible, small enough to bound memory.
CHUNK_SIZE = 1024 * 1024
#: Pieces a :class:`BlobStream` reads ahead of its consumer: enough that the reader never
#: waits for the consumer to come back for the next piece; each is memory held per download.
READ_AHEAD = 2
#: Pieces a reading thread reads before it goes back to the pool (another is sent at once if
#: there is room): a fast download does not keep a thread from everything else for its whole length.
PIECES_PER_TURN = 8

_KEY = re.compile(r"[0-9a-f]{64}")
# App-chosen names of staged uploads: no slashes, no leading dot (dot names are ours).
_UPLOAD_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


@dataclass(frozen=True)
class StoredBlob:
    """A blob as stored: its key is its SHA-256 (lowercase hex), so ``key == sha256``."""

    key: str
    size: int
    sha256: str
    # When the bytes were last written (or re-written as a duplicate): gc spares young blobs,
    # whose version row may not be committed yet. None where a backend cannot tell.
    modified_at: datetime | None = field(default=None, compare=False)


@dataclass(frozen=True)
class FileDigest:
    """The SHA-256 and size of a local file's content, taken by whoever wrote the file as they did
    (the web layer, receiving an upload): storing the file then need not read it to hash it."""

    sha256: str
    size: int


class StorageError(Exception):
    """Base of every refusal or failure the blob store reports."""


class BlobNotFound(StorageError):
    """No blob (or staged upload) is stored under this key."""

    def __init__(self, key: str) -> None:
        super().__init__(f"no blob stored under {key}")
        self.key = key


class BlobTooLarge(StorageError):
    """The bytes exceeded the allowed size; nothing was stored."""

    def __init__(self, max_size: int) -> None:
        super().__init__(f"blob exceeds the limit of {max_size} bytes")
        self.max_size = max_size


class BlobHashMismatch(StorageError, ValueError):
    """The bytes' SHA-256 is not the one announced; nothing was stored."""

    def __init__(self, expected: str, actual: str) -> None:
        super().__init__(f"SHA-256 mismatch: expected {expected}, got {actual}")
        self.expected = expected
        self.actual = actual


class BlobSizeMismatch(StorageError, ValueError):
    """A staged upload's size is not the one announced; nothing was stored."""

    def __init__(self, expected: int, actual: int) -> None:
        super().__init__(f"size mismatch: expected {expected} bytes, got {actual}")
        self.expected = expected
        self.actual = actual


class RangeNotSatisfiable(StorageError, ValueError):
    """The requested range starts at or beyond the end of the blob (HTTP 416)."""

    def __init__(self, key: str, byte_range: tuple[int, int]) -> None:
        super().__init__(f"range {byte_range[0]}-{byte_range[1]} lies beyond the end of blob {key}")
        self.key = key
        self.byte_range = byte_range


class StorageUnavailable(StorageError):
    """The backend cannot be used right now; the message is one line naming the reason."""

    def __init__(self, reason: str) -> None:
        # Reasons often embed library messages; keep them on one line for logs and health output.
        super().__init__(" ".join(reason.split()))


class BlobStream(AsyncIterator[bytes]):
    """The bytes of a blob (or of a range of it), in pieces of at most CHUNK_SIZE.

    A worker thread reads the pieces one after another, up to ``read_ahead`` of them ahead of
    the caller, and hands each over as soon as it is read: reading (from a disk or a bucket)
    and the caller's handling (sending to a client, say) overlap, and no piece waits for a
    round trip between the thread and the event loop before the next read starts. When
    ``read_ahead`` pieces wait for the caller, the thread goes back to the pool, so a slow
    client holds that much memory and no thread.

    The stream owns an open file or HTTP response and releases it once: when the bytes run
    out, when reading fails, on :meth:`aclose` (or leaving ``async with``), and, as a last
    resort, when it is garbage collected unread — always after a read in flight has finished,
    never under it (the reading thread releases it itself when it was closed meanwhile).
    """

    def __init__(
        self,
        read: Callable[[], bytes],
        release: Callable[[], None],
        *,
        size: int | None = None,
        read_ahead: int = READ_AHEAD,
    ) -> None:
        if read_ahead < 1:
            raise ValueError("read_ahead must be at least 1")
        #: How many bytes the storage says it holds for this stream (None: it did not say).
        self.size = size
        self._read = read  # blocking; returns b"" at the end
        self._release = release
        self._pieces: deque[bytes | BaseException] = deque()  # read, not yet taken
        self._arrival: asyncio.Future[None] | None = None  # the caller waiting for a piece
        self._reader: asyncio.Future[None] | None = None  # referenced, so the task is not collected
        # Shared with the reading thread, under the lock:
        self._lock = threading.Lock()
        self._room = read_ahead  # reads allowed before the caller takes a piece
        self._reading = False
        self._finished = False  # the end was read, or reading failed
        self._open = True
        self._released = False

    async def __anext__(self) -> bytes:
        if not self._open:
            raise StopAsyncIteration
        self._start_reading()
        try:
            while not self._pieces:
                self._arrival = asyncio.get_running_loop().create_future()
                await self._arrival
        except BaseException:
            self._close()
            raise
        finally:
            self._arrival = None
        piece = self._pieces.popleft()
        if isinstance(piece, BaseException):
            self._close()
            raise piece
        if not piece:
            self._close()
            raise StopAsyncIteration
        with self._lock:
            self._room += 1
        self._start_reading()
        return piece

    def prefetch(self) -> None:
        """Start reading ahead now, before the first piece is asked for (the caller has other
        work to do first, and the first pieces will be wanted)."""
        if self._open:
            self._start_reading()

    async def aclose(self) -> None:
        """Stop reading and release the file or connection (now, or when a read in flight ends)."""
        self._close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._close()

    def _start_reading(self) -> None:
        with self._lock:
            if self._reading or self._finished or not self._open or self._room == 0:
                return
            self._reading = True
        loop = asyncio.get_running_loop()
        self._reader = asyncio.ensure_future(to_thread.run_sync(self._read_ahead, loop))
        self._reader.add_done_callback(self._reader_done)

    def _read_ahead(self, loop: asyncio.AbstractEventLoop) -> None:
        """Worker thread: read while there is room, for at most PIECES_PER_TURN pieces.

        Failures of reads travel as pieces to the caller. The thread then goes back to the pool,
        and :meth:`_reader_done` sends another if there is room: a long download does not keep a
        thread from all other work for its whole length.
        """
        release = False
        try:
            for _ in range(PIECES_PER_TURN):
                with self._lock:
                    # Deciding to stop and saying so happen under one hold of the lock: a caller
                    # who makes room meanwhile sees either this thread going on or none reading.
                    if not self._open or self._room == 0:
                        release = self._stop_reading()
                        return
                    self._room -= 1
                try:
                    piece: bytes | BaseException = self._read()
                except BaseException as exc:  # handed to the caller, who raises it
                    piece = exc
                if isinstance(piece, BaseException) or not piece:
                    # Nothing more will be read: the source goes before the caller hears of its end.
                    with self._lock:
                        self._finished = True
                        release = self._release_due()
                    if release:
                        release = False
                        self._release()
                    loop.call_soon_threadsafe(self._arrived, piece)
                    break
                loop.call_soon_threadsafe(self._arrived, piece)
            with self._lock:
                release = self._stop_reading()
        except BaseException:
            with self._lock:
                release = self._stop_reading()
            raise
        finally:
            if release:
                self._release()

    def _stop_reading(self) -> bool:
        """Under the lock: no thread reads any more; whether releasing the source falls to the
        caller now (the stream was closed while this thread was reading)."""
        self._reading = False
        return self._release_due()

    def _release_due(self) -> bool:
        """Under the lock: whether the source is to be released now (by the caller of this)."""
        due = (not self._open or self._finished) and not self._released
        self._released = self._released or due
        return due

    def _reader_done(self, reader: "asyncio.Future[None]") -> None:
        if reader.cancelled():
            # Cancelled before its thread ran (only when the event loop shuts down).
            with self._lock:
                release = self._stop_reading()
            if release:
                self._release()
            return
        # Read failures reach the caller as pieces; anything else (releasing the source failed) is logged.
        if (failure := reader.exception()) is not None:
            log.warning("a blob stream's reading thread failed", exc_info=failure)
        self._start_reading()  # the thread's turn may simply be over

    def _arrived(self, piece: bytes | BaseException) -> None:
        if not self._open:
            return
        self._pieces.append(piece)
        if self._arrival is not None and not self._arrival.done():
            self._arrival.set_result(None)

    def _close(self) -> None:
        with self._lock:
            if not self._open:
                return
            self._open = False
            # A read in flight finishes first; its thread then releases the source.
            release = not self._reading and self._release_due()
        self._pieces.clear()
        if release:
            self._release()

    def __del__(self) -> None:
        try:
            self._close()
        except Exception:  # noqa: S110 - nothing sensible to do while being collected
            pass


@runtime_checkable
class BlobStore(Protocol):
    """Content-addressed, immutable blob storage.

    Bytes always stream: no method holds a whole blob in memory. Every method may raise
    :class:`StorageUnavailable` when the backend cannot be reached or written.
    """

    async def put(
        self,
        chunks: AsyncIterable[bytes],
        *,
        max_size: int | None = None,
        expected_sha256: str | None = None,
    ) -> StoredBlob:
        """Store the bytes of ``chunks`` under their SHA-256 and describe them.

        Hashes while streaming. Storing bytes that are already stored keeps one copy.
        Raises :class:`BlobTooLarge` as soon as more than ``max_size`` bytes arrive and
        :class:`BlobHashMismatch` when ``expected_sha256`` differs; on those, on any error
        of ``chunks`` and on cancellation, nothing is left behind.
        """
        ...

    async def put_file(
        self,
        file: BinaryIO,
        *,
        max_size: int | None = None,
        expected_sha256: str | None = None,
        digest: FileDigest | None = None,
    ) -> StoredBlob:
        """Store the whole content of a local, seekable file (from its start) like :meth:`put`.

        For bytes already on local disk (a spooled multipart upload): the hash can be taken
        before anything is written, so a backend may write the blob straight under its key,
        in parallel parts, and skip writing bytes it already holds. A ``digest`` taken while
        the file was written stands for that hash, and the file is not read for it. The file
        is read from worker threads and must not change meanwhile; it is left open. Raises
        what :meth:`put` raises, leaving nothing behind.
        """
        ...

    async def open(self, key: str, byte_range: tuple[int, int] | None = None) -> BlobStream:
        """Stream a blob, or only the inclusive ``(first, last)`` byte range of it, like HTTP.

        Raises :class:`BlobNotFound` (on await, before any byte is read) when the blob is
        missing and :class:`RangeNotSatisfiable` when ``first`` lies beyond the end; a
        ``last`` beyond the end is clamped. The stream's ``size`` is how many bytes the
        storage will send, when it says. Callers that stop early should ``aclose()``
        the stream (or use ``async with``) to release the file or connection promptly.
        """
        ...

    async def local_path(self, key: str) -> Path | None:
        """The blob's own file on this machine, for another process to read (text extraction),
        or None when the backend keeps none (S3; nothing is checked then).

        Raises :class:`BlobNotFound` when the file is missing. The file must only be read.
        """
        ...

    async def stat(self, key: str) -> StoredBlob:
        """Describe a stored blob; :class:`BlobNotFound` when it is missing."""
        ...

    async def exists(self, key: str) -> bool:
        """Whether a blob is stored under ``key``."""
        ...

    async def delete(self, key: str) -> None:
        """Remove a blob; removing a missing blob is not an error."""
        ...

    def keys(self) -> AsyncIterator[str]:
        """Stream every stored key (in no promised order), for garbage collection."""
        ...

    async def presigned_get_url(
        self,
        key: str,
        *,
        expires: timedelta,
        filename: str | None = None,
        content_type: str | None = None,
    ) -> str | None:
        """A URL that downloads the blob (honouring ``Range``) until ``expires`` passes.

        ``filename`` becomes an attachment Content-Disposition and ``content_type`` the
        response's Content-Type. Returns None when the backend cannot sign URLs: the app
        then signs and serves the bytes itself. Does not check that the blob exists.
        """
        ...

    async def presigned_put_url(self, upload_key: str, *, expires: timedelta) -> str | None:
        """A URL a client can PUT a big file to, staged under ``upload_key``.

        Returns None when the backend has no staging area: the app then receives the
        bytes itself and calls :meth:`put`. Finish with :meth:`adopt_staged`.
        """
        ...

    async def adopt_staged(
        self,
        upload_key: str,
        *,
        max_size: int | None,
        expected_sha256: str | None,
        expected_size: int | None,
    ) -> StoredBlob:
        """Verify a staged upload and store it under its SHA-256, removing the staged copy.

        Raises :class:`BlobNotFound` when nothing was staged under ``upload_key``, and
        :class:`BlobTooLarge`, :class:`BlobSizeMismatch` or :class:`BlobHashMismatch`
        when the staged bytes are refused; a refused upload is deleted.
        """
        ...

    async def purge_stale(self, older_than: timedelta, *, keep: Collection[str] = (), dry_run: bool = False) -> int:
        """Remove leftovers of interrupted writes (temporary files, staging objects) older than
        ``older_than``; returns how many were removed (with ``dry_run``: would be). Stored blobs are
        never touched, nor the staged uploads named in ``keep`` (upload keys still waiting to be used)."""
        ...

    async def check(self, *, create: bool = True) -> None:
        """Verify the store can be read and written; :class:`StorageUnavailable` if not.

        `create`: make a missing container (an S3 bucket) instead of reporting it; a command that
        only inspects the store passes False, so a mistyped name is an error, not a new bucket.
        """
        ...

    async def close(self) -> None:
        """Release connections and other resources; the store is unusable afterwards."""
        ...


def is_blob_key(candidate: str) -> bool:
    """Whether ``candidate`` has the shape of a blob key (64 lowercase hex digits)."""
    return _KEY.fullmatch(candidate) is not None


def require_blob_key(key: str) -> str:
    """Return ``key`` if it is a well-formed blob key; ValueError otherwise.

    Keys become file and object names, so a malformed one is refused before it can
    point anywhere else.
    """
    if not isinstance(key, str) or not is_blob_key(key):
        raise ValueError(f"not a blob key (64 lowercase hex digits): {key!r}")
    return key


def require_upload_key(upload_key: str) -> str:
    """Return ``upload_key`` if it is a safe staging name; ValueError otherwise."""
    if not isinstance(upload_key, str) or _UPLOAD_KEY.fullmatch(upload_key) is None:
        raise ValueError(f"not an upload key (letters, digits, '.', '_', '-'; max 128): {upload_key!r}")
    return upload_key


def fan_out(key: str) -> tuple[str, str, str]:
    """The layout shared by every backend: ``abcdef…`` lives at ``ab/cd/abcdef…``."""
    return key[0:2], key[2:4], key


def check_put_limits(max_size: int | None, expected_sha256: str | None) -> None:
    """Refuse nonsensical limits before any byte is read."""
    if max_size is not None and max_size < 0:
        raise ValueError(f"max_size must not be negative: {max_size}")
    if expected_sha256 is not None:
        require_blob_key(expected_sha256)


def hash_local_file(file: BinaryIO, max_size: int | None, expected_sha256: str | None) -> tuple[str, int]:
    """Blocking: SHA-256 and size of a seekable file's whole content, refusing it like ``put`` would.

    Raises :class:`BlobTooLarge` as soon as more than ``max_size`` bytes have been read, and
    :class:`BlobHashMismatch`. Leaves the file positioned at its start.
    """
    file.seek(0)
    hasher = hashlib.sha256()
    size = 0
    while data := file.read(CHUNK_SIZE):
        size += len(data)
        if max_size is not None and size > max_size:
            raise BlobTooLarge(max_size)
        hasher.update(data)
    file.seek(0)
    digest = hasher.hexdigest()
    if expected_sha256 is not None and digest != expected_sha256:
        raise BlobHashMismatch(expected_sha256, digest)
    return digest, size


def local_file_digest(
    file: BinaryIO, max_size: int | None, expected_sha256: str | None, digest: FileDigest | None
) -> tuple[str, int]:
    """Blocking: like :func:`hash_local_file`, but a known ``digest`` is taken instead of reading
    the file (and refused by the same rules). Leaves the file positioned at its start."""
    if digest is None:
        return hash_local_file(file, max_size, expected_sha256)
    file.seek(0)  # as hashing would leave it: the file is stored from its start
    require_blob_key(digest.sha256)
    if max_size is not None and digest.size > max_size:
        raise BlobTooLarge(max_size)
    if expected_sha256 is not None and digest.sha256 != expected_sha256:
        raise BlobHashMismatch(expected_sha256, digest.sha256)
    return digest.sha256, digest.size


def check_byte_range(byte_range: tuple[int, int] | None) -> None:
    """Refuse a malformed inclusive range; whether it fits the blob is checked on open."""
    if byte_range is None:
        return
    first, last = byte_range
    if first < 0 or last < first:
        raise ValueError(f"invalid byte range {first}-{last}")


def content_disposition(filename: str) -> str:
    """An ``attachment`` Content-Disposition naming ``filename`` (RFC 6266, UTF-8 aware)."""
    # Old clients read only `filename`: "Umowa_zażółć.pdf" reaches them as "Umowa_zazolc.pdf".
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in anyascii(filename))
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
