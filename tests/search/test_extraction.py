from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator, Iterator
from datetime import date
from pathlib import Path

import pytest

from search.analysis import term_positions
from search.extraction import (
    Extraction,
    ExtractionLimits,
    Extractor,
    extract_text,
    extract_text_async,
)
from search.formats import DOCX, ODP, ODS, ODT, PDF, PPTX, XLSX
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
    make_zip_bomb_docx,
    rewrite_member,
)

PANGRAM = "Zażółć gęślą jaźń"
INVOICE_TEXT = (
    "Faktura VAT nr FV/2026/0012. Sprzedawca: Przedsiębiorstwo Handlowe 'Żuraw' sp. z o.o., "
    "ul. Świętokrzyska 15, 00-950 Łódź, NIP 123-456-32-18. Nabywca: Gęś i Wąż s.c. "
    "Za usługę transportową należność wynosi 1 230,00 zł; płatność przelewem w ciągu 14 dni. "
    "Zażółć gęślą jaźń. Ćma, źdźbło, ŚWIĘTO, ŁÓDŹ, ŻÓŁW, ĄĘ."
)


@pytest.fixture(scope="module")
def hooked() -> Iterator[Extractor]:
    with Extractor(ExtractionLimits(timeout_seconds=2.0), test_hooks=True) as extractor:
        yield extractor


def ok(result: Extraction) -> str:
    assert result.status == "ok", result
    return result.text


class TestPlainText:
    @pytest.mark.parametrize("encoding", ["utf-8", "cp1250", "iso-8859-2", "utf-16"])
    def test_polish_text_comes_out_right_in_every_common_encoding(self, encoding: str) -> None:
        assert ok(extract_text(INVOICE_TEXT.encode(encoding), "text/plain")) == INVOICE_TEXT

    @pytest.mark.parametrize("encoding", ["cp1250", "iso-8859-2"])
    def test_a_short_pangram_is_not_confused_between_cp1250_and_iso_8859_2(self, encoding: str) -> None:
        assert ok(extract_text(PANGRAM.encode(encoding), "text/plain")) == PANGRAM

    def test_a_declared_charset_is_honoured(self) -> None:
        data = "Grüße aus Köln".encode("cp1252")
        assert ok(extract_text(data, "text/plain; charset=windows-1252")) == "Grüße aus Köln"

    def test_other_text_types_are_read_as_plain_text(self) -> None:
        assert "faktura" in ok(extract_text(b"id;nazwa\n1;faktura\n", "text/csv"))

    def test_whitespace_only_is_empty(self) -> None:
        assert extract_text(b" \n\t ", "text/plain").status == "empty"


