"""Multipart GraphQL requests, received with their files hashed on the way in.

Starlette's form parser spools file parts to temporary files, handing every piece of the body
it receives (a few hundred KiB) to a worker thread to write; storing a file then reads it whole
once more only to hash it (its key is its SHA-256). Here python-multipart parses the body in a
worker thread, a MiB at a time, while the event loop receives the next MiB, and each file part
is written and hashed in that one pass: storing it reads it once, to send it.
"""

from __future__ import annotations

import asyncio
import codecs
import email.message
import hashlib
import re
from collections.abc import AsyncIterable
from contextlib import aclosing
from tempfile import SpooledTemporaryFile
from typing import IO, Any

from anyio import CancelScope, to_thread
from cross_web import FormData as AdapterFormData
from cross_web import StarletteRequestAdapter
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.datastructures import FormData, Headers, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request

#: Body bytes handed to the parsing thread at once; a request holds at most two such batches.
BATCH_BYTES = 1024 * 1024
#: A file part stays in memory up to this size, as with Starlette, and goes to disk beyond it.
SPOOL_MAX_BYTES = 1024 * 1024
#: A text part (the operations JSON, the map) at most; Starlette's limit too.
MAX_FIELD_BYTES = 1024 * 1024
MAX_FIELDS = 1000
MAX_FILES = 1000


class HashedUpload(UploadFile):
    """A received file part: its bytes in a private temporary file, their SHA-256 taken as they came."""

    def __init__(self, file: IO[bytes], *, size: int, sha256: str, filename: str | None, headers: Headers) -> None:
        super().__init__(file, size=size, filename=filename, headers=headers)  # type: ignore[arg-type]
        self.sha256 = sha256


class _Part:
    """The part being parsed: its headers while they arrive, then its text or its file."""

    def __init__(self) -> None:
        self.headers: list[tuple[bytes, bytes]] = []
        self.header_name = bytearray()
        self.header_value = bytearray()
        self.name = ""
        self.filename: str | None = None
        self.text: bytearray | None = None
        self.file: IO[bytes] | None = None
        self.hasher = hashlib.sha256()
        self.size = 0


class _FormReceiver:
    """python-multipart's parser with callbacks that spool and hash file parts.

    Used from worker threads, one call at a time: the calls are awaited in order.
    """

    def __init__(self, boundary: bytes, charset: str) -> None:
        self._charset = charset
        self._items: list[tuple[str, str | UploadFile]] = []
        self._spooled: list[IO[bytes]] = []  # every file opened, to close when the request fails
        self._fields = 0
        self._files = 0
        self._complete = False  # the closing boundary was read
        self._part = _Part()
        callbacks: Any = {
            "on_part_begin": self._on_part_begin,
            "on_header_field": self._on_header_field,
            "on_header_value": self._on_header_value,
            "on_header_end": self._on_header_end,
            "on_headers_finished": self._on_headers_finished,
            "on_part_data": self._on_part_data,
            "on_part_end": self._on_part_end,
            "on_end": self._on_end,
        }
        try:
            self._parser = MultipartParser(boundary, callbacks)
        except FormParserError as exc:
            raise HTTPException(400, "the multipart boundary is not valid") from exc

    def feed(self, chunks: list[bytes]) -> None:
        try:
            for chunk in chunks:
                self._parser.write(chunk)
        except FormParserError as exc:
            raise HTTPException(400, "the multipart body is malformed") from exc

    def finish(self, chunks: list[bytes]) -> FormData:
        self.feed(chunks)
        try:
            self._parser.finalize()
        except FormParserError as exc:
            raise HTTPException(400, "the multipart body is malformed") from exc
        if not self._complete:
            # python-multipart does not check this itself: a cut-off body would lose its last part.
            raise HTTPException(400, "the multipart body ended before its closing boundary")
        for file in self._spooled:
            file.seek(0)
        return FormData(self._items)

    def discard(self) -> None:
        _close_all(self._spooled)

    # -- python-multipart's callbacks ----------------------------------------------------------

    def _on_part_begin(self) -> None:
        self._part = _Part()

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._part.header_name += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._part.header_value += data[start:end]

    def _on_header_end(self) -> None:
        part = self._part
        part.headers.append((bytes(part.header_name).lower(), bytes(part.header_value)))
        part.header_name.clear()
        part.header_value.clear()

    def _on_headers_finished(self) -> None:
        part = self._part
        disposition = next((value for name, value in part.headers if name == b"content-disposition"), b"")
        _, options = parse_options_header(disposition)
        if b"name" not in options:
            raise HTTPException(400, "a multipart part has no name in its Content-Disposition")
        part.name = self._decode(options[b"name"])
        extended = _extended_filename(disposition)
        if b"filename" in options or extended is not None:
            self._files += 1
            if self._files > MAX_FILES:
                raise HTTPException(400, f"a multipart request carries at most {MAX_FILES} files")
            part.filename = extended if extended is not None else _form_filename(self._decode(options[b"filename"]))
            part.file = SpooledTemporaryFile(max_size=SPOOL_MAX_BYTES)
            self._spooled.append(part.file)
        else:
            self._fields += 1
            if self._fields > MAX_FIELDS:
                raise HTTPException(400, f"a multipart request carries at most {MAX_FIELDS} fields")
            part.text = bytearray()

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        part = self._part
        piece = memoryview(data)[start:end]
        if part.file is not None:
            # Both release the GIL for large pieces; this runs in a worker thread.
            part.hasher.update(piece)
            part.file.write(piece)
            part.size += len(piece)
        elif part.text is not None:
            if len(part.text) + len(piece) > MAX_FIELD_BYTES:
                raise HTTPException(400, f"a multipart text field is longer than {MAX_FIELD_BYTES} bytes")
            part.text += piece

    def _on_part_end(self) -> None:
        part = self._part
        if part.file is not None:
            upload = HashedUpload(
                part.file,
                size=part.size,
                sha256=part.hasher.hexdigest(),
                filename=part.filename,
                headers=Headers(raw=part.headers),
            )
            self._items.append((part.name, upload))
        elif part.text is not None:
            self._items.append((part.name, self._decode(part.text)))

    def _on_end(self) -> None:
        self._complete = True

    def _decode(self, raw: bytes | bytearray) -> str:
        try:
            return raw.decode(self._charset)
        except UnicodeDecodeError:
            return raw.decode("latin-1")


