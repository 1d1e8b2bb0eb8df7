from __future__ import annotations

import pytest

from search.analysis import analyze, fold, prefix_term, query_terms, query_words


def matches(query: str, text: str) -> bool:
    """Every word of `query` shares an index term with some word of `text`."""
    indexed = {token.term for token in analyze(text)}
    return all(set(word.alternatives) & indexed for word in query_words(query))


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("zazolc gesla jazn", "Zażółć gęślą jaźń"),
        ("Zażółć gęślą jaźń", "zazolc gesla jazn"),
        ("faktury", "faktura"),
        ("fakturze", "faktura"),
        ("fakturach", "faktura"),
        ("faktur", "faktura"),
        ("faktura", "W fakturze podano błędny NIP"),
        ("umowy", "umowa"),
        ("umowie", "Umowa"),
        ("umowe", "Podpisano umowę"),
        ("umowa", "umów"),
        ("kontrahencie", "kontrahent"),
        ("platnosci", "płatność"),
        ("invoices", "invoice"),
        ("invoicing", "invoice"),
        ("contracts", "contract"),
        ("contract", "Contracts were signed"),
        # Three-letter base forms, both ways.
        ("cat", "the cats and dogs"),
        ("tax", "taxes are due"),
        ("box", "boxes were shipped"),
        ("pay", "she pays on time"),
        ("day", "within 30 days"),
        ("run", "running reports"),
        ("days", "one day"),
        ("kot", "dwa koty"),
        ("rok", "w przyszłym roku"),
        ("domu", "dom"),
        ("sadu", "Sąd Rejonowy"),
    ],
)
def test_inflected_and_diacritic_free_words_match(query: str, text: str) -> None:
    assert matches(query, text)


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("Tomasz", "reprezentowaną przez Tomasza Kowalskiego"),
        ("tomasz", "pełnomocnictwo dla Tomasza"),
        ("Tomasza", "Tomasz Kowalski, Prezes Zarządu"),
        ("Marek", "umowę zawarto z Markiem Nowakiem"),
        ("Marek", "w imieniu Marka Nowaka"),
        ("Paweł", "dokumenty przekazano Pawłowi Zielińskiemu"),
        ("Maria", "w imieniu Marii Wiśniewskiej"),
        ("Marii", "Maria Wiśniewska"),
        ("Ewa", "podpis Ewy Dąbrowskiej"),
        ("Łukasz", "zgoda Łukasza"),
        ("Jacek", "od Jacka"),
        ("Zofia", "dla Zofii"),
        ("Katarzyna", "z Katarzyną Lewandowską"),
    ],
)
def test_a_first_name_is_found_in_any_of_its_forms(query: str, text: str) -> None:
    assert matches(query, text)


@pytest.mark.parametrize(
    ("query", "text"),
    [
        # Mobile vowels: the stem itself changes, so cutting endings cannot join these.
        ("rachunek", "Prosimy o zapłatę rachunku"),
        ("rachunku", "rachunek bankowy"),
        ("wniosek", "do wniosku dołączono"),
        ("spółka", "umowa spółek"),
        ("spółek", "Spółka z o.o."),
        # Alternations inside the stem.
        ("miasto", "w mieście"),
        ("mieście", "miasto"),
        ("klient", "nasi klienci"),
        ("klienci", "klient"),
        ("pracownik", "pracownicy działu"),
        ("miesiąc", "w ciągu 3 miesięcy"),
        ("woda", "w wodzie"),
        ("siedziba", "adres siedziby"),
        ("kara", "o karze umownej"),
        # The same, typed without Polish letters.
        ("kontrahentow", "kontrahent"),
        ("kontrahent", "lista kontrahentow"),
        ("miescie", "miasto"),
        ("spolek", "Spółka z o.o."),
        ("miesiecy", "miesiąc"),
        ("wnioskow", "wniosek"),
        # A plural-only noun whose genitive is written like another word's base form.
        ("odsetki", "naliczenie odsetek za opóźnienie"),
        ("odsetkami", "odsetek"),
        ("odsetek", "wraz z odsetkami ustawowymi"),
    ],
)
def test_polish_forms_the_stemmer_cannot_join_meet_at_their_base_form(query: str, text: str) -> None:
    assert matches(query, text)


