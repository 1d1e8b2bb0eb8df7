"""The counterparty card as the services keep it: tax ids, custom fields, dictionaries, merging."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from dms.actor import Actor
from dms.audit.models import AuditEntry
from dms.binders import service as binders
from dms.cases import service as cases
from dms.counterparties import details, dictionaries, merge, queries, taxids
from dms.counterparties import service as counterparties
from dms.counterparties import types as counterparty_types
from dms.counterparties.customfields import FieldDefinition
from dms.counterparties.details import AddressData, BlockData, ContactMethodData, PersonChanges
from dms.counterparties.models import Counterparty, CounterpartyType
from dms.counterparties.service import CardChanges, CounterpartyFilter
from dms.documents import service as documents
from dms.documents.models import Document
from dms.documents.uploads import IncomingFile
from dms.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from dms.events import types as event_types
from dms.events.models import Event
from dms.events.service import EventData, register_event
from dms.outbox.models import OutboxEntry
from dms.pagination import PageRequest
from dms.tasks import service as tasks
from dms.tasks.models import Task
from dms.uow import unit_of_work
from tests.dms.conftest import chunks_of
from tests.dms.crm.conftest import in_tx, sqlite_only

# --- the validation matrix of tax ids (python-stdnum, check digits included) -----------------

VALID = {
    "nip": ["1234563218", "123-456-32-18", "PL 123 456 32 18", "526-025-09-95"],
    "regon": ["123456785", "12345678512347", "192598184"],
    "vat": ["PL1234563218", "DE136695976", "FR40303265045", "ATU13585627", "NL004495445B01"],
    "iban": [
        "PL61 1090 1014 0000 0712 1981 2874",
        "61 1090 1014 0000 0712 1981 2874",  # a Polish account number (NRB), as invoices print it
        "DE89370400440532013000",
        "GB82WEST12345698765432",
    ],
}
INVALID = {
    "nip": ["1234563219", "123456321", "12345632188", "abcdefghij", ""],
    "regon": ["123456786", "12345678512348", "12345678", "1234567851234"],
    "vat": ["PL1234563219", "DE136695977", "XX123456789", "136695976"],
    "iban": [
        "PL61 1090 1014 0000 0712 1981 2875",
        "61 1090 1014 0000 0712 1981 2875",
        "1090 1014 0000 0712 1981 2874",
        "DE89370400440532013001",
        "PL611090101400000712198",
    ],
}
NORMALISE = {
    "nip": taxids.normalise_nip,
    "regon": taxids.normalise_regon,
    "vat": taxids.normalise_vat,
    "iban": taxids.normalise_iban,
}


@pytest.mark.parametrize(("kind", "value"), [(k, v) for k, values in VALID.items() for v in values])
def test_a_valid_tax_id_is_accepted_in_its_compact_form(kind: str, value: str) -> None:
    compact = NORMALISE[kind](value)
    assert compact.isalnum() and compact.upper() == compact


def test_a_polish_account_number_is_the_polish_iban() -> None:
    assert taxids.normalise_iban("61 1090 1014 0000 0712 1981 2874") == "PL61109010140000071219812874"


@pytest.mark.parametrize(("kind", "value"), [(k, v) for k, values in INVALID.items() for v in values])
def test_an_invalid_tax_id_is_a_validation_error_naming_its_field(kind: str, value: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        NORMALISE[kind](value)
    assert refused.value.field == [{"nip": "nip", "regon": "regon", "vat": "vatNumber", "iban": "iban"}[kind]]


async def card(db: Any, actor: Actor, name: str, **changes: Any) -> Counterparty:
    nip, short_name = changes.pop("nip", None), changes.pop("short_name", None)
    return await in_tx(
        db,
        lambda s: counterparties.create_counterparty(
            s, actor, name=name, nip=nip, short_name=short_name, details=CardChanges(**changes)
        ),
    )


async def names(db: Any, actor: Actor, **filter: Any) -> list[str]:
    async with db.sessions() as session:
        page = await counterparties.list_counterparties(
            session, actor, PageRequest(50), filter=CounterpartyFilter(**filter)
        )
    return [c.name for c in page.items]


# --- NIP uniqueness --------------------------------------------------------------------------


async def test_an_active_nip_is_unique_but_a_deleted_cards_nip_is_free_again(db, seller):
    first = await card(db, seller, "ACME", nip="123-456-32-18")
    with pytest.raises(Conflict) as taken:
        await card(db, seller, "ACME bis", nip="1234563218")
    assert taken.value.field == ["nip"]
    await in_tx(db, lambda s: counterparties.delete_counterparty(s, seller, first.id))
    second = await card(db, seller, "ACME nowa", nip="1234563218")
    with pytest.raises(Conflict):
        await in_tx(db, lambda s: counterparties.restore_counterparty(s, seller, first.id))
    await in_tx(db, lambda s: counterparties.update_counterparty(s, seller, second.id, CardChanges(nip=None)))
    restored = await in_tx(db, lambda s: counterparties.restore_counterparty(s, seller, first.id))
    assert restored.deleted_at is None and restored.nip == "1234563218"


async def test_of_ten_concurrent_cards_with_one_nip_exactly_one_is_created(db, seller):
    async def attempt(index: int) -> str:
        try:
            await card(db, seller, f"ACME {index}", nip="1234563218")
            return "created"
        except Conflict:
            return "conflict"

    results = await asyncio.gather(*(attempt(i) for i in range(10)))
    assert sorted(results) == ["conflict"] * 9 + ["created"]


# --- custom fields per type ------------------------------------------------------------------


@sqlite_only
async def test_custom_values_are_validated_against_the_cards_type_field_by_field(db, admin, seller):
    sizes = await in_tx(db, lambda s: dictionaries.create_dictionary(s, admin, name="Wielkość", kind="choice"))
    for name in ("Mała", "Duża"):
        await in_tx(db, lambda s, name=name: dictionaries.add_entry(s, admin, sizes.id, name=name))
    fields = [
        FieldDefinition("policy", "Polisa", "text", required=True, pattern=r"[A-Z]{2}\d{4}"),
        FieldDefinition("employees", "Zatrudnienie", "number"),
        FieldDefinition("limit", "Limit", "decimal"),
        FieldDefinition("since", "Od kiedy", "date"),
        FieldDefinition("vip", "VIP", "boolean"),
        FieldDefinition("size", "Wielkość", "choice", dictionary_id=sizes.id),
        FieldDefinition("lines", "Linie", "multichoice", dictionary_id=sizes.id),
    ]
    insurer = await in_tx(
        db, lambda s: counterparty_types.create_counterparty_type(s, admin, name="Ubezpieczyciel", fields=fields)
    )
    base = {"policy": "AB1234"}
    refused = [
        ({}, "policy"),
        ({"policy": "ab1234"}, "policy"),
        ({**base, "employees": 1.5}, "employees"),
        ({**base, "employees": True}, "employees"),
        ({**base, "employees": 2**80}, "employees"),
        ({**base, "employees": "-9007199254740992"}, "employees"),
        ({**base, "employees": 1e300}, "employees"),
        ({**base, "limit": "12,3.4"}, "limit"),
        ({**base, "since": "2025-02-30"}, "since"),
        ({**base, "vip": "tak"}, "vip"),
        ({**base, "size": "srednia"}, "size"),
        ({**base, "lines": ["mala", "olbrzymia"]}, "lines"),
        ({**base, "unknown": 1}, "unknown"),
    ]
    for values, field in refused:
        with pytest.raises(ValidationFailed) as error:
            await card(db, seller, "PZU", type_id=insurer.id, custom_values=values)
        assert error.value.field == ["customFields", field], values
    good = {
        **base,
        "employees": "250",
        "limit": 1000.5,
        "since": "2020-01-31",
        "vip": False,
        "size": "duza",
        "lines": ["mala", "duza", "mala"],
    }
    created = await card(db, seller, "PZU", type_id=insurer.id, custom_values=good)
    assert created.custom_values == {
        "policy": "AB1234",
        "employees": 250,
        "limit": "1000.5",
        "since": "2020-01-31",
        "vip": False,
        "size": "duza",
        "lines": ["mala", "duza"],
    }
    with pytest.raises(ValidationFailed) as untyped:
        await card(db, seller, "Bez typu", custom_values={"policy": "AB1234"})
    assert untyped.value.field == ["customFields"]


async def typed_with(db: Any, admin: Actor, *fields: FieldDefinition) -> int:
    kind = await in_tx(
        db, lambda s: counterparty_types.create_counterparty_type(s, admin, name="Z wzorem", fields=list(fields))
    )
    return kind.id


@sqlite_only
async def test_a_backtracking_pattern_answers_the_longest_value_at_once(db, admin, seller):
    # With a backtracking engine this check alone would hold the event loop for ages.
    type_id = await typed_with(db, admin, FieldDefinition("code", "Kod", "text", pattern=r"(a+)+$"))
    with pytest.raises(ValidationFailed) as refused:
        await card(db, seller, "ACME", type_id=type_id, custom_values={"code": "a" * 3999 + "!"})
    assert refused.value.field == ["customFields", "code"]
    created = await card(db, seller, "ACME", type_id=type_id, custom_values={"code": "a" * 4000})
    assert created.custom_values == {"code": "a" * 4000}


@sqlite_only
@pytest.mark.parametrize("pattern", [r"(\d+)-\1", r"(?=\d)\w+", r"\w+(?<!x)"])
async def test_a_pattern_with_back_references_or_look_arounds_is_refused_when_defined(db, admin, pattern):
    fields = [FieldDefinition("name", "Nazwa", "text"), FieldDefinition("ref", "Sygnatura", "text", pattern=pattern)]
    with pytest.raises(ValidationFailed) as refused:
        await typed_with(db, admin, *fields)
    assert refused.value.field == ["fields", "1", "pattern"]
    assert "not a valid regular expression" in refused.value.message


@sqlite_only
async def test_a_pattern_of_polish_letters_checks_polish_values(db, admin, seller):
    city = FieldDefinition(
        "city", "Miasto", "text", pattern="[A-ZĄĆĘŁŃÓŚŹŻ][a-ząćęłńóśźż]+( [A-ZĄĆĘŁŃÓŚŹŻ][a-ząćęłńóśźż]+)*"
    )
    type_id = await typed_with(db, admin, city)
    for value in ("łódź", "Lodz1", "ŁÓDŹ", "Łódź!"):
        with pytest.raises(ValidationFailed) as refused:
            await card(db, seller, "ACME", type_id=type_id, custom_values={"city": value})
        assert refused.value.field == ["customFields", "city"], value
    for value in ("Łódź", "Żółkiewka", "Zielona Góra"):
        created = await card(db, seller, f"ACME {value}", type_id=type_id, custom_values={"city": value})
        assert created.custom_values == {"city": value}


@sqlite_only
async def test_a_stored_pattern_that_can_no_longer_be_checked_refuses_values_until_fixed(db, admin, seller):
    type_id = await typed_with(db, admin, FieldDefinition("ref", "Sygnatura", "text", pattern=r"\d+"))
    # Stored before patterns were checked with RE2: a back-reference, which it refuses now.
    stale = FieldDefinition("ref", "Sygnatura", "text", pattern=r"(\d+)-\1").as_json()
    async with db.write_sessions() as session:
        await session.execute(update(CounterpartyType).where(CounterpartyType.id == type_id).values(fields=[stale]))
        await session.commit()
    with pytest.raises(ValidationFailed) as refused:
        await card(db, seller, "ACME", type_id=type_id, custom_values={"ref": "12-12"})
    assert refused.value.field == ["customFields", "ref"]
    assert "administrator" in refused.value.message
    fixed = [FieldDefinition("ref", "Sygnatura", "text", pattern=r"\d+-\d+")]
    await in_tx(db, lambda s: counterparty_types.update_counterparty_type(s, admin, type_id, fields=fixed))
    created = await card(db, seller, "ACME", type_id=type_id, custom_values={"ref": "12-12"})
    assert created.custom_values == {"ref": "12-12"}


async def test_removing_a_field_keeps_its_values_hidden_until_the_field_comes_back(db, admin, seller):
    supplier = await in_tx(
        db,
        lambda s: counterparty_types.create_counterparty_type(
            s,
            admin,
            name="Dostawca",
            fields=[FieldDefinition("terms", "Termin płatności", "number"), FieldDefinition("note", "Uwagi", "text")],
        ),
    )
    created = await card(db, seller, "Hurtownia", type_id=supplier.id, custom_values={"terms": 30, "note": "stały"})
    only_note = [FieldDefinition("note", "Uwagi", "text")]
    await in_tx(db, lambda s: counterparty_types.update_counterparty_type(s, admin, supplier.id, fields=only_note))
    changed = await in_tx(
        db,
        lambda s: counterparties.update_counterparty(
            s, seller, created.id, CardChanges(custom_values={"note": "nowy"})
        ),
    )
    assert changed.custom_values == {"terms": 30, "note": "nowy"}  # kept, though hidden
    with pytest.raises(ValidationFailed):
        await in_tx(
            db,
            lambda s: counterparties.update_counterparty(
                s, seller, created.id, CardChanges(custom_values={"terms": 45})
            ),
        )
    # The field comes back as text: a number no longer reads as this kind, yet it is not lost.
    back = [FieldDefinition("note", "Uwagi", "text"), FieldDefinition("terms", "Termin", "text")]
    await in_tx(db, lambda s: counterparty_types.update_counterparty_type(s, admin, supplier.id, fields=back))
    from dms.counterparties.customfields import definitions_of, visible_values

    async with db.sessions() as session:
        kind = await counterparty_types.get_counterparty_type(session, supplier.id)
        stored = await session.get(Counterparty, created.id)
        shown = {f.key: v for f, v in visible_values(definitions_of(kind.fields), stored.custom_values)}
    assert shown == {"note": "nowy", "terms": None}
    assert stored.custom_values["terms"] == 30


@sqlite_only
async def test_only_an_administrator_configures_types_and_dictionaries(db, seller):
    with pytest.raises(PermissionDenied):
        await in_tx(db, lambda s: counterparty_types.create_counterparty_type(s, seller, name="Dostawca"))
    with pytest.raises(PermissionDenied):
        await in_tx(db, lambda s: dictionaries.create_dictionary(s, seller, name="Grupy", kind="group"))


@sqlite_only
async def test_a_code_typed_in_capitals_is_kept_in_lower_case_like_a_document_types(db, admin):
    supplier = await in_tx(
        db, lambda s: counterparty_types.create_counterparty_type(s, admin, name="Dostawca", code="DOST")
    )
    assert supplier.code == "dost"
    with pytest.raises(Conflict):
        await in_tx(db, lambda s: counterparty_types.create_counterparty_type(s, admin, name="Inny", code="dost"))
    visit = await in_tx(db, lambda s: event_types.create_event_type(s, admin, name="Wizyta", code=" WS_1 "))
    assert visit.code == "ws_1"
    with pytest.raises(ValidationFailed):
        await in_tx(db, lambda s: dictionaries.create_dictionary(s, admin, name="Grupy", kind="group", code="1GR"))


async def test_entries_stay_numbered_one_by_one_in_the_order_asked_for(db, admin):
    regions = await in_tx(db, lambda s: dictionaries.create_dictionary(s, admin, name="Województwa", kind="choice"))

    async def add(name: str, position: int | None = None) -> Any:
        return await in_tx(db, lambda s: dictionaries.add_entry(s, admin, regions.id, name=name, position=position))

    async def order() -> list[tuple[int, str]]:
        return [(e.position, e.name) for e in await _entries(db, regions.id)]

    for name in ("mazowieckie", "łódzkie", "śląskie"):
        await add(name)
    await add("pomorskie", 1)
    await add("lubuskie", 1000)
    assert await order() == [(1, "pomorskie"), (2, "mazowieckie"), (3, "łódzkie"), (4, "śląskie"), (5, "lubuskie")]
    silesia = next(e for e in await _entries(db, regions.id) if e.name == "śląskie")
    await in_tx(db, lambda s: dictionaries.update_entry(s, admin, silesia.id, position=2))
    assert await order() == [(1, "pomorskie"), (2, "śląskie"), (3, "mazowieckie"), (4, "łódzkie"), (5, "lubuskie")]
    for wrong in (0, -5):
        with pytest.raises(ValidationFailed) as refused:
            await add("x", wrong)
        assert refused.value.field == ["position"]


async def _entries(db: Any, dictionary_id: int) -> list[Any]:
    async with db.sessions() as session:
        return (await dictionaries.entries_of(session, [dictionary_id]))[dictionary_id]


async def test_a_retired_entry_cannot_be_chosen_but_stays_where_it_is(db, admin, seller):
    groups = await in_tx(db, lambda s: dictionaries.create_dictionary(s, admin, name="Grupy", kind="group"))
    old = await in_tx(db, lambda s: dictionaries.add_entry(s, admin, groups.id, name="Stara"))
    kept = await card(db, seller, "Z grupą", group_ids=[old.id])
    await in_tx(db, lambda s: dictionaries.update_entry(s, admin, old.id, active=False))
    with pytest.raises(ValidationFailed):
        await card(db, seller, "Nowa", group_ids=[old.id])
    await in_tx(
        db,
        lambda s: counterparties.update_counterparty(
            s, seller, kept.id, CardChanges(group_ids=[old.id], name="Z grupą SA")
        ),
    )
    assert await names(db, seller, group_ids=[old.id]) == ["Z grupą SA"]
    assert await names(db, seller, category_ids=[old.id]) == []  # a group's entry is no category


# --- filters ---------------------------------------------------------------------------------


async def test_lists_filter_by_type_manager_and_blocks_in_force(db, admin, seller):
    insurer = await in_tx(db, lambda s: counterparty_types.create_counterparty_type(s, admin, name="Ubezpieczyciel"))
    await card(db, seller, "Alfa", type_id=insurer.id, account_manager_id=seller.user_id)
    beta = await card(db, seller, "Beta")
    gamma = await card(db, seller, "Gamma")
    now = datetime.now(UTC)
    await in_tx(db, lambda s: details.add_block(s, seller, beta.id, BlockData("Bez kredytu")))
    await in_tx(
        db, lambda s: details.add_block(s, seller, gamma.id, BlockData("Od jutra", valid_from=now + timedelta(days=1)))
    )
    assert await names(db, seller, type_ids=[insurer.id]) == ["Alfa"]
    assert await names(db, seller, account_manager_ids=[seller.user_id]) == ["Alfa"]
    assert await names(db, seller, blocked=True) == ["Beta"]
    assert await names(db, seller, blocked=False) == ["Alfa", "Gamma"]
    with pytest.raises(ValidationFailed):
        await in_tx(
            db,
            lambda s: details.add_block(
                s, seller, beta.id, BlockData("Zła", valid_from=now, valid_to=now - timedelta(hours=1))
            ),
        )


async def test_a_list_pages_by_name_without_skipping_or_repeating(db, seller):
    for name in ["Ćma", "Alfa", "alfa", "Beta", "Żuraw", "Alfa", "Delta"]:
        await card(db, seller, name)
    seen = [c.id for c in await every_page(db, seller, 2)]
    assert len(seen) == len(set(seen)) == 7


async def every_page(db: Any, actor: Actor, size: int) -> list[Counterparty]:
    """The cards, page after page of `size`."""
    seen: list[Counterparty] = []
    after = None
    while True:
        async with db.sessions() as session:
            page = await counterparties.list_counterparties(session, actor, PageRequest(size, after=after))
        seen += page.items
        if not page.has_next:
            return seen
        after = page.end_cursor


async def test_cards_are_listed_in_polish_alphabetical_order(db, seller):
    shuffled = [
        "Żuraw",
        "Łoś S.A.",
        "abc handel",
        "Zebra",
        "Ćma",
        "Lis",
        "Ąkacja",
        "Źdźbło",
        "Cebula",
        "Akacja",
        "Ósemka",
    ]
    for name in shuffled:
        await card(db, seller, name)
    in_order = [
        "abc handel",
        "Akacja",
        "Ąkacja",
        "Cebula",
        "Ćma",
        "Lis",
        "Łoś S.A.",
        "Ósemka",
        "Zebra",
        "Źdźbło",
        "Żuraw",
    ]
    assert await names(db, seller) == in_order
    assert [c.name for c in await every_page(db, seller, 3)] == in_order  # across pages too


# --- addresses, persons, accounts ------------------------------------------------------------


async def test_changing_an_address_keeps_the_old_one_with_its_validity_period(db, seller):
    firm = await card(db, seller, "ACME")
    seat = await in_tx(
        db,
        lambda s: details.add_address(
            s, seller, firm.id, AddressData("Łódź", ["registered_seat", "tax"], "Piotrkowska 1", "90-001")
        ),
    )
    moved = await in_tx(
        db,
        lambda s: details.change_address(
            s, seller, seat.id, AddressData("Kraków", ["registered_seat"], "Rynek 1", "31-001")
        ),
    )
    async with db.sessions() as session:
        history = (await queries.addresses_of(session, [firm.id]))[firm.id]
    assert [(a.city, a.valid_to is None) for a in history] == [("Kraków", True), ("Łódź", False)]
    assert history[1].valid_to == history[0].valid_from and moved.previous_id == seat.id
    with pytest.raises(Conflict):
        await in_tx(db, lambda s: details.change_address(s, seller, seat.id, AddressData("Gdańsk", ["shipping"])))
    with pytest.raises(ValidationFailed) as bad_code:
        await in_tx(
            db,
            lambda s: details.add_address(s, seller, firm.id, AddressData("Łódź", ["shipping"], postal_code="90001")),
        )
    assert bad_code.value.field == ["postalCode"]
    with pytest.raises(ValidationFailed):
        await in_tx(db, lambda s: details.add_address(s, seller, firm.id, AddressData("Łódź", ["warehouse"])))


async def current_cities(db: Any, card_id: int, at: datetime | None = None) -> list[str]:
    async with db.sessions() as session:
        return [a.city for a in (await queries.current_addresses_of(session, [card_id], at=at))[card_id]]


async def card_with_seat(db: Any, actor: Actor, uses: list[str], *, since: datetime) -> tuple[Any, Any]:
    """A card "ACME" with its address in Warszawa, in force since `since`."""
    firm = await card(db, actor, "ACME")
    seat = await in_tx(
        db, lambda s: details.add_address(s, actor, firm.id, AddressData("Warszawa", uses), valid_from=since)
    )
    return firm, seat


async def test_an_address_changed_with_a_future_date_stays_current_until_that_date(db, seller):
    now = datetime.now(UTC)
    firm, seat = await card_with_seat(db, seller, ["registered_seat", "tax"], since=now - timedelta(days=30))
    move = now + timedelta(days=180)
    moved = await in_tx(
        db,
        lambda s: details.change_address(
            s, seller, seat.id, AddressData("Poznań", ["registered_seat", "tax"]), valid_from=move
        ),
    )
    assert await current_cities(db, firm.id) == ["Warszawa"]
    assert await current_cities(db, firm.id, at=move - timedelta(microseconds=1)) == ["Warszawa"]
    assert await current_cities(db, firm.id, at=move) == ["Poznań"]
    # The list and each address's own "in force" agree, now and on the day of the move.
    for at, expected in ((now, (True, False)), (move, (False, True))):
        assert (details.in_force(seat.valid_from, move, at), details.in_force(moved.valid_from, None, at)) == expected

    # The move is still to come: the next change is made on Poznań, not on Warszawa a second time.
    with pytest.raises(Conflict) as twice:
        await in_tx(db, lambda s: details.change_address(s, seller, seat.id, AddressData("Kraków", ["tax"])))
    assert twice.value.field == ["addressId"] and "follows" in str(twice.value)
    later = move + timedelta(days=30)
    await in_tx(
        db, lambda s: details.change_address(s, seller, moved.id, AddressData("Gdańsk", ["tax"]), valid_from=later)
    )
    assert await current_cities(db, firm.id) == ["Warszawa"]
    assert await current_cities(db, firm.id, at=move) == ["Poznań"]
    assert await current_cities(db, firm.id, at=later) == ["Gdańsk"]
    async with db.sessions() as session:
        history = (await queries.addresses_of(session, [firm.id]))[firm.id]
    assert [(a.city, a.valid_to) for a in history] == [("Gdańsk", None), ("Poznań", later), ("Warszawa", move)]


async def test_a_backdated_address_change_is_current_at_once(db, seller):
    now = datetime.now(UTC)
    firm, seat = await card_with_seat(db, seller, ["registered_seat"], since=now - timedelta(days=60))
    with pytest.raises(ValidationFailed) as too_early:
        await in_tx(
            db,
            lambda s: details.change_address(
                s, seller, seat.id, AddressData("Poznań", ["registered_seat"]), valid_from=now - timedelta(days=61)
            ),
        )
    assert too_early.value.field == ["validFrom"]
    await in_tx(
        db,
        lambda s: details.change_address(
            s, seller, seat.id, AddressData("Poznań", ["registered_seat"]), valid_from=now - timedelta(days=10)
        ),
    )
    assert await current_cities(db, firm.id) == ["Poznań"]
    assert await current_cities(db, firm.id, at=now - timedelta(days=11)) == ["Warszawa"]
    with pytest.raises(Conflict) as history:
        await in_tx(db, lambda s: details.end_address(s, seller, seat.id))
    assert "history" in str(history.value)


async def test_a_card_has_one_registered_seat_correspondence_and_tax_address_at_a_time(db, seller):
    now = datetime.now(UTC)
    firm = await card(db, seller, "ACME")
    seat = await in_tx(
        db, lambda s: details.add_address(s, seller, firm.id, AddressData("Warszawa", ["registered_seat"]))
    )
    with pytest.raises(Conflict) as second_seat:
        await in_tx(
            db, lambda s: details.add_address(s, seller, firm.id, AddressData("Kraków", ["registered_seat", "tax"]))
        )
    assert second_seat.value.field == ["uses"]
    for city in ("Łódź", "Gdańsk"):
        await in_tx(db, lambda s, city=city: details.add_address(s, seller, firm.id, AddressData(city, ["shipping"])))
    move = now + timedelta(days=180)
    await in_tx(
        db,
        lambda s: details.change_address(
            s, seller, seat.id, AddressData("Poznań", ["registered_seat", "correspondence"]), valid_from=move
        ),
    )
    # Poznań will be the seat from its date on: a seat added for later would overlap it.
    with pytest.raises(Conflict):
        await in_tx(
            db,
            lambda s: details.add_address(
                s, seller, firm.id, AddressData("Kraków", ["registered_seat"]), valid_from=move + timedelta(days=1)
            ),
        )
    # An open-ended correspondence address from now on would overlap Poznań's from its date.
    with pytest.raises(Conflict):
        await in_tx(db, lambda s: details.add_address(s, seller, firm.id, AddressData("Kraków", ["correspondence"])))
    await in_tx(db, lambda s: details.add_address(s, seller, firm.id, AddressData("Kraków", ["tax"])))
    assert await current_cities(db, firm.id) == ["Kraków", "Gdańsk", "Łódź", "Warszawa"]


@sqlite_only
async def test_a_contact_person_has_checked_contact_methods(db, seller):
    firm = await card(db, seller, "ACME")
    person = PersonChanges(
        name="Jan Kowalski",
        position="Kierownik zakupów",
        availability="pn–pt 8–15",
        methods=[ContactMethodData("email", "Jan@ACME.pl"), ContactMethodData("phone", "+48 600-100-200")],
    )
    created = await in_tx(db, lambda s: details.add_contact_person(s, seller, firm.id, person))
    async with db.sessions() as session:
        methods = (await queries.contact_methods_of(session, [created.id]))[created.id]
    assert [(m.kind, m.value) for m in methods] == [("email", "jan@acme.pl"), ("phone", "+48 600-100-200")]
    with pytest.raises(ValidationFailed) as bad:
        await in_tx(
            db,
            lambda s: details.update_contact_person(
                s, seller, created.id, PersonChanges(methods=[ContactMethodData("email", "nie-mail")])
            ),
        )
    assert bad.value.field == ["contactMethods", "0", "value"]
    with pytest.raises(ValidationFailed):
        await in_tx(
            db, lambda s: details.add_bank_account(s, seller, firm.id, iban="PL61 1090 1014 0000 0712 1981 2875")
        )


# --- merging ---------------------------------------------------------------------------------


async def test_merging_moves_everything_attached_in_one_transaction(db, services, admin, seller):
    industry = await in_tx(db, lambda s: dictionaries.create_dictionary(s, admin, name="Branża", kind="segmentation"))
    it = await in_tx(db, lambda s: dictionaries.add_entry(s, admin, industry.id, name="IT"))
    trade = await in_tx(db, lambda s: dictionaries.add_entry(s, admin, industry.id, name="Handel"))
    groups = await in_tx(db, lambda s: dictionaries.create_dictionary(s, admin, name="Grupy", kind="group"))
    vip = await in_tx(db, lambda s: dictionaries.add_entry(s, admin, groups.id, name="VIP"))
    target = await card(db, seller, "ACME SA", segment_ids=[it.id])
    source = await card(
        db,
        seller,
        "ACME S.A.",
        nip="1234563218",
        segment_ids=[trade.id],
        group_ids=[vip.id],
        account_manager_id=seller.user_id,
    )
    older = await card(db, seller, "Acme (stara)")
    await in_tx(db, lambda s: merge.merge_counterparties(s, seller, source.id, [older.id]))
    # Everything that can hang on a card, hung on the source.
    person = await in_tx(db, lambda s: details.add_contact_person(s, seller, source.id, PersonChanges(name="Jan")))
    await in_tx(db, lambda s: details.add_address(s, seller, source.id, AddressData("Łódź", ["tax"])))
    await in_tx(db, lambda s: details.add_bank_account(s, seller, source.id, iban="DE89370400440532013000"))
    await in_tx(db, lambda s: details.add_block(s, seller, source.id, BlockData("Bez kredytu")))
    case = await in_tx(db, lambda s: cases.create_case(s, seller, title="Reklamacja", counterparty_id=source.id))
    call = await in_tx(db, lambda s: event_types.create_event_type(s, admin, name="Telefon"))
    event = await in_tx(
        db,
        lambda s: register_event(
            s,
            seller,
            EventData(type_id=call.id, counterparty_id=source.id, contact_person_id=person.id, case_id=case.id),
        ),
    )
    await in_tx(db, lambda s: tasks.create_task(s, seller, tasks.TaskChanges(title="Oddzwonić", event_id=event.id)))
    async with unit_of_work(services.db, services.blobs, write=True) as uow:
        binder = await binders.create_binder(uow.session, admin, "Umowy")
        await uow.commit()
    async with unit_of_work(services.db, services.blobs, write=True) as uow:
        document = await documents.create_document(
            uow,
            admin,
            binder_id=binder.id,
            details=documents.DocumentDetails(title="Umowa", counterparty_id=source.id),
            source=IncomingFile("umowa.txt", chunks_of(b"x")),
            max_upload_bytes=1024,
        )
        await uow.commit()

    with pytest.raises(ValidationFailed):
        await in_tx(db, lambda s: merge.merge_counterparties(s, seller, target.id, [target.id]))
    with pytest.raises(NotFound) as gone:
        await in_tx(db, lambda s: merge.merge_counterparties(s, seller, target.id, [older.id]))
    assert gone.value.field == ["sourceIds"]
    # The document is in a binder the seller cannot reach: only an administrator merges such cards.
    with pytest.raises(PermissionDenied):
        await in_tx(db, lambda s: merge.merge_counterparties(s, seller, target.id, [source.id]))
    merged = await in_tx(db, lambda s: merge.merge_counterparties(s, admin, target.id, [source.id]))

    assert (merged.nip, merged.account_manager_id) == ("1234563218", seller.user_id)
    async with db.sessions() as session:
        for model in (Event, Task, Document):
            left = await session.scalar(
                select(func.count()).select_from(model).where(model.counterparty_id == source.id)
            )
            assert left == 0, model
        assert (await session.get(Document, document.id)).counterparty_id == target.id
        assert (await session.get(Event, event.id)).counterparty_id == target.id
        assert [p.id for p in (await queries.persons_of(session, [target.id]))[target.id]] == [person.id]
        assert len((await queries.addresses_of(session, [target.id]))[target.id]) == 1
        assert len((await queries.bank_accounts_of(session, [target.id]))[target.id]) == 1
        assert len((await queries.blocks_of(session, [target.id]))[target.id]) == 1
        classified = {e.name for _, e in (await queries.classifications_of(session, [target.id]))[target.id]}
        assert classified == {"IT", "VIP"}  # the target's segmentation value wins
        assert (await cases.get_case(session, seller, case.id)).counterparty_id == target.id
        gone_source = await session.get(Counterparty, source.id)
        gone_older = await session.get(Counterparty, older.id)
        assert gone_source.deleted_at is not None and gone_source.merged_into_id == target.id
        assert gone_older.merged_into_id == target.id
        audit = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "counterparty.merged", AuditEntry.object_id == target.id)
        )
        assert audit.details["moved"]["documents"] == 1 and audit.details["sources"] == [source.id]
        changed = await session.scalar(
            select(Event).where(Event.counterparty_id == target.id, Event.details["fields"].as_json().is_not(None))
        )
        assert "documents" not in changed.details["changes"]["merged"]["moved"], "the card's readers may not see them"
        # The "document added" event is about a document not every reader of the card may see.
        latest = await session.scalar(
            select(Event)
            .where(Event.counterparty_id == target.id, Event.details["fields"].as_json().is_not(None))
            .order_by(Event.id.desc())
        )
        about_documents = await session.scalar(
            select(func.count()).select_from(Event).where(Event.document_id.is_not(None))
        )
        shown = latest.details["changes"]["merged"]["moved"]["events"]
        assert about_documents == 1 and shown == audit.details["moved"]["events"] - 1
        queued = await session.scalar(
            select(func.count()).select_from(OutboxEntry).where(OutboxEntry.document_id == document.id)
        )
        assert queued >= 2
    assert await names(db, seller, text="acme") == ["ACME SA"]


async def test_a_merged_card_keeps_one_seat_per_use_and_each_bank_account_once(db, seller):
    target = await card(db, seller, "ACME SA")
    source = await card(db, seller, "ACME S.A.")
    later = await card(db, seller, "Acme")
    soon = datetime.now(UTC) + timedelta(days=30)

    def add(firm: Counterparty, city: str, uses: list[str]) -> Any:
        return in_tx(db, lambda s: details.add_address(s, seller, firm.id, AddressData(city, uses)))

    def account(firm: Counterparty, iban: str) -> Any:
        return in_tx(db, lambda s: details.add_bank_account(s, seller, firm.id, iban=iban))

    await add(target, "Warszawa", ["registered_seat"])
    krakow = await add(source, "Kraków", ["registered_seat", "tax"])
    await in_tx(
        db,
        lambda s: details.change_address(
            s, seller, krakow.id, AddressData("Kielce", ["registered_seat"]), valid_from=soon
        ),
    )
    await add(source, "Gdynia", ["shipping"])
    await add(later, "Lublin", ["correspondence"])
    await account(target, "PL61109010140000071219812874")
    await account(source, "PL61 1090 1014 0000 0712 1981 2874")
    await account(source, "DE89370400440532013000")
    with pytest.raises(Conflict) as again:
        await account(target, "PL61109010140000071219812874")
    assert again.value.field == ["iban"]

    await in_tx(db, lambda s: merge.merge_counterparties(s, seller, target.id, [source.id, later.id]))

    async with db.sessions() as session:
        current = (await queries.current_addresses_of(session, [target.id]))[target.id]
        coming = (await queries.current_addresses_of(session, [target.id], at=soon + timedelta(days=1)))[target.id]
        every = (await queries.addresses_of(session, [target.id]))[target.id]
        accounts = (await queries.bank_accounts_of(session, [target.id]))[target.id]
    uses = {a.city: a.uses for a in current}
    assert uses == {
        "Warszawa": ["registered_seat"],
        "Kraków": ["tax"],  # no longer a seat, still the tax address
        "Gdynia": ["shipping"],
        "Lublin": ["correspondence"],
    }
    # Kielce was to follow Kraków as the seat from `soon` (and Kraków to stop being the tax address
    # then): it never takes the seat, and follows the Kraków that goes on.
    assert sorted(a.city for a in coming) == ["Gdynia", "Lublin", "Warszawa"]
    kielce = next(a for a in every if a.city == "Kielce")
    assert kielce.valid_to == kielce.valid_from
    assert kielce.previous_id == next(a.id for a in current if a.city == "Kraków")
    assert sorted(a.city for a in every) == ["Gdynia", "Kielce", "Kraków", "Kraków", "Lublin", "Warszawa"]
    assert sorted(a.iban for a in accounts) == ["DE89370400440532013000", "PL61109010140000071219812874"]


async def test_a_merged_card_takes_the_short_name_type_values_and_notes_it_lacks(db, admin, seller):
    fields = [FieldDefinition("pesel", "PESEL", "text")]
    person = await in_tx(
        db, lambda s: counterparty_types.create_counterparty_type(s, admin, name="Osoba fizyczna", fields=fields)
    )
    target = await card(db, seller, "Müller GmbH", notes="Faktury tylko elektronicznie")
    source = await card(
        db,
        seller,
        "Müller Polska",
        short_name="Müller PL",
        notes="Kontakt tylko mailowy",
        type_id=person.id,
        custom_values={"pesel": "44051401359"},
    )
    merged = await in_tx(db, lambda s: merge.merge_counterparties(s, seller, target.id, [source.id]))
    assert (merged.short_name, merged.type_id, merged.custom_values) == (
        "Müller PL",
        person.id,
        {"pesel": "44051401359"},
    )
    assert merged.notes == "Faktury tylko elektronicznie\n\n[Müller Polska]\nKontakt tylko mailowy"
    assert await names(db, seller, text="muller pl") == ["Müller GmbH"]


async def test_a_merged_card_takes_a_nip_or_vat_number_only_where_they_agree(db, seller):
    with_vat = await card(db, seller, "Alfa", vat_number="PL1234563218")
    other_nip = await card(db, seller, "Alfa bis", nip="5260250274")
    merged = await in_tx(db, lambda s: merge.merge_counterparties(s, seller, with_vat.id, [other_nip.id]))
    assert (merged.nip, merged.vat_number) == (None, "PL1234563218")

    with_nip = await card(db, seller, "Beta", nip="1234563218")
    other_vat = await card(db, seller, "Beta bis", vat_number="PL5260250274")
    foreign_vat = await card(db, seller, "Beta GmbH", vat_number="DE136695976")
    merged = await in_tx(
        db, lambda s: merge.merge_counterparties(s, seller, with_nip.id, [other_vat.id, foreign_vat.id])
    )
    assert (merged.nip, merged.vat_number) == ("1234563218", "DE136695976")

    matching = await card(db, seller, "Gamma", nip="7740001454")
    matching_vat = await card(db, seller, "Gamma bis", vat_number="PL7740001454")
    merged = await in_tx(db, lambda s: merge.merge_counterparties(s, seller, matching.id, [matching_vat.id]))
    assert (merged.nip, merged.vat_number) == ("7740001454", "PL7740001454")


@sqlite_only
async def test_a_merge_refuses_a_deleted_target_and_no_sources(db, seller):
    target = await card(db, seller, "ACME")
    other = await card(db, seller, "ACME 2")
    with pytest.raises(ValidationFailed):
        await in_tx(db, lambda s: merge.merge_counterparties(s, seller, target.id, []))
    await in_tx(db, lambda s: counterparties.delete_counterparty(s, seller, target.id))
    with pytest.raises(NotFound) as refused:
        await in_tx(db, lambda s: merge.merge_counterparties(s, seller, target.id, [other.id]))
    assert refused.value.field == ["targetId"]
