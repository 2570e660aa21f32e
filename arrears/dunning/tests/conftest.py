"""Books for the collection-cycle stories, written as interchange CSVs and imported.

The people: Tina Ortiz rents 3B at Elm Court in Brooklyn, NY; her brother Greg Ortiz guarantees
the lease. Carmen Ruiz rents at Sunset Gardens in Los Angeles, CA. Omar Haddad has just moved into
Elm Court 5A. Alice is the coordinator who places holds and writes notes, an Arrears user the
commands act as (ARREARS_USER); Erin is the admin who changes policies. Rent is due on the 1st
unless a story says otherwise; "today" is frozen (ARREARS_TODAY) for the commands.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from arrears.ledger.services import book_import
from arrears.ledger.tests.users import users_add

FILES = ("properties", "parties", "accounts", "account_parties", "transactions")

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

TINA = {
    "party_id": "P-TINA",
    "name": "Tina Ortiz",
    "email": "tina@example.org",
    "phone": "+12125550101",
    "address": "12 Elm Street, Apt 3B",
    "city": "Brooklyn",
    "state": "NY",
    "postal_code": "11201",
    "country": "US",
}
GREG = {
    "party_id": "P-GREG",
    "name": "Greg Ortiz",
    "email": "greg@example.org",
    "phone": "+17185550102",
    "address": "88 Hudson Avenue",
    "city": "Albany",
    "state": "NY",
    "postal_code": "12207",
    "country": "US",
}
CARMEN = {
    "party_id": "P-CARMEN",
    "name": "Carmen Ruiz",
    "email": "carmen@example.org",
    "phone": "+13235550103",
    "address": "400 Sunset Blvd, Apt 12",
    "city": "Los Angeles",
    "state": "CA",
    "postal_code": "90028",
    "country": "US",
}
OMAR = {
    "party_id": "P-OMAR",
    "name": "Omar Haddad",
    "email": "omar@example.org",
    "address": "12 Elm Street, Apt 5A",
    "city": "Brooklyn",
    "state": "NY",
    "postal_code": "11201",
    "country": "US",
}

MARCH_RENT = {
    "txn_id": "T-RENT-03",
    "account_id": "A-TINA",
    "posted": "2026-03-01",
    "type": "charge",
    "code": "RENT",
    "amount": "1200.00",
    "due": "2026-03-01",
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


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch: pytest.MonkeyPatch, book_clock: Callable[[date], date]) -> date:
    """The commands' "today", the clock and the user: Alice, at 10:00 on March 7, 2026, unless a
    test says otherwise."""
    monkeypatch.setenv("ARREARS_USER", "alice")
    return book_clock(date(2026, 3, 7))


@pytest.fixture
def users(db: None, monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    """The book's Arrears users: Alice the coordinator and Erin the admin."""
    users_add(monkeypatch, settings, ("alice", "coordinator"), ("erin", "admin"))


@pytest.fixture
def load_book(users: None, tmp_path: Path) -> Callable[..., Path]:
    """Write the given rows as interchange CSV files in a fresh folder and import them (the
    book's users are there first)."""
    count = 0

    def load(**files: Iterable[dict[str, Any]]) -> Path:
        nonlocal count
        count += 1
        folder = tmp_path / f"book-{count}"
        folder.mkdir()
        for name, rows in files.items():
            assert name in FILES, name
            write_csv(folder / f"{name}.csv", rows)
        book_import(folder)
        return folder

    return load


@pytest.fixture
def tina_lease(load_book: Callable[..., Path]) -> Callable[..., str]:
    """Tina's lease at Elm Court, guaranteed by Greg, with March's rent unpaid; returns its id.

    `rent` is the monthly rent (March's charge is the same amount); `history` comes before
    March's rent and `transactions` after it; `greg` replaces Greg's party row.
    """

    def lease(
        *,
        rent: str = "1200.00",
        transactions: Iterable[dict[str, Any]] = (),
        greg: dict[str, Any] = GREG,
        history: Iterable[dict[str, Any]] = (),
    ) -> str:
        load_book(
            properties=[ELM_COURT],
            parties=[TINA, greg],
            accounts=[
                {
                    "account_id": "A-TINA",
                    "property_id": "ELM",
                    "unit": "3B",
                    "kind": "residential_lease",
                    "opened": "2025-06-01",
                    "rent": rent,
                }
            ],
            account_parties=[
                {"account_id": "A-TINA", "party_id": "P-TINA", "role": "primary"},
                {"account_id": "A-TINA", "party_id": greg["party_id"], "role": "guarantor"},
            ],
            transactions=[*history, {**MARCH_RENT, "amount": rent}, *transactions],
        )
        return "A-TINA"

    return lease