@pytest.mark.parametrize(
    ("query", "text"),
    [
        # English irregular forms the stemmer leaves apart, joined by their dictionary base form.
        ("pay", "The invoice was paid in full"),
        ("paid", "we pay within 14 days"),
        ("send", "the goods were sent on Monday"),
        ("buy", "the equipment we bought"),
        ("child", "children under 12"),
        ("criterion", "the selection criteria"),
        ("analysis", "two analyses of the market"),
        ("make", "a payment was made"),
    ],
)
def test_english_irregular_forms_meet_at_their_base_form(query: str, text: str) -> None:
    assert matches(query, text)


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("umowa", "faktura"),
        ("kot", "kotlet"),  # short words are not stemmed into each other
        ("invoice", "voice"),
        ("marka", "Marek Nowak"),  # a brand, written in lower case, is not Marek's name
        ("Marek", "Marki produktów"),  # nor are brands at the start of a sentence
    ],
)
def test_unrelated_words_do_not_match(query: str, text: str) -> None:
    assert not matches(query, text)


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("email", "Action: follow-up e-mail to Northwind"),
        ("followup", "Action: follow-up e-mail to Northwind"),
        ("e-mails", "Send an email"),
        ("obrien", "Customer: O'Brien Consulting LLC"),
        ("OBrien", "Sean O’Brien"),
        ("O'Neill", "Mary ONeill"),
        ("clients", "the client's order"),
        ("email", "Wysłano emailem"),  # Polish forms of English loanwords
        ("ticketu", "ticket #5521"),
        ("startup", "umowa ze startupem"),
    ],
)
def test_a_word_written_whole_finds_it_written_with_a_hyphen_or_apostrophe(query: str, text: str) -> None:
    assert matches(query, text)


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("2026-03-03", "Faktura z dnia 03.03.2026 r."),
        ("3.03.2026", "Faktura z dnia 03.03.2026 r."),
        ("03.03.2026", "Data wpływu: 3.3.2026"),
        ("03/03/2026", "Received 2026-03-03"),
        ("2026-3-3", "dnia 03-03-2026"),
    ],
)
def test_a_date_is_found_however_it_is_written_in_digits(query: str, text: str) -> None:
    assert matches(query, text)


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("złotych", "Razem 1 200 zł"),
        ("zł", "PLN 1200"),
        ("PLN", "tysiąc złotych"),
        ("zl", "w złotówkach? nie: 5 zł"),
        ("euro", "EUR 4,200.00"),
        ("EUR", "sto euro"),
        ("dollars", "USD 5"),
        ("USD", "pięć dolarów"),
    ],
)
def test_a_currency_is_found_by_its_sign_code_or_name(query: str, text: str) -> None:
    assert matches(query, text)


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("taxi", "tax return"),  # English words the Polish stemmer alone would join
        ("plane", "project plan"),
        ("2.1", "week 21"),  # a version or a fraction glued is another number
        ("12.5", "item 125"),
        ("123456789", "12,345,6789"),  # not grouped in thousands
        ("12345", "12,345,6789"),
        ("200000", "4 200,000 t"),
        ("EUR", "Europa"),  # a currency's code is not the beginning of every word
        ("2026-04-03", "dnia 04.03.2026"),  # the day comes first: 4 March
        ("2026-02-30", "dnia 30.02.2026"),  # no such day: no date
    ],
)
def test_different_words_and_numbers_stay_apart(query: str, text: str) -> None:
    assert not matches(query, text)


@pytest.mark.parametrize(
    ("query", "text"),
    [("1500", "1.500 zł"), ("05500", "05-500 Piaseczno"), ("4200", "EUR 4,200.00"), ("1250000", "$1,250,000")],
)
def test_numbers_grouped_by_thousands_are_also_glued(query: str, text: str) -> None:
    assert matches(query, text)


@pytest.mark.parametrize("query", ["FV/2026/0012", "fv/2026/0012", "2026/0012", "0012", "FV", "fv-2026-0012"])
def test_invoice_number_is_found_whole_and_by_parts(query: str) -> None:
    assert matches(query, "Faktura nr FV/2026/0012 z dnia 3 marca")


