"""The files of the interchange format and their columns (docs/ledger-interchange.md): what each
file kind holds, in which order it is imported and exported, and the limits of its columns."""

from __future__ import annotations

from dataclasses import dataclass

from arrears.ledger.allocation import TYPES


@dataclass(frozen=True, slots=True)
class FileKind:
    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]

    @property
    def filename(self) -> str:
        return f"{self.name}.csv"

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


PROPERTIES = FileKind(
    "properties",
    ("property_id", "name", "state", "country"),
    ("address", "city", "postal_code", "timezone", "portfolio", "owner_name"),
)
PARTIES = FileKind(
    "parties",
    ("party_id", "name"),
    (
        "kind",
        "email",
        "phone",
        "address",
        "city",
        "state",
        "postal_code",
        "country",
        "language",
        "timezone",
    ),
)
ACCOUNTS = FileKind(
    "accounts",
    ("account_id", "kind", "opened"),
    ("property_id", "unit", "closed", "rent", "deposit_held", "currency"),
)
ACCOUNT_PARTIES = FileKind(
    "account_parties", ("account_id", "party_id", "role"), ("guarantee_limit",)
)
TRANSACTIONS = FileKind(
    "transactions",
    ("txn_id", "account_id", "posted", "type", "amount"),
    ("code", "due", "applies_to", "reverses", "reference", "memo"),
)
# In import order: each file may name what the ones before it define.
FILE_KINDS = (PROPERTIES, PARTIES, ACCOUNTS, ACCOUNT_PARTIES, TRANSACTIONS)

# Canonical column order of each file on export, as the spec lists them.
EXPORT_COLUMNS = {
    "properties": (
        "property_id",
        "name",
        "address",
        "city",
        "state",
        "postal_code",
        "country",
        "timezone",
    ),
    "parties": (
        "party_id",
        "name",
        "kind",
        "email",
        "phone",
        "address",
        "city",
        "state",
        "postal_code",
        "country",
        "language",
        "timezone",
    ),
    "accounts": (
        "account_id",
        "property_id",
        "unit",
        "kind",
        "opened",
        "closed",
        "rent",
        "deposit_held",
        "currency",
    ),
    "account_parties": ("account_id", "party_id", "role", "guarantee_limit"),
    "transactions": (
        "txn_id",
        "account_id",
        "posted",
        "type",
        "amount",
        "code",
        "due",
        "applies_to",
        "reverses",
        "reference",
        "memo",
    ),
}

# The longest value each column may hold (the database's limits); longer is refused, not cut.
MAX_LENGTHS = {
    "properties": {
        "property_id": 64,
        "name": 200,
        "address": 300,
        "city": 100,
        "state": 50,
        "postal_code": 20,
        "timezone": 64,
        "portfolio": 64,
        "owner_name": 200,
    },
    "parties": {
        "party_id": 64,
        "name": 200,
        "email": 254,
        "phone": 20,
        "address": 300,
        "city": 100,
        "state": 50,
        "postal_code": 20,
        "language": 35,
        "timezone": 64,
    },
    "accounts": {"account_id": 64, "property_id": 64, "unit": 50},
    "account_parties": {"account_id": 64, "party_id": 64},
    "transactions": {
        "txn_id": 64,
        "account_id": 64,
        "code": 20,
        "applies_to": 64,
        "reverses": 64,
        "reference": 200,
    },
}

PARTY_KINDS = ("person", "organization")
ACCOUNT_KINDS = ("residential_lease", "commercial_lease", "customer", "student", "patient")
ROLES = ("primary", "co_obligor", "guarantor")
TXN_TYPES = TYPES  # charge, payment, credit, reversal, refund (version 1.1)

# The column that keeps the date a row had in its file when it was posted on the first open day
# because its month was closed (`arrears import --into-open-period`); exported like any x_ column.
ORIGINAL_POSTED = "x_original_posted"

# The dates of a file, by kind: each lies in the book's calendar (core.dates) and no more than a
# year after the book's today (`dates_check`, project notes of docs/ledger-interchange.md).
DATE_FIELDS = {
    "accounts": (("opened", "opened_on"), ("closed", "closed_on")),
    "transactions": (("posted", "posted_on"), ("due", "due_on")),
}
AHEAD_MONTHS = 12

# The columns holding ids (checked against fields.ID_RE when given) and the text that may hold no
# control character, per kind of file.
ID_COLUMNS = {
    "properties": ("property_id",),
    "parties": ("party_id",),
    "accounts": ("account_id", "property_id"),
    "account_parties": ("account_id", "party_id"),
    "transactions": ("txn_id", "account_id", "applies_to", "reverses"),
}
PLAIN_TEXT_COLUMNS = {
    "properties": (
        "name",
        "address",
        "city",
        "state",
        "postal_code",
        "portfolio",
        "timezone",
        "owner_name",
    ),
    "parties": (
        "name",
        "email",
        "phone",
        "address",
        "city",
        "state",
        "postal_code",
        "language",
        "timezone",
    ),
    "accounts": ("unit",),
    "account_parties": (),
    "transactions": ("code", "reference"),
}