class TestDocuments:
    def test_pdf_with_polish_letters(self) -> None:
        pdf = make_pdf([["Faktura VAT nr FV/2026/0012", PANGRAM + " - ĄĆĘŁŃÓŚŹŻ"], ["Strona 2: płatność przelewem"]])
        text = ok(extract_text(pdf, PDF))
        assert "FV/2026/0012" in text and PANGRAM in text and "ĄĆĘŁŃÓŚŹŻ" in text
        assert "płatność przelewem" in text

    def test_pdf_justified_gaps_are_single_spaces_so_numbers_are_found_in_one_piece(self) -> None:
        pdf = make_pdf([["NIP  777  000  11  11,  kwota  48  900,00  zł"]])
        text = ok(extract_text(pdf, PDF))
        assert "NIP 777 000 11 11, kwota 48 900,00 zł" in text
        terms = term_positions(text)
        assert "7770001111" in terms and "48900" in terms

    def test_pdf_table_columns_stay_apart_so_their_figures_are_not_glued(self) -> None:
        pdf = make_pdf([["Szt.      2      150      23%"]])
        terms = term_positions(ok(extract_text(pdf, PDF)))
        assert {"2", "150", "23"} <= set(terms)
        assert "215023" not in terms and "15023" not in terms

    def test_docx_paragraphs_and_tables(self) -> None:
        docx = make_docx(["Umowa najmu", PANGRAM], table=[["Najemca", "Żółw sp. z o.o."], ["Czynsz", "1 500 zł"]])
        text = ok(extract_text(docx, DOCX))
        assert "Umowa najmu" in text and PANGRAM in text
        assert "Żółw sp. z o.o." in text and "1 500 zł" in text

    def test_odt_paragraphs_headings_and_tables(self) -> None:
        odt = make_odt(["Protokół odbioru", PANGRAM], table=[["Pozycja", "Łóżko"]])
        text = ok(extract_text(odt, ODT))
        assert "Protokół odbioru" in text and PANGRAM in text and "Łóżko" in text

    def test_xlsx_sheets_row_by_row_with_numbers_and_dates_as_shown(self) -> None:
        xlsx = make_xlsx(
            {
                "Zestawienie faktur": [["Kontrahent", "Kwota", "Termin"], ["Żółw sp. z o.o.", 1500, date(2026, 3, 31)]],
                "Uwagi": [[None, PANGRAM], [], ["kurs", 4.25]],
            }
        )
        text = ok(extract_text(xlsx, XLSX))
        assert text.splitlines() == [
            "Zestawienie faktur",
            "Kontrahent\tKwota\tTermin",
            "Żółw sp. z o.o.\t1500\t2026-03-31",
            "Uwagi",
            PANGRAM,
            "kurs\t4.25",
        ]

    def test_xlsx_reads_the_rows_it_holds_whatever_size_it_declares(self) -> None:
        rows = [[f"FV/2026/{n:04d}", "Żuraw"] for n in range(1, 2001)]
        declared_huge = rewrite_member(
            make_xlsx({"Faktury": rows}),
            "xl/worksheets/sheet1.xml",
            lambda xml: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', xml),
        )
        result = extract_text(declared_huge, XLSX)
        assert not result.truncated, "each row is read as wide as it is, not as the sheet says"
        assert ok(result).splitlines() == ["Faktury", *(f"{a}\t{b}" for a, b in rows)]

    def test_xlsx_with_cells_far_to_the_right_is_cut_short_not_read_for_ever(self) -> None:
        from openpyxl import Workbook

        workbook = Workbook()
        sheet = workbook.active
        for row in range(1, 401):
            sheet.cell(row=row, column=16384, value=f"komórka {row}")
        buffer = io.BytesIO()
        workbook.save(buffer)
        result = extract_text(buffer.getvalue(), XLSX)
        assert result.status == "ok" and result.truncated
        assert "komórka 1\n" in result.text and "komórka 400" not in result.text

    def test_ods_cells(self) -> None:
        text = ok(extract_text(make_ods([["Pozycja", "Łóżko"], ["Cena", "1 230,00 zł"]]), ODS))
        assert "Łóżko" in text and "1 230,00 zł" in text

    def test_pptx_slides_in_order_then_notes(self) -> None:
        slides = [[f"Slajd {n}"] for n in range(1, 12)]
        pptx = make_pptx(slides, notes={2: ["Notatka: zażółć gęślą jaźń"]})
        lines = ok(extract_text(pptx, PPTX)).splitlines()
        assert lines == [f"Slajd {n}" for n in range(1, 12)] + ["Notatka: zażółć gęślą jaźń"]

    def test_odp_slides(self) -> None:
        text = ok(extract_text(make_odp([["Plan sprzedaży", "Łódź i Kraków"], ["Podsumowanie"]]), ODP))
        assert text.splitlines() == ["Plan sprzedaży", "Łódź i Kraków", "Podsumowanie"]

    @pytest.mark.parametrize("fcharset", [0, 238])
    def test_rtf_honours_the_ansi_code_page(self, fcharset: int) -> None:
        rtf = make_rtf(f"Zamówienie ZAM/7: {PANGRAM}. ŚWIĘTO ŹRÓDEŁ", fcharset=fcharset)
        text = ok(extract_text(rtf, "application/rtf"))
        assert PANGRAM in text and "ŚWIĘTO ŹRÓDEŁ" in text

    def test_rtf_unicode_escapes(self) -> None:
        rtf = b"{\\rtf1\\ansi\\ansicpg1250\\uc1 Za\\u380?\\u243?\\u322?\\u263? test}"
        assert "Zażółć test" in ok(extract_text(rtf, "text/rtf"))

    def test_html_text_without_scripts_and_styles(self) -> None:
        html = (
            "<html><head><meta charset='windows-1250'><title>Oferta</title><style>p{color:red}</style>"
            "<script>var tajne = 'nie indeksuj';</script></head><body><h1>Oferta handlowa</h1>"
            f"<p>{PANGRAM}</p><p>Cena: <b>100</b> zł</p><!-- komentarz --></body></html>"
        ).encode("cp1250")
        text = ok(extract_text(html, "text/html"))
        assert PANGRAM in text and "Oferta handlowa" in text and "Cena: 100 zł" in text
        assert "tajne" not in text and "color" not in text and "komentarz" not in text

    def test_html_tables_and_lines_keep_their_shape(self) -> None:
        rows = "".join(f"<tr><td>{i}</td><td>Kowalski &amp; Syn</td></tr>" for i in range(3))
        html = f"<body><table>{rows}</table>Linia 1<br>Linia 2<template>nie</template> koniec</body>"
        text = ok(extract_text(html.encode(), "text/html"))
        assert text == "0\tKowalski & Syn\t\n1\tKowalski & Syn\t\n2\tKowalski & Syn\t\n\nLinia 1\nLinia 2 koniec"
        assert extract_text(b"<!-- tylko komentarz -->", "text/html").status == "empty"

    def test_xhtml_declaring_its_encoding_is_read(self) -> None:
        xhtml = (
            '<?xml version="1.0" encoding="iso-8859-2"?>\n<html xmlns="http://www.w3.org/1999/xhtml">'
            "<head><title>Pismo</title></head><body><p>Zażółć gęślą jaźń</p></body></html>"
        ).encode("iso-8859-2")
        assert ok(extract_text(xhtml, "application/xhtml+xml")) == "Pismo\nZażółć gęślą jaźń"

    def test_html_without_declared_charset_is_detected(self) -> None:
        html = f"<p>{INVOICE_TEXT}</p>".encode("iso-8859-2")
        assert INVOICE_TEXT in ok(extract_text(html, "text/html"))


