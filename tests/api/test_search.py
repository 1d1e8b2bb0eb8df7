"""Search as its users use it: by content, in Polish and English, only what they may read."""

from __future__ import annotations

import base64
import json

import pytest

from tests.api.helpers import create_binder, create_document, me_id, ref_mutation, set_binder_access
from tests.api.test_search_directory import SEARCH_CARDS, create_card
from tests.conftest import Client, drain

SEARCH = """
query($q: String!, $first: Int, $after: String, $filter: SearchFilter) {
  search(query: $q, first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { score highlights document { id title } } }
    facets { years { value count } counterparties { count counterparty { name } } }
  }
}"""

INVOICE = (
    "Faktura VAT nr FV/2026/0012. Sprzedawca: Zakład Usług Różnych sp. z o.o.\n"
    "Zażółć gęślą jaźń — przedmiotem faktury jest dostawa materiałów biurowych.\n"
).encode()
CONTRACT_EN = b"This service agreement covers the delivery of invoices and monthly reports to the client."


async def titles(client, query, **variables):
    result = await client.gql(SEARCH, q=query, **variables)
    return sorted(edge["node"]["document"]["title"] for edge in result.data["search"]["edges"])


async def searchable(client, indexer, texts: dict[str, str]) -> None:
    """Documents of `texts` (title → text) created in a new binder, and indexed."""
    binder = await create_binder(client, "Dokumenty")
    for title, text in texts.items():
        await create_document(client, binder["id"], title, text.encode(), filename="dokument.txt")
    await drain(indexer)


async def highlights_in(client, indexer, text: str, query: str, *, title: str = "Umowa") -> list[list[str]]:
    """The highlights of each hit of `query` once one document holding `text` is searchable."""
    await searchable(client, indexer, {title: text})
    result = await client.gql(SEARCH, q=query)
    return [edge["node"]["highlights"] for edge in result.data["search"]["edges"]]


async def test_documents_are_found_by_inflected_and_diacritic_free_polish_words(alice, indexer):
    binder = await create_binder(alice, "Faktury")
    await create_document(alice, binder["id"], "Faktura za materiały", INVOICE, filename="faktura.txt")
    await create_document(alice, binder["id"], "Service agreement", CONTRACT_EN, filename="agreement.txt")
    await drain(indexer)
    assert await titles(alice, "zazolc gesla jazn") == ["Faktura za materiały"]
    assert await titles(alice, "fakturze") == ["Faktura za materiały"]
    assert await titles(alice, "faktury") == ["Faktura za materiały"]
    assert await titles(alice, "FV/2026/0012") == ["Faktura za materiały"]
    assert await titles(alice, "0012") == ["Faktura za materiały"]
    assert await titles(alice, "invoice") == ["Service agreement"]
    assert await titles(alice, '"monthly reports"') == ["Service agreement"]


NUMBERS = {
    "NIP z kreskami": "Sprzedawca NIP: 123-456-32-18, konto PL61 1090 1014 0000 0712 1981 2874.",
    "NIP unijny": "VAT EU: PL1234563218, konto PL61109010140000071219812874, tel. +48601234567.",
    "NIP ze spacjami": "NIP 123 456 32 18, rachunek 61 1090 1014 0000 0712 1981 2874, tel. 601 234 567.",
    "NIP ciągiem": "nip 1234563218 tel. 601-234-567 do zapłaty 12 345,67 zł",
    "Arkusz": "Kwota\t12345.67",
}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("123-456-32-18", ["NIP ciągiem", "NIP unijny", "NIP z kreskami", "NIP ze spacjami"]),
        ("1234563218", ["NIP ciągiem", "NIP unijny", "NIP z kreskami", "NIP ze spacjami"]),
        ("PL1234563218", ["NIP ciągiem", "NIP unijny", "NIP z kreskami", "NIP ze spacjami"]),
        ("123 456 32 18", ["NIP ciągiem", "NIP unijny", "NIP z kreskami", "NIP ze spacjami"]),
        ("NIP: 123 456 32 18", ["NIP ciągiem", "NIP unijny", "NIP z kreskami", "NIP ze spacjami"]),
        ("PL61 1090 1014 0000 0712 1981 2874", ["NIP unijny", "NIP z kreskami", "NIP ze spacjami"]),
        ("PL61109010140000071219812874", ["NIP unijny", "NIP z kreskami", "NIP ze spacjami"]),
        ("61109010140000071219812874", ["NIP unijny", "NIP z kreskami", "NIP ze spacjami"]),
        ("+48 601 234 567", ["NIP ciągiem", "NIP unijny", "NIP ze spacjami"]),
        ("601 234 567", ["NIP ciągiem", "NIP unijny", "NIP ze spacjami"]),
        ("601234567", ["NIP ciągiem", "NIP unijny", "NIP ze spacjami"]),
        ("12 345,67", ["Arkusz", "NIP ciągiem"]),
        ("12345,67", ["Arkusz", "NIP ciągiem"]),
    ],
)
async def test_a_number_is_found_however_its_groups_are_written(alice, indexer, query, expected):
    assert await titles_among(alice, indexer, NUMBERS, query) == expected


async def titles_among(client, indexer, texts: dict[str, str], query: str) -> list[str]:
    """The titles `query` finds among documents of `texts` (title → text) created for it."""
    await searchable(client, indexer, texts)
    return await titles(client, query)


