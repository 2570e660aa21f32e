"""The mail stories' book: Tina Ortiz rents 3B at Elm Court, Brooklyn, guaranteed by her brother
Greg; Carmen Ruiz rents 12 and 14 at Sunset Gardens, Los Angeles (two leases, one email address).
The archive folder is the parent conftest's."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from arrears.correspondence.models import Outbound
from arrears.ledger.models import Account, Party
from arrears.ledger.services import book_import

ROWS: dict[str, list[dict[str, Any]]] = {
    "properties": [
        {
            "property_id": "ELM",
            "name": "Elm Court",
            "address": "12 Elm Street",
            "city": "Brooklyn",
            "state": "NY",
            "postal_code": "11201",
            "country": "US",
        },
        {
            "property_id": "SUNSET",
            "name": "Sunset Gardens",
            "address": "400 Sunset Blvd",
            "city": "Los Angeles",
            "state": "CA",
            "postal_code": "90028",
            "country": "US",
        },
    ],
    "parties": [
        {
            "party_id": "P-TINA",
            "name": "Tina Ortiz",
            "email": "tina@example.org",
            "phone": "+12125550101",
            "address": "12 Elm Street, Apt 3B",
            "state": "NY",
            "country": "US",
        },
        {
            "party_id": "P-GREG",
            "name": "Greg Ortiz",
            "email": "greg@example.org",
            "phone": "+17185550102",
            "address": "88 Hudson Avenue",
            "state": "NY",
            "country": "US",
        },
        {
            "party_id": "P-CARMEN",
            "name": "Carmen Ruiz",
            "email": "carmen@example.org",
            "address": "400 Sunset Blvd, Apt 12",
            "state": "CA",
            "country": "US",
            "language": "es",
        },
    ],
    "accounts": [
        {
            "account_id": "A-TINA",
            "property_id": "ELM",
            "unit": "3B",
            "kind": "residential_lease",
            "opened": "2025-06-01",
            "rent": "1200.00",
        },
        {
            "account_id": "A-CARMEN",
            "property_id": "SUNSET",
            "unit": "12",
            "kind": "residential_lease",
            "opened": "2025-01-01",
            "rent": "2400.00",
        },
        {
            "account_id": "A-CARMEN-2",
            "property_id": "SUNSET",
            "unit": "14",
            "kind": "residential_lease",
            "opened": "2025-01-01",
            "rent": "900.00",
        },
    ],
    "account_parties": [
        {"account_id": "A-TINA", "party_id": "P-TINA", "role": "primary"},
        {"account_id": "A-TINA", "party_id": "P-GREG", "role": "guarantor"},
        {"account_id": "A-CARMEN", "party_id": "P-CARMEN", "role": "primary"},
        {"account_id": "A-CARMEN-2", "party_id": "P-CARMEN", "role": "primary"},
    ],
    "transactions": [
        {
            "txn_id": "T-RENT-03",
            "account_id": "A-TINA",
            "posted": "2026-03-01",
            "type": "charge",
            "code": "RENT",
            "amount": "1200.00",
            "due": "2026-03-01",
        },
    ],
}


def write_csv(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    rows = list(rows)
    columns: list[str] = []
    for row in rows:
        columns.extend(c for c in row if c not in columns)
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture
def mail_book(db: None, tmp_path: Path) -> None:
    folder = tmp_path / "mail-book"
    folder.mkdir()
    for name, rows in ROWS.items():
        write_csv(folder / f"{name}.csv", rows)
    book_import(folder)


def email_outbound(key: str, account_id: str = "A-TINA", party_id: str = "P-TINA") -> Outbound:
    """A queued email for `key`, as the run makes one."""
    return Outbound.objects.create(
        key=key,
        account=Account.objects.get(account_id=account_id),
        party=Party.objects.get(party_id=party_id),
        role="primary",
        channel="email",
        template="ny-rent-reminder",
        run_on=datetime(2026, 3, 2).date(),
        status="queued",
        document_name="",
        created_at=datetime(2026, 3, 2, 12, 0, tzinfo=ZoneInfo("America/New_York")),
    )
