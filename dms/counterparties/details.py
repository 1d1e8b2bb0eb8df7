"""What hangs on a card: addresses (with their history), contact persons, bank accounts, blocks.

Each change is recorded as a "data changed" event on the card, in the transaction of the change.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import pycountry
from sqlalchemy import and_, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from dms.actor import Actor
from dms.base import utcnow
from dms.counterparties.common import KEEP, Keep, long_text, optional_text
from dms.counterparties.models import Address, BankAccount, ContactMethod, ContactPerson, CounterpartyBlock
from dms.counterparties.service import get_counterparty
from dms.counterparties.taxids import format_iban, normalise_iban
from dms.errors import Conflict, NotFound, ValidationFailed
from dms.events.automatic import record_data_changed
from dms.names import clean_name
from dms.outbox import directory as directory_outbox
from dms.times import utc_time

ADDRESS_USES = ("registered_seat", "correspondence", "shipping", "tax")
# A card has one registered seat, one correspondence address and one tax address at any moment (the
# seeds: "besides the place of registration and the correspondence address, many shipping places";
# "the tax address is printed on its financial documents"); shipping places may be many.
SINGLE_USES = ("registered_seat", "correspondence", "tax")
CONTACT_KINDS = ("email", "phone", "mobile", "fax", "website", "other")
#: A person's phones, e-mails and the rest: a bound, so that a list of cards with their people
#: and how to reach them can be sized before it is read (schema.query_cost).
MAX_CONTACT_METHODS = 20
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[\d\s().-]{5,30}$")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)
_POLISH_POSTAL_CODE = re.compile(r"^\d{2}-\d{3}$")


def _aware(value: datetime | None, *, field: str) -> datetime | None:
    return None if value is None else utc_time(value, field=field)


# --- any detail --------------------------------------------------------------------------------


async def get_card_detail(
    session: AsyncSession, actor: Actor, kind: type[Address | BankAccount | CounterpartyBlock], detail_id: int
) -> Address | BankAccount | CounterpartyBlock:
    """An address (past ones too), bank account or block of a card (a deleted one too, as the card
    itself is shown); NotFound otherwise, and for a removed bank account, which no list shows."""
    detail = await session.get(kind, detail_id)
    if detail is None or (isinstance(detail, BankAccount) and detail.removed_at is not None):
        raise NotFound("no such detail")
    await get_counterparty(session, actor, detail.counterparty_id, for_change=False, include_deleted=True)
    return detail


# --- addresses -------------------------------------------------------------------------------


@dataclass
class AddressData:
    city: str
    uses: Sequence[str] = ()
    street: str | None = None
    postal_code: str | None = None
    country: str = "PL"


def _checked_address(data: AddressData) -> dict[str, object]:
    uses = list(dict.fromkeys(data.uses))
    if not uses:
        raise ValidationFailed("say what the address is used for", field="uses")
    unknown = [use for use in uses if use not in ADDRESS_USES]
    if unknown:
        raise ValidationFailed(f"an address's uses are {', '.join(ADDRESS_USES)}", field="uses")
    country = data.country.strip().upper()
    if len(country) != 2 or pycountry.countries.get(alpha_2=country) is None:
        raise ValidationFailed("the country is a two-letter ISO code, e.g. PL", field="country")
    postal_code = optional_text(data.postal_code, field="postalCode", max_length=20)
    if country == "PL" and postal_code is not None and not _POLISH_POSTAL_CODE.match(postal_code):
        raise ValidationFailed("a Polish postal code is written 00-000", field="postalCode")
    return {
        "uses": uses,
        "street": optional_text(data.street, field="street", max_length=300),
        "postal_code": postal_code,
        "city": clean_name(data.city, field="city", max_length=200),
        "country": country,
    }


async def _check_single_uses(session: AsyncSession, address: Address, *, replacing: Address | None = None) -> None:
    """CONFLICT on `uses` when another address of the card with one of the single uses would be in
    force at some moment of the new address's validity (from its start, open-ended).

    The card is locked (`get_counterparty`), so two writers cannot both pass this check.
    """
    single = [use for use in address.uses if use in SINGLE_USES]
    if not single:
        return
    overlapping = (
        select(Address)
        .where(
            Address.counterparty_id == address.counterparty_id,
            # An address ended before it started (an ended future one) is never in force.
            or_(
                Address.valid_to.is_(None),
                and_(Address.valid_to > address.valid_from, Address.valid_to > Address.valid_from),
            ),
        )
        .order_by(Address.valid_from, Address.id)
    )
    if replacing is not None:
        overlapping = overlapping.where(Address.id != replacing.id)
    for other in (await session.scalars(overlapping)).all():
        shared = [use for use in single if use in other.uses]
        if shared:
            raise Conflict(
                f"the card already has a {shared[0].replace('_', ' ')} address in force then ({other.city},"
                f" from {other.valid_from:%Y-%m-%d}); change that address instead",
                field="uses",
            )


async def add_address(
    session: AsyncSession, actor: Actor, counterparty_id: int, data: AddressData, *, valid_from: datetime | None = None
) -> Address:
    card = await get_counterparty(session, actor, counterparty_id)
    address = Address(
        counterparty_id=card.id,
        valid_from=_aware(valid_from, field="validFrom") or utcnow(),
        created_by_id=actor.user_id or None,
        **_checked_address(data),
    )
    await _check_single_uses(session, address)
    session.add(address)
    await session.flush()
    await record_data_changed(session, actor, card.id, {"addresses": {"added": address.id}})
    await directory_outbox.enqueue(session, "counterparty", [card.id], "address")
    return address


async def _open_address(session: AsyncSession, actor: Actor, address_id: int) -> Address:
    """The address, if no end is set on it yet: in force now, or still to come.

    An address already changed with a future date is still current but is refused too: changing it
    again would give it two successors; the change is made on the address that follows it.
    """
    address = await session.get(Address, address_id)
    if address is None:
        raise NotFound("no such address", field="addressId")
    await get_counterparty(session, actor, address.counterparty_id)
    # Read again under the card's lock: a change committed meanwhile may have ended it (PostgreSQL).
    await session.refresh(address)
    if address.valid_to is not None:
        if address.valid_to > utcnow():
            raise Conflict(
                f"this address already ends on {address.valid_to:%Y-%m-%d}; change the address that follows it",
                field="addressId",
            )
        raise Conflict("this address is already history; change the current one", field="addressId")
    return address


async def change_address(
    session: AsyncSession, actor: Actor, address_id: int, data: AddressData, *, valid_from: datetime | None = None
) -> Address:
    """A new address replacing `address_id` from `valid_from` (now by default; past or future dates are
    taken as given); the replaced one is kept with its validity period and stays current until then."""
    old = await _open_address(session, actor, address_id)
    start = _aware(valid_from, field="validFrom") or utcnow()
    if start <= old.valid_from:
        raise ValidationFailed("the new address must start after the old one did", field="validFrom")
    old.valid_to = start
    new = Address(
        counterparty_id=old.counterparty_id,
        valid_from=start,
        previous_id=old.id,
        created_by_id=actor.user_id or None,
        **_checked_address(data),
    )
    await _check_single_uses(session, new, replacing=old)
    session.add(new)
    await session.flush()
    await record_data_changed(session, actor, old.counterparty_id, {"addresses": {"changed": old.id, "to": new.id}})
    await directory_outbox.enqueue(session, "counterparty", [old.counterparty_id], "address")
    return new


async def end_address(session: AsyncSession, actor: Actor, address_id: int) -> Address:
    """The address stops being used now; it stays in the history."""
    address = await _open_address(session, actor, address_id)
    address.valid_to = max(utcnow(), address.valid_from)
    await record_data_changed(session, actor, address.counterparty_id, {"addresses": {"ended": address.id}})
    return address


# --- contact persons -------------------------------------------------------------------------


@dataclass
class ContactMethodData:
    kind: str
    value: str
    label: str | None = None


@dataclass
class PersonChanges:
    name: str | Keep = KEEP
    position: str | Keep | None = KEEP
    responsibilities: str | Keep | None = KEEP
    availability: str | Keep | None = KEEP
    # The whole list: what is not in it goes.
    methods: Sequence[ContactMethodData] | Keep = KEEP


def _checked_method(index: int, method: ContactMethodData) -> ContactMethodData:
    where = ["contactMethods", str(index)]
    if method.kind not in CONTACT_KINDS:
        raise ValidationFailed(f"a contact method is one of {', '.join(CONTACT_KINDS)}", field=[*where, "kind"])
    value = " ".join(method.value.split())
    if not value or len(value) > 320:
        raise ValidationFailed("give the address or number (at most 320 characters)", field=[*where, "value"])
    if method.kind == "email" and not _EMAIL.match(value):
        raise ValidationFailed("not an e-mail address", field=[*where, "value"])
    if method.kind in ("phone", "mobile", "fax") and not (_PHONE.match(value) and sum(c.isdigit() for c in value) >= 5):
        raise ValidationFailed("not a phone number", field=[*where, "value"])
    if method.kind == "website" and not _is_web_address(value):
        raise ValidationFailed("a website is an http(s) address, e.g. https://firma.pl", field=[*where, "value"])
    if method.kind == "email":
        value = value.lower()
    try:
        label = optional_text(method.label, field="label", max_length=100)
    except ValidationFailed as exc:
        raise ValidationFailed(exc.message, field=[*where, "label"]) from exc
    return ContactMethodData(method.kind, value, label)


def _is_web_address(value: str) -> bool:
    """ "https://firma.pl/kontakt" or "www.firma.pl"; never another scheme ("javascript:…" would run
    in a front-end that makes it a link)."""
    if _SCHEME.match(value) and not value.lower().startswith(("http://", "https://")):
        return False
    try:
        parts = urlsplit(value if "://" in value else f"https://{value}")
        return bool(parts.hostname) and " " not in value and (parts.port is None or parts.port > 0)
    except ValueError:  # a malformed port or IPv6 address
        return False


def _replace_methods(session: AsyncSession, person: ContactPerson, methods: Sequence[ContactMethodData]) -> None:
    if len(methods) > MAX_CONTACT_METHODS:
        raise ValidationFailed(f"a person has at most {MAX_CONTACT_METHODS} contact methods", field="contactMethods")
    checked = [_checked_method(i, m) for i, m in enumerate(methods)]
    for position, method in enumerate(checked):
        session.add(
            ContactMethod(
                person_id=person.id, kind=method.kind, value=method.value, label=method.label, position=position
            )
        )


async def add_contact_person(
    session: AsyncSession, actor: Actor, counterparty_id: int, changes: PersonChanges
) -> ContactPerson:
    card = await get_counterparty(session, actor, counterparty_id)
    if changes.name is KEEP:
        raise ValidationFailed("a contact person needs a name", field="name")
    person = ContactPerson(counterparty_id=card.id, name="", created_at=utcnow())
    _apply_person(person, changes)
    session.add(person)
    await session.flush()
    if changes.methods is not KEEP:
        _replace_methods(session, person, changes.methods)
    await record_data_changed(session, actor, card.id, {"contactPersons": {"added": person.id}})
    await directory_outbox.enqueue(session, "counterparty", [card.id], "person")
    return person


def _apply_person(person: ContactPerson, changes: PersonChanges) -> list[str]:
    changed = []
    if changes.name is not KEEP:
        person.name = clean_name(changes.name, field="name", max_length=300)
        changed.append("name")
    if changes.position is not KEEP:
        person.position = optional_text(changes.position, field="position", max_length=200)
        changed.append("position")
    if changes.responsibilities is not KEEP:
        person.responsibilities = long_text(changes.responsibilities, field="responsibilities")
        changed.append("responsibilities")
    if changes.availability is not KEEP:
        person.availability = long_text(changes.availability, field="availability", max_length=1000)
        changed.append("availability")
    return changed


async def _live_person(session: AsyncSession, actor: Actor, person_id: int) -> ContactPerson:
    person = await session.get(ContactPerson, person_id)
    if person is None or person.removed_at is not None:
        raise NotFound("no such contact person", field="contactPersonId")
    await get_counterparty(session, actor, person.counterparty_id)
    return person


async def update_contact_person(
    session: AsyncSession, actor: Actor, person_id: int, changes: PersonChanges
) -> ContactPerson:
    person = await _live_person(session, actor, person_id)
    changed = _apply_person(person, changes)
    if changes.methods is not KEEP:
        await session.execute(delete(ContactMethod).where(ContactMethod.person_id == person.id))
        _replace_methods(session, person, changes.methods)
        changed.append("contactMethods")
    if changed:
        await record_data_changed(
            session, actor, person.counterparty_id, {"contactPersons": {"changed": person.id, "fields": changed}}
        )
        await directory_outbox.enqueue(session, "counterparty", [person.counterparty_id], "person")
    return person


async def remove_contact_person(session: AsyncSession, actor: Actor, person_id: int) -> ContactPerson:
    """The person leaves the card; events that name them keep naming them."""
    person = await _live_person(session, actor, person_id)
    person.removed_at = utcnow()
    await record_data_changed(session, actor, person.counterparty_id, {"contactPersons": {"removed": person.id}})
    await directory_outbox.enqueue(session, "counterparty", [person.counterparty_id], "person")
    return person


# --- bank accounts ---------------------------------------------------------------------------


async def add_bank_account(
    session: AsyncSession,
    actor: Actor,
    counterparty_id: int,
    *,
    iban: str,
    bank_name: str | None = None,
    description: str | None = None,
) -> BankAccount:
    card = await get_counterparty(session, actor, counterparty_id)
    number = normalise_iban(iban)
    held = await session.scalar(
        select(BankAccount.id).where(
            BankAccount.counterparty_id == card.id, BankAccount.iban == number, BankAccount.removed_at.is_(None)
        )
    )
    if held is not None:
        raise Conflict(f"the card already has the bank account {format_iban(number)}", field="iban")
    account = BankAccount(
        counterparty_id=card.id,
        iban=number,
        bank_name=optional_text(bank_name, field="bankName", max_length=200),
        description=optional_text(description, field="description", max_length=300),
        created_at=utcnow(),
    )
    session.add(account)
    await session.flush()
    await record_data_changed(session, actor, card.id, {"bankAccounts": {"added": account.iban}})
    return account


async def remove_bank_account(session: AsyncSession, actor: Actor, account_id: int) -> BankAccount:
    account = await session.get(BankAccount, account_id)
    if account is None or account.removed_at is not None:
        raise NotFound("no such bank account", field="bankAccountId")
    await get_counterparty(session, actor, account.counterparty_id)
    account.removed_at = utcnow()
    await record_data_changed(session, actor, account.counterparty_id, {"bankAccounts": {"removed": account.iban}})
    return account


# --- blocks ----------------------------------------------------------------------------------


@dataclass
class BlockData:
    reason: str
    valid_from: datetime | None = None
    valid_to: datetime | None = None


async def add_block(session: AsyncSession, actor: Actor, counterparty_id: int, data: BlockData) -> CounterpartyBlock:
    """A block ("no sales on credit") from `valid_from` (now by default) until `valid_to` (open-ended)."""
    card = await get_counterparty(session, actor, counterparty_id)
    start = _aware(data.valid_from, field="validFrom") or utcnow()
    end = _aware(data.valid_to, field="validTo")
    if end is not None and end <= start:
        raise ValidationFailed("a block must end after it starts", field="validTo")
    block = CounterpartyBlock(
        counterparty_id=card.id,
        reason=clean_name(data.reason, field="reason", max_length=500),
        valid_from=start,
        valid_to=end,
        created_at=utcnow(),
        created_by_id=actor.user_id or None,
    )
    session.add(block)
    await session.flush()
    await record_data_changed(session, actor, card.id, {"blocks": {"added": block.reason}})
    return block


async def lift_block(session: AsyncSession, actor: Actor, block_id: int) -> CounterpartyBlock:
    """End a block now; it stays on the card as history."""
    block = await session.get(CounterpartyBlock, block_id)
    if block is None:
        raise NotFound("no such block", field="blockId")
    await get_counterparty(session, actor, block.counterparty_id)
    now = utcnow()
    if not in_force_or_to_come(block, now):
        raise Conflict("this block has already ended", field="blockId")
    block.valid_to = max(now, block.valid_from)  # one still to come ends before it starts
    await record_data_changed(session, actor, block.counterparty_id, {"blocks": {"lifted": block.reason}})
    return block


def in_force_or_to_come(block: CounterpartyBlock, now: datetime) -> bool:
    """Whether a block is in force now or will be; a lifted one never is again."""
    return block.valid_to is None or (block.valid_to > now and block.valid_to > block.valid_from)


def in_force(valid_from: datetime, valid_to: datetime | None, at: datetime | None = None) -> bool:
    """Whether a block (or an address) is in force at `at` (now): from inclusive, to exclusive."""
    moment = at or utcnow()
    return valid_from <= moment and (valid_to is None or valid_to > moment)