AMOUNTS = {
    "Invoice": "Total due: USD 12,345.67; credit limit 1,250,000.",
    "Faktura": "Do zapłaty: 12 345,67 zł.",
    "Dostawa": "Waga 12,5 kg, 345 palet.",
    "Rachunek": "Razem 12.345,67 zł, limit 1.250.000 zł.",
}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("12345", ["Faktura", "Invoice", "Rachunek"]),
        ("12345.67", ["Faktura", "Invoice", "Rachunek"]),
        ('"1250000 zł"', ["Rachunek"]),
        ("12,345.67", ["Faktura", "Invoice", "Rachunek"]),
        ("12 345,67", ["Faktura", "Invoice", "Rachunek"]),
        ("12.345,67", ["Faktura", "Invoice", "Rachunek"]),
        ("1250000", ["Invoice", "Rachunek"]),
        ("1,250,000", ["Invoice", "Rachunek"]),
    ],
)
async def test_an_amount_grouped_by_commas_is_found_by_its_digits(alice, indexer, query, expected):
    assert await titles_among(alice, indexer, AMOUNTS, query) == expected


async def test_an_amount_grouped_by_commas_is_marked_whole(alice, indexer):
    binder = await create_binder(alice, "Invoices")
    await create_document(alice, binder["id"], "Invoice", b"Total due: EUR 4,200.00.")
    await drain(indexer)
    result = await alice.gql(SEARCH, q="4200")
    assert result.data["search"]["edges"][0]["node"]["highlights"] == ["Total due: EUR <mark>4,200</mark>.00."]


async def test_a_date_written_otherwise_is_found_and_marked(alice, indexer):
    binder = await create_binder(alice, "Faktury")
    await create_document(
        alice, binder["id"], "Faktura", "Wystawiono dnia 3.03.2026 r., zapłata do 17.03.2026.".encode()
    )
    await drain(indexer)
    result = await alice.gql(SEARCH, q="2026-03-03")
    assert [edge["node"]["highlights"] for edge in result.data["search"]["edges"]] == [
        ["Wystawiono dnia <mark>3.03.2026</mark> r., zapłata do 17.03.2026."]
    ]


DATES = {
    "Faktura": "Faktura VAT z dnia 03.03.2026, płatna do 17.03.2026.",
    "Umowa": "Umowa zawarta w Łodzi 3 marca 2026 r.",
    "Agreement": "This Agreement is made on March 3, 2026 between the Parties.",
    "Order": "Order of 3 Mar 2026.",
    "Letter": "London, 3rd March 2026. Dear Sirs,",
    "Zamówienie": "Zamówienie z 4 marca 2026, dostawa 3 kwietnia.",
}
ALL_ON_MARCH_3 = ["Agreement", "Faktura", "Letter", "Order", "Umowa"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("3 marca 2026", ALL_ON_MARCH_3),
        ("March 3, 2026", ALL_ON_MARCH_3),
        ("3 Mar 2026", ALL_ON_MARCH_3),
        ("March 3rd, 2026", ALL_ON_MARCH_3),
        ("2026-03-03", ALL_ON_MARCH_3),
        ("3.03.2026", ALL_ON_MARCH_3),
        ("umowa 3 marca 2026", ["Umowa"]),
        ("4 marca 2026", ["Zamówienie"]),
        ("2026-03-04", ["Zamówienie"]),
        ("2026-04-03", []),  # "3 kwietnia" has no year
    ],
)
async def test_a_date_is_found_however_the_query_and_the_document_write_it(alice, indexer, query, expected):
    assert await titles_among(alice, indexer, DATES, query) == expected


@pytest.mark.parametrize(
    ("query", "text", "marked"),
    [
        (
            "03.03.2026",
            "Umowa zawarta 3 marca 2026 r. w 3 egzemplarzach, ważna do 31.12.2026.",
            "Umowa zawarta <mark>3 marca 2026</mark> r. w 3 egzemplarzach, ważna do 31.12.2026.",
        ),
        (
            "3 marca 2026",
            "Signed on March 3, 2026 in 3 copies, valid until 31.12.2026.",
            "Signed on <mark>March 3, 2026</mark> in 3 copies, valid until 31.12.2026.",
        ),
        (
            "2026-03-03",
            "London, 3rd March 2026. Dear Sirs, 3 copies enclosed.",
            "London, <mark>3rd March 2026</mark>. Dear Sirs, 3 copies enclosed.",
        ),
    ],
)
async def test_a_date_found_in_words_is_marked_whole_and_its_words_alone_are_not(alice, indexer, query, text, marked):
    assert await highlights_in(alice, indexer, text, query) == [[marked]]


async def test_a_number_written_in_groups_is_marked_whole(alice, indexer):
    binder = await create_binder(alice, "Faktury")
    await create_document(alice, binder["id"], "Faktura", b"Nabywca: NIP 123 456 32 18.")
    await drain(indexer)
    result = await alice.gql(SEARCH, q="1234563218")
    assert result.data["search"]["edges"][0]["node"]["highlights"] == ["Nabywca: NIP <mark>123 456 32 18</mark>."]


@pytest.mark.parametrize(
    ("written", "marked"),
    [("+48601234567", "+<mark>48601234567</mark>"), ("0048601234567", "<mark>0048601234567</mark>")],
)
async def test_a_phone_number_written_in_one_piece_is_found_by_its_national_number(alice, indexer, written, marked):
    binder = await create_binder(alice, "Kontakty")
    await create_document(alice, binder["id"], "Wizytówka", f"Tel. {written}, fax 221234567.".encode())
    await drain(indexer)
    for query in ("601 234 567", "601234567", "+48 601 234 567"):
        assert await titles(alice, query) == ["Wizytówka"], query
    result = await alice.gql(SEARCH, q="601234567")
    assert result.data["search"]["edges"][0]["node"]["highlights"] == [f"Tel. {marked}, fax 221234567."]


