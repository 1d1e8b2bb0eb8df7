"""Properties of the pure parts: version numbers, keyset paging, file names, Polish tax ids.

(Permission resolution over random trees has its own property test in test_access_rules.py.)
"""

from __future__ import annotations

import asyncio
import string
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import String, select, type_coerce
from sqlalchemy.orm import DeclarativeBase, Mapped, column_property, mapped_column

from dms.base import UTCDateTime
from dms.counterparties.taxids import normalise_nip, normalise_regon
from dms.db import create_engine, session_factory
from dms.documents.numbering import format_number, next_number, parse_number
from dms.errors import ValidationFailed
from dms.events.models import KeysetDateTime
from dms.events.service import SettlementData, checked_settlements
from dms.names import MAX_FILENAME, safe_filename
from dms.pagination import PageRequest, SortKey, decode_cursor, encode_cursor, paginate
from dms.times import utc_time

# --- version numbers -------------------------------------------------------------------------

PARTS = st.integers(min_value=0, max_value=999_999_998)


@given(st.lists(st.booleans(), max_size=40))
def test_each_check_in_makes_a_higher_number_that_reads_back(majors: list[bool]) -> None:
    current = next_number(None, major=False)
    assert current == (1, 0)
    for major in majors:
        following = next_number(current, major=major)
        assert following > current
        assert following == ((current[0] + 1, 0) if major else (current[0], current[1] + 1))
        assert parse_number(format_number(following)) == following
        current = following


@given(st.tuples(PARTS, PARTS))
def test_a_version_number_survives_formatting_and_parsing(number: tuple[int, int]) -> None:
    assert parse_number(format_number(number)) == number
    assert parse_number(f" {format_number(number)}\n") == number


@given(st.text(max_size=24))
def test_only_canonical_numbers_parse(text: str) -> None:
    parsed = parse_number(text)
    if parsed is not None:
        # Leading zeros, signs, other digits ("١.٠") or other separators never name a version.
        assert format_number(parsed) == text.strip()


# --- keyset pagination -----------------------------------------------------------------------


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    # As events page by their time: the cursor carries the time back as ISO text.
    sort_at: Mapped[datetime] = column_property(type_coerce(at, KeysetDateTime()))


KEYS = {
    "by name": (SortKey.of((Item.name, False), (Item.id, False)), lambda item: (item.name, item.id)),
    "newest first": (
        SortKey.of((Item.sort_at, True), (Item.id, True)),
        lambda item: (-item.at.timestamp(), -item.id),
    ),
}
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
# Few distinct names and times, so that ties on the first column (decided by the id) are common.
NAMES = st.sampled_from(["", "a", "ab", "b", "Ż", "zz", "ä", "a b"])
TIMES = st.integers(0, 5).map(lambda minutes: EPOCH + timedelta(minutes=minutes, microseconds=minutes * 7))


@dataclass
class Walk:
    key: str
    initial: list[tuple[str, datetime]]
    pages: list[tuple[int, list[tuple[str, datetime]]]]  # page size, then rows inserted after that page


@st.composite
def walks(draw: st.DrawFn) -> Walk:
    rows = st.tuples(NAMES, TIMES)
    return Walk(
        key=draw(st.sampled_from(sorted(KEYS))),
        initial=draw(st.lists(rows, max_size=25)),
        pages=draw(st.lists(st.tuples(st.integers(1, 6), st.lists(rows, max_size=4)), min_size=1, max_size=30)),
    )


