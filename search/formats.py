"""Text extractors per file format.  They run inside the extraction worker process.

Each extractor appends to a `TextSink`, which stops the work (by raising
`OutputFull`) once the output limit is reached; container formats (DOCX, ODT,
e-mail) charge what they unpack to a byte budget so a zip bomb ends as
`TooLarge` instead of eating memory.
"""

from __future__ import annotations

import datetime
import io
import mimetypes
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from typing import IO, Any

from search.charsets import decode_text, known_encoding

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
ODP = "application/vnd.oasis.opendocument.presentation"
EML = "message/rfc822"

#: Raised for a kind of file whenever its extractor reads more or better text, so that the texts it
#: read before (kept in the indexer's text cache) are read again from the file; the other kinds'
#: texts stay good. An e-mail's text holds its attachments': raise it too when another kind changes.
#: e-mail 2: its spreadsheet and presentation attachments are read.
#: PDF 2 (and e-mail 3): the wider gaps of justified text are single spaces.
#: XML 2 (and e-mail 4): the text of the elements without the markup (read as plain text before).
EXTRACTOR_VERSIONS: dict[str, int] = {"email": 4, "pdf": 2, "xml": 2}

#: MIME type → extractor kind.  Any other text/* type is read as plain text.
KINDS: dict[str, str] = {
    PDF: "pdf",
    "application/x-pdf": "pdf",
    DOCX: "docx",
    "application/vnd.ms-word.document.macroenabled.12": "docx",
    XLSX: "xlsx",
    "application/vnd.ms-excel.sheet.macroenabled.12": "xlsx",
    PPTX: "pptx",
    "application/vnd.ms-powerpoint.presentation.macroenabled.12": "pptx",
    ODT: "opendocument",
    ODS: "opendocument",
    ODP: "opendocument",
    "application/rtf": "rtf",
    "application/x-rtf": "rtf",
    "text/rtf": "rtf",
    "text/richtext": "rtf",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "text/plain": "text",
    "application/json": "text",
    "application/xml": "xml",
    "text/xml": "xml",
    EML: "email",
}


class ExtractionFailed(Exception):
    """The file cannot be read as its type says (corrupt, encrypted, …)."""


class TooLarge(Exception):
    """The file unpacks to more than the limits allow."""


class OutputFull(Exception):
    """The output limit is reached; the text collected so far is kept."""


def split_mime(mime_type: str) -> tuple[str, str | None]:
    """("type/subtype" lower-cased, charset parameter or None) from a Content-Type value."""
    main, _, params = mime_type.partition(";")
    charset = None
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip("\"'") or None
    return main.strip().lower(), charset


def kind_for(mime_type: str, filename: str | None = None) -> str | None:
    """The extractor kind for a MIME type (falling back to the file name for generic types), or None."""
    main, _ = split_mime(mime_type)
    if main in KINDS:
        return KINDS[main]
    if main.startswith("text/"):
        return "text"
    if filename and main in ("", "application/octet-stream", "application/x-download", "binary/octet-stream"):
        guessed, _ = mimetypes.guess_type(filename, strict=False)
        if filename.lower().endswith(".eml"):
            return "email"
        if guessed and guessed != main:
            return kind_for(guessed)
    return None


@dataclass
class TextSink:
    """Collects output text up to `max_chars`."""

    max_chars: int
    parts: list[str] = field(default_factory=list)
    size: int = 0
    truncated: bool = False
    # Why not all of the file's text is here, as its reader is told.
    cut_reason: str | None = None

    def cut(self, reason: str) -> None:
        """Note that the text stops short of the file's, and why."""
        self.truncated = True
        self.cut_reason = self.cut_reason or reason

    def add(self, text: str) -> None:
        if not text:
            return
        room = self.max_chars - self.size
        if len(text) > room:
            self.parts.append(text[: max(room, 0)])
            self.size = self.max_chars
            self.cut(f"text truncated to {self.max_chars} characters")
            raise OutputFull
        self.parts.append(text)
        self.size += len(text)

    def line(self, text: str) -> None:
        self.add(text)
        self.add("\n")

    def text(self) -> str:
        return "".join(self.parts)


