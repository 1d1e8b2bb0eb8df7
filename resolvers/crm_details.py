"""Mutations on what hangs on a card: addresses, contact persons, bank accounts, blocks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dms.counterparties import details, taxids
from dms.counterparties.details import AddressData, BlockData, ContactMethodData, PersonChanges
from dms.counterparties.models import Address, BankAccount, ContactPerson, CounterpartyBlock
from resolvers.context import RequestContext
from resolvers.crm_common import KEEP, keep, unset_to_none, write
from resolvers.ids import decode_id
from resolvers.outcome import Outcome


def _address(input: Any) -> AddressData:
    return AddressData(
        city=input.city,
        uses=[use.value for use in input.uses],
        street=unset_to_none(input.street),
        postal_code=unset_to_none(input.postal_code),
        country=input.country or "PL",
    )


async def add_address(ctx: RequestContext, input: Any) -> Outcome[Address]:
    return await write(
        ctx,
        lambda session, actor: details.add_address(
            session,
            actor,
            decode_id(input.counterparty_id, "Counterparty", field="counterpartyId"),
            _address(input),
            valid_from=unset_to_none(input.valid_from),
        ),
    )


async def change_address(ctx: RequestContext, input: Any) -> Outcome[Address]:
    return await write(
        ctx,
        lambda session, actor: details.change_address(
            session,
            actor,
            decode_id(input.address_id, "Address", field="addressId"),
            _address(input),
            valid_from=unset_to_none(input.valid_from),
        ),
    )


async def end_address(ctx: RequestContext, address_id: str) -> Outcome[Address]:
    return await write(
        ctx,
        lambda session, actor: details.end_address(session, actor, decode_id(address_id, "Address", field="addressId")),
    )


def _person(input: Any) -> PersonChanges:
    methods = keep(input.contact_methods)
    return PersonChanges(
        name=keep(input.name),
        position=keep(input.position),
        responsibilities=keep(input.responsibilities),
        availability=keep(input.availability),
        methods=KEEP
        if methods is KEEP
        else [ContactMethodData(m.kind.value, m.value, unset_to_none(m.label)) for m in methods or []],
    )


async def add_contact_person(ctx: RequestContext, input: Any) -> Outcome[ContactPerson]:
    return await write(
        ctx,
        lambda session, actor: details.add_contact_person(
            session, actor, decode_id(input.counterparty_id, "Counterparty", field="counterpartyId"), _person(input)
        ),
    )


async def update_contact_person(ctx: RequestContext, input: Any) -> Outcome[ContactPerson]:
    return await write(
        ctx,
        lambda session, actor: details.update_contact_person(
            session, actor, decode_id(input.contact_person_id, "ContactPerson", field="contactPersonId"), _person(input)
        ),
    )


async def remove_contact_person(ctx: RequestContext, person_id: str) -> Outcome[ContactPerson]:
    return await write(
        ctx,
        lambda session, actor: details.remove_contact_person(
            session, actor, decode_id(person_id, "ContactPerson", field="contactPersonId")
        ),
    )


async def add_bank_account(ctx: RequestContext, input: Any) -> Outcome[BankAccount]:
    return await write(
        ctx,
        lambda session, actor: details.add_bank_account(
            session,
            actor,
            decode_id(input.counterparty_id, "Counterparty", field="counterpartyId"),
            iban=input.iban,
            bank_name=unset_to_none(input.bank_name),
            description=unset_to_none(input.description),
        ),
    )


async def remove_bank_account(ctx: RequestContext, account_id: str) -> Outcome[BankAccount]:
    return await write(
        ctx,
        lambda session, actor: details.remove_bank_account(
            session, actor, decode_id(account_id, "BankAccount", field="bankAccountId")
        ),
    )


async def add_block(ctx: RequestContext, input: Any) -> Outcome[CounterpartyBlock]:
    return await write(
        ctx,
        lambda session, actor: details.add_block(
            session,
            actor,
            decode_id(input.counterparty_id, "Counterparty", field="counterpartyId"),
            BlockData(
                reason=input.reason, valid_from=unset_to_none(input.valid_from), valid_to=unset_to_none(input.valid_to)
            ),
        ),
    )


async def lift_block(ctx: RequestContext, block_id: str) -> Outcome[CounterpartyBlock]:
    return await write(
        ctx,
        lambda session, actor: details.lift_block(
            session, actor, decode_id(block_id, "CounterpartyBlock", field="blockId")
        ),
    )


def in_force(valid_from: datetime, valid_to: datetime | None) -> bool:
    """Whether a block or an address is in force now."""
    return details.in_force(valid_from, valid_to)


def nip_with_dashes(nip: str | None) -> str | None:
    return taxids.format_nip(nip) if nip else None


def iban_in_groups(iban: str) -> str:
    return taxids.format_iban(iban)


def in_force_or_to_come(block: CounterpartyBlock, now: datetime) -> bool:
    """Whether a block is in force now or will be (a lifted one never is again)."""
    return details.in_force_or_to_come(block, now)