class TestXml:
    # An e-invoice as the Polish KSeF schema writes one (shortened).
    EINVOICE = """<?xml version="1.0" encoding="UTF-8"?>
<Faktura xmlns="http://crd.gov.pl/wzor/2023/06/29/12648/">
  <Podmiot1><DaneIdentyfikacyjne><NIP>7251801126</NIP><Nazwa>Meble Łódź Sp. z o.o.</Nazwa></DaneIdentyfikacyjne></Podmiot1>
  <!-- wygenerowano automatycznie -->
  <Fa><P_1>2026-03-03</P_1><P_2>FV/2026/0012</P_2>
    <FaWiersz><P_7>Krzesło obrotowe</P_7><P_11>3 600.00</P_11></FaWiersz></Fa>
  <Stopka>Dziękujemy za <b>zakupy</b> w naszym sklepie.</Stopka>
</Faktura>"""

    @pytest.mark.parametrize("mime_type", ["text/xml", "application/xml"])
    def test_the_text_of_the_elements_is_read_without_the_markup(self, mime_type: str) -> None:
        text = ok(extract_text(self.EINVOICE.encode(), mime_type))
        assert text.splitlines() == [
            "7251801126",
            "Meble Łódź Sp. z o.o.",
            "2026-03-03",
            "FV/2026/0012",
            "Krzesło obrotowe",
            "3 600.00",
            "zakupy",
            "Dziękujemy za w naszym sklepie.",
        ]

    def test_xml_that_does_not_parse_is_read_as_plain_text(self) -> None:
        assert (
            ok(extract_text("<a>niedomknięty <b>znacznik</a>".encode(), "text/xml"))
            == "<a>niedomknięty <b>znacznik</a>"
        )

    def test_no_local_file_is_read_through_an_entity_or_a_dtd(self) -> None:
        entity = '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>przed &x; po</d>'
        dtd = '<?xml version="1.0"?><!DOCTYPE d SYSTEM "file:///etc/passwd"><d>tekst</d>'
        assert ok(extract_text(entity.encode(), "text/xml")) == "przed po"
        assert ok(extract_text(dtd.encode(), "text/xml")) == "tekst"

    def test_reading_stops_when_the_output_is_full(self) -> None:
        export = "<r>" + "".join(f"<w>słowo{i}</w>" for i in range(100_000)) + "</r>"
        result = extract_text(export.encode(), "text/xml", limits=ExtractionLimits(max_output_chars=1000))
        assert result.truncated and len(result.text) == 1000 and result.text.startswith("słowo0\nsłowo1\n")

    def test_entities_are_not_expanded(self) -> None:
        laughs = (
            '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "hahahahahahaha">'
            '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
            "<d>&c;&c;&c;&c; koniec</d>"
        )
        assert ok(extract_text(laughs.encode(), "text/xml")) == "koniec"