@dataclass
class Budget:
    """Per-file limits the extractors enforce on themselves."""

    max_unpacked_bytes: int
    max_email_depth: int
    max_pdf_pages: int
    unpacked: int = 0

    def charge(self, size: int) -> None:
        self.unpacked += size
        if self.unpacked > self.max_unpacked_bytes:
            raise TooLarge(f"unpacks to more than {self.max_unpacked_bytes} bytes")


def extract(data: bytes, mime_type: str, sink: TextSink, budget: Budget, *, depth: int = 0) -> None:
    """Append the text of `data` (of `mime_type`) to `sink`; unknown types add nothing."""
    main, charset = split_mime(mime_type)
    kind = kind_for(main)
    if kind is None:
        return
    _EXTRACTORS[kind](data, charset, sink, budget, depth)


# -- PDF -----------------------------------------------------------------


_PDF_GAPS = re.compile(r"(?<=\S) {2,3}(?=\S)")
#: A wider gap is a table's column break: a tab, which no number's digit groups are glued across
#: ("Szt.    2    150    23%" is three figures, not 215023).
_PDF_COLUMNS = re.compile(r"(?<=\S) {4,}(?=\S)")


def _pdf(data: bytes, _charset: str | None, sink: TextSink, budget: Budget, _depth: int) -> None:
    import logging

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    # pypdf warns loudly about every small defect; the status says enough.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise ExtractionFailed("the PDF is encrypted with a password")
        for number, page in enumerate(reader.pages):
            if number >= budget.max_pdf_pages:
                sink.cut(f"only the first {budget.max_pdf_pages} pages were read")
                break
            # Justified text comes out with its wider gaps as runs of spaces ("NIP  777  000  11  11"):
            # layout, not meaning, and a number's groups are glued only across a single space.
            sink.line(_PDF_GAPS.sub(" ", _PDF_COLUMNS.sub("\t", page.extract_text() or "")))
    except (PdfReadError, ValueError, KeyError, TypeError) as error:
        raise ExtractionFailed(f"unreadable PDF: {error}") from error


# -- zipped XML: DOCX, PPTX, XLSX and OpenDocument ---------------------------------------------

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
_DOCX_PARTS = re.compile(r"word/(document|header\d*|footer\d*|footnotes|endnotes)\.xml")
_PPTX_PARTS = re.compile(r"ppt/(slides/slide|notesSlides/notesSlide)(\d+)\.xml")


class _BoundedReader(io.RawIOBase):
    """A zip member stream that charges every byte read to the budget."""

    def __init__(self, stream: IO[bytes], budget: Budget) -> None:
        self._stream = stream
        self._budget = budget

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._stream.read(len(buffer))
        self._budget.charge(len(chunk))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def _open_zip(data: bytes, budget: Budget) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as error:
        raise ExtractionFailed(f"not a valid zip container: {error}") from error
    # The declared sizes catch an honest zip bomb before anything is inflated;
    # _BoundedReader catches one that lies about its sizes.
    declared = sum(info.file_size for info in archive.infolist())
    if declared > budget.max_unpacked_bytes:
        raise TooLarge(f"declares {declared} unpacked bytes, more than {budget.max_unpacked_bytes}")
    return archive


def _paragraphs(archive: zipfile.ZipFile, member: str, budget: Budget, tags: tuple[str, ...]) -> Iterator[Any]:
    """Yield complete outermost paragraph elements of one XML member, freeing each after use."""
    from lxml import etree

    with archive.open(member) as raw:
        stream = io.BufferedReader(_BoundedReader(raw, budget))
        events = etree.iterparse(
            stream, events=("end",), tag=tags, resolve_entities=False, no_network=True, huge_tree=False
        )
        for _event, element in events:
            if any(ancestor.tag in tags for ancestor in element.iterancestors()):
                continue  # a paragraph inside a paragraph (text box, note): the outer one renders it
            yield element
            element.clear(keep_tail=False)
            parent = element.getparent()
            while parent is not None and element.getprevious() is not None:
                del parent[0]


