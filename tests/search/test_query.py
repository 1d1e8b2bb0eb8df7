from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search.errors import QuerySyntaxError
from search.query import (
    MAX_CLAUSES,
    MAX_QUERY_LENGTH,
    And,
    MatchAll,
    Not,
    Or,
    Phrase,
    Prefix,
    Term,
    parse_query,
)


def in_words(day: str, ordinal: str, polish: str, english: str, year: str) -> tuple[Phrase, ...]:
    """The phrases a date is looked for in words as, in order: Polish, then English with the day as
    a number and as an ordinal, the month in full and short."""
    months = (english, english[:3]) if len(english) > 3 else (english,)
    english_forms = [
        (m, d, year) if first else (d, m, year) for d in (day, ordinal) for m in months for first in (True, False)
    ]
    return tuple(Phrase(None, words) for words in ((day, polish, year), *english_forms))


MARCH_3 = in_words("3", "3rd", "marca", "March", "2026")


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("", MatchAll()),
        ("   ", MatchAll()),
        ("*", MatchAll()),
        ("faktura", Term(None, "faktura")),
        ("faktura umowa", And((Term(None, "faktura"), Term(None, "umowa")))),
        ("faktura AND umowa", And((Term(None, "faktura"), Term(None, "umowa")))),
        ("faktura OR umowa", Or((Term(None, "faktura"), Term(None, "umowa")))),
        ("a b OR c", Or((And((Term(None, "a"), Term(None, "b"))), Term(None, "c")))),
        ("NOT anulowana", Not(Term(None, "anulowana"))),
        ("faktura -anulowana", And((Term(None, "faktura"), Not(Term(None, "anulowana"))))),
        ("NOT NOT faktura", Term(None, "faktura")),
        # "-" negates a field, a phrase or a group as it negates a word.
        ("faktura -title:korekta", And((Term(None, "faktura"), Not(Term("title", "korekta"))))),
        ('umowa -"umowa najmu"', And((Term(None, "umowa"), Not(Phrase(None, ("umowa", "najmu")))))),
        ("-(korekta OR duplikat)", Not(Or((Term(None, "korekta"), Term(None, "duplikat"))))),
        ("NIP: 123-456", And((Term(None, "NIP"), Term(None, "123-456")))),
        ("faktura -https://spam.pl", And((Term(None, "faktura"), Not(Term(None, "https://spam.pl"))))),
        ('"umowa najmu"', Phrase(None, ("umowa", "najmu"))),
        ('"umowa"', Term(None, "umowa")),
        ("fakt*", Prefix(None, "fakt")),
        ("title:umowa", Term("title", "umowa")),
        ("TITLE:umowa", Term("title", "umowa")),
        ("title: umowa", Term("title", "umowa")),
        ('title:"umowa najmu"', Phrase("title", ("umowa", "najmu"))),
        ("description:FV/2026/0012", Term("description", "FV/2026/0012")),
        ("FV/2026/0012", Term(None, "FV/2026/0012")),
        ("tags:(pilne OR ważne)", Or((Term("tags", "pilne"), Term("tags", "ważne")))),
        (
            "(faktura OR rachunek) AND NOT korekta",
            And((Or((Term(None, "faktura"), Term(None, "rachunek"))), Not(Term(None, "korekta")))),
        ),
        ("type:invoice status:draft", And((Term("type", "invoice"), Term("status", "draft")))),
        ("'; DROP TABLE", And((Term(None, "DROP"), Term(None, "TABLE")))),
        ("faktura *", Term(None, "faktura")),
        ("12:30", Term(None, "12:30")),
        ("()", MatchAll()),
        # A date in words: as written, as a date written in digits is indexed, or in other words.
        ("3 marca 2026", Or((MARCH_3[0], Term(None, "2026/03/03"), *MARCH_3[1:]))),
        (
            "March 3, 2026",
            Or((MARCH_3[1], Term(None, "2026/03/03"), MARCH_3[0], *MARCH_3[2:])),
        ),
        (
            "umowa 1 września 2026 r.",
            And(
                (
                    Term(None, "umowa"),
                    Or(
                        (
                            Phrase(None, ("1", "września", "2026")),
                            Term(None, "2026/09/01"),
                            *in_words("1", "1st", "września", "September", "2026")[1:],
                        )
                    ),
                    Term(None, "r."),
                )
            ),
        ),
        ("March 3rd, 2026", Or((MARCH_3[5], Term(None, "2026/03/03"), *MARCH_3[:5], *MARCH_3[6:]))),
        # A date in digits: as written (which finds it in digits written otherwise too), or in words.
        ("2026-03-03", Or((Term(None, "2026-03-03"), *MARCH_3))),
        (
            "do 3.05.2026.",
            And((Term(None, "do"), Or((Term(None, "3.05.2026."), *in_words("3", "3rd", "maja", "May", "2026"))))),
        ),
        ("2026-02-31", Term(None, "2026-02-31")),  # no such day
        ("2026/0012", Term(None, "2026/0012")),
        ("31 lutego 2026", And((Term(None, "31"), Term(None, "lutego"), Term(None, "2026")))),
        ("-3 marca 2026", And((Not(Term(None, "3")), Term(None, "marca"), Term(None, "2026")))),
    ],
)
def test_parses_the_query_language(text: str, tree: object) -> None:
    assert parse_query(text) == tree


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('"unterminated', "never closed"),
        ("((((", "never closed"),
        ("(faktura", "never closed"),
        ("faktura)", "no opening"),
        ("AND OR NOT", "AND"),
        ("faktura AND", "AND"),
        ("OR faktura", "OR"),
        ("faktura OR", "OR"),
        ("NOT", "NOT"),
        ("title:*", "prefix"),
        ("a*", "prefix"),
        ("fa*ra", "end a word"),
        ("author:kowalski", "Unknown field"),
        ("title:", "needs a value"),
        ('title:""', "no words"),
        ("title:(content:x)", "inside"),
    ],
)
def test_malformed_queries_raise_a_readable_error(text: str, message: str) -> None:
    with pytest.raises(QuerySyntaxError, match=message):
        parse_query(text)