async def walk_pages(walk: Walk) -> tuple[list[int], set[int], set[int]]:
    """Page through the items while others are inserted; returns what was seen, and what must have been."""
    key, order = KEYS[walk.key]
    engine = create_engine("sqlite+aiosqlite:///:memory:")
    try:
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        async with session_factory(engine)() as session:
            session.add_all([Item(name=name, at=at) for name, at in walk.initial])
            await session.commit()
            present = {item.id for item in (await session.scalars(select(Item))).all()}
            must_see = set(present)
            seen: list[int] = []
            after = None
            last = None
            for size, inserted in walk.pages:
                page = await paginate(session, select(Item), key, PageRequest(size, after))
                seen += [item.id for item in page.items]
                if page.items:
                    last = order(page.items[-1])
                    after = page.end_cursor
                new = [Item(name=name, at=at) for name, at in inserted]
                session.add_all(new)
                await session.flush()
                await session.commit()
                # Inserted beyond the last item seen, it must turn up on a later page.
                must_see |= {item.id for item in new if last is None or order(item) > last}
                if not page.has_next and not new:
                    break
            # Finish the walk without further inserts.
            while True:
                page = await paginate(session, select(Item), key, PageRequest(50, after))
                seen += [item.id for item in page.items]
                after = page.end_cursor or after
                if not page.has_next:
                    break
            every = {item.id: order(item) for item in (await session.scalars(select(Item))).all()}
            assert [every[i] for i in seen] == sorted(every[i] for i in seen), "pages are not in key order"
            return seen, must_see, present
    finally:
        await engine.dispose()


# Values the key's columns cannot take, each inside a cursor of the right list.
BAD_VALUES = {
    "by name": [[10**30, 1], ["a\x00b", 1], [None, None], ["a", "1"], ["a", 2**63], [True, 1]],
    "newest first": [
        ["not a date", 1],
        ["2026-01-01T00:00:00", 1],
        [None, 1],
        [10**30, 1],
        ["2026-01-01T00:00:00+00:00", 1.5],
    ],
}


async def refusals() -> list[tuple[str, object]]:
    """What paginate says to each bad cursor (expected: a validation error on `after`, every time)."""
    engine = create_engine("sqlite+aiosqlite:///:memory:")
    said: list[tuple[str, object]] = []
    try:
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        async with session_factory(engine)() as session:
            session.add_all([Item(name=name, at=EPOCH) for name in ("a", "b")])
            await session.commit()
            cursors = [
                (name, encode_cursor([KEYS[name][0].tag, *values])) for name in KEYS for values in BAD_VALUES[name]
            ]
            # A genuine cursor of one list, handed to the other.
            by_name = await paginate(session, select(Item), KEYS["by name"][0], PageRequest(1))
            cursors.append(("newest first", by_name.end_cursor))
            for name, cursor in cursors:
                try:
                    await paginate(session, select(Item), KEYS[name][0], PageRequest(5, cursor))
                except ValidationFailed as error:
                    said.append((error.message, error.field))
                else:
                    said.append(("accepted", cursor))
    finally:
        await engine.dispose()
    return said


def test_a_cursor_with_values_its_list_cannot_take_or_of_another_list_is_a_validation_error() -> None:
    said = asyncio.run(refusals())
    assert said[-1] == ("the cursor belongs to another list", ["after"])
    assert all(answer == ("the cursor is not valid", ["after"]) for answer in said[:-1]), said


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(walks())
def test_keyset_pages_lose_and_repeat_nothing_while_items_are_inserted(walk: Walk) -> None:
    seen, must_see, initial = asyncio.run(walk_pages(walk))
    assert len(seen) == len(set(seen)), "an item was repeated"
    assert initial <= set(seen), "an item present from the start was lost"
    assert must_see <= set(seen), "an item inserted ahead of the cursor was lost"


@given(st.lists(st.one_of(st.none(), st.integers(-(2**53), 2**53), st.text(max_size=20)), min_size=1, max_size=3))
def test_a_cursor_reads_back_its_values(values: list[object]) -> None:
    assert decode_cursor(encode_cursor(values), len(values)) == values


@given(st.text(max_size=60), st.integers(1, 3))
def test_any_string_is_a_cursor_or_a_validation_error(cursor: str, arity: int) -> None:
    try:
        values = decode_cursor(cursor, arity)
    except ValidationFailed as refusal:
        assert refusal.field == ["after"]
    else:
        assert len(values) == arity


# --- file names ------------------------------------------------------------------------------