class TestEmail:
    def test_headers_body_and_attachments_recursively(self) -> None:
        pdf = make_pdf([["Faktura FV/2026/0012", PANGRAM]])
        nested = make_email(
            subject="Aneks do umowy",
            body="Przesyłam aneks.",
            attachments=[(make_docx(["Aneks nr 1", "Wynagrodzenie: 2 000 zł"]), DOCX, "aneks.docx")],
        )
        message = make_email(
            subject="Faktura za usługę — październik",
            body="W załączeniu przesyłam fakturę.",
            attachments=[(pdf, PDF, "faktura.pdf"), (b"\x89PNG....", "image/png", "logo.png")],
            nested=nested,
        )
        text = ok(extract_text(message.as_bytes(), "message/rfc822"))
        assert "Subject: Faktura za usługę — październik" in text
        assert "From: Paweł Kowalski <pawel@firma.pl>" in text
        assert "To: Biuro Rachunkowe Żuraw" in text and "Date: Tue, 13 Jan 2026" in text
        assert "W załączeniu przesyłam fakturę." in text
        assert "faktura.pdf" in text and PANGRAM in text
        assert "Subject: Aneks do umowy" in text and "Wynagrodzenie: 2 000 zł" in text

    def test_rfc2047_headers_and_8bit_bodies_in_polish_encodings(self) -> None:
        raw = (
            b"From: =?ISO-8859-2?Q?Pawe=B3_Kowalski?= <pawel@firma.pl>\r\n"
            b"To: biuro@zuraw.pl\r\n"
            b"Subject: =?ISO-8859-2?Q?Zam=F3wienie_=BF=F3=B3tych_=B6liwek?=\r\n"
            b"Date: Tue, 13 Jan 2026 10:00:00 +0100\r\n"
            b"MIME-Version: 1.0\r\n"
            b"Content-Type: text/plain; charset=windows-1250\r\n"
            b"Content-Transfer-Encoding: 8bit\r\n\r\n" + "Proszę o fakturę. Zażółć gęślą jaźń.".encode("cp1250")
        )
        text = ok(extract_text(raw, "message/rfc822"))
        assert "From: Paweł Kowalski" in text
        assert "Subject: Zamówienie żółtych śliwek" in text
        assert "Proszę o fakturę. Zażółć gęślą jaźń." in text

    def test_html_only_message(self) -> None:
        message = make_email(subject="Oferta", body="")
        message.set_content("<p>Cena <b>netto</b></p><script>x()</script>", subtype="html")
        text = ok(extract_text(message.as_bytes(), "message/rfc822"))
        assert "Cena netto" in text and "x()" not in text

    def test_nesting_deeper_than_the_limit_is_cut_off(self) -> None:
        message = make_email(subject="Poziom 0", body="zero")
        for level in range(1, 6):
            message = make_email(subject=f"Poziom {level}", body=str(level), nested=message)
        text = ok(extract_text(message.as_bytes(), "message/rfc822", limits=ExtractionLimits(max_email_depth=2)))
        assert "Poziom 5" in text and "Poziom 3" in text
        assert "Poziom 0" not in text