async def test_polish_forms_whose_stem_changes_are_found_with_and_without_polish_letters(alice, indexer):
    binder = await create_binder(alice, "Rozliczenia")
    letter = "Wezwanie do zapłaty rachunku. Lista kontrahentów w mieście, wg spółek.".encode()
    await create_document(alice, binder["id"], "Wezwanie", letter, filename="wezwanie.txt")
    await create_document(alice, binder["id"], "Service agreement", CONTRACT_EN, filename="agreement.txt")
    await drain(indexer)
    for query in ("rachunek", "kontrahent", "kontrahentow", "miasto", "spółka", "spolka", "spolek"):
        assert await titles(alice, query) == ["Wezwanie"], query
    result = await alice.gql(SEARCH, q="kontrahent")
    assert any("<mark>kontrahentów</mark>" in s for s in result.data["search"]["edges"][0]["node"]["highlights"])


async def test_english_irregular_forms_are_found_by_their_base_form(alice, indexer):
    binder = await create_binder(alice, "Correspondence")
    note = b"The invoice was paid in full and the goods were sent to both children's hospitals."
    await create_document(alice, binder["id"], "Payment note", note, filename="note.txt")
    await create_document(alice, binder["id"], "Service agreement", CONTRACT_EN, filename="agreement.txt")
    await drain(indexer)
    for query in ("pay", "send", "child", "paying invoices"):
        assert await titles(alice, query) == ["Payment note"], query
    result = await alice.gql(SEARCH, q="pay")
    assert any("<mark>paid</mark>" in s for s in result.data["search"]["edges"][0]["node"]["highlights"])


async def test_highlights_mark_the_matched_words(alice, indexer):
    binder = await create_binder(alice, "Faktury")
    await create_document(alice, binder["id"], "Faktura", INVOICE)
    await drain(indexer)
    result = await alice.gql(SEARCH, q="dostawa")
    highlights = result.data["search"]["edges"][0]["node"]["highlights"]
    assert any("<mark>dostawa</mark>" in snippet for snippet in highlights)


@pytest.mark.parametrize(
    ("query", "marked"),
    [
        ("Bielsku-Białej", "Oddział w <mark>Bielsko-Biała</mark>; kierownik Anna Nowak-Kowalska."),
        ("Nowak-Kowalskiej", "Oddział w Bielsko-Biała; kierownik Anna <mark>Nowak-Kowalska</mark>."),
    ],
)
async def test_a_hyphenated_name_found_inflected_is_marked(alice, indexer, query, marked):
    text = "Oddział w Bielsko-Biała; kierownik Anna Nowak-Kowalska."
    assert await highlights_in(alice, indexer, text, query, title="Oddział") == [[marked]]


async def test_a_person_named_in_another_case_is_found_by_the_name_and_marked(alice, indexer):
    text = "Pełnomocnictwa udzielono Pawłowi Zielińskiemu w imieniu Marii Nowak."
    assert await highlights_in(alice, indexer, text, "Paweł Zieliński", title="Pełnomocnictwo") == [
        ["Pełnomocnictwa udzielono <mark>Pawłowi</mark> <mark>Zielińskiemu</mark> w imieniu Marii Nowak."]
    ]
    result = await alice.gql(SEARCH, q="maria")
    assert len(result.data["search"]["edges"]) == 1


@pytest.mark.parametrize(
    ("query", "marked"),
    [
        (
            '"umowy najmu"',
            "<mark>Umowa najmu</mark> lokalu. Ta umowa obowiązuje od dziś; koszty najmu ponosi Jan Nowak.",
        ),
        (
            '"Jana Nowaka"',
            "…Ta umowa obowiązuje od dziś; koszty najmu ponosi <mark>Jan Nowak</mark>.",
        ),
        # The second phrase, found in the title, stands nowhere in the text: its words are marked alone.
        (
            '"najmu lokalu" "ponosi najemca"',
            "Umowa <mark>najmu lokalu</mark>. Ta umowa obowiązuje od dziś; koszty najmu <mark>ponosi</mark> Jan Nowak.",
        ),
    ],
)
async def test_a_phrase_is_marked_where_it_stands_and_its_words_alone_are_not(alice, indexer, query, marked):
    text = "Umowa najmu lokalu. Ta umowa obowiązuje od dziś; koszty najmu ponosi Jan Nowak."
    assert await highlights_in(alice, indexer, text, query, title="Umowa; ponosi najemca") == [[marked]]


async def test_a_match_in_the_title_alone_is_shown_in_the_marked_title(alice, indexer):
    binder = await create_binder(alice, "Umowy")
    await create_document(alice, binder["id"], "Umowa najmu <lokalu>", b"Strony ustalaja, co nastepuje.")
    await drain(indexer)
    result = await alice.gql(SEARCH, q="najmu")
    assert result.data["search"]["edges"][0]["node"]["highlights"] == ["Umowa <mark>najmu</mark> &lt;lokalu&gt;"]
    result = await alice.gql(SEARCH, q="strony")
    assert result.data["search"]["edges"][0]["node"]["highlights"] == ["<mark>Strony</mark> ustalaja, co nastepuje."]


