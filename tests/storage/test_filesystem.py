"""What only the filesystem backend does: its on-disk layout, and the app serving files."""

import hashlib
import os
from datetime import timedelta
from pathlib import Path

import pytest

from storage import FilesystemBlobStore, StorageUnavailable
from tests.storage.conftest import chunked


async def test_blobs_are_fanned_out_by_their_first_hex_pairs(fs_store: FilesystemBlobStore):
    blob = await fs_store.put(chunked(b"hello world"))

    path = fs_store.root / blob.key[:2] / blob.key[2:4] / blob.key
    assert path.read_bytes() == b"hello world"
    assert list((fs_store.root / ".tmp").iterdir()) == []


async def test_deleting_the_last_blob_of_a_fan_out_directory_removes_the_directory(fs_store: FilesystemBlobStore):
    blob = await fs_store.put(chunked(b"hello world"))
    leaf = fs_store.root / blob.key[:2] / blob.key[2:4]
    neighbour = leaf.parent / "ff"  # another blob under the same first pair keeps that one
    neighbour.mkdir()
    await fs_store.delete(blob.key)
    assert not leaf.exists() and leaf.parent.is_dir()
    again = await fs_store.put(chunked(b"hello world"))  # the directories come back with it
    assert (fs_store.root / again.key[:2] / again.key[2:4] / again.key).read_bytes() == b"hello world"


def test_a_write_whose_fan_out_directory_vanishes_before_the_move_makes_it_again(
    fs_store: FilesystemBlobStore, monkeypatch: pytest.MonkeyPatch
):
    data = b"raced with gc"
    digest = hashlib.sha256(data).hexdigest()
    file, temp_path = fs_store._create_temp()
    file.write(data)
    real_replace, removed = os.replace, []

    def replace_after_gc(source: Path, target: Path) -> None:
        if not removed:  # gc's rmdir lands between the write's mkdir and its move
            removed.append(target)
            Path(target).parent.rmdir()
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace_after_gc)
    fs_store._move_into_place(file, temp_path, digest)
    assert (fs_store.root / digest[:2] / digest[2:4] / digest).read_bytes() == data


async def test_blob_files_are_readable_by_their_owner_only(fs_store: FilesystemBlobStore):
    blob = await fs_store.put(chunked(b"confidential"))

    mode = (fs_store.root / blob.key[:2] / blob.key[2:4] / blob.key).stat().st_mode
    assert mode & 0o077 == 0


async def test_keys_ignore_files_that_are_not_blobs(fs_store: FilesystemBlobStore):
    blob = await fs_store.put(chunked(b"real"))
    stray = hashlib.sha256(b"misplaced").hexdigest()
    (fs_store.root / "ab").mkdir(exist_ok=True)
    (fs_store.root / "ab" / stray).write_bytes(b"misplaced")
    (fs_store.root / ".tmp" / "put-leftover").write_bytes(b"partial")
    (fs_store.root / "README").write_text("not a blob")

    assert [key async for key in fs_store.keys()] == [blob.key]


async def test_the_filesystem_store_presigns_nothing_because_the_app_serves_files(fs_store: FilesystemBlobStore):
    blob = await fs_store.put(chunked(b"x"))

    assert await fs_store.presigned_get_url(blob.key, expires=timedelta(minutes=5)) is None
    assert await fs_store.presigned_put_url("upload-1", expires=timedelta(minutes=5)) is None


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


async def test_a_stream_releases_its_file_when_closed_or_dropped_unread(fs_store: FilesystemBlobStore):
    blob = await fs_store.put(chunked(b"x" * 10_000))
    before = open_descriptors()

    stream = await fs_store.open(blob.key)
    assert open_descriptors() == before + 1
    await stream.aclose()
    assert open_descriptors() == before

    stream = await fs_store.open(blob.key)
    del stream  # e.g. the response failed before sending a byte
    assert open_descriptors() == before


def unwritable_directory(tmp_path: Path) -> Path:
    """A directory this process cannot create files in, even when running as root."""
    if os.geteuid() == 0:
        # Permission bits do not stop root; procfs does.
        return Path("/proc/self")
    directory = tmp_path / "read-only"
    directory.mkdir()
    directory.chmod(0o555)
    return directory


@pytest.mark.parametrize(
    ("make_root", "reason"),
    [
        (lambda tmp: tmp / "missing", "does not exist"),
        (lambda tmp: (tmp / "a-file").touch() or tmp / "a-file", "is not a directory"),
        (unwritable_directory, "not writable"),
    ],
    ids=["missing", "a file", "unwritable"],
)
async def test_check_reports_an_unusable_directory_in_one_line(tmp_path: Path, make_root, reason: str):
    store = FilesystemBlobStore(make_root(tmp_path))

    with pytest.raises(StorageUnavailable, match=reason) as failure:
        await store.check()

    assert "\n" not in str(failure.value)
    assert str(store.root) in str(failure.value)


async def test_putting_into_a_missing_directory_is_unavailable_not_a_crash(tmp_path: Path):
    store = FilesystemBlobStore(tmp_path / "missing")

    with pytest.raises(StorageUnavailable, match="does not exist"):
        await store.put(chunked(b"x"))


def test_a_relative_root_is_refused():
    with pytest.raises(ValueError, match="absolute"):
        FilesystemBlobStore(Path("data/blobs"))
