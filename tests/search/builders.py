"""Test documents generated on the fly: no binary fixtures in the repository.

The PDF is written by hand: a base-14 font (Helvetica) whose /Differences
encoding puts the Polish letters on codes 0x80–0x91, plus a ToUnicode CMap so
text extraction maps them back — no PDF library needed.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from email.message import EmailMessage

POLISH_GLYPHS = {
    "ą": "aogonek",
    "ć": "cacute",
    "ę": "eogonek",
    "ł": "lslash",
    "ń": "nacute",
    "ó": "oacute",
    "ś": "sacute",
    "ź": "zacute",
    "ż": "zdotaccent",
    "Ą": "Aogonek",
    "Ć": "Cacute",
    "Ę": "Eogonek",
    "Ł": "Lslash",
    "Ń": "Nacute",
    "Ó": "Oacute",
    "Ś": "Sacute",
    "Ź": "Zacute",
    "Ż": "Zdotaccent",
}
_CODES = {char: 0x80 + i for i, char in enumerate(POLISH_GLYPHS)}


def _pdf_string(text: str) -> bytes:
    out = bytearray(b"(")
    for char in text:
        if char in _CODES:
            out.append(_CODES[char])
        elif char in "()\\":
            out += b"\\" + char.encode("ascii")
        else:
            out += char.encode("ascii")
    return bytes(out + b")")


def _to_unicode_cmap() -> bytes:
    lines = [
        "/CIDInit /ProcSet findresource begin",
        "12 dict begin",
        "begincmap",
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
        "/CMapName /Adobe-Identity-UCS def",
        "/CMapType 2 def",
        "1 begincodespacerange",
        "<00> <FF>",
        "endcodespacerange",
        "1 beginbfrange",
        "<20> <7E> <0020>",
        "endbfrange",
        f"{len(_CODES)} beginbfchar",
        *(f"<{code:02X}> <{ord(char):04X}>" for char, code in _CODES.items()),
        "endbfchar",
        "endcmap",
        "CMapName currentdict /CMap defineresource pop",
        "end",
        "end",
    ]
    return "\n".join(lines).encode("ascii")


def make_pdf(pages: list[list[str]]) -> bytes:
    """A valid PDF with one page per list of lines, Polish letters included."""
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    differences = " ".join(f"/{POLISH_GLYPHS[c]}" for c in _CODES)
    cmap = _to_unicode_cmap()
    cmap_id = add(b"<< /Length %d >>\nstream\n" % len(cmap) + cmap + b"\nendstream")
    font_id = add(
        (
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
            f"/Encoding << /Type /Encoding /BaseEncoding /WinAnsiEncoding /Differences [128 {differences}] >> "
            f"/ToUnicode {cmap_id} 0 R >>"
        ).encode("ascii")
    )
    pages_id = len(objects) + 1 + 2 * len(pages)  # allocated after the page objects
    page_ids = []
    for lines in pages:
        stream = b"BT /F1 11 Tf 14 TL 50 800 Td " + b" ".join(_pdf_string(line) + b" Tj T*" for line in lines) + b" ET"
        content_id = add(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        page_ids.append(
            add(
                (
                    f"<< /Type /Page /Parent {pages_id} 0 R /MediaBox [0 0 595 842] "
                    f"/Resources << /Font << /F1 {font_id} 0 R >> >> /Contents {content_id} 0 R >>"
                ).encode("ascii")
            )
        )
    kids = " ".join(f"{i} 0 R" for i in page_ids)
    assert add(f"<< /Type /Pages /Kids [{kids}] /Count {len(page_ids)} >>".encode("ascii")) == pages_id
    catalog_id = add(f"<< /Type /Catalog /Pages {pages_id} 0 R >>".encode("ascii"))

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        catalog_id,
        xref,
    )
    return bytes(out)


def make_docx(paragraphs: list[str], table: list[list[str]] | None = None) -> bytes:
    from docx import Document

    document = Document()
    document.add_heading(paragraphs[0], level=1)
    for text in paragraphs[1:]:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def make_odt(paragraphs: list[str], table: list[list[str]] | None = None) -> bytes:
    from odf.opendocument import OpenDocumentText
    from odf.table import Table, TableCell, TableColumn, TableRow
    from odf.text import H, P

    document = OpenDocumentText()
    document.text.addElement(H(outlinelevel=1, text=paragraphs[0]))
    for text in paragraphs[1:]:
        document.text.addElement(P(text=text))
    if table:
        grid = Table(name="T")
        grid.addElement(TableColumn(numbercolumnsrepeated=len(table[0])))
        for row in table:
            table_row = TableRow()
            for value in row:
                cell = TableCell()
                cell.addElement(P(text=value))
                table_row.addElement(cell)
            grid.addElement(table_row)
        document.text.addElement(grid)
    buffer = io.BytesIO()
    document.write(buffer)
    return buffer.getvalue()


def make_xlsx(sheets: dict[str, list[list[object]]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def make_ods(rows: list[list[str]]) -> bytes:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    document = OpenDocumentSpreadsheet()
    sheet = Table(name="Arkusz1")
    for row in rows:
        table_row = TableRow()
        for value in row:
            cell = TableCell(valuetype="string")
            cell.addElement(P(text=value))
            table_row.addElement(cell)
        sheet.addElement(table_row)
    document.spreadsheet.addElement(sheet)
    buffer = io.BytesIO()
    document.write(buffer)
    return buffer.getvalue()


def make_odp(slides: list[list[str]]) -> bytes:
    from odf.draw import Frame, Page, TextBox
    from odf.opendocument import OpenDocumentPresentation
    from odf.style import MasterPage, PageLayout
    from odf.text import P

    document = OpenDocumentPresentation()
    layout = PageLayout(name="Układ")
    document.automaticstyles.addElement(layout)
    master = MasterPage(name="Wzorzec", pagelayoutname=layout)
    document.masterstyles.addElement(master)
    for paragraphs in slides:
        page = Page(masterpagename=master)
        frame = Frame(width="20cm", height="10cm", x="1cm", y="1cm")
        box = TextBox()
        for text in paragraphs:
            box.addElement(P(text=text))
        frame.addElement(box)
        page.addElement(frame)
        document.presentation.addElement(page)
    buffer = io.BytesIO()
    document.write(buffer)
    return buffer.getvalue()


_DRAWINGML = "http://schemas.openxmlformats.org/drawingml/2006/main"
_PRESENTATIONML = "http://schemas.openxmlformats.org/presentationml/2006/main"


def _slide_xml(root: str, paragraphs: list[str]) -> str:
    body = "".join(f"<a:p><a:r><a:t>{text}</a:t></a:r></a:p>" for text in paragraphs)
    return (
        f'<p:{root} xmlns:a="{_DRAWINGML}" xmlns:p="{_PRESENTATIONML}"><p:cSld><p:spTree><p:sp>'
        f"<p:txBody>{body}</p:txBody></p:sp></p:spTree></p:cSld></p:{root}>"
    )


def make_pptx(slides: list[list[str]], notes: dict[int, list[str]] | None = None) -> bytes:
    """The parts of a PPTX that hold words (python-pptx is not a dependency; the text is all we read)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("ppt/presentation.xml", f'<p:presentation xmlns:p="{_PRESENTATIONML}"/>')
        for number, paragraphs in enumerate(slides, start=1):
            archive.writestr(f"ppt/slides/slide{number}.xml", _slide_xml("sld", paragraphs))
        for number, paragraphs in (notes or {}).items():
            archive.writestr(f"ppt/notesSlides/notesSlide{number}.xml", _slide_xml("notes", paragraphs))
    return buffer.getvalue()