async def test_a_document_is_found_by_its_description_as_it_is_now(alice, indexer):
    binder = await create_binder(alice, "Umowy")
    document = await create_document(
        alice, binder["id"], "Umowa ramowa", b"Strony ustalaja, co nastepuje.", description="Dostawy mąki żytniej"
    )
    await drain(indexer)
    result = await alice.gql(SEARCH, q="maka zytnia")
    assert result.data["search"]["edges"][0]["node"]["highlights"] == ["Dostawy <mark>mąki</mark> <mark>żytniej</mark>"]

    updated = await alice.gql(
        "mutation($i: UpdateDocumentInput!) { updateDocument(input: $i) { userErrors { code } } }",
        i={"documentId": document["id"], "description": "Klient grozi pozwem sądowym"},
    )
    assert updated.payload("updateDocument")["userErrors"] == []
    await drain(indexer)
    assert await titles(alice, "pozew") == ["Umowa ramowa"]
    assert await titles(alice, "description:pozwu") == ["Umowa ramowa"]
    assert await titles(alice, "żytniej") == []


async def test_a_match_in_the_tags_alone_is_shown_in_the_marked_tags(alice, indexer):
    binder = await create_binder(alice, "Faktury")
    await create_document(alice, binder["id"], "Rachunek", b"Kwota: 100 zl.", tags=["pilne", "do zapłaty <b>"])
    await drain(indexer)
    result = await alice.gql(SEARCH, q="zaplaty")
    assert result.data["search"]["edges"][0]["node"]["highlights"] == ["pilne, do <mark>zapłaty</mark> &lt;b&gt;"]


async def test_a_match_outside_the_text_shows_the_counterparty_case_or_file_name_marked(alice, indexer):
    case = await case_of_budimex(alice, "Dostawa cementu")
    card = await create_card(alice, "Przedsiębiorstwo Żółtko sp. z o.o.")
    binder = await create_binder(alice, "Dostawy")
    await create_document(alice, binder["id"], "Pismo", b"Tresc bez nazw.", counterpartyId=card)
    await create_document(alice, binder["id"], "Protokol", b"Odbior towaru.", caseId=case["id"])
    await create_document(alice, binder["id"], "Skan", b"Nieczytelny.", filename="zalacznik_kwietniowy.txt")
    await drain(indexer)

    async def highlights(query: str) -> list[str]:
        result = await alice.gql(SEARCH, q=query)
        return [edge["node"]["highlights"] for edge in result.data["search"]["edges"]]

    assert await highlights("zoltko") == [["Przedsiębiorstwo <mark>Żółtko</mark> sp. z o.o."]]
    assert await highlights("cementu") == [[f"{case['number']} Dostawa <mark>cementu</mark>"]]
    assert await highlights("zalacznik_kwietniowy") == [["<mark>zalacznik_kwietniowy</mark>.txt"]]


async def test_a_hit_found_through_its_counterpartys_nip_shows_the_nip_marked(alice, indexer):
    card = await create_card(alice, "Kowalski i Synowie s.c.", nip="5260250274")
    binder = await create_binder(alice, "Faktury")
    await create_document(alice, binder["id"], "Faktura", b"Tresc bez numerow.", counterpartyId=card)
    await drain(indexer)

    for query in ("5260250274", "nip:526-025-02-74", "526 025 02 74"):
        result = await alice.gql(SEARCH, q=query)
        shown = [edge["node"]["highlights"] for edge in result.data["search"]["edges"]]
        assert shown == [["Kowalski i Synowie s.c., NIP <mark>526-025-02-74</mark>"]], query


async def test_a_user_without_access_finds_nothing_and_counts_nothing(alice, bob, indexer):
    binder = await create_binder(alice, "Poufne")
    await create_document(alice, binder["id"], "Faktura", INVOICE)
    await drain(indexer)
    result = await bob.gql(SEARCH, q="faktura")
    assert result.data["search"]["totalCount"] == 0
    assert result.data["search"]["edges"] == []
    assert result.data["search"]["facets"]["years"] == []


async def test_a_score_tells_nothing_of_how_often_a_word_is_in_documents_the_user_may_not_read(alice, bob, indexer):
    hidden = await create_binder(alice, "Umowy poufne")
    for number in range(5):
        await create_document(alice, hidden["id"], f"NDA {number}", b"Projekt Bursztyn, poufne.")
    own = await create_binder(bob, "Robocze")
    await create_document(bob, own["id"], "Sonda", b"Bursztyn qwertyzm")
    await drain(indexer)

    def scores(result) -> list[float]:
        """The scores shown, and the ones a client can read out of the cursors (base64 JSON)."""
        edges = result.data["search"]["edges"]
        held = [json.loads(base64.urlsafe_b64decode(edge["cursor"] + "==="))[1] for edge in edges]
        return [edge["node"]["score"] for edge in edges] + [float.fromhex(value) for value in held]

    # Bursztyn is in five documents bob may not read, qwertyzm in none: a raw score would differ.
    assert scores(await bob.gql(SEARCH, q="content:bursztyn")) == [1.0, 1.0]
    assert scores(await bob.gql(SEARCH, q="content:qwertyzm")) == [1.0, 1.0]


async def test_a_permission_change_counts_in_search_at_once(alice, bob, indexer):
    binder = await create_binder(alice, "Faktury")
    await create_document(alice, binder["id"], "Faktura", INVOICE)
    await drain(indexer)
    await set_binder_access(alice, binder["id"], [(await me_id(alice), "MANAGE"), (await me_id(bob), "READ")])
    assert await titles(bob, "faktura") == ["Faktura"]
    await set_binder_access(alice, binder["id"], [(await me_id(alice), "MANAGE")])
    assert await titles(bob, "faktura") == []