HOSTILE_PARTS = st.one_of(
    st.sampled_from(["/", "\\", ".", " ", "\x00", "\u202e", "\u200b", "\n", ":", "\u0301", "e", "ż", ".pdf"]),
    st.characters(exclude_categories=["Cs"]),
    # Long runs reach the length limit, where the name is cut.
    st.integers(1, 300).map(lambda length: "a" * length),
)
HOSTILE = st.lists(HOSTILE_PARTS, max_size=16).map("".join)


@settings(max_examples=400)
@given(HOSTILE)
# Cut at the length limit just after a space; a format character between a letter and its accent.
@example("a" * 254 + " b")
@example("e\u200b\u0301.txt")
@example("x/A\u200b:")
@example(" A:")
def test_a_sanitised_file_name_is_one_harmless_visible_name(raw: str) -> None:
    name = safe_filename(raw)
    assert 0 < len(name) <= MAX_FILENAME
    assert "/" not in name and "\\" not in name
    assert name not in (".", "..")
    assert name == name.strip(". "), "leading or trailing dots or spaces"
    assert all(unicodedata.category(ch) not in ("Cc", "Cf") for ch in name), "control or format character"
    assert unicodedata.is_normalized("NFC", name)
    assert safe_filename(name) == name, "sanitising twice changes the name"


@given(
    st.text(alphabet=string.ascii_letters + " ._-", min_size=1, max_size=2000), st.sampled_from(["pdf", "docx", "txt"])
)
def test_a_long_name_keeps_its_extension(stem: str, extension: str) -> None:
    raw = "x" + stem + "x" * MAX_FILENAME + "." + extension
    assert safe_filename(raw).endswith("." + extension)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\jan\\umowa.pdf", "umowa.pdf"),
        ("faktura\u202efdp.exe", "fakturafdp.exe"),
        ("umo\x00wa.pdf", "umowa.pdf"),
        ("..", "file"),
        ("", "file"),
    ],
)
def test_known_hostile_names(raw: str, expected: str) -> None:
    assert safe_filename(raw) == expected


# --- NIP and REGON ---------------------------------------------------------------------------

NIP_WEIGHTS = (6, 5, 7, 2, 3, 4, 5, 6, 7)
REGON9_WEIGHTS = (8, 9, 2, 3, 4, 5, 6, 7)
REGON14_WEIGHTS = (2, 4, 8, 5, 0, 9, 7, 3, 6, 1, 2, 4, 8)


def nip_check(first_nine: str) -> int:
    return sum(w * int(d) for w, d in zip(NIP_WEIGHTS, first_nine, strict=True)) % 11


def regon_check(body: str, weights: tuple[int, ...]) -> str:
    return str(sum(w * int(d) for w, d in zip(weights, body, strict=True)) % 11 % 10)


def is_valid_nip(digits: str) -> bool:
    return len(digits) == 10 and digits.isascii() and digits.isdigit() and nip_check(digits[:9]) == int(digits[9])


def is_valid_regon(digits: str) -> bool:
    if not (digits.isascii() and digits.isdigit()):
        return False
    if len(digits) == 9:
        return digits[8] == regon_check(digits[:8], REGON9_WEIGHTS)
    return (
        len(digits) == 14
        and digits[8] == regon_check(digits[:8], REGON9_WEIGHTS)
        and digits[13] == regon_check(digits[:13], REGON14_WEIGHTS)
    )


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
@example("000000000")
def test_a_nip_is_valid_exactly_when_its_check_digit_fits(first_nine: str) -> None:
    check = nip_check(first_nine)
    for last in "0123456789":
        nip = first_nine + last
        if check == int(last) and nip != "0" * 10:  # the all-zero placeholder fits, and is refused
            assert normalise_nip(nip) == nip
            assert normalise_nip(f"PL {nip[:3]}-{nip[3:6]}-{nip[6:8]}-{nip[8:]}") == nip
        else:
            with pytest.raises(ValidationFailed):
                normalise_nip(nip)