def test_unknown_field_message_lists_the_allowed_fields() -> None:
    with pytest.raises(QuerySyntaxError) as error:
        parse_query("autor:kowalski")
    assert "counterparty" in str(error.value) and "description" in str(error.value)


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("Re: reklamacja", And((Term(None, "Re"), Term(None, "reklamacja")))),
        ("UWAGA: termin", And((Term(None, "UWAGA"), Term(None, "termin")))),
        ("NIP: 123-456-32-18", And((Term(None, "NIP"), Term(None, "123-456-32-18")))),
        ("Title: Umowa", And((Term(None, "Title"), Term(None, "Umowa")))),
        ("https://example.com", And((Term(None, "https"), Term(None, "//example.com")))),
        ("Dotyczy:", Term(None, "Dotyczy")),
        ("nip: 1234563218", Term("nip", "1234563218")),
        ("title: umowa", Term("title", "umowa")),
        ("Title:umowa", Term("title", "umowa")),
    ],
)
def test_labels_of_pasted_text_are_words_and_fields_stay_fields(text: str, tree: object) -> None:
    assert parse_query(text) == tree


def test_more_than_eight_prefixes_are_refused() -> None:
    parse_query(" OR ".join(f"fa{letter}*" for letter in "abcdefgh"))
    with pytest.raises(QuerySyntaxError, match="more than 8 words ending in"):
        parse_query(" OR ".join(f"fa{letter}*" for letter in "abcdefghi"))


def test_overlong_queries_are_refused() -> None:
    with pytest.raises(QuerySyntaxError, match="longer"):
        parse_query("a" * (MAX_QUERY_LENGTH + 1))
    with pytest.raises(QuerySyntaxError, match="terms"):
        parse_query(" ".join(f"w{i}" for i in range(MAX_CLAUSES + 1)))


def test_deep_nesting_is_refused() -> None:
    with pytest.raises(QuerySyntaxError, match="deeper"):
        parse_query("(" * 40 + "a" + ")" * 40)
    with pytest.raises(QuerySyntaxError, match="deeper"):
        parse_query("NOT " * 40 + "a")


def test_nodes_are_frozen_and_hashable() -> None:
    tree = parse_query('faktura OR "umowa najmu"')
    assert hash(tree) == hash(parse_query('faktura OR "umowa najmu"'))
    with pytest.raises(AttributeError):
        tree.children = ()  # type: ignore[misc, union-attr]


# Query-like text: fragments of the syntax glued together at random.
_QUERYISH = st.lists(
    st.sampled_from(["a", "ż", " ", ":", "(", ")", '"', "*", "-", "/", "title:", "OR ", "AND ", "NOT ", "x*", "\\"]),
    max_size=30,
).map("".join)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=200), _QUERYISH))
def test_any_text_parses_or_raises_query_syntax_error(text: str) -> None:
    try:
        tree = parse_query(text)
    except QuerySyntaxError as error:
        assert str(error)
    else:
        assert tree is not None