async def test_a_document_moved_or_trashed_out_of_sight_is_not_counted_before_the_index_catches_up(alice, bob, indexer):
    shared = await create_binder(alice, "Wspólne")
    private = await create_binder(alice, "Kadry")
    await set_binder_access(alice, shared["id"], [(await me_id(alice), "MANAGE"), (await me_id(bob), "READ")])
    moved = await create_document(alice, shared["id"], "Faktura", INVOICE)
    trashed = await create_document(alice, shared["id"], "Faktura korygująca", INVOICE)
    await drain(indexer)
    assert (await bob.gql(SEARCH, q="faktura")).data["search"]["totalCount"] == 2

    move = "mutation($d: ID!, $b: ID!) { moveDocument(input: {documentId: $d, binderId: $b}) { userErrors { code } } }"
    assert (await alice.gql(move, d=moved["id"], b=private["id"])).payload("moveDocument")["userErrors"] == []
    trash = "mutation($d: ID!) { deleteDocument(input: {documentId: $d}) { userErrors { code } } }"
    assert (await alice.gql(trash, d=trashed["id"])).payload("deleteDocument")["userErrors"] == []
    # The index has not caught up: it still files both where bob may read them.
    found = (await bob.gql(SEARCH, q="faktura")).data["search"]
    assert (found["totalCount"], found["edges"], found["facets"]["years"]) == (0, [], [])
    assert (await alice.gql(SEARCH, q="faktura")).data["search"]["totalCount"] == 1
    await drain(indexer)
    assert (await bob.gql(SEARCH, q="faktura")).data["search"]["totalCount"] == 0


async def test_a_narrowed_document_is_not_found_by_the_narrowed_user(alice, bob, indexer):
    binder = await create_binder(alice, "Faktury")
    await set_binder_access(alice, binder["id"], [(await me_id(alice), "MANAGE"), (await me_id(bob), "READ")])
    secret = await create_document(alice, binder["id"], "Faktura poufna", INVOICE)
    await create_document(alice, binder["id"], "Faktura jawna", INVOICE)
    await alice.gql(
        "mutation($t: ID!, $e: [PermissionEntryInput!]!) { setDocumentPermissions(input: {targetId: $t, entries: $e}) { userErrors { code } } }",
        t=secret["id"],
        e=[{"principalId": await me_id(bob), "access": "NONE"}],
    )
    await drain(indexer)
    result = await bob.gql(SEARCH, q="faktura")
    assert result.data["search"]["totalCount"] == 1
    assert [e["node"]["document"]["title"] for e in result.data["search"]["edges"]] == ["Faktura jawna"]


async def test_a_new_version_replaces_the_old_content(alice, indexer):
    from tests.api.helpers import check_in

    binder = await create_binder(alice, "Umowy")
    document = await create_document(alice, binder["id"], "Umowa", b"pierwotna tresc o kotach")
    await drain(indexer)
    await check_in(alice, document["id"], b"nowa tresc o psach")
    await drain(indexer)
    assert await titles(alice, "kotach") == []
    assert await titles(alice, "psach") == ["Umowa"]


async def test_trashed_documents_leave_the_results(alice, indexer):
    binder = await create_binder(alice, "Umowy")
    document = await create_document(alice, binder["id"], "Umowa", INVOICE)
    await drain(indexer)
    await alice.gql(ref_mutation("deleteDocument"), input={"documentId": document["id"]})
    await drain(indexer)
    assert await titles(alice, "faktura") == []


async def test_paging_through_results_loses_and_repeats_nothing(alice, indexer):
    binder = await create_binder(alice, "Faktury")
    for index in range(7):
        await create_document(alice, binder["id"], f"Faktura {index}", INVOICE)
    await drain(indexer)
    seen: list[str] = []
    after = None
    while True:
        result = await alice.gql(SEARCH, q="faktura", first=3, after=after)
        search = result.data["search"]
        seen += [edge["node"]["document"]["id"] for edge in search["edges"]]
        if not search["pageInfo"]["hasNextPage"]:
            break
        after = search["pageInfo"]["endCursor"]
    assert len(seen) == 7 == len(set(seen))


async def test_an_empty_page_says_whether_anything_lies_past_it(alice, indexer):
    binder = await create_binder(alice, "Faktury")
    await create_document(alice, binder["id"], "Faktura", INVOICE)
    await drain(indexer)
    for query, expected in (("faktura", True), ("kaszanka", False)):
        search = (await alice.gql(SEARCH, q=query, first=0)).data["search"]
        assert (search["edges"], search["pageInfo"]["hasNextPage"]) == ([], expected), query
    await create_card(alice, "Żuraw sp. z o.o.")
    await drain(indexer)
    cards = (await alice.gql(SEARCH_CARDS, q="zuraw", first=0)).data["searchCounterparties"]
    assert (cards["edges"], cards["pageInfo"]["hasNextPage"]) == ([], True)