@given(st.text(alphabet="0123456789", min_size=9, max_size=9), st.integers(0, 9), st.integers(1, 9))
def test_a_mistyped_digit_in_a_valid_nip_is_caught(first_nine: str, position: int, delta: int) -> None:
    check = nip_check(first_nine)
    if check == 10:
        return
    nip = first_nine + str(check)
    typo = nip[:position] + str((int(nip[position]) + delta) % 10) + nip[position + 1 :]
    with pytest.raises(ValidationFailed):
        normalise_nip(typo)


@given(st.text(max_size=20))
def test_any_text_is_a_valid_nip_or_a_validation_error(text: str) -> None:
    try:
        nip = normalise_nip(text)
    except ValidationFailed as refusal:
        assert refusal.field == ["nip"]
    else:
        assert is_valid_nip(nip)


@given(st.text(alphabet="0123456789", min_size=8, max_size=8), st.text(alphabet="0123456789", min_size=4, max_size=4))
def test_regons_of_9_and_14_digits_carry_both_check_digits(body: str, local: str) -> None:
    regon9 = body + regon_check(body, REGON9_WEIGHTS)
    assert normalise_regon(regon9) == regon9
    regon14 = regon9 + local + regon_check(regon9 + local, REGON14_WEIGHTS)
    assert normalise_regon(regon14) == regon14
    wrong = str((int(regon14[13]) + 1) % 10)
    with pytest.raises(ValidationFailed):
        normalise_regon(regon14[:13] + wrong)


@given(st.text(max_size=20))
def test_any_text_is_a_valid_regon_or_a_validation_error(text: str) -> None:
    try:
        regon = normalise_regon(text)
    except ValidationFailed as refusal:
        assert refusal.field == ["regon"]
    else:
        assert is_valid_regon(regon)


# --- settlements and times of events ---------------------------------------------------------

# Any decimal a client can send: huge and tiny exponents, long coefficients, NaN and infinities.
AMOUNTS = st.one_of(
    st.decimals(places=4, min_value=-(10**15), max_value=10**15),
    st.decimals(),
    st.builds(Decimal, st.from_regex(r"-?[0-9]{1,40}(\.[0-9]{1,10})?(e[+-]?[0-9]{1,7})?", fullmatch=True)),
)


@given(AMOUNTS, AMOUNTS)
@example(Decimal("99999999999999"), Decimal("99999999999999"))
@example(Decimal("1"), Decimal("1e27"))
@example(Decimal("1e30"), Decimal("1"))
@example(Decimal("100000000.0001"), Decimal("99999999.9999"))
def test_any_settlement_amounts_give_a_total_that_fits_its_column_or_a_validation_error(
    quantity: Decimal, unit_price: Decimal
) -> None:
    try:
        [line] = checked_settlements([SettlementData("x", quantity, unit_price)])
    except ValidationFailed as refusal:
        assert refusal.field is not None and refusal.field[:2] == ["settlements", "0"]
    else:
        # Numeric(18, 4) and Numeric(18, 2): 14 and 16 digits before the point.
        assert line.quantity == quantity and line.unit_price == unit_price
        assert abs(line.quantity) < 10**14 and abs(line.unit_price) < 10**14 and abs(line.total) < 10**16
        assert line.total == line.total.quantize(Decimal("0.01"))
        assert abs(line.total - quantity * unit_price) <= Decimal("0.005")


OFFSETS = st.builds(
    timezone, st.timedeltas(min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59))
)


@given(st.datetimes(timezones=st.one_of(st.none(), OFFSETS)))
@example(datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))))
@example(datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-14))))
def test_any_time_is_a_utc_time_in_range_or_a_validation_error(value: datetime) -> None:
    try:
        checked = utc_time(value, field="from")
    except ValidationFailed as refusal:
        assert refusal.field == ["from"]
    else:
        assert checked == value and checked.tzinfo is UTC and 1900 <= checked.year <= 2999
