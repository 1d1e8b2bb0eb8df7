"""Incoming bytes: streamed into the blob store, sniffed for their true type on the way."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import BinaryIO

import anyio
import magic

from dms.errors import StorageFailure, UploadTooLarge, ValidationFailed
from dms.names import safe_filename
from storage.base import BlobHashMismatch, BlobStore, BlobTooLarge, FileDigest, StorageUnavailable, StoredBlob

SNIFF_BYTES = 64 * 1024
OCTET_STREAM = "application/octet-stream"

_ZIP_KINDS = (
    (b"word/document.xml", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (b"xl/workbook.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    (b"ppt/presentation.xml", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
)
# An OpenDocument file names its type in its uncompressed "mimetype" member. The standard puts it
# first, where libmagic looks; a file re-packed by another tool may have it anywhere after the
# member's local header (and an extra field).
_OPENDOCUMENT = re.compile(
    rb"mimetype.{0,96}?(application/vnd\.oasis\.opendocument\.(?:text|spreadsheet|presentation))",
    re.DOTALL,
)
_MAIL_HEADERS = (b"from:", b"to:", b"subject:", b"date:", b"message-id:", b"received:", b"mime-version:")


@dataclass
class IncomingFile:
    """A file as a client sends it: a claimed name and a stream of chunks."""

    filename: str | None
    chunks: AsyncIterator[bytes]


@dataclass
class ReceivedFile:
    """A file the web layer has already received whole into a private local file (a spooled
    multipart part): hashing it before storing lets the store skip bytes it already holds.
    ``digest`` is that hash when the web layer took it while receiving the file."""

    filename: str | None
    file: BinaryIO
    digest: FileDigest | None = None


@dataclass
class SniffedBlob:
    blob: StoredBlob
    mime_type: str
    filename: str


@dataclass
class _Sniffer:
    head: bytearray = field(default_factory=bytearray)

    async def tee(self, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        async for chunk in chunks:
            if len(self.head) < SNIFF_BYTES:
                self.head += chunk[: SNIFF_BYTES - len(self.head)]
            yield chunk


def detect_mime_type(head: bytes) -> str:
    """The type the bytes really are (never what the name claims)."""
    if not head:
        return "application/x-empty"
    detected = magic.from_buffer(head, mime=True) or OCTET_STREAM
    if detected in ("application/zip", OCTET_STREAM, "application/x-zip-compressed"):
        for marker, kind in _ZIP_KINDS:
            if head.startswith(b"PK") and marker in head:
                return kind
        if head.startswith(b"PK") and (named := _OPENDOCUMENT.search(head)):
            return named.group(1).decode("ascii")
    if (detected.startswith("text/") or detected == OCTET_STREAM) and _starts_with_mail_headers(head):
        # libmagic wants From or Received first; a mail may start with any header, and one whose
        # body is HTML it takes for a web page.
        return "message/rfc822"
    if detected == "text/html" and not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        # Prose that quotes a tag or two ("<b>pogrubienie</b>"): its words are text to index.
        return "text/plain"
    return detected


_HEADER_LINE = re.compile(rb"^[!-9;-~]+:")  # a field name: printable ASCII but the colon, then a colon


def _starts_with_mail_headers(head: bytes) -> bool:
    """Whether the bytes open with an RFC 5322 header block naming at least two mail headers."""
    known = 0
    for line in head[:8192].splitlines()[:60]:
        if not line.strip():
            return known >= 2  # the blank line that ends the headers
        if line[:1] in (b" ", b"\t"):
            continue  # a folded header's continuation
        if not _HEADER_LINE.match(line):
            return False
        known += line.lower().startswith(_MAIL_HEADERS)
    return False


async def store_incoming(blobs: BlobStore, incoming: IncomingFile | ReceivedFile, *, max_size: int) -> SniffedBlob:
    """Store the file, hashing and sniffing its true type; nothing is held whole in memory."""
    try:
        if isinstance(incoming, ReceivedFile):
            stored = await blobs.put_file(incoming.file, max_size=max_size, digest=incoming.digest)
            head = await anyio.to_thread.run_sync(_read_head, incoming.file)
        else:
            sniffer = _Sniffer()
            stored = await blobs.put(sniffer.tee(incoming.chunks), max_size=max_size)
            head = bytes(sniffer.head)
    except BlobTooLarge as exc:
        raise UploadTooLarge(f"the file is larger than the limit of {max_size} bytes", field="file") from exc
    except BlobHashMismatch as exc:
        raise ValidationFailed("the file's bytes do not match their declared hash", field="file") from exc
    except StorageUnavailable as exc:
        raise StorageFailure() from exc
    mime_type = await anyio.to_thread.run_sync(detect_mime_type, head)
    return SniffedBlob(blob=stored, mime_type=mime_type, filename=safe_filename(incoming.filename))


def _read_head(file: BinaryIO) -> bytes:
    file.seek(0)
    head = file.read(SNIFF_BYTES)
    file.seek(0)
    return head
