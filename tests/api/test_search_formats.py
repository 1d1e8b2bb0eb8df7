"""Every archived format is found by its words after a real upload: type detection meets extraction."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from tests.api.helpers import create_binder, create_document
from tests.conftest import drain
from tests.search.builders import (
    make_docx,
    make_email,
    make_odp,
    make_ods,
    make_odt,
    make_pdf,
    make_pptx,
    make_rtf,
    make_xlsx,
)

POLISH = "Zażółć gęślą jaźń"
SEARCH = "query($q: String!) { search(query: $q) { edges { node { document { title currentVersion { mimeType extractionStatus } } } } } }"

FILES = {
    "pdf": ("umowa.pdf", lambda: make_pdf([[f"{POLISH}: umowa najmu lokalu"]]), "application/pdf"),
    "docx": ("umowa.docx", lambda: make_docx([f"{POLISH}: umowa najmu lokalu"]), "wordprocessingml"),
    "odt": ("umowa.odt", lambda: make_odt([f"{POLISH}: umowa najmu lokalu"]), "opendocument.text"),
    "xlsx": (
        "umowy.xlsx",
        lambda: make_xlsx({"Umowy": [["Przedmiot", f"{POLISH}: umowa najmu lokalu"]]}),
        "spreadsheetml",
    ),
    "ods": (
        "umowy.ods",
        lambda: make_ods([["Przedmiot", f"{POLISH}: umowa najmu lokalu"]]),
        "opendocument.spreadsheet",
    ),
    "pptx": ("umowa.pptx", lambda: make_pptx([["Przedmiot", f"{POLISH}: umowa najmu lokalu"]]), "presentationml"),
    "odp": (
        "umowa.odp",
        lambda: make_odp([["Przedmiot", f"{POLISH}: umowa najmu lokalu"]]),
        "opendocument.presentation",
    ),
    "rtf": ("umowa.rtf", lambda: make_rtf(f"{POLISH}: umowa najmu lokalu"), "rtf"),
    "html": (
        "umowa.html",
        lambda: f"<html><body><p>{POLISH}: umowa najmu lokalu</p><script>x()</script></body></html>".encode(),
        "text/html",
    ),
    "cp1250": (
        "umowa.txt",
        lambda: (f"{POLISH}: umowa najmu lokalu. Strony zawierają umowę w Łodzi, dnia 3 marca. " * 3).encode("cp1250"),
        "text/plain",
    ),
    "xml": (
        "faktura.xml",
        lambda: (
            f'<?xml version="1.0" encoding="UTF-8"?><Faktura><Opis>{POLISH}: umowa najmu lokalu</Opis></Faktura>'.encode()
        ),
        "xml",
    ),
    # An HTML-only mail whose first header is its subject: libmagic calls it a web page.
    "eml-html": ("potwierdzenie.eml", lambda: html_only_email(), "message/rfc822"),
    # Plain prose that quotes a tag: libmagic calls it HTML.
    "txt-tags": (
        "umowa.txt",
        lambda: f"{POLISH}: umowa najmu lokalu, akapit <b>pogrubiony</b> w notatce.\n".encode(),
        "text/plain",
    ),
}


def html_only_email() -> bytes:
    message = EmailMessage()
    message["Subject"] = "Potwierdzenie"
    message["To"] = "biuro@example.pl"
    message["From"] = "klient@example.pl"
    body = f"<html><body><p>{POLISH}: umowa najmu lokalu</p></body></html>"
    message.set_content(body, subtype="html", charset="cp1250", cte="quoted-printable")
    return message.as_bytes()


@pytest.mark.parametrize("kind", sorted(FILES))
async def test_an_uploaded_file_is_found_by_an_inflected_diacritic_free_word(alice, indexer, kind):
    filename, build, mime_part = FILES[kind]
    binder = await create_binder(alice, "Umowy")
    await create_document(alice, binder["id"], f"Umowa ({kind})", build(), filename=filename)
    await drain(indexer)
    result = await alice.gql(SEARCH, q="umowie najmu zazolc")
    edges = result.data["search"]["edges"]
    assert [e["node"]["document"]["title"] for e in edges] == [f"Umowa ({kind})"]
    version = edges[0]["node"]["document"]["currentVersion"]
    assert mime_part in version["mimeType"]
    assert version["extractionStatus"] == "ok"


async def test_an_email_is_found_by_its_subject_and_by_the_text_of_its_pdf_attachment(alice, indexer):
    message = make_email(
        subject="Reklamacja dostawy",
        body="W załączniku protokół.",
        attachments=[(make_pdf([["Protokół szkody: uszkodzona paleta"]]), "application/pdf", "protokol.pdf")],
    )
    binder = await create_binder(alice, "Korespondencja")
    await create_document(alice, binder["id"], "E-mail od klienta", message.as_bytes(), filename="mail.eml")
    await drain(indexer)
    for words in ("reklamacji", "uszkodzonej palety"):
        result = await alice.gql(SEARCH, q=words)
        assert [e["node"]["document"]["title"] for e in result.data["search"]["edges"]] == ["E-mail od klienta"], words


async def test_an_xml_e_invoice_is_found_by_its_text_and_not_by_its_tag_names(alice, indexer):
    invoice = (
        '<?xml version="1.0" encoding="UTF-8"?><Faktura xmlns="http://crd.gov.pl/wzor/2023/06/29/12648/">'
        "<Fa><P_2>FV/2026/0012</P_2><FaWiersz><P_7>Krzesło obrotowe</P_7></FaWiersz></Fa></Faktura>"
    )
    binder = await create_binder(alice, "Faktury")
    await create_document(alice, binder["id"], "E-faktura", invoice.encode(), filename="FV_2026_0012.xml")
    await drain(indexer)
    query = "query($q: String!) { search(query: $q) { edges { node { highlights } } } }"
    found = await alice.gql(query, q="krzesła")
    assert [e["node"]["highlights"] for e in found.data["search"]["edges"]] == [
        ["FV/2026/0012 <mark>Krzesło</mark> obrotowe"]
    ]
    assert (await alice.gql(query, q="FaWiersz")).data["search"]["edges"] == []


async def test_an_unreadable_file_is_still_found_by_its_title(alice, indexer):
    binder = await create_binder(alice, "Skany")
    await create_document(alice, binder["id"], "Skan faktury kosztowej", b"\x00\x01\x02binary", filename="skan.bin")
    await drain(indexer)
    result = await alice.gql(SEARCH, q="faktury")
    edges = result.data["search"]["edges"]
    assert [e["node"]["document"]["title"] for e in edges] == ["Skan faktury kosztowej"]
    assert edges[0]["node"]["document"]["currentVersion"]["extractionStatus"] == "unsupported"