@pytest.fixture
def omar_lease(load_book: Callable[..., Path]) -> Callable[..., str]:
    """Omar's lease of 5A at Elm Court, rent 3,000.00, with the given charges; returns its id."""

    def lease(*, opened: str, transactions: Iterable[dict[str, Any]]) -> str:
        load_book(
            properties=[ELM_COURT],
            parties=[OMAR],
            accounts=[
                {
                    "account_id": "A-OMAR",
                    "property_id": "ELM",
                    "unit": "5A",
                    "kind": "residential_lease",
                    "opened": opened,
                    "rent": "3000.00",
                }
            ],
            account_parties=[{"account_id": "A-OMAR", "party_id": "P-OMAR", "role": "primary"}],
            transactions=[{"account_id": "A-OMAR", "type": "charge", **t} for t in transactions],
        )
        return "A-OMAR"

    return lease


@pytest.fixture
def carmen_lease(load_book: Callable[..., Path]) -> str:
    """Carmen's lease at Sunset Gardens, Los Angeles, with September 2026's rent unpaid."""
    load_book(
        properties=[SUNSET],
        parties=[CARMEN],
        accounts=[
            {
                "account_id": "A-CARMEN",
                "property_id": "SUNSET",
                "unit": "12",
                "kind": "residential_lease",
                "opened": "2025-01-01",
                "rent": "2400.00",
            }
        ],
        account_parties=[{"account_id": "A-CARMEN", "party_id": "P-CARMEN", "role": "primary"}],
        transactions=[
            {
                "txn_id": "C-RENT-09",
                "account_id": "A-CARMEN",
                "posted": "2026-09-01",
                "type": "charge",
                "code": "RENT",
                "amount": "2400.00",
                "due": "2026-09-01",
            }
        ],
    )
    return "A-CARMEN"


@pytest.fixture
def small_leases(load_book: Callable[..., Path]) -> Callable[[int], list[str]]:
    """Import `count` one-tenant leases at Elm Court, each with March's rent of 100.00 unpaid."""

    def load(count: int) -> list[str]:
        parties, accounts, links, txns = [], [], [], []
        for n in range(1, count + 1):
            party, account = f"P-{n:05d}", f"A-{n:05d}"
            parties.append(
                {
                    "party_id": party,
                    "name": f"Tenant {n}",
                    "email": f"t{n}@example.org",
                    "address": f"12 Elm Street, Unit {n}",
                    "state": "NY",
                    "country": "US",
                }
            )
            accounts.append(
                {
                    "account_id": account,
                    "property_id": "ELM",
                    "unit": str(n),
                    "kind": "residential_lease",
                    "opened": "2025-06-01",
                    "rent": "100.00",
                }
            )
            links.append({"account_id": account, "party_id": party, "role": "primary"})
            txns.append(
                {
                    "txn_id": f"R-{n:05d}",
                    "account_id": account,
                    "posted": "2026-03-01",
                    "type": "charge",
                    "code": "RENT",
                    "amount": "100.00",
                    "due": "2026-03-01",
                }
            )
        load_book(
            properties=[ELM_COURT],
            parties=parties,
            accounts=accounts,
            account_parties=links,
            transactions=txns,
        )
        return [a["account_id"] for a in accounts]

    return load


@pytest.fixture
def print_letters(tmp_path: Path) -> Callable[[date], Any]:
    """Print the letters queued up to a day, as the coordinator's daily batch does: a letter is
    served (dated, its deadline counted) the day it is printed for mailing."""
    from arrears.dunning.reissue import letters_print

    def print_on(on: date) -> Any:
        return letters_print(on=on, output=tmp_path / f"print-{on}", actor="alice", workers=1)

    return print_on


@pytest.fixture
def smtp() -> Iterator[Any]:
    """A real SMTP server (aiosmtpd) on a free loopback port, recording what it receives; its
    address is `smtp.url`."""
    from arrears.correspondence.tests import smtp_server

    handler = smtp_server.Recorder()
    controller = smtp_server.start(handler)
    handler.url = f"smtp://127.0.0.1:{controller.port}"  # type: ignore[attr-defined]
    yield handler
    controller.stop()
