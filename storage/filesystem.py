"""Blobs as files in a local directory: the embedded default.

Layout: ``root/ab/cd/abcdef…`` (fanned out by the first two hex pairs so no directory
grows huge) and ``root/.tmp/`` for files being written. A blob appears under its key
only complete and durable: written to a temporary file, fsynced, renamed into place with
``os.replace`` and the directory fsynced, so a crash leaves either nothing or the whole
blob (plus, at worst, a stray file in ``.tmp``).

All file I/O runs in worker threads, never on the event loop.
"""

import hashlib
import os
import tempfile
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable, Collection
from datetime import UTC, datetime, timedelta
from io import BufferedReader, BufferedWriter
from pathlib import Path
from typing import Any, BinaryIO

from anyio import to_thread

from storage.base import (
    CHUNK_SIZE,
    BlobHashMismatch,
    BlobNotFound,
    BlobStream,
    BlobTooLarge,
    FileDigest,
    RangeNotSatisfiable,
    StorageUnavailable,
    StoredBlob,
    check_byte_range,
    check_put_limits,
    fan_out,
    is_blob_key,
    local_file_digest,
    require_blob_key,
)

_TMP_DIR = ".tmp"


class FilesystemBlobStore:
    """A :class:`storage.base.BlobStore` keeping blobs as files under ``root``.

    ``root`` must already exist: the store never creates it, because a missing blob
    directory usually means a missing mount, and silently writing next to it would be worse.
    Files are created readable by their owner only (documents are confidential).

    This backend cannot presign URLs: :meth:`presigned_get_url` and :meth:`presigned_put_url`
    return None, the app serves downloads itself and receives big uploads itself, passing
    the request stream to :meth:`put`. There is therefore never anything staged here:
    :meth:`adopt_staged` finds nothing (an upload the app has not received is not there yet).
    """

    def __init__(self, root: Path) -> None:
        if not root.is_absolute():
            raise ValueError(f"blob directory must be an absolute path: {root}")
        self.root = root
        self._tmp = root / _TMP_DIR

    def __repr__(self) -> str:
        return f"FilesystemBlobStore({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        first, second, name = fan_out(require_blob_key(key))
        return self.root / first / second / name

    # -- writing -------------------------------------------------------------------------

    async def put(
        self,
        chunks: AsyncIterable[bytes],
        *,
        max_size: int | None = None,
        expected_sha256: str | None = None,
    ) -> StoredBlob:
        """See :meth:`storage.base.BlobStore.put`; the bytes pass through ``root/.tmp``."""
        check_put_limits(max_size, expected_sha256)
        file, temp_path = await to_thread.run_sync(self._create_temp)
        try:
            hasher = hashlib.sha256()
            size = 0
            # Small incoming chunks are gathered into ~CHUNK_SIZE writes so the cost of a
            # thread hop is paid per MiB, not per network packet.
            pending = bytearray()
            async for chunk in chunks:
                size += len(chunk)
                if max_size is not None and size > max_size:
                    raise BlobTooLarge(max_size)
                if not pending and len(chunk) >= CHUNK_SIZE:
                    await to_thread.run_sync(self._hash_and_write, file, hasher, chunk)
                    continue
                pending += chunk
                if len(pending) >= CHUNK_SIZE:
                    await to_thread.run_sync(self._hash_and_write, file, hasher, pending)
                    pending = bytearray()
            if pending:
                await to_thread.run_sync(self._hash_and_write, file, hasher, pending)
            del pending
            digest = hasher.hexdigest()
            if expected_sha256 is not None and digest != expected_sha256:
                raise BlobHashMismatch(expected_sha256, digest)
            await to_thread.run_sync(self._commit, file, temp_path, digest)
        except BaseException:
            # Deliberately synchronous: this must also run when the task is being
            # cancelled, where awaiting a worker thread could itself be interrupted.
            _discard(file, temp_path)
            raise
        return StoredBlob(key=digest, size=size, sha256=digest)

    async def put_file(
        self,
        file: BinaryIO,
        *,
        max_size: int | None = None,
        expected_sha256: str | None = None,
        digest: FileDigest | None = None,
    ) -> StoredBlob:
        """See :meth:`storage.base.BlobStore.put_file`: hashed first, copied only when new."""
        check_put_limits(max_size, expected_sha256)
        return await to_thread.run_sync(self._put_file, file, max_size, expected_sha256, digest)

    def _put_file(
        self, source: BinaryIO, max_size: int | None, expected_sha256: str | None, known: FileDigest | None
    ) -> StoredBlob:
        digest, size = local_file_digest(source, max_size, expected_sha256, known)
        final = self._path(digest)
        if final.is_file():
            os.utime(final)  # gc's grace period covers this new use of the bytes too
            return StoredBlob(key=digest, size=size, sha256=digest)
        file, temp_path = self._create_temp()
        try:
            hasher = hashlib.sha256()
            while data := source.read(CHUNK_SIZE):
                self._hash_and_write(file, hasher, data)
            # The file was hashed once already (or as it was received); hashing what was
            # written proves the copy.
            if hasher.hexdigest() != digest:
                raise StorageUnavailable(f"the file being stored changed while it was copied to {self.root}")
            self._commit(file, temp_path, digest)
        except BaseException:
            _discard(file, temp_path)
            raise
        return StoredBlob(key=digest, size=size, sha256=digest)

    def _create_temp(self) -> tuple[BufferedWriter, Path]:
        try:
            self._tmp.mkdir(exist_ok=True)
            fd, name = tempfile.mkstemp(dir=self._tmp, prefix="put-")
        except OSError as exc:
            raise StorageUnavailable(self._unusable_reason(exc)) from exc
        return os.fdopen(fd, "wb"), Path(name)

    def _hash_and_write(self, file: BufferedWriter, hasher: Any, data: bytes | bytearray) -> None:
        # Both release the GIL for large buffers, which is why they run in a worker thread.
        hasher.update(data)
        try:
            file.write(data)
        except OSError as exc:
            raise StorageUnavailable(f"cannot write to blob directory {self.root}: {exc}") from exc

    def _commit(self, file: BufferedWriter, temp_path: Path, digest: str) -> None:
        try:
            self._move_into_place(file, temp_path, digest)
        except OSError as exc:
            raise StorageUnavailable(f"cannot write to blob directory {self.root}: {exc}") from exc

    def _move_into_place(self, file: BufferedWriter, temp_path: Path, digest: str) -> None:
        """Move a complete temporary file to its key, durably; drop it if already stored."""
        final = self._path(digest)
        if final.is_file():
            # Same bytes already stored (content addressing): nothing to sync or move. Touch the
            # blob so gc's grace period covers this new use of it too.
            file.close()
            temp_path.unlink()
            os.utime(final)
            return
        file.flush()
        os.fsync(file.fileno())
        file.close()
        for attempt in range(3):
            for directory in (final.parent.parent, final.parent):
                if not directory.is_dir():
                    directory.mkdir(exist_ok=True)
                    _fsync_directory(directory.parent)
            try:
                os.replace(temp_path, final)
                break
            except FileNotFoundError:
                # gc removed the fan-out directory, empty, between our mkdir and the move: again.
                if attempt == 2 or not temp_path.exists():
                    raise
        _fsync_directory(final.parent)

    async def adopt_staged(
        self,
        upload_key: str,
        *,
        max_size: int | None,
        expected_sha256: str | None,
        expected_size: int | None,
    ) -> StoredBlob:
        """Always :class:`BlobNotFound`: this backend stages nothing (see the class docstring), so
        an upload whose bytes the app has not stored yet has not arrived."""
        raise BlobNotFound(upload_key)

    async def presigned_put_url(self, upload_key: str, *, expires: timedelta) -> str | None:
        """Always None: the app receives uploads itself and stores them with :meth:`put`."""
        return None

    # -- reading -------------------------------------------------------------------------

    async def local_path(self, key: str) -> Path | None:
        """See :meth:`storage.base.BlobStore.local_path`."""
        path = self._path(key)
        if not await to_thread.run_sync(path.is_file):
            raise BlobNotFound(key)
        return path

    async def open(self, key: str, byte_range: tuple[int, int] | None = None) -> BlobStream:
        """See :meth:`storage.base.BlobStore.open`; a range is served by seeking."""
        check_byte_range(byte_range)
        file, length = await to_thread.run_sync(self._open_range, key, byte_range)
        return BlobStream(_bounded_reader(file, length), file.close, size=length)

    def _open_range(self, key: str, byte_range: tuple[int, int] | None) -> tuple[BufferedReader, int]:
        path = self._path(key)
        try:
            file = open(path, "rb")  # closed by the BlobStream, or below on error
        except FileNotFoundError:
            raise BlobNotFound(key) from None
        except OSError as exc:
            raise StorageUnavailable(f"cannot read blob {key}: {exc}") from exc
        try:
            size = os.fstat(file.fileno()).st_size
            if byte_range is None:
                return file, size
            first, last = byte_range
            if first >= size:
                raise RangeNotSatisfiable(key, byte_range)
            file.seek(first)
            return file, min(last, size - 1) - first + 1
        except BaseException:
            file.close()
            raise

    async def stat(self, key: str) -> StoredBlob:
        """See :meth:`storage.base.BlobStore.stat`."""
        path = self._path(key)
        try:
            info = await to_thread.run_sync(os.stat, path)
        except FileNotFoundError:
            raise BlobNotFound(key) from None
        except OSError as exc:
            raise StorageUnavailable(f"cannot stat blob {key}: {exc}") from exc
        return StoredBlob(
            key=key, size=info.st_size, sha256=key, modified_at=datetime.fromtimestamp(info.st_mtime, UTC)
        )

    async def purge_stale(self, older_than: timedelta, *, keep: Collection[str] = (), dry_run: bool = False) -> int:
        """See :meth:`storage.base.BlobStore.purge_stale`: old files in ``.tmp`` (staged uploads
        are stored as blobs here, so ``keep`` names nothing in it)."""
        return await to_thread.run_sync(self._purge_stale_sync, older_than, dry_run)

    def _purge_stale_sync(self, older_than: timedelta, dry_run: bool) -> int:
        cutoff = time.time() - older_than.total_seconds()
        removed = 0
        if not self._tmp.is_dir():
            return 0
        for path in self._tmp.iterdir():
            try:
                if path.is_file() and path.stat().st_mtime < cutoff:
                    if not dry_run:
                        path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed

    async def exists(self, key: str) -> bool:
        """See :meth:`storage.base.BlobStore.exists`."""
        return await to_thread.run_sync(self._path(key).is_file)

    async def delete(self, key: str) -> None:
        """See :meth:`storage.base.BlobStore.delete`; fan-out directories left empty go too (a
        write racing into one makes it again)."""
        path = self._path(key)
        try:
            await to_thread.run_sync(self._delete_sync, path)
        except OSError as exc:
            raise StorageUnavailable(f"cannot delete blob {key}: {exc}") from exc

    @staticmethod
    def _delete_sync(path: Path) -> None:
        path.unlink(missing_ok=True)
        for directory in (path.parent, path.parent.parent):
            try:
                directory.rmdir()
            except OSError:  # not empty, or already gone
                return

    async def keys(self) -> AsyncIterator[str]:
        """See :meth:`storage.base.BlobStore.keys`; lists one fan-out directory at a time."""
        for first in await to_thread.run_sync(_fan_out_names, self.root):
            for second in await to_thread.run_sync(_fan_out_names, self.root / first):
                leaf = self.root / first / second
                for name in await to_thread.run_sync(_blob_names, leaf, first + second):
                    yield name

    async def presigned_get_url(
        self,
        key: str,
        *,
        expires: timedelta,
        filename: str | None = None,
        content_type: str | None = None,
    ) -> str | None:
        """Always None: the app signs download URLs and serves the bytes itself."""
        require_blob_key(key)
        return None

    # -- health --------------------------------------------------------------------------

    async def check(self, *, create: bool = True) -> None:
        """See :meth:`storage.base.BlobStore.check`: the root exists and a file can be written
        (the root is never created here, whatever `create` says: `build_services` makes it)."""
        await to_thread.run_sync(self._check)

    def _check(self) -> None:
        if not self.root.exists():
            raise StorageUnavailable(f"blob directory {self.root} does not exist")
        if not self.root.is_dir():
            raise StorageUnavailable(f"blob directory {self.root} is not a directory")
        try:
            self._tmp.mkdir(exist_ok=True)
            fd, name = tempfile.mkstemp(dir=self._tmp, prefix="check-")
            os.close(fd)
            os.unlink(name)
        except OSError as exc:
            raise StorageUnavailable(self._unusable_reason(exc)) from exc

    def _unusable_reason(self, exc: OSError) -> str:
        if not self.root.is_dir():
            return f"blob directory {self.root} does not exist or is not a directory"
        return f"blob directory {self.root} is not writable: {exc.strerror or exc}"

    async def close(self) -> None:
        """Nothing to release: files are opened per call."""


