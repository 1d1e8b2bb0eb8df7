"""A file's type comes from its bytes: libmagic first, then what office files and e-mail say of themselves."""

from __future__ import annotations

import io
import zipfile

import pytest

from dms.documents.uploads import SNIFF_BYTES, detect_mime_type
from tests.search.builders import make_docx, make_email, make_odp, make_ods, make_odt, make_pptx, make_xlsx

OPENDOCUMENT = "application/vnd.oasis.opendocument."


def repacked(data: bytes, *, mimetype_first: bool) -> bytes:
    """The same members zipped again by a tool that neither keeps their order nor compresses them."""
    with zipfile.ZipFile(io.BytesIO(data)) as original:
        members = [(info.filename, original.read(info)) for info in original.infolist()]
    members.sort(key=lambda member: (member[0] == "mimetype") != mimetype_first)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members:
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (lambda: make_docx(["Umowa"]), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (lambda: make_xlsx({"Arkusz": [["x"]]}), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (lambda: make_pptx([["Slajd"]]), "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
        (lambda: make_odt(["Umowa"]), OPENDOCUMENT + "text"),
        (lambda: make_ods([["x"]]), OPENDOCUMENT + "spreadsheet"),
        (lambda: make_odp([["Slajd"]]), OPENDOCUMENT + "presentation"),
        (lambda: make_email(subject="Oferta", body="Dzień dobry").as_bytes(), "message/rfc822"),
    ],
)
def test_office_files_and_mail_are_recognised(build, expected: str) -> None:
    assert detect_mime_type(build()[:SNIFF_BYTES]) == expected


@pytest.mark.parametrize("build", [make_odt, make_ods, make_odp], ids=["odt", "ods", "odp"])
def test_an_opendocument_file_repacked_with_its_mimetype_member_later_is_still_recognised(build) -> None:
    original = build([["Treść"]] if build is not make_odt else ["Treść"])
    expected = detect_mime_type(original[:SNIFF_BYTES])
    assert expected.startswith(OPENDOCUMENT)
    assert detect_mime_type(repacked(original, mimetype_first=False)[:SNIFF_BYTES]) == expected


def test_a_plain_zip_stays_a_zip() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notatka.txt", "application/vnd.oasis.opendocument.text bez członu mimetype")
    assert detect_mime_type(buffer.getvalue()) == "application/zip"