@pytest.mark.parametrize("query", ["ABC-123/2026", "abc-123/2026", "123/2026", "ABC-123", "2026", "ABC"])
def test_contract_number_is_found_whole_and_by_parts(query: str) -> None:
    assert matches(query, "Umowa ABC-123/2026")


@pytest.mark.parametrize("query", ["1234563218", "123-456-32-18"])
@pytest.mark.parametrize("text", ["NIP: 123-456-32-18", "NIP 1234563218"])
def test_nip_is_found_with_and_without_dashes(query: str, text: str) -> None:
    assert matches(query, text)


def test_tokens_carry_positions_and_offsets_of_the_original_text() -> None:
    text = "Zażółć  gęślą"
    tokens = analyze(text)
    first = [t for t in tokens if t.position == 0]
    second = [t for t in tokens if t.position == 1]
    assert {text[t.start : t.end] for t in first} == {"Zażółć"}
    assert {text[t.start : t.end] for t in second} == {"gęślą"}
    assert "zazolc" in {t.term for t in first}


def test_compound_parts_take_consecutive_positions() -> None:
    tokens = analyze("nr FV/2026/0012 koniec")
    by_term = {t.term: t.position for t in tokens}
    assert (by_term["fv"], by_term["2026"], by_term["0012"], by_term["koniec"]) == (1, 2, 3, 4)
    assert by_term["fv/2026/0012"] == 1


def test_stems_are_marked_apart_from_surface_forms() -> None:
    terms = query_terms("faktury")
    assert "~faktur" in terms
    assert "faktur" not in terms  # a prefix query for "faktur*" must not hit stems


def test_a_stemmed_query_word_looks_up_its_stems_only_and_still_finds_its_exact_form() -> None:
    assert "faktury" not in query_terms("faktury")
    assert matches("faktury", "Faktury VAT") and matches("Fakturę", "fakturę") and matches("zazolc", "Zażółć")
    # Words too short to stem, and numbers, are looked up as written.
    assert query_terms("ul") == ["ul"]
    assert query_terms("0012") == ["0012"]


def test_decomposed_unicode_is_folded_like_composed() -> None:
    decomposed = "Zaz\u0307o\u0301\u0142c\u0301"  # NFD "Zażółć"
    assert fold(decomposed) == "zazolc"
    assert matches("zazolc", decomposed)


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("kontrahentów", "Pismo w sprawie kon\u00adtra\u00adhen\u00adtów"),
        ("kontrahent", "kon\u00adtra\u00adhen\u00adtów"),
        ("Sieradza", "z Sie\u00adra\u00addza"),
        ("zgierz", "oraz Zgie\u200brza."),
        ("umowa", "Umo\ufeffwa"),
        ("podmiot", "pod\u2060miot"),
        ("kontrahent", "kon\u00ad\u200btrahent"),  # a soft hyphen and a zero-width space, as CMSs write
        ("abc", "ab\u200d\u0301c"),  # before a combining mark (text in NFD)
    ],
)
def test_a_word_with_invisible_characters_inside_is_found_as_it_reads(query: str, text: str) -> None:
    assert matches(query, text)


def test_invisible_characters_stay_inside_the_word_span_and_out_of_its_terms() -> None:
    text = "Umo\u00adwa najmu"
    tokens = [token for token in analyze(text) if token.position == 0]

    assert {(token.start, token.end) for token in tokens} == {(0, 6)}
    assert all("\u00ad" not in token.term for token in tokens)
    assert not matches("umo", text)  # no longer two words


def test_prefix_term_folds_and_normalises_separators() -> None:
    assert prefix_term("Zażó") == "zazo"
    assert prefix_term("FV-20") == "fv/20"


def test_analysis_is_deterministic() -> None:
    text = "Faktura FV/2026/0012 dla kontrahenta Żółw, NIP 123-456-32-18; invoices."
    assert analyze(text) == analyze(text)


def test_punctuation_only_text_has_no_terms() -> None:
    assert analyze("'; -- ,,, ...") == []
    assert query_terms("';") == []


@pytest.mark.parametrize("query", ["0048601234567", "+48601234567", "601234567"])
@pytest.mark.parametrize("text", ["tel. +48601234567", "tel. 0048601234567"])
def test_an_international_number_is_found_however_its_prefix_is_written(query: str, text: str) -> None:
    assert matches(query, text)