class TestFailures:
    def test_corrupt_pdf_fails_with_a_reason(self) -> None:
        result = extract_text(b"%PDF-1.4\n1 0 obj << /Type /Catalog", PDF)
        assert result.status == "failed" and result.error and result.text == ""

    def test_a_pdf_without_text_is_empty(self) -> None:
        assert extract_text(make_pdf([[]]), PDF).status == "empty"

    def test_corrupt_docx_fails(self) -> None:
        assert extract_text(b"PK\x03\x04 not really a zip", DOCX).status == "failed"
        assert extract_text(make_odt(["x"]), DOCX).status == "failed"  # a zip, but not a DOCX

    @pytest.mark.parametrize("mime_type", [XLSX, PPTX, ODS])
    def test_other_office_files_that_are_not_what_they_claim_fail(self, mime_type: str) -> None:
        assert extract_text(b"PK\x03\x04 not really a zip", mime_type).status == "failed"
        assert extract_text(make_docx(["x"]), mime_type).status == "failed"

    def test_zip_bomb_xlsx_is_refused_before_inflating(self) -> None:
        bomb = make_zip_bomb_docx(64 * 1024 * 1024)
        result = extract_text(bomb, XLSX, limits=ExtractionLimits(max_unpacked_bytes=16 * 1024 * 1024))
        assert result.status == "too_large"

    def test_unknown_type_is_unsupported_without_parsing(self) -> None:
        result = extract_text(b"\x00\x01", "application/x-msdownload")
        assert result.status == "unsupported" and result.text == ""

    def test_zip_bomb_docx_is_refused_before_inflating(self) -> None:
        bomb = make_zip_bomb_docx(64 * 1024 * 1024)
        assert len(bomb) < 1024 * 1024
        result = extract_text(bomb, DOCX, limits=ExtractionLimits(max_unpacked_bytes=16 * 1024 * 1024))
        assert result.status == "too_large"

    def test_xml_entity_expansion_is_not_performed(self) -> None:
        import zipfile

        laughs = (
            '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "hahahahahahaha">'
            '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
            '<!ENTITY e "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">]>'
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            "<w:body><w:p><w:r><w:t>&f;</w:t></w:r></w:p></w:body></w:document>"
        )
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("word/document.xml", laughs)
        result = extract_text(buffer.getvalue(), DOCX)
        assert result.status in ("empty", "failed", "ok")
        assert len(result.text) < 1000

    def test_input_over_the_size_limit_is_too_large(self) -> None:
        result = extract_text(b"x" * 2000, "text/plain", limits=ExtractionLimits(max_input_bytes=1000))
        assert result.status == "too_large"

    def test_output_is_truncated_at_the_limit_but_still_ok(self) -> None:
        pages = [[f"Strona {n}: faktura za transport i magazynowanie towarów"] for n in range(300)]
        result = extract_text(make_pdf(pages), PDF, limits=ExtractionLimits(max_output_chars=2000))
        assert result.status == "ok" and result.truncated
        assert len(result.text) == 2000 and result.error and "truncated" in result.error

    def test_a_pdf_cut_at_the_page_limit_says_so(self) -> None:
        pages = [[f"Strona {n}"] for n in range(5)]
        result = extract_text(make_pdf(pages), PDF, limits=ExtractionLimits(max_pdf_pages=3))
        assert result.status == "ok" and result.truncated
        assert result.error == "only the first 3 pages were read"
        assert "Strona 2" in result.text and "Strona 3" not in result.text

    def test_a_missing_file_fails(self, tmp_path: Path) -> None:
        assert extract_text(tmp_path / "missing.pdf", PDF).status == "failed"

    def test_a_hanging_parser_times_out_and_the_next_file_still_works(self, hooked: Extractor) -> None:
        result = hooked.extract(b"", "x-kartoteka-test/sleep")
        assert result.status == "timeout"
        assert ok(hooked.extract(PANGRAM.encode(), "text/plain")) == PANGRAM

    def test_a_memory_hungry_parser_is_stopped_by_the_memory_cap(self, hooked: Extractor) -> None:
        result = hooked.extract(b"", "x-kartoteka-test/allocate")
        assert result.status == "too_large"
        assert ok(hooked.extract(b"dalej", "text/plain")) == "dalej"

    def test_a_crashing_parser_is_a_failure_not_a_crash(self, hooked: Extractor) -> None:
        result = hooked.extract(b"", "x-kartoteka-test/exit")
        assert result.status == "failed" and "exit code 3" in (result.error or "")
        assert ok(hooked.extract(b"dalej", "text/plain")) == "dalej"


