"""What people type into names and custom fields, as it is kept."""

from __future__ import annotations

import pytest

from dms.counterparties.customfields import FieldDefinition, apply_values
from dms.errors import ValidationFailed
from dms.names import clean_name


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("Faktura\tVAT\n2026", "Faktura VAT 2026"),  # pasted from a spreadsheet cell or a PDF line
        ("Acme\r\nSp. z o.o.", "Acme Sp. z o.o."),
        ("  Umowy\u00a02026 ", "Umowy 2026"),
        ("Nowy\u0000\u001b", "Nowy"),
        ("Za\u200bżółć", "Zażółć"),
    ],
)
def test_a_name_keeps_its_words_apart_and_loses_what_cannot_be_seen(typed: str, kept: str) -> None:
    assert clean_name(typed, field="title") == kept


REQUIRED_TEXT = FieldDefinition("r", "Region", "text", True, None, None)


@pytest.mark.parametrize("invisible", ["\u0000", "\u200b", "\u001b", " \u200b\t"])
def test_a_required_text_field_is_not_satisfied_by_invisible_characters(invisible: str) -> None:
    with pytest.raises(ValidationFailed, match="Region is required"):
        apply_values([REQUIRED_TEXT], None, {"r": invisible}, {})


def test_a_text_field_keeps_its_lines_and_drops_control_characters() -> None:
    assert apply_values([REQUIRED_TEXT], None, {"r": "Mazowsze\u0000\n\tpółnoc"}, {}) == {"r": "Mazowsze\n\tpółnoc"}


DECIMAL = FieldDefinition("d", "Stawka", "decimal")


@pytest.mark.parametrize("typed", ["1_000", "1e2", "\u0661\u0662", "12.", "--1", "NaN"])
def test_a_decimal_field_takes_digits_as_people_write_them(typed: str) -> None:
    with pytest.raises(ValidationFailed):
        apply_values([DECIMAL], None, {"d": typed}, {})


@pytest.mark.parametrize(("typed", "kept"), [("12,50", "12.50"), ("-3.75", "-3.75"), (12.3, "12.3"), (7, "7")])
def test_a_decimal_field_keeps_what_was_typed(typed: object, kept: str) -> None:
    assert apply_values([DECIMAL], None, {"d": typed}, {}) == {"d": kept}


DAY = FieldDefinition("t", "Termin", "date")


@pytest.mark.parametrize("typed", ["20260102", "0001-01-01", "9999-12-31", "2026-02-30", "jutro"])
def test_a_date_field_takes_a_date_written_in_full_within_reason(typed: str) -> None:
    with pytest.raises(ValidationFailed):
        apply_values([DAY], None, {"t": typed}, {})


def test_a_date_field_keeps_a_date() -> None:
    assert apply_values([DAY], None, {"t": " 2026-01-02 "}, {}) == {"t": "2026-01-02"}


async def test_a_group_name_is_one_name_in_any_case_and_is_found_as_typed(db) -> None:
    from dms.actor import SYSTEM
    from dms.errors import Conflict
    from dms.identity import service as identity

    async with db.sessions() as session:
        created = await identity.create_group(session, SYSTEM, "Źródła")
        for same in ("Źródła", "ŹRÓDŁA"):
            with pytest.raises(Conflict):
                await identity.create_group(session, SYSTEM, same)
        assert (await identity.group_by_name(session, "źródła")).id == created.id


def test_names_sort_as_a_polish_reader_looks_for_them() -> None:
    from dms.collation import polish_key

    shuffled = ["Śląsk", "10 - dziesięć", "Zamość", "aneksy", "Łódź", "Czersk", "Żywiec", "2 - dwa", "Źródła"]
    shuffled += ["Ćwiczenia", "Ósemka", "Lublin", "Opole", "Sopot", "Mazury", "élan", "Eryk", "Ewa"]
    assert sorted(shuffled, key=polish_key) == [
        "2 - dwa",
        "10 - dziesięć",
        "aneksy",
        "Czersk",
        "Ćwiczenia",
        "Eryk",
        "Ewa",
        "élan",
        "Lublin",
        "Łódź",
        "Mazury",
        "Opole",
        "Ósemka",
        "Sopot",
        "Śląsk",
        "Zamość",
        "Źródła",
        "Żywiec",
    ]


async def test_groups_made_before_names_were_compared_so_are_told_apart_by_the_exact_name(db) -> None:
    from dms.errors import Conflict
    from dms.identity import service as identity
    from dms.identity.models import Group

    async with db.sessions() as session:
        session.add_all([Group(name="Łódź"), Group(name="łódź")])  # as an older release let them be
        await session.flush()
        assert (await identity.group_by_name(session, "łódź")).name == "łódź"
        assert (await identity.group_by_name(session, "Łódź")).name == "Łódź"
        with pytest.raises(Conflict, match="several groups"):
            await identity.group_by_name(session, "ŁÓDŹ")