def _ooxml_paragraphs(archive: zipfile.ZipFile, members: list[str], budget: Budget, ns: str, sink: TextSink) -> None:
    """One line per paragraph of WordprocessingML (DOCX) or DrawingML (PPTX) parts."""
    text, tab, breaks = f"{ns}t", f"{ns}tab", (f"{ns}br", f"{ns}cr")
    for member in members:
        for paragraph in _paragraphs(archive, member, budget, (f"{ns}p",)):
            pieces = []
            for node in paragraph.iter(text, tab, *breaks):
                if node.tag == text:
                    pieces.append(node.text or "")
                else:
                    pieces.append("\t" if node.tag == tab else "\n")
            sink.line("".join(pieces))


def _docx(data: bytes, _charset: str | None, sink: TextSink, budget: Budget, _depth: int) -> None:
    from lxml import etree

    archive = _open_zip(data, budget)
    names = archive.namelist()
    if "word/document.xml" not in names:
        raise ExtractionFailed("not a DOCX file: word/document.xml is missing")
    members = sorted((n for n in names if _DOCX_PARTS.fullmatch(n)), key=lambda n: n != "word/document.xml")
    try:
        _ooxml_paragraphs(archive, members, budget, _W, sink)
    except (etree.XMLSyntaxError, zipfile.BadZipFile, EOFError, zipfile.LargeZipFile) as error:
        raise ExtractionFailed(f"unreadable DOCX: {error}") from error


def _pptx(data: bytes, _charset: str | None, sink: TextSink, budget: Budget, _depth: int) -> None:
    from lxml import etree

    archive = _open_zip(data, budget)
    names = archive.namelist()
    if "ppt/presentation.xml" not in names:
        raise ExtractionFailed("not a PPTX file: ppt/presentation.xml is missing")
    # Slides in their number order, then the speaker notes: the words are what search needs.
    parts = [
        (match.group(1) != "slides/slide", int(match.group(2)), name)
        for name in names
        if (match := _PPTX_PARTS.fullmatch(name))
    ]
    try:
        _ooxml_paragraphs(archive, [name for *_key, name in sorted(parts)], budget, _A, sink)
    except (etree.XMLSyntaxError, zipfile.BadZipFile, EOFError, zipfile.LargeZipFile) as error:
        raise ExtractionFailed(f"unreadable PPTX: {error}") from error


def _xlsx(data: bytes, _charset: str | None, sink: TextSink, budget: Budget, _depth: int) -> None:
    import warnings
    from xml.etree.ElementTree import ParseError

    from lxml import etree
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    _open_zip(data, budget).close()  # refuses a zip bomb before openpyxl inflates anything
    try:
        with warnings.catch_warnings():
            # openpyxl warns about every extension it does not model (data validation, slicers, …).
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                _sheets(workbook, sink)
            finally:
                workbook.close()
    except (
        InvalidFileException,
        zipfile.BadZipFile,
        KeyError,
        ValueError,
        TypeError,
        ParseError,
        etree.XMLSyntaxError,
    ) as error:
        raise ExtractionFailed(f"unreadable XLSX: {error}") from error


#: Cells (empty ones included) read from one workbook before the rest is left out: openpyxl pads each
#: row to its last cell, so a few kilobytes holding one cell per row at column XFD cost 16 384 a row.
MAX_SHEET_CELLS = 5_000_000