class TestSources:
    def test_a_path(self, tmp_path: Path) -> None:
        path = tmp_path / "faktura.txt"
        path.write_bytes(INVOICE_TEXT.encode("cp1250"))
        assert ok(extract_text(path, "text/plain")) == INVOICE_TEXT

    def test_a_stream_is_spooled_without_reading_it_whole(self) -> None:
        assert ok(extract_text(io.BytesIO(PANGRAM.encode()), "text/plain")) == PANGRAM

    def test_an_oversized_stream_is_too_large(self) -> None:
        stream = io.BytesIO(b"x" * 5000)
        assert extract_text(stream, "text/plain", limits=ExtractionLimits(max_input_bytes=100)).status == "too_large"

    async def test_async_extraction_accepts_an_async_byte_stream(self) -> None:
        async def chunks() -> AsyncIterator[bytes]:
            data = INVOICE_TEXT.encode("iso-8859-2")
            for start in range(0, len(data), 16):
                yield data[start : start + 16]

        result = await extract_text_async(chunks(), "text/plain")
        assert ok(result) == INVOICE_TEXT

    async def test_async_extraction_of_bytes(self) -> None:
        assert ok(await extract_text_async(PANGRAM.encode(), "text/plain")) == PANGRAM

    def test_a_pool_of_workers_serves_threads_concurrently(self) -> None:
        from concurrent.futures import ThreadPoolExecutor

        with Extractor(workers=2) as extractor, ThreadPoolExecutor(4) as pool:
            texts = list(pool.map(lambda n: extractor.extract(f"plik {n}".encode(), "text/plain").text, range(8)))
        assert texts == [f"plik {n}" for n in range(8)]


@pytest.mark.parametrize("encoding", ["cp1250", "iso-8859-2"])
def test_encoding_detection_prefers_the_polish_reading(encoding: str) -> None:
    from search.charsets import detect_encoding

    # ś, ź, Ś, Ą sit on the bytes where the two encodings differ.
    data = "Świadczenie usług źródłowych: ŚCIEŻKA, źle, śnieg, Ąę.".encode(encoding)
    assert data.decode(detect_encoding(data)) == data.decode(encoding)


async def test_the_indexer_extracts_with_as_many_workers_as_configured(tmp_path, monkeypatch) -> None:
    from kartoteka.app import build_search, build_services
    from kartoteka.settings import Settings

    monkeypatch.setenv("KARTOTEKA_EXTRACTION_WORKERS", "3")
    settings = Settings(data_dir=tmp_path, secret_key="test-secret-key-not-for-production")
    assert settings.extraction_workers == 3
    services = build_services(settings)
    indexer = build_search(settings, services, writer=True)
    try:
        assert indexer is not None
        assert indexer.extractor._slots.qsize() == 3  # each started only when that many files wait
    finally:
        assert indexer is not None
        indexer.extractor.close()
        await services.search.close()
        await services.directory.close()
        await services.blobs.close()
        await services.db.engine.dispose()


def test_extraction_uses_two_workers_unless_the_machine_has_one_core(tmp_path, monkeypatch) -> None:
    from kartoteka.settings import Settings

    monkeypatch.delenv("KARTOTEKA_EXTRACTION_WORKERS", raising=False)
    monkeypatch.setattr("os.cpu_count", lambda: 1)
    assert Settings(data_dir=tmp_path).extraction_workers == 1
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    assert Settings(data_dir=tmp_path).extraction_workers == 2