async def test_a_cursor_of_one_search_is_refused_by_another(alice, indexer):
    binder = await create_binder(alice, "Faktury")
    for title in ("Faktura Żuraw 1", "Faktura Żuraw 2"):
        await create_document(alice, binder["id"], title, INVOICE)
    for name in ("Żuraw sp. z o.o.", "Żuraw i Syn"):
        await create_card(alice, name)
    await drain(indexer)
    documents = (await alice.gql(SEARCH, q="zuraw", first=1)).data["search"]["pageInfo"]["endCursor"]
    cards = (await alice.gql(SEARCH_CARDS, q="zuraw", first=1)).data["searchCounterparties"]["pageInfo"]["endCursor"]
    assert (await alice.gql(SEARCH_CARDS, q="zuraw", after=cards)).data["searchCounterparties"]["edges"]
    for query, cursor in ((SEARCH_CARDS, documents), (SEARCH, cards)):
        assert (await alice.gql(query, q="zuraw", after=cursor)).error_codes == ["VALIDATION"]


async def test_a_malformed_query_is_a_validation_error(alice, indexer):
    await drain(indexer)
    result = await alice.gql(SEARCH, q='title:"unterminated')
    assert result.error_codes == ["VALIDATION"]
    result = await alice.gql(SEARCH, q="nosuchfield:x")
    assert result.error_codes == ["VALIDATION"]


async def test_a_prefix_of_too_many_words_is_a_validation_error(alice, indexer):
    binder = await create_binder(alice, "Kody")
    codes = " ".join(f"kod{i:04d}" for i in range(1001))
    await create_document(alice, binder["id"], "Kody", codes.encode(), filename="kody.txt")
    await drain(indexer)
    result = await alice.gql(SEARCH, q="kod*")
    assert result.error_codes == ["VALIDATION"]
    assert "kod" in result.body["errors"][0]["message"]
    assert await titles(alice, "kod099*") == ["Kody"]


async def test_a_date_filter_needs_its_time_zone(alice, bob, indexer):
    await drain(indexer)
    query = 'query($f: SearchFilter) { search(query: "faktura", filter: $f) { totalCount } }'
    for who in (alice, bob):  # bob reads nothing: refused all the same
        for name in ("dateFrom", "dateTo"):
            result = await who.gql(query, f={name: "2026-01-01T00:00:00"})
            assert result.error_codes == ["VALIDATION"], name
    zoned = await alice.gql(query, f={"dateFrom": "2026-01-01T00:00:00+01:00", "dateTo": "2026-12-31T00:00:00Z"})
    assert zoned.data["search"] == {"totalCount": 0}


async def test_a_type_or_status_filter_names_an_existing_code_or_name(admin, alice, indexer):
    create = 'mutation { createDocumentType(input: {code: "faktura", name: "Faktura VAT"}) { documentType { id } } }'
    kind = (await admin.gql(create)).data["createDocumentType"]["documentType"]["id"]
    binder = await create_binder(alice, "Faktury")
    await create_document(alice, binder["id"], "FV 1", b"faktura", documentTypeId=kind)
    await drain(indexer)
    query = 'query($f: SearchFilter) { search(query: "*", filter: $f) { totalCount } }'
    for given in ({"documentType": "FAKTURA"}, {"documentType": "Faktura VAT"}, {"documentType": "faktura vat"}):
        assert (await alice.gql(query, f=given)).data["search"]["totalCount"] == 1, given
    assert (await alice.gql(query, f={"status": "Nowy"})).data["search"]["totalCount"] == 1
    for wrong in ({"documentType": "Faktura VAT 23"}, {"documentType": "fakturaa"}, {"status": "bogus"}):
        refused = await alice.gql(query, f=wrong)
        assert refused.error_codes == ["VALIDATION"], wrong


async def test_a_type_or_status_clause_may_name_it_as_users_see_it(admin, alice, indexer):
    create = 'mutation { createDocumentType(input: {code: "corr_in", name: "Korespondencja przychodząca"}) { documentType { id } } }'
    kind = (await admin.gql(create)).data["createDocumentType"]["documentType"]["id"]
    binder = await create_binder(alice, "Sekretariat")
    await create_document(alice, binder["id"], "Pismo z urzędu", b"pismo", documentTypeId=kind)
    await create_document(alice, binder["id"], "Notatka", b"notatka")
    await drain(indexer)
    for query in ('type:"korespondencja przychodzaca"', "type:corr_in", 'type:"Korespondencja Przychodząca" pismo'):
        assert await titles(alice, query) == ["Pismo z urzędu"], query
    # The workflow's first state is "new", named "Nowy".
    for query in ("status:Nowy", "status:nowy", "status:new"):
        assert await titles(alice, query) == ["Notatka", "Pismo z urzędu"], query
    # A name is matched whole, not word by word; one nothing has is refused, as in the filter.
    for query in ("type:korespondencja", "status:zamkniety", "faktura -status:bogus"):
        refused = await alice.gql(SEARCH, q=query)
        assert refused.error_codes == ["VALIDATION"], query
        assert "has this code or name; the codes are" in refused.body["errors"][0]["message"], query


async def test_the_binder_filter_covers_the_subtree(alice, indexer):
    root = await create_binder(alice, "Archiwum")
    child = await create_binder(alice, "2026", root["id"])
    other = await create_binder(alice, "Inne")
    await create_document(alice, child["id"], "Faktura w archiwum", INVOICE)
    await create_document(alice, other["id"], "Faktura gdzie indziej", INVOICE)
    await drain(indexer)
    assert await titles(alice, "faktura", filter={"binderId": root["id"]}) == ["Faktura w archiwum"]