def _sheets(workbook: Any, sink: TextSink) -> None:
    cells = 0
    for sheet in workbook.worksheets:
        # The size a sheet declares may be anything (A1:XFD1048576 in a file of 5 KB): read only
        # the rows the file holds.
        sheet.reset_dimensions()
        sink.line(sheet.title)
        for row in sheet.iter_rows(values_only=True):
            cells += len(row)
            if cells > MAX_SHEET_CELLS:
                sink.cut(f"only the first {MAX_SHEET_CELLS} cells were read")
                return
            shown = [_cell_text(value) for value in row if value is not None and value != ""]
            if shown:
                sink.line("\t".join(shown))


def _cell_text(value: object) -> str:
    """A cell as a reader sees it: 1500 not 1500.0, a date without a midnight time."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime) and value.time() == datetime.time():
        return value.date().isoformat()
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return str(value)


def _odt_text(element: Any, out: list[str]) -> None:
    tag = element.tag
    if tag == f"{_TEXT}s":
        count = element.get(f"{_TEXT}c") or "1"
        out.append(" " * min(int(count) if count.isdigit() else 1, 64))
    elif tag == f"{_TEXT}tab":
        out.append("\t")
    elif tag == f"{_TEXT}line-break":
        out.append("\n")
    elif isinstance(tag, str):
        if element.text:
            out.append(element.text)
        for child in element:
            _odt_text(child, out)
            if child.tail:
                out.append(child.tail)


def _opendocument(data: bytes, _charset: str | None, sink: TextSink, budget: Budget, _depth: int) -> None:
    """Text, spreadsheet and presentation files alike keep their words in content.xml paragraphs."""
    from lxml import etree

    archive = _open_zip(data, budget)
    if "content.xml" not in archive.namelist():
        raise ExtractionFailed("not an OpenDocument file: content.xml is missing")
    try:
        for paragraph in _paragraphs(archive, "content.xml", budget, (f"{_TEXT}p", f"{_TEXT}h")):
            pieces: list[str] = []
            _odt_text(paragraph, pieces)
            sink.line("".join(pieces))
    except (etree.XMLSyntaxError, zipfile.BadZipFile, EOFError) as error:
        raise ExtractionFailed(f"unreadable OpenDocument file: {error}") from error


# -- RTF -----------------------------------------------------------------

_ANSICPG = re.compile(rb"\\ansicpg(\d{3,5})")


def _rtf(data: bytes, _charset: str | None, sink: TextSink, _budget: Budget, _depth: int) -> None:
    from striprtf.striprtf import charset_map, rtf_to_text

    if not data.lstrip().startswith(b"{\\rtf"):
        raise ExtractionFailed("not an RTF file")
    match = _ANSICPG.search(data[:8192])
    encoding = known_encoding(f"cp{int(match.group(1))}") if match else None
    encoding = encoding or "cp1252"
    text = data.decode(encoding, errors="replace")
    # striprtf decodes \'xx escapes of a \fcharset0 ("ANSI") font as CP1252
    # whatever \ansicpg says; Polish documents declare \ansicpg1250 and often
    # use such fonts, so ANSI fonts are pointed at the declared code page.
    ansi = next((number for number, codec in charset_map.items() if known_encoding(codec) == encoding), None)
    if ansi is not None and ansi != 0:
        text = re.sub(r"\\fcharset0(?!\d)", rf"\\fcharset{ansi}", text)
    try:
        sink.add(rtf_to_text(text, encoding=encoding, errors="replace"))
    except (IndexError, ValueError) as error:
        raise ExtractionFailed(f"unreadable RTF: {error}") from error


# -- HTML ----------------------------------------------------------------

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_BLOCKS = (
    "p div li tr h1 h2 h3 h4 h5 h6 table section article header footer blockquote pre address dd dt "
    "ul ol form fieldset figure figcaption main nav aside"
).split()
_BLANK_LINES = re.compile(r"\n[ \t\r\f\v]*(?:\n[ \t\r\f\v]*)+")
_LINE_ENDS = frozenset([*_BLOCKS, "br"])
_XML_DECLARATION = re.compile(r"^\ufeff?\s*<\?xml[^>]*\?>")
_CELLS = frozenset(["td", "th"])
_HIDDEN = frozenset(["script", "style", "noscript", "template", "head", "svg", "object"])


def html_to_text(data: bytes, charset: str | None = None) -> str:
    """Visible text of an HTML document: no scripts, styles or comments; blocks on their own lines.

    One walk over lxml's tree, in linear time: a table of 25,000 rows (an ordinary export) took
    a minute when every cell and row had a separator inserted into the tree (each insertion
    looks the element up among its siblings).
    """
    from lxml import etree
    from lxml import html as lxml_html

    if charset is None:
        meta = _META_CHARSET.search(data[:4096])
        charset = meta.group(1).decode("ascii") if meta else None
    parser = lxml_html.HTMLParser(remove_comments=True, remove_pis=True, no_network=True)
    # The text is decoded already: lxml refuses text that still declares an encoding (XHTML).
    text = _XML_DECLARATION.sub("", decode_text(data, charset), count=1)
    try:
        root = lxml_html.document_fromstring(text, parser=parser)
    except etree.ParserError:  # nothing but white space
        return ""
    titles = root.xpath("//title")
    title = " ".join(titles[0].text_content().split()) if titles else ""
    body = _BLANK_LINES.sub("\n\n", "".join(_visible_text(root))).strip()
    return f"{title}\n{body}" if title and title not in body[: len(title) + 1] else body


def _visible_text(root: Any) -> Iterator[str]:
    """The text of `root` in document order, a tab after each table cell and a line break after
    each block; iterative, as a document may nest elements thousands deep."""
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        element, closing = stack.pop()
        tag = element.tag if isinstance(element.tag, str) else ""
        if closing:
            if tag in _CELLS:
                yield "\t"
            elif tag in _LINE_ENDS:
                yield "\n"
        elif tag and tag not in _HIDDEN:
            if element.text:
                yield element.text
            stack.append((element, True))
            stack.extend((child, False) for child in reversed(element))
            continue
        if element.tail and element is not root:
            yield element.tail


def _html(data: bytes, charset: str | None, sink: TextSink, _budget: Budget, _depth: int) -> None:
    sink.add(html_to_text(data, charset))


# -- plain text ----------------------------------------------------------


def _text(data: bytes, charset: str | None, sink: TextSink, _budget: Budget, _depth: int) -> None:
    # No encoding needs more than 4 bytes a character: decoding more than the
    # output can hold would only spend memory on text thrown away.
    room = (sink.max_chars - sink.size) * 4 + 4
    cut = len(data) > room
    text = decode_text(data[:room] if cut else data, charset)
    sink.add(text)
    if cut:
        sink.cut(f"text truncated to {sink.max_chars} characters")


# -- XML -----------------------------------------------------------------


def _xml(data: bytes, charset: str | None, sink: TextSink, budget: Budget, depth: int) -> None:
    """The words of an XML document (an e-invoice, an export of another system): the text of its
    elements, without the markup, whose tag names nobody searches for and snippets should not
    show. XML that does not parse is read as plain text, so nothing in it is lost."""
    from lxml import etree

    lines: list[str] = []
    room = sink.max_chars - sink.size  # no need to read on once the output is full
    events = etree.iterparse(
        io.BytesIO(data),
        events=("end",),
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        for _event, element in events:
            # The element's own text: before its first child and after each (the children's own
            # were taken when they ended, and cleared then).
            pieces = [element.text, *(child.tail for child in element)]
            text = " ".join(piece.strip() for piece in pieces if piece and piece.strip())
            if text:
                lines.append(text)
                room -= len(text) + 1
            element.clear(keep_tail=True)
            if room < 0:
                break
    except etree.XMLSyntaxError:
        _text(data, charset, sink, budget, depth)
        return
    sink.add("\n".join(lines))


# -- e-mail --------------------------------------------------------------

_HEADERS = ("From", "To", "Cc", "Subject", "Date")


def _email(data: bytes, _charset: str | None, sink: TextSink, budget: Budget, depth: int) -> None:
    message = BytesParser(policy=policy.default).parsebytes(data)
    _message(message, sink, budget, depth)


def _header(message: Message, name: str) -> str | None:
    try:
        value = message.get(name)
    except (ValueError, TypeError, IndexError):
        # A malformed header value: fall back to its raw text.
        raw = dict(message.raw_items()).get(name) if hasattr(message, "raw_items") else None
        return str(raw) if raw is not None else None
    return str(value) if value is not None else None


def _message(message: Message, sink: TextSink, budget: Budget, depth: int) -> None:
    if depth > budget.max_email_depth:
        return
    for name in _HEADERS:
        value = _header(message, name)
        if value:
            sink.line(f"{name}: {value}")
    sink.add("\n")
    _parts(message, sink, budget, depth)


def _parts(message: Message, sink: TextSink, budget: Budget, depth: int) -> None:
    body = None
    if isinstance(message, EmailMessage):
        try:
            body = message.get_body(preferencelist=("plain", "html"))
        except (KeyError, TypeError, ValueError):
            body = None
    if body is not None:
        _leaf(body, sink, budget, depth, as_body=True)
        attachments: Iterator[Message] = _attachments(message, body)
    elif message.is_multipart():
        attachments = iter(message.get_payload())  # type: ignore[arg-type]
    else:
        attachments = iter((message,))
    for part in attachments:
        if part is body:
            continue
        if part.get_content_type() == "message/rfc822":
            nested = part.get_payload()
            inner = nested[0] if isinstance(nested, list) and nested else None
            if isinstance(inner, Message):
                sink.add("\n")
                _message(inner, sink, budget, depth + 1)
        elif part.is_multipart():
            if depth < budget.max_email_depth:
                _parts(part, sink, budget, depth + 1)
        else:
            _leaf(part, sink, budget, depth + 1, as_body=False)


def _attachments(message: Message, body: Message) -> Iterator[Message]:
    if isinstance(message, EmailMessage) and message.is_multipart():
        try:
            yield from message.iter_attachments()
        except (KeyError, TypeError, ValueError):
            return
        return
    if message is not body and not message.is_multipart():
        yield message


def _leaf(part: Message, sink: TextSink, budget: Budget, depth: int, *, as_body: bool) -> None:
    if depth > budget.max_email_depth:
        return
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return
    budget.charge(len(payload))
    content_type = part.get_content_type()
    filename = part.get_filename()
    if not as_body and filename:
        sink.line(f"\nAttachment: {filename}")
    kind = kind_for(content_type, filename)
    if kind is None:
        return
    try:
        _EXTRACTORS[kind](payload, part.get_content_charset(), sink, budget, depth)
    except ExtractionFailed as error:
        # One unreadable attachment does not make the whole message unreadable.
        sink.line(f"[attachment not readable: {error}]")
    sink.add("\n")


_EXTRACTORS: dict[str, Callable[[bytes, str | None, TextSink, Budget, int], None]] = {
    "pdf": _pdf,
    "docx": _docx,
    "xlsx": _xlsx,
    "pptx": _pptx,
    "opendocument": _opendocument,
    "rtf": _rtf,
    "html": _html,
    "text": _text,
    "xml": _xml,
    "email": _email,
}


def extractor_version(mime_type: str) -> int:
    """The version of the extractor that reads `mime_type` (1 until it changes; see `EXTRACTOR_VERSIONS`)."""
    kind = kind_for(split_mime(mime_type)[0])
    return EXTRACTOR_VERSIONS.get(kind, 1) if kind is not None else 1


def can_extract(mime_type: str) -> bool:
    """Whether some extractor reads text from this MIME type."""
    return kind_for(split_mime(mime_type)[0]) is not None
