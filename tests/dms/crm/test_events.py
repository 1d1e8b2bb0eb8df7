"""Events as the services keep them: numbering under concurrency, settlements, reports, timelines."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from dms.actor import Actor
from dms.binders import service as binders
from dms.counterparties import service as counterparties
from dms.counterparties.customfields import FieldDefinition
from dms.documents import service as documents
from dms.documents.uploads import IncomingFile
from dms.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed
from dms.events import report, service, timeline, types
from dms.events.automatic import Opening, record_openings
from dms.events.models import Event, Settlement
from dms.events.numbering import check_pattern, format_number, period_of
from dms.events.openings import card_openings
from dms.events.service import EventData, SettlementData
from dms.pagination import PageRequest
from dms.times import DEFAULT_BUSINESS_ZONE, business_time, use_business_zone
from dms.uow import unit_of_work
from tests.api.test_query_counts import counting
from tests.dms.conftest import chunks_of, make_actor, new_document
from tests.dms.crm.conftest import in_tx, sqlite_only


@pytest.fixture
async def card_id(db: Any, seller: Actor) -> int:
    card = await in_tx(db, lambda s: counterparties.create_counterparty(s, seller, name="ACME Sp. z o.o."))
    return card.id


async def event_type(db: Any, admin: Actor, name: str, **options: Any) -> int:
    created = await in_tx(db, lambda s: types.create_event_type(s, admin, name=name, **options))
    return created.id


async def register(db: Any, actor: Actor, data: EventData) -> Event:
    return await in_tx(db, lambda s: service.register_event(s, actor, data))


async def test_fifty_concurrent_registrations_get_fifty_different_numbers(db, admin, seller, card_id):
    monthly = await event_type(db, admin, "Wizyta", number_pattern="W/{YYYY}/{MM}/{N:4}", number_reset="monthly")

    async def one(_: int) -> str | None:
        event = await register(db, seller, EventData(type_id=monthly, counterparty_id=card_id))
        return event.number

    numbers = await asyncio.gather(*(one(i) for i in range(50)))
    now = business_time(datetime.now(UTC))
    assert sorted(numbers) == [f"W/{now:%Y}/{now:%m}/{n:04d}" for n in range(1, 51)]


async def test_numbers_restart_with_each_period_of_the_type(db, admin, seller):
    monthly = await event_type(db, admin, "Miesięczny", number_pattern="M/{YY}{MM}/{N}", number_reset="monthly")
    yearly = await event_type(db, admin, "Roczny", number_pattern="R/{YYYY}/{N}", number_reset="yearly")
    never = await event_type(db, admin, "Ciągły", number_pattern="C-{N:3}")
    # Periods follow the company's calendar (Europe/Warsaw by default), not UTC's.
    when = [
        datetime(2025, 1, 31, 22, 30, tzinfo=UTC),  # 23:30 on 31 January in Warsaw
        datetime(2025, 2, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))),  # 00:30 on 1 February there
        datetime(2025, 12, 31, 23, 30, tzinfo=UTC),  # New Year's night in Warsaw: 2026 already
        datetime(2026, 1, 5, tzinfo=UTC),
    ]
    got: dict[int, list[str | None]] = {}
    for type_id in (monthly, yearly, never):
        got[type_id] = [(await register(db, seller, EventData(type_id=type_id, occurred_at=at))).number for at in when]
    assert got[monthly] == ["M/2501/1", "M/2502/1", "M/2601/1", "M/2601/2"]
    assert got[yearly] == ["R/2025/1", "R/2025/2", "R/2026/1", "R/2026/2"]
    assert got[never] == ["C-001", "C-002", "C-003", "C-004"]


async def test_a_numbered_types_reset_cannot_change_so_its_numbers_never_repeat(db, admin, seller):
    type_id = await event_type(db, admin, "Reklamacja", number_pattern="REK/{YYYY}/{MM}/{N}")
    # Before any number is given, the numbering may still be set up differently.
    await in_tx(db, lambda s: types.update_event_type(s, admin, type_id, number_reset="yearly"))
    await in_tx(db, lambda s: types.update_event_type(s, admin, type_id, number_reset="never"))
    first = await register(db, seller, EventData(type_id=type_id))
    for reset in ("monthly", "yearly"):
        with pytest.raises(Conflict) as refused:
            await in_tx(db, lambda s, reset=reset: types.update_event_type(s, admin, type_id, number_reset=reset))
        assert refused.value.field == ["numberReset"]
    # The pattern may change (the counter goes on), and naming the same reset is no change.
    await in_tx(db, lambda s: types.update_event_type(s, admin, type_id, number_pattern="R/{N}", number_reset="never"))
    second = await register(db, seller, EventData(type_id=type_id))
    now = business_time(datetime.now(UTC))
    assert (first.number, second.number) == (f"REK/{now:%Y}/{now:%m}/1", "R/2")


async def test_an_automatic_type_takes_no_required_field(db, admin):
    required = [FieldDefinition("a", "A", "text", required=True)]
    with pytest.raises(ValidationFailed) as refused:
        await event_type(db, admin, "Zmiana danych", automatic_kind="data_changed", fields=required)
    assert refused.value.field == ["fields", "0", "required"]
    automatic = await event_type(db, admin, "Zmiana danych", automatic_kind="data_changed")
    with pytest.raises(ValidationFailed):
        await in_tx(db, lambda s: types.update_event_type(s, admin, automatic, fields=required))
    optional = [FieldDefinition("a", "A", "text")]
    updated = await in_tx(db, lambda s: types.update_event_type(s, admin, automatic, fields=optional))
    assert [f["key"] for f in updated.fields] == ["a"]


def test_the_company_calendar_follows_the_configured_time_zone():
    new_years_eve = datetime(2025, 12, 31, 23, 30, tzinfo=UTC)
    assert period_of("yearly", business_time(new_years_eve)) == "2026"  # Europe/Warsaw
    try:
        use_business_zone("America/New_York")
        assert period_of("monthly", business_time(new_years_eve)) == "2025-12"
        with pytest.raises(ValueError):
            use_business_zone("Europe/Gotham")
    finally:
        use_business_zone(DEFAULT_BUSINESS_ZONE)


def test_a_numbering_pattern_must_show_the_period_it_resets_with():
    assert check_pattern("SPR/{YYYY}/{MM}/{N:4}", "monthly") == "SPR/{YYYY}/{MM}/{N:4}"
    for pattern, reset in (
        ("SPR/{N}", "yearly"),
        ("SPR/{YYYY}/{N}", "monthly"),
        ("SPR/{YYYY}", "never"),
        ("{N}{N}", "never"),
        ("{X}/{N}", "never"),
    ):
        with pytest.raises(ValidationFailed):
            check_pattern(pattern, reset)
    with pytest.raises(ValidationFailed, match="reset every month needs"):
        check_pattern("SPR/{N}", "monthly")
    at = datetime(2026, 5, 3, tzinfo=UTC)
    assert (period_of("never", at), period_of("yearly", at), period_of("monthly", at)) == ("-", "2026", "2026-05")
    assert format_number("SPR/{YY}/{MM}/{N:4}", at, 7) == "SPR/26/05/0007"


async def test_a_backdated_event_on_behalf_of_a_colleague_keeps_the_real_registration(db, admin, seller, card_id):
    colleague = await make_actor(db, "colleague")
    call = await event_type(db, admin, "Telefon")
    last_week = datetime.now(UTC) - timedelta(days=7)
    event = await register(
        db,
        seller,
        EventData(type_id=call, counterparty_id=card_id, occurred_at=last_week, on_behalf_of_id=colleague.user_id),
    )
    assert event.occurred_at == last_week
    assert event.registered_at > last_week + timedelta(days=6)
    assert (event.user_id, event.registered_by_id) == (colleague.user_id, seller.user_id)


@sqlite_only
async def test_an_event_is_refused_in_the_future_for_an_unknown_colleague_or_an_automatic_type(db, admin, seller):
    call = await event_type(db, admin, "Telefon")
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    with pytest.raises(ValidationFailed) as future:
        await register(db, seller, EventData(type_id=call, occurred_at=tomorrow))
    assert future.value.field == ["occurredAt"]
    with pytest.raises(NotFound) as nobody:
        await register(db, seller, EventData(type_id=call, on_behalf_of_id=9999))
    assert nobody.value.field == ["onBehalfOfId"]
    automatic = await in_tx(db, lambda s: types.automatic_type(s, "card_opened"))
    with pytest.raises(ValidationFailed):
        await register(db, seller, EventData(type_id=automatic.id))


@sqlite_only
async def test_an_event_types_form_is_validated_on_registration(db, admin, seller):
    form = [
        FieldDefinition("km", "Kilometry", "number", required=True),
        FieldDefinition("reason", "Cel", "text", pattern=r"[A-Z].*"),
        FieldDefinition("paid", "Opłacone", "boolean"),
    ]
    trip = await event_type(db, admin, "Delegacja", fields=form)
    for values, field in (
        ({}, "km"),
        ({"km": "dużo"}, "km"),
        ({"km": 5, "reason": "lowercase"}, "reason"),
        ({"km": 5, "paid": "yes"}, "paid"),
        ({"km": 5, "other": 1}, "other"),
    ):
        with pytest.raises(ValidationFailed) as refused:
            await register(db, seller, EventData(type_id=trip, custom_values=values))
        assert refused.value.field == ["customFields", field]
    event = await register(
        db, seller, EventData(type_id=trip, custom_values={"km": "120", "reason": "Szkolenie", "paid": True})
    )
    assert event.custom_values == {"km": 120, "reason": "Szkolenie", "paid": True}


@sqlite_only
async def test_settlement_totals_are_decimal_and_rounded_half_up_to_the_cent(db, admin, seller):
    trip = await event_type(db, admin, "Delegacja", has_settlements=True)
    lines = [
        SettlementData("km", Decimal("0.5"), Decimal("0.0100")),
        SettlementData("h", Decimal("3"), Decimal("33.3333")),
    ]
    event = await register(db, seller, EventData(type_id=trip, settlements=lines))
    async with db.sessions() as session:
        stored = (await service.settlements_of(session, [event.id]))[event.id]
    assert [line.total for line in stored] == [Decimal("0.01"), Decimal("100.00")]
    with pytest.raises(ValidationFailed) as too_precise:
        await register(
            db, seller, EventData(type_id=trip, settlements=[SettlementData("x", Decimal("1.00001"), Decimal(1))])
        )
    assert too_precise.value.field == ["settlements", "0", "quantity"]
    for quantity in ("0", "-5"):
        with pytest.raises(ValidationFailed) as counted_nothing:
            line = SettlementData("km", Decimal(quantity), Decimal(1))
            await register(db, seller, EventData(type_id=trip, settlements=[line]))
        assert counted_nothing.value.field == ["settlements", "0", "quantity"]
    discount = SettlementData("Rabat", Decimal(1), Decimal("-50"))  # a correction: a negative price
    corrected = await register(db, seller, EventData(type_id=trip, settlements=[*lines, discount]))
    async with db.sessions() as session:
        stored = (await service.settlements_of(session, [corrected.id]))[corrected.id]
    assert [line.total for line in stored] == [Decimal("0.01"), Decimal("100.00"), Decimal("-50.00")]


@sqlite_only
async def test_amounts_and_line_totals_beyond_their_columns_are_refused_before_any_arithmetic(db, admin, seller):
    trip = await event_type(db, admin, "Delegacja", has_settlements=True)
    for quantity, unit_price, field in (
        ("1e30", "1", ["settlements", "0", "quantity"]),
        ("1", "1e27", ["settlements", "0", "unitPrice"]),
        ("-1e1000000", "1", ["settlements", "0", "quantity"]),
        ("99999999999999", "99999999999999", ["settlements", "0"]),
        # 9999999999999999.99999999 rounds up to 10^16: the product fits, its total does not.
        ("100000000.0001", "99999999.9999", ["settlements", "0"]),
    ):
        line = SettlementData("x", Decimal(quantity), Decimal(unit_price))
        with pytest.raises(ValidationFailed) as refused:
            await register(db, seller, EventData(type_id=trip, settlements=[line]))
        assert refused.value.field == field, (quantity, unit_price)


# Both backends: the bounds must be the columns' own (PostgreSQL would refuse a wider total).
async def test_the_largest_amounts_and_total_the_columns_hold_are_stored(db, admin, seller):
    trip = await event_type(db, admin, "Delegacja", has_settlements=True)
    largest = SettlementData("x", Decimal("99999999999999.9999"), Decimal("99.9999"))
    widest = SettlementData("y", Decimal("99999999999999.9999"), Decimal("0.0001"))
    event = await register(db, seller, EventData(type_id=trip, settlements=[largest, widest]))
    async with db.sessions() as session:
        stored = (await service.settlements_of(session, [event.id]))[event.id]
    assert [line.description for line in stored] == ["x", "y"]
    if db.engine.dialect.name == "postgresql":  # SQLite keeps Numeric as REAL, exact to ~15 digits only
        assert [line.total for line in stored] == [Decimal("9999989999999999.99"), Decimal("10000000000.00")]
        assert stored[1].quantity == Decimal("99999999999999.9999")


@sqlite_only
async def test_a_time_without_its_zone_or_outside_the_years_1900_to_2999_is_refused_naming_the_field(db, admin, seller):
    call = await event_type(db, admin, "Telefon")
    naive = datetime(2026, 1, 1)
    year_one = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14)))  # before 0001-01-01 in UTC
    year_9999 = datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-14)))  # after 9999 in UTC
    for at in (naive, year_one, datetime(1899, 12, 31, 23, 59, tzinfo=UTC)):
        with pytest.raises(ValidationFailed) as refused:
            await register(db, seller, EventData(type_id=call, occurred_at=at))
        assert refused.value.field == ["occurredAt"]
    for since, until, field in (
        (naive, None, "from"),
        (None, naive, "to"),
        (year_one, None, "from"),
        (None, year_9999, "to"),
    ):
        async with db.sessions() as session:
            with pytest.raises(ValidationFailed) as listing:
                await service.list_events(
                    session, seller, PageRequest(first=10), service.EventFilter(since=since, until=until)
                )
            with pytest.raises(ValidationFailed) as reporting:
                await report.event_report(session, seller, report.ReportFilter(since=since, until=until), [])
        assert listing.value.field == reporting.value.field == [field]
    event = await register(db, seller, EventData(type_id=call, occurred_at=datetime(1900, 1, 1, 12, tzinfo=UTC)))
    warsaw = timezone(timedelta(hours=1))
    async with db.sessions() as session:
        listed = await service.list_events(
            session, seller, PageRequest(first=10), service.EventFilter(since=datetime(1900, 1, 1, 13, tzinfo=warsaw))
        )
    assert [e.id for e in listed.items] == [event.id]


async def test_the_report_counts_and_sums_per_type_month_and_user_as_computed_by_hand(db, admin, seller, card_id):
    other = await make_actor(db, "other")
    trip = await event_type(db, admin, "Delegacja", has_settlements=True)
    call = await event_type(db, admin, "Telefon")
    jan, feb = datetime(2025, 1, 10, tzinfo=UTC), datetime(2025, 2, 20, tzinfo=UTC)
    km = [
        SettlementData("km", Decimal("100"), Decimal("0.8358")),
        SettlementData("h", Decimal("2.5"), Decimal("150.10")),
    ]
    await register(
        db, seller, EventData(type_id=trip, occurred_at=jan, counterparty_id=card_id, settlements=km)
    )  # 83.58 + 375.25
    await register(
        db,
        seller,
        EventData(type_id=trip, occurred_at=feb, settlements=[SettlementData("km", Decimal("0.1"), Decimal("0.1"))]),
    )  # 0.01
    await register(
        db,
        other,
        EventData(type_id=trip, occurred_at=feb, settlements=[SettlementData("km", Decimal("0.2"), Decimal("0.1"))]),
    )  # 0.02
    await register(db, seller, EventData(type_id=call, occurred_at=jan, counterparty_id=card_id))
    await register(db, seller, EventData(type_id=call, occurred_at=datetime(2024, 12, 31, 23, 59, tzinfo=UTC)))
    period = report.ReportFilter(since=datetime(2025, 1, 1, tzinfo=UTC), until=datetime(2025, 3, 1, tzinfo=UTC))

    async def rows(filter: report.ReportFilter, group_by: list[str]) -> list[tuple[Any, ...]]:
        async with db.sessions() as session:
            found = await report.event_report(session, seller, filter, group_by)
        return [(r.type_id, r.month, r.user_id, r.events, r.settlement_lines, r.settlement_total) for r in found]

    assert await rows(period, []) == [(None, None, None, 4, 4, Decimal("458.86"))]
    assert await rows(period, ["type", "month"]) == [
        (trip, "2025-01", None, 1, 2, Decimal("458.83")),
        (trip, "2025-02", None, 2, 2, Decimal("0.03")),
        (call, "2025-01", None, 1, 0, Decimal("0.00")),
    ]
    by_user = report.ReportFilter(since=period.since, until=period.until, type_ids=[trip])
    assert await rows(by_user, ["user"]) == [
        (None, None, seller.user_id, 2, 3, Decimal("458.84")),
        (None, None, other.user_id, 1, 1, Decimal("0.02")),
    ]
    of_card = report.ReportFilter(counterparty_id=card_id, user_ids=[seller.user_id])
    assert await rows(of_card, ["type"]) == [
        (trip, None, None, 1, 2, Decimal("458.83")),
        (call, None, None, 1, 0, Decimal("0.00")),
    ]


async def test_the_reports_months_are_those_of_the_company_calendar_as_event_numbers(db, admin, seller):
    visits = await event_type(db, admin, "Wizyta", number_pattern="W/{YYYY}/{MM}/{N}", number_reset="monthly")
    moments = [
        datetime(2025, 11, 30, 23, 30, tzinfo=UTC),  # 00:30 on 1 December in Warsaw
        datetime(2025, 12, 15, 12, 0, tzinfo=UTC),
        datetime(2025, 6, 30, 22, 30, tzinfo=UTC),  # summer time: 00:30 on 1 July there
    ]
    numbers = [(await register(db, seller, EventData(type_id=visits, occurred_at=at))).number for at in moments]
    assert numbers == ["W/2025/12/1", "W/2025/12/2", "W/2025/07/1"]
    async with db.sessions() as session:
        found = await report.event_report(session, seller, report.ReportFilter(type_ids=[visits]), ["month"])
    assert [(r.month, r.events) for r in found] == [("2025-07", 1), ("2025-12", 2)]


async def test_the_report_counts_and_sums_only_the_events_the_viewer_may_see(db, services, admin, seller, card_id):
    trip = await event_type(db, admin, "Delegacja", has_settlements=True)
    mine = await in_tx(db, lambda s: binders.create_binder(s, seller, "Umowy"))
    board = await in_tx(db, lambda s: binders.create_binder(s, admin, "Zarząd"))  # seller has no entry there
    await new_document(services, seller, mine.id, "Umowa", card_id)
    secret = await new_document(services, admin, board.id, "Tajne 1", card_id)
    await new_document(services, admin, board.id, "Tajne 2", card_id)
    line = [SettlementData("km", Decimal("10"), Decimal("1.25"))]  # 12.50
    await register(db, seller, EventData(type_id=trip, counterparty_id=card_id, settlements=line))
    await register(db, admin, EventData(type_id=trip, counterparty_id=card_id, settlements=line))

    async def bill_the_hidden_event(session: Any) -> None:
        # No service bills a document's event today; the sums must follow the counts regardless.
        hidden = await session.scalar(select(Event.id).where(Event.document_id == secret))
        session.add(
            Settlement(
                event_id=hidden,
                description="km",
                quantity=Decimal("100"),
                unit_price=Decimal("0.5"),
                total=Decimal("50.00"),
            )
        )

    await in_tx(db, bill_the_hidden_event)
    added = (await in_tx(db, lambda s: types.automatic_type(s, "document_added"))).id

    async def seen_by(actor: Actor, group_by: list[str]) -> list[tuple[Any, ...]]:
        async with db.sessions() as session:
            found = await report.event_report(session, actor, report.ReportFilter(counterparty_id=card_id), group_by)
        return [(r.type_id, r.events, r.settlement_lines, r.settlement_total) for r in found]

    assert await seen_by(seller, []) == [(None, 3, 2, Decimal("25.00"))]
    assert sorted(await seen_by(seller, ["type"])) == sorted(
        [(trip, 2, 2, Decimal("25.00")), (added, 1, 0, Decimal("0.00"))]
    )
    assert await seen_by(admin, []) == [(None, 5, 3, Decimal("75.00"))]
    assert sorted(await seen_by(admin, ["type"])) == sorted(
        [(trip, 2, 2, Decimal("25.00")), (added, 3, 1, Decimal("50.00"))]
    )
    async with db.sessions() as session:
        listed = await service.list_events(session, seller, PageRequest(first=100), service.EventFilter())
        with counting(db.engine) as statements:
            await report.event_report(session, seller, report.ReportFilter(), ["type", "month", "user"])
    # The report and the events list apply one rule, and the report stays one statement.
    assert (await seen_by(seller, []))[0][1] == listed.total_count == 3
    assert len(statements) == 1


async def test_card_openings_are_written_after_the_read_and_stop_when_the_type_is_inactive(db, admin, seller, card_id):
    openings = card_openings(db)
    colleague = await make_actor(db, "colleague")
    async with db.sessions() as session:
        await counterparties.open_card(session, seller, card_id, openings)
        await counterparties.open_card(session, colleague, card_id, openings)
    assert openings.pending == 2  # the read wrote nothing
    await openings.drain()

    async def count() -> int:
        async with db.sessions() as session:
            return int(
                await session.scalar(select(func.count()).select_from(Event).where(Event.counterparty_id == card_id))
                or 0
            )

    assert await count() == 2
    opened = await in_tx(db, lambda s: types.automatic_type(s, "card_opened"))
    await in_tx(db, lambda s: types.update_event_type(s, admin, opened.id, active=False))
    async with db.sessions() as session:
        await counterparties.open_card(session, seller, card_id, openings)
    await openings.drain()
    assert await count() == 2


@sqlite_only
async def test_only_an_administrator_configures_event_types(db, admin, seller):
    with pytest.raises(PermissionDenied):
        await event_type(db, seller, "Telefon")
    call = await event_type(db, admin, "Telefon")
    with pytest.raises(PermissionDenied):
        await in_tx(db, lambda s: types.update_event_type(s, seller, call, colour="#ff0000"))


async def test_a_timeline_is_paged_newest_first_without_skipping_or_repeating(db, admin, seller, card_id):
    call = await event_type(db, admin, "Telefon")
    base = datetime(2025, 6, 1, tzinfo=UTC)
    for day in range(7):
        await register(
            db, seller, EventData(type_id=call, counterparty_id=card_id, occurred_at=base + timedelta(days=day))
        )
    seen: list[datetime] = []
    after = None
    while True:
        async with db.sessions() as session:
            page = await timeline.timeline(session, seller, card_id, PageRequest(first=3, after=after))
        seen += [entry.at for entry in page.items]
        assert page.total_count == 7
        if not page.has_next:
            break
        after = page.end_cursor
    assert seen == sorted(seen, reverse=True) and len(seen) == 7


@sqlite_only
async def test_every_refusal_names_its_field(db, admin, seller):
    call = await event_type(db, admin, "Telefon")
    with pytest.raises(DomainError) as refused:
        await register(db, seller, EventData(type_id=call, counterparty_id=424242))
    assert (refused.value.code, refused.value.field) == ("NOT_FOUND", ["counterpartyId"])


async def test_a_document_added_to_a_card_can_be_recorded_as_an_automatic_event(db, services, seller, card_id):
    from dms.binders import service as binders
    from dms.events.automatic import record_document_added

    binder = await in_tx(db, lambda s: binders.create_binder(s, seller, "Umowy"))
    async with unit_of_work(services.db, services.blobs, write=True) as uow:
        details = documents.DocumentDetails(title="Umowa", counterparty_id=card_id)
        source = IncomingFile("umowa.txt", chunks_of(b"x"))
        document = await documents.create_document(
            uow, seller, binder_id=binder.id, details=details, source=source, max_upload_bytes=1024
        )
        recorded = await record_document_added(uow.session, seller, document.id, card_id, document.title)
        assert await record_document_added(uow.session, seller, document.id, None, "bez karty") is None
        await uow.commit()
    async with db.sessions() as session:
        added = await session.get(Event, recorded.id)
        kind = await types.get_event_type(session, added.type_id)
    assert (kind.automatic_kind, added.document_id, added.counterparty_id) == ("document_added", document.id, card_id)


@sqlite_only
async def test_an_opening_noted_while_a_batch_is_written_is_written_without_another_read(db, seller, card_id):
    from dms.events.openings import CardOpenings

    colleague = await make_actor(db, "colleague")  # another visit: another user
    openings = CardOpenings(db, delay=0.01)
    openings.note(seller, card_id)
    for _ in range(100_000):  # until the first batch is being written
        if openings._writing.locked():
            break
        await asyncio.sleep(0)
    openings.note(colleague, card_id)
    for _ in range(200):
        async with db.sessions() as session:
            written = await session.scalar(
                select(func.count()).select_from(Event).where(Event.counterparty_id == card_id)
            )
        if written == 2:
            break
        await asyncio.sleep(0.01)
    assert written == 2 and openings.pending == 0


async def test_a_card_opened_again_within_a_visit_is_recorded_once(db, seller, card_id):
    start = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    # Paging through the timeline, refetching: the same visit. Half an hour later: a new one.
    visits = [start, start + timedelta(minutes=1), start + timedelta(minutes=29), start + timedelta(minutes=31)]

    async def record(times: list[datetime]) -> int:
        return await in_tx(db, lambda s: record_openings(s, [Opening(seller.user_id, card_id, at) for at in times]))

    assert await record(visits[:2]) == 1
    assert await record(visits[2:]) == 1  # the first visit is in the database by now
    async with db.sessions() as session:
        at = (await session.scalars(select(Event.occurred_at).where(Event.counterparty_id == card_id))).all()
    assert sorted(at) == [start, start + timedelta(minutes=31)]