def _discard(file: BufferedWriter, temp_path: Path) -> None:
    try:
        file.close()
    except OSError:
        pass
    temp_path.unlink(missing_ok=True)


def _fsync_directory(directory: Path) -> None:
    """Make a rename or a new entry in ``directory`` survive a crash."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fan_out_names(directory: Path) -> list[str]:
    """Sorted two-hex-digit subdirectory names; anything else (``.tmp``…) is not ours."""
    try:
        with os.scandir(directory) as entries:
            return sorted(
                e.name
                for e in entries
                if len(e.name) == 2 and all(c in "0123456789abcdef" for c in e.name) and e.is_dir()
            )
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise StorageUnavailable(f"cannot list blob directory {directory}: {exc}") from exc


def _blob_names(directory: Path, expected_prefix: str) -> list[str]:
    try:
        with os.scandir(directory) as entries:
            return sorted(
                e.name for e in entries if is_blob_key(e.name) and e.name.startswith(expected_prefix) and e.is_file()
            )
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise StorageUnavailable(f"cannot list blob directory {directory}: {exc}") from exc


def _bounded_reader(file: BufferedReader, length: int) -> Callable[[], bytes]:
    """A blocking read of the next piece of the ``length`` bytes from the file's position."""
    remaining = length

    def read() -> bytes:
        nonlocal remaining
        if remaining <= 0:
            return b""
        data = file.read(min(CHUNK_SIZE, remaining))
        if not data:
            # Blobs are immutable, so a short read means outside interference.
            raise StorageUnavailable(f"blob file {file.name} ended {remaining} bytes early")
        remaining -= len(data)
        return data

    return read