def _charset(params: dict[bytes, bytes]) -> str:
    try:
        return codecs.lookup(params.get(b"charset", b"utf-8").decode("latin-1")).name
    except LookupError:
        return "utf-8"


async def receive_form(content_type: str, body: AsyncIterable[bytes]) -> FormData:
    """Parse a multipart/form-data body: text parts as strings, file parts as :class:`HashedUpload`.

    Malformed bodies and bodies over the part limits are refused with HTTP 400. On any failure,
    including the body's own (a disconnect, the body limit), every file received is closed.
    The caller closes the files of the returned form when the request is done.
    """
    _, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if not boundary:
        raise HTTPException(400, "the multipart Content-Type has no boundary")
    receiver = _FormReceiver(boundary, _charset(params))
    parsing: asyncio.Future[None] | None = None
    try:
        batch: list[bytes] = []
        batched = 0
        async for chunk in body:
            batch.append(chunk)
            batched += len(chunk)
            if batched >= BATCH_BYTES:
                if parsing is not None:
                    await parsing
                # The thread parses this batch while the loop receives the next one.
                parsing = asyncio.ensure_future(to_thread.run_sync(receiver.feed, batch))
                batch, batched = [], 0
        if parsing is not None:
            await parsing
        return await to_thread.run_sync(receiver.finish, batch)
    except BaseException:
        with CancelScope(shield=True):
            if parsing is not None:
                # The thread may still be writing to the files: they are closed once it is done.
                await asyncio.wait([parsing])
                if not parsing.cancelled():
                    parsing.exception()  # retrieved: the failure being raised is the news
            await to_thread.run_sync(receiver.discard)
        raise


async def close_form(form: FormData) -> None:
    """Close the temporary files of a received form (freeing a large one's pages takes a moment)."""
    files = [value.file for _, value in form.multi_items() if isinstance(value, UploadFile)]
    if files:
        # Shielded: a cancelled request still lets go of its files.
        with CancelScope(shield=True):
            await to_thread.run_sync(_close_all, files)


def _close_all(files: list[Any]) -> None:
    for file in files:
        file.close()


class ReceivingRequestAdapter(StarletteRequestAdapter):
    """Strawberry's view of a Starlette request, with multipart forms received by :func:`receive_form`.

    The form is kept on the request's state, for the view to close its files once the request is done.
    """

    def __init__(self, request: Request) -> None:
        super().__init__(request)
        self.request = request

    async def get_form_data(self) -> AdapterFormData:
        async with aclosing(self.request.stream()) as body:
            form = await receive_form(self.request.headers.get("content-type", ""), body)
        self.request.state.received_form = form
        return AdapterFormData(files=form, form=form)


# How browsers write the three characters a quoted filename cannot hold (WHATWG's multipart/form-data
# encoding): a Mac user's 'Umowa "Alfa".pdf' arrives as 'Umowa %22Alfa%22.pdf'. Only these are
# undone; any other % is the name's own.
_FORM_ESCAPES = re.compile("%(22|0D|0A)", re.IGNORECASE)
_FORM_UNESCAPED = {"22": '"', "0d": "\r", "0a": "\n"}


def _form_filename(raw: str) -> str:
    return _FORM_ESCAPES.sub(lambda match: _FORM_UNESCAPED[match.group(1).lower()], raw)


def _extended_filename(disposition: bytes) -> str | None:
    """The RFC 2231 ``filename*=UTF-8''…`` of a part, which python-multipart does not read."""
    if b"filename*" not in disposition.lower():
        return None
    header = email.message.Message()
    header["content-disposition"] = disposition.decode("latin-1")
    return header.get_filename()