async def test_the_index_heals_itself_when_deleted(alice, indexer, settings):
    import shutil

    binder = await create_binder(alice, "Faktury")
    await create_document(alice, binder["id"], "Faktura", INVOICE)
    await drain(indexer)
    shutil.rmtree(settings.resolved_index_dir / "whoosh")
    assert await indexer.heal_if_needed() is True
    assert await titles(alice, "faktura") == ["Faktura"]


def on_second_batch(monkeypatch, indexer, happen) -> None:
    """Call `happen` when the indexer starts preparing its second batch (it may raise)."""
    records = indexer.records
    calls = 0

    async def prepared(sources, **options):
        nonlocal calls
        calls += 1
        if calls == 2:
            happen()
        return await records(sources, **options)

    monkeypatch.setattr(indexer, "records", prepared)


async def test_an_interrupted_reindex_resumes_where_it_stopped(alice, indexer, monkeypatch):
    binder = await create_binder(alice, "Faktury")
    for index in range(5):
        await create_document(alice, binder["id"], f"Faktura {index}", INVOICE)
    await drain(indexer)
    original = indexer.records

    def ctrl_c() -> None:
        raise KeyboardInterrupt  # the operator pressed Ctrl-C

    on_second_batch(monkeypatch, indexer, ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        await indexer.rebuild(batch=2)
    monkeypatch.setattr(indexer, "records", original)
    seen: list[int] = []
    assert await indexer.rebuild(batch=2, resume=True, progress=seen.append) == 5, (
        "the documents the index holds, those of the interrupted run too"
    )
    assert seen[0] == 2, "the two documents indexed before the interruption are counted as done"
    result = await alice.gql(SEARCH, q="faktura")
    assert result.data["search"]["totalCount"] == 5


async def five_invoices(client) -> None:
    """Documents "Faktura 1" to "Faktura 5", each with the same invoice text, in a new binder."""
    binder = await create_binder(client, "Faktury")
    for number in range(1, 6):
        await create_document(client, binder["id"], f"Faktura {number}", INVOICE, filename=f"f{number}.txt")


async def test_a_batch_over_its_text_budget_leaves_the_rest_queued_and_loses_nothing(alice, indexer, monkeypatch):
    await five_invoices(alice)
    monkeypatch.setattr(indexer, "batch_text_chars", len(INVOICE.decode()) * 2)
    await indexer.heal_if_needed()

    first = await indexer.drain_once()

    assert (first.entries, first.indexed) == (2, 2)
    assert await indexer.pending() == 3
    await drain(indexer)
    assert await indexer.pending() == 0
    assert await titles(alice, "fakturze", first=10) == [f"Faktura {n}" for n in range(1, 6)]


async def test_draining_prepares_the_next_batch_while_the_index_writes_the_previous_one(alice, indexer, monkeypatch):
    import asyncio

    await five_invoices(alice)
    await indexer.heal_if_needed()
    monkeypatch.setattr(indexer, "batch_size", 2)
    second_batch_started = asyncio.Event()
    overlapped: list[bool] = []
    upsert = indexer.engine.upsert
    on_second_batch(monkeypatch, indexer, second_batch_started.set)

    async def written(batch):
        if not overlapped:
            # The first write waits for the second batch's preparation, which must not wait for it.
            try:
                await asyncio.wait_for(second_batch_started.wait(), timeout=30)
                overlapped.append(True)
            except TimeoutError:
                overlapped.append(False)
        return await upsert(batch)

    monkeypatch.setattr(indexer.engine, "upsert", written)

    report = await indexer.drain()

    assert overlapped == [True]
    assert (report.entries, report.indexed) == (5, 5)
    assert await indexer.pending() == 0
    assert await titles(alice, "fakturze", first=10) == [f"Faktura {n}" for n in range(1, 6)]


async def test_a_failure_preparing_the_next_batch_still_finishes_writing_the_previous_one(alice, indexer, monkeypatch):
    await five_invoices(alice)
    await indexer.heal_if_needed()
    monkeypatch.setattr(indexer, "batch_size", 2)

    def storage_goes_away() -> None:
        raise OSError("storage went away")

    on_second_batch(monkeypatch, indexer, storage_goes_away)
    with pytest.raises(OSError, match="storage went away"):
        await indexer.drain()

    assert await indexer.pending() == 3, "the first batch was written and its entries removed"
    await drain(indexer)
    assert await indexer.pending() == 0
    assert await titles(alice, "fakturze", first=10) == [f"Faktura {n}" for n in range(1, 6)]


async def test_a_reindex_over_the_text_budget_goes_on_in_smaller_batches_and_loses_nothing(alice, indexer, monkeypatch):
    await five_invoices(alice)
    await drain(indexer)
    monkeypatch.setattr(indexer, "batch_text_chars", len(INVOICE.decode()) * 2)
    written: list[int] = []
    seen: list[int] = []
    original_begin = indexer.engine.begin_rebuild

    async def begin_rebuild(**options):
        rebuild = await original_begin(**options)
        plain = rebuild.upsert

        async def upsert_counted(records):
            records = list(records)
            written.append(len(records))
            return await plain(records)

        rebuild.upsert = upsert_counted
        return rebuild

    monkeypatch.setattr(indexer.engine, "begin_rebuild", begin_rebuild)
    assert await indexer.rebuild(progress=seen.append) == 5
    assert written == [2, 2, 1]
    assert sum(seen) == 5
    assert await titles(alice, "fakturze", first=10) == [f"Faktura {n}" for n in range(1, 6)]


async def test_a_failing_batch_is_held_back_and_counted_then_retried(alice, indexer, db):
    from sqlalchemy import select

    from dms.outbox import service as outbox
    from dms.outbox.models import OutboxEntry

    binder = await create_binder(alice, "Faktury")
    await create_document(alice, binder["id"], "Faktura", INVOICE)
    await indexer.heal_if_needed()
    async with db.write_sessions() as session:
        await outbox.postpone_oldest(session, OutboxEntry, OSError("index disk full"))
        await session.commit()

    assert (await indexer.drain_once()).entries == 0  # held back for RETRY_DELAY
    async with db.sessions() as session:
        entry = (await session.scalars(select(OutboxEntry))).one()
    assert (entry.attempts, entry.last_error) == (1, "index disk full")
    async with db.write_sessions() as session:
        await session.execute(OutboxEntry.__table__.update().values(not_before=None))
        await session.commit()
    await drain(indexer)
    assert await titles(alice, "faktura") == ["Faktura"]


async def test_the_indexer_outlives_a_database_outage(alice, indexer, monkeypatch):
    """While the database is down even recording the failure fails: the loop waits and goes on."""
    import asyncio

    binder = await create_binder(alice, "Faktury")
    await create_document(alice, binder["id"], "Faktura", INVOICE)
    outage = {"heal": 3, "postpone": 3}
    heal, postpone = indexer.heal_if_needed, indexer._postpone

    async def failing(name, real, *args):
        if outage[name] > 0:
            outage[name] -= 1
            raise OSError("connection refused")
        return await real(*args)

    monkeypatch.setattr(indexer, "heal_if_needed", lambda: failing("heal", heal))
    monkeypatch.setattr(indexer, "_postpone", lambda error: failing("postpone", postpone, error))
    stop = asyncio.Event()
    running = asyncio.create_task(indexer.run(poll_seconds=0.01, stop=stop))
    try:
        for _ in range(500):
            if outage["heal"] == 0 and await indexer.pending() == 0:
                break
            await asyncio.sleep(0.02)
        assert not running.done(), "the indexer's loop ended"
        assert outage == {"heal": 0, "postpone": 0}
    finally:
        stop.set()
        indexer.wake()
        await running
    assert await titles(alice, "faktura") == ["Faktura"]


async def test_a_shutdown_does_not_wait_out_the_indexers_back_off(indexer, monkeypatch):
    import asyncio

    failed = asyncio.Event()

    async def down() -> None:
        failed.set()
        raise OSError("connection refused")

    monkeypatch.setattr(indexer, "heal_if_needed", down)
    monkeypatch.setattr(indexer, "_postpone", lambda error: down())
    stop = asyncio.Event()
    # A back-off of an hour: waited out, the test would hang (pytest-timeout ends it as failed).
    running = asyncio.create_task(indexer.run(poll_seconds=3600, stop=stop))
    await failed.wait()
    await asyncio.sleep(0)
    stop.set()
    await running


async def case_of_budimex(client: Client, title: str) -> dict[str, str]:
    """A new case of a new card "Budimex": its id and number."""
    card = await client.gql('mutation { createCounterparty(input: {name: "Budimex"}) { counterparty { id } } }')
    case = await client.gql(
        "mutation($c: ID!, $t: String!) { createCase(input: {counterpartyId: $c, title: $t}) { case { id number } } }",
        c=card.data["createCounterparty"]["counterparty"]["id"],
        t=title,
    )
    return case.data["createCase"]["case"]


async def test_a_renamed_case_finds_its_documents_by_the_new_title_only(alice, indexer):
    case_id = (await case_of_budimex(alice, "Dostawa cementu"))["id"]
    binder = await create_binder(alice, "Dostawy")
    await create_document(alice, binder["id"], "Protokół", b"odbior towaru", caseId=case_id)
    await drain(indexer)
    assert await titles(alice, "case:cementu") == ["Protokół"]

    renamed = await alice.gql(
        'mutation($id: ID!) { updateCase(input: {caseId: $id, title: "Dostawa kruszywa"}) { userErrors { code } } }',
        id=case_id,
    )
    assert renamed.data["updateCase"]["userErrors"] == []
    await drain(indexer)
    assert await titles(alice, "case:kruszywa") == ["Protokół"]
    assert await titles(alice, "case:cementu") == []


async def test_a_document_is_found_by_its_cases_number(alice, indexer):
    case = await case_of_budimex(alice, "Windykacja")
    number = case["number"]
    binder = await create_binder(alice, "Windykacja")
    await create_document(alice, binder["id"], "Wezwanie", b"do zaplaty", caseId=case["id"])
    await drain(indexer)
    for query in (f'case:"{number}"', number, f"case:{number.rsplit('/', 1)[1]}"):
        assert await titles(alice, query) == ["Wezwanie"], query


async def test_an_empty_cursor_is_no_cursor_and_a_backwards_period_is_refused(alice, indexer):
    binder = await create_binder(alice, "Faktury")
    await create_document(alice, binder["id"], "Faktura", INVOICE)
    await drain(indexer)
    assert (await alice.gql(SEARCH, q="faktura", after="")).data["search"]["totalCount"] == 1
    cards = await alice.gql(SEARCH_CARDS, q="x", after="")
    assert cards.error_codes == [], cards.body
    backwards = {"dateFrom": "2027-01-01T00:00:00Z", "dateTo": "2026-01-01T00:00:00Z"}
    assert (await alice.gql(SEARCH, q="faktura", filter=backwards)).error_codes == ["VALIDATION"]