def rtf_escape(text: str, encoding: str = "cp1250") -> str:
    out = []
    for char in text:
        if char in "\\{}":
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\par\n")
        elif ord(char) < 128:
            out.append(char)
        else:
            out.append("\\'%02x" % char.encode(encoding)[0])
    return "".join(out)


def make_rtf(text: str, *, fcharset: int = 0) -> bytes:
    """An RTF as Polish Word writes it: \\ansicpg1250 with \\'xx escapes."""
    body = rtf_escape(text)
    return (
        "{\\rtf1\\ansi\\ansicpg1250\\deff0{\\fonttbl{\\f0\\fswiss\\fcharset%d Arial;}}"
        "\\viewkind4\\uc1\\pard\\f0\\fs22 %s\\par\n}" % (fcharset, body)
    ).encode("ascii")


def make_zip_bomb_docx(unpacked_bytes: int) -> bytes:
    """A DOCX whose document.xml inflates to `unpacked_bytes` (it compresses ~1000:1)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            chunk = b" " * (1024 * 1024)
            for _ in range(unpacked_bytes // len(chunk)):
                member.write(chunk)
    return buffer.getvalue()


def make_email(
    *,
    subject: str,
    body: str,
    attachments: list[tuple[bytes, str, str]] = (),  # type: ignore[assignment]
    nested: EmailMessage | None = None,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Paweł Kowalski <pawel@firma.pl>"
    message["To"] = "Biuro Rachunkowe Żuraw <biuro@zuraw.pl>"
    message["Subject"] = subject
    message["Date"] = "Tue, 13 Jan 2026 10:00:00 +0100"
    message.set_content(body)
    for data, mime, filename in attachments:
        maintype, subtype = mime.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    if nested is not None:
        message.add_attachment(nested)
    return message


def rewrite_member(archive_bytes: bytes, name: str, change: Callable[[bytes], bytes]) -> bytes:
    """The zip with one member's bytes changed, every other member as it was."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(archive_bytes)) as source,
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            data = source.read(info)
            target.writestr(info, change(data) if info.filename == name else data)
    return buffer.getvalue()
