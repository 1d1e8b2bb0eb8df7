"""The counterparty card and what hangs on it: type, dictionaries, addresses, people, accounts, blocks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from dms.base import Base, Id, IdMixin, utcnow


class CounterpartyType(IdMixin, Base):
    """A kind of card ("supplier", "insurer"), configured at run time; it decides the custom fields.

    `fields` is a list of field definitions (see `dms.counterparties.customfields`).
    """

    __tablename__ = "counterparty_types"

    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Counterparty(IdMixin, Base):
    __tablename__ = "counterparties"
    __table_args__ = (
        # The database itself keeps an active NIP unique, so two concurrent creations cannot both win.
        Index(
            "uq_counterparties_active_nip",
            "nip",
            unique=True,
            sqlite_where=text("deleted_at IS NULL AND nip IS NOT NULL"),
            postgresql_where=text("deleted_at IS NULL AND nip IS NOT NULL"),
        ),
        Index("ix_counterparties_listing", "deleted_at", "sort_name", "id"),
    )

    name: Mapped[str] = mapped_column(String(500))
    short_name: Mapped[str | None] = mapped_column(String(200))
    # Name and short name lower-cased with diacritics folded ("Łódź" → "lodz"): SQLite's lower() is
    # ASCII-only, so text filters compare against this column on every backend.
    name_search: Mapped[str] = mapped_column(String(800), default="")
    # The name as a Polish reader orders it (dms.counterparties.common.sort_key): lists sort by this.
    sort_name: Mapped[str] = mapped_column(String(1000), default="", server_default="")
    # Digits only, so "123-456-32-18" and "1234563218" are the same NIP.
    nip: Mapped[str | None] = mapped_column(String(10), index=True)
    regon: Mapped[str | None] = mapped_column(String(14), index=True)
    vat_number: Mapped[str | None] = mapped_column(String(20))
    type_id: Mapped[int | None] = mapped_column(Id, ForeignKey("counterparty_types.id"), index=True)
    # Values of the type's custom fields by field key; values of fields the type no longer has are
    # kept here but hidden (see dms.counterparties.customfields).
    custom_values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    account_manager_id: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id", ondelete="SET NULL"), index=True)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]
    deleted_by_id: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id", ondelete="SET NULL"))
    merged_into_id: Mapped[int | None] = mapped_column(Id, ForeignKey("counterparties.id"))


class Dictionary(IdMixin, Base):
    """An editable list of values: categories, groups, a segmentation (industry, priority, …) or
    the choices of a custom field. Its `kind` says where its entries may be used."""

    __tablename__ = "dictionaries"

    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32), index=True)  # category | group | segmentation | choice
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DictionaryEntry(IdMixin, Base):
    __tablename__ = "dictionary_entries"
    __table_args__ = (UniqueConstraint("dictionary_id", "code"),)

    dictionary_id: Mapped[int] = mapped_column(Id, ForeignKey("dictionaries.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(default=0)
    # A retired entry stays on the cards that have it but cannot be chosen again.
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class CounterpartyClassification(Base):
    """A card's category, group or segmentation value (one row per dictionary entry it has)."""

    __tablename__ = "counterparty_classifications"
    __table_args__ = (Index("ix_counterparty_classifications_entry", "entry_id", "counterparty_id"),)

    counterparty_id: Mapped[int] = mapped_column(
        Id, ForeignKey("counterparties.id", ondelete="CASCADE"), primary_key=True
    )
    entry_id: Mapped[int] = mapped_column(Id, ForeignKey("dictionary_entries.id", ondelete="CASCADE"), primary_key=True)
    dictionary_id: Mapped[int] = mapped_column(Id, ForeignKey("dictionaries.id", ondelete="CASCADE"))


class Address(IdMixin, Base):
    """One address of a card with its uses; changing it closes this row and opens a new one."""

    __tablename__ = "counterparty_addresses"
    __table_args__ = (Index("ix_counterparty_addresses_card", "counterparty_id", "valid_to", "id"),)

    counterparty_id: Mapped[int] = mapped_column(Id, ForeignKey("counterparties.id"))
    uses: Mapped[list[str]] = mapped_column(JSON, default=list)  # registered_seat, correspondence, shipping, tax
    street: Mapped[str | None] = mapped_column(String(300))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    city: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2), default="PL")
    valid_from: Mapped[datetime] = mapped_column(default=utcnow)
    valid_to: Mapped[datetime | None]
    previous_id: Mapped[int | None] = mapped_column(Id, ForeignKey("counterparty_addresses.id"))
    created_by_id: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id", ondelete="SET NULL"))


class ContactPerson(IdMixin, Base):
    __tablename__ = "contact_persons"
    __table_args__ = (Index("ix_contact_persons_card", "counterparty_id", "removed_at", "id"),)

    counterparty_id: Mapped[int] = mapped_column(Id, ForeignKey("counterparties.id"))
    name: Mapped[str] = mapped_column(String(300))
    position: Mapped[str | None] = mapped_column(String(200))
    responsibilities: Mapped[str | None] = mapped_column(Text)
    # When they can be reached, as people say it: "Mon–Fri 8–15, not on Wednesdays".
    availability: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    removed_at: Mapped[datetime | None]


class ContactMethod(IdMixin, Base):
    __tablename__ = "contact_methods"
    __table_args__ = (Index("ix_contact_methods_value", "kind", "value"),)

    person_id: Mapped[int] = mapped_column(Id, ForeignKey("contact_persons.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # email | phone | mobile | fax | other
    value: Mapped[str] = mapped_column(String(320))
    label: Mapped[str | None] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(default=0)


class BankAccount(IdMixin, Base):
    __tablename__ = "bank_accounts"
    __table_args__ = (Index("ix_bank_accounts_card", "counterparty_id", "removed_at", "id"),)

    counterparty_id: Mapped[int] = mapped_column(Id, ForeignKey("counterparties.id"))
    iban: Mapped[str] = mapped_column(String(34), index=True)  # compact: no spaces
    bank_name: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    removed_at: Mapped[datetime | None]


class CounterpartyBlock(IdMixin, Base):
    """A restriction on a card ("no sales on credit"), in force from `valid_from` until `valid_to`."""

    __tablename__ = "counterparty_blocks"
    __table_args__ = (Index("ix_counterparty_blocks_card", "counterparty_id", "valid_to", "id"),)

    counterparty_id: Mapped[int] = mapped_column(Id, ForeignKey("counterparties.id"))
    reason: Mapped[str] = mapped_column(String(500))
    valid_from: Mapped[datetime] = mapped_column(default=utcnow)
    valid_to: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(Id, ForeignKey("users.id", ondelete="SET NULL"))
