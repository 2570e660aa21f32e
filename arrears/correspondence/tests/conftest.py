"""Books for the correspondence stories, written as interchange CSVs and imported.

Tina Ortiz rents 3B at Elm Court in Brooklyn, NY; her brother Greg Ortiz guarantees the lease.
Lucía Fernández rents 4C at Elm Court and reads Spanish. Carmen Ruiz rents 12 at Sunset Gardens
in Los Angeles, CA. Alice is the coordinator. Each test gets its own archive folder.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from arrears.ledger.models import Account, Party
from arrears.ledger.services import book_import
from arrears.ledger.tests.users import users_add

ELM_COURT = {
    "property_id": "ELM",
    "name": "Elm Court",
    "address": "12 Elm Street",
    "city": "Brooklyn",
    "state": "NY",
    "postal_code": "11201",
    "country": "US",
}
SUNSET = {
    "property_id": "SUNSET",
    "name": "Sunset Gardens",
    "address": "400 Sunset Blvd",
    "city": "Los Angeles",
    "state": "CA",
    "postal_code": "90028",
    "country": "US",
}
PARTIES = [
    {
        "party_id": "P-TINA",
        "name": "Tina Ortiz",
        "email": "tina@example.org",
        "address": "12 Elm Street, Apt 3B",
        "city": "Brooklyn",
        "state": "NY",
        "postal_code": "11201",
        "country": "US",
        "language": "en",
    },
    {
        "party_id": "P-GREG",
        "name": "Greg Ortiz",
        "email": "greg@example.org",
        "address": "88 Hudson Avenue",
        "city": "Albany",
        "state": "NY",
        "postal_code": "12207",
        "country": "US",
        "language": "en",
    },
    {
        "party_id": "P-LUCIA",
        "name": "Lucía Fernández",
        "email": "lucia@example.org",
        "address": "12 Elm Street, Apt 4C",
        "city": "Brooklyn",
        "state": "NY",
        "postal_code": "11201",
        "country": "US",
        "language": "es",
    },
    {
        "party_id": "P-CARMEN",
        "name": "Carmen Ruiz",
        "email": "carmen@example.org",
        "address": "400 Sunset Blvd, Apt 12",
        "city": "Los Angeles",
        "state": "CA",
        "postal_code": "90028",
        "country": "US",
        "language": "en",
    },
]
ACCOUNTS = [
    {
        "account_id": "A-TINA",
        "property_id": "ELM",
        "unit": "3B",
        "kind": "residential_lease",
        "opened": "2025-06-01",
        "rent": "1200.00",
    },
    {
        "account_id": "A-LUCIA",
        "property_id": "ELM",
        "unit": "4C",
        "kind": "residential_lease",
        "opened": "2025-06-01",
        "rent": "1350.00",
    },
    {
        "account_id": "A-CARMEN",
        "property_id": "SUNSET",
        "unit": "12",
        "kind": "residential_lease",
        "opened": "2025-01-01",
        "rent": "2400.00",
    },
]
LINKS = [
    {"account_id": "A-TINA", "party_id": "P-TINA", "role": "primary"},
    {"account_id": "A-TINA", "party_id": "P-GREG", "role": "guarantor"},
    {"account_id": "A-LUCIA", "party_id": "P-LUCIA", "role": "primary"},
    {"account_id": "A-CARMEN", "party_id": "P-CARMEN", "role": "primary"},
]
TXNS = [
    # Tina: February paid, March's rent unpaid, a February late fee still open.
    {
        "txn_id": "T-RENT-02",
        "account_id": "A-TINA",
        "posted": "2026-02-01",
        "type": "charge",
        "code": "RENT",
        "amount": "1200.00",
        "due": "2026-02-01",
    },
    {
        "txn_id": "T-PAY-02",
        "account_id": "A-TINA",
        "posted": "2026-02-03",
        "type": "payment",
        "amount": "1200.00",
    },
    {
        "txn_id": "T-LATE-02",
        "account_id": "A-TINA",
        "posted": "2026-02-06",
        "type": "charge",
        "code": "LATE",
        "amount": "50.00",
        "due": "2026-02-06",
    },
    {
        "txn_id": "T-RENT-03",
        "account_id": "A-TINA",
        "posted": "2026-03-01",
        "type": "charge",
        "code": "RENT",
        "amount": "1200.00",
        "due": "2026-03-01",
    },
    {
        "txn_id": "L-RENT-03",
        "account_id": "A-LUCIA",
        "posted": "2026-03-01",
        "type": "charge",
        "code": "RENT",
        "amount": "1350.00",
        "due": "2026-03-01",
    },
    {
        "txn_id": "C-RENT-03",
        "account_id": "A-CARMEN",
        "posted": "2026-03-01",
        "type": "charge",
        "code": "RENT",
        "amount": "2400.00",
        "due": "2026-03-01",
    },
]


def write_csv(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    rows = list(rows)
    columns: list[str] = []
    for row in rows:
        columns.extend(c for c in row if c not in columns)
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture(autouse=True)
def archive_dir(
    settings: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    book_clock: Callable[[date], date],
) -> Path:
    """A fresh archive per test; "today" is March 7, 2026 (10:00 on the clock) and the user is
    Alice."""
    folder = tmp_path / "archive"
    settings.STORAGES = {
        **settings.STORAGES,
        "archive": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(folder)},
        },
    }
    book_clock(date(2026, 3, 7))
    monkeypatch.setenv("ARREARS_USER", "alice")
    return folder


@pytest.fixture
def book(db: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    users_add(monkeypatch, settings, ("alice", "coordinator"), ("erin", "admin"))
    folder = tmp_path / "book"
    folder.mkdir()
    for name, rows in (
        ("properties", [ELM_COURT, SUNSET]),
        ("parties", PARTIES),
        ("accounts", ACCOUNTS),
        ("account_parties", LINKS),
        ("transactions", TXNS),
    ):
        write_csv(folder / f"{name}.csv", rows)
    book_import(folder)


@pytest.fixture
def queue(book: None) -> Callable[..., dict[str, str]]:
    """Queue letters as the daily run does (`outbound_create_many`) and return their documents."""
    from arrears.correspondence.services import outbound_create_many

    def add(*letters: dict[str, Any]) -> dict[str, str]:
        actions = []
        for spec in letters:
            account = Account.objects.get(account_id=spec["account_id"])
            party = Party.objects.get(party_id=spec["party_id"])
            actions.append(
                SimpleNamespace(
                    key=spec.get("key", f"{spec['account_id']}:{spec['step']}:{spec['party_id']}"),
                    account=account,
                    party=party,
                    role=spec.get("role", "primary"),
                    channel=spec.get("channel", "certified_letter"),
                    template=spec["template"],
                    language=spec.get("language", party.language),
                    policy="ny-residential",
                    step=spec["step"],
                    run_on=spec.get("run_on", date(2026, 3, 6)),
                    amount=spec.get("amount"),
                    deadline=spec.get("deadline"),
                    delinquency=spec.get("delinquency", date(2026, 3, 1)),
                    status="queued",
                )
            )
        return outbound_create_many(actions)

    return add
