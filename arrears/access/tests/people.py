"""The cast of the workspace's tests, and the two-building book they work on.

Company A runs Elm Court (ELM, Brooklyn NY: Tina Ortiz's lease, A-TINA, 1,200.00 unpaid) and
Oak Terrace (OAK, Oakland CA: Oscar Diaz's lease, A-OSCAR, 950.00 unpaid). The people:
- alice: coordinator (everything);
- bob: property manager of ELM only;
- carol: attorney at Hale & Co, to whom A-OSCAR is referred;
- dave: controller (read-only);
- erin: admin;
- mallory: manager of another company's building (OTHER, with no account of A's in it), who must
  see nothing of A's.
"""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from arrears.access.services import SystemActor, token_issue, user_add
from arrears.ledger.models import Account
from arrears.ledger.services import book_import
from arrears.legal.services import firm_add, referral_make

PASSWORD = "elm-court-rent-2026"
FIRM = "Hale & Co"
# Who sets the cast up: the operator, as the first users of a book are added (no admin yet).
OPERATOR = SystemActor("pytest")

BOOK: dict[str, list[dict[str, str]]] = {
    "properties": [
        {
            "property_id": "ELM",
            "name": "Elm Court",
            "city": "Brooklyn",
            "state": "NY",
            "country": "US",
        },
        {
            "property_id": "OAK",
            "name": "Oak Terrace",
            "city": "Oakland",
            "state": "CA",
            "country": "US",
        },
        {
            "property_id": "OTHER",
            "name": "Another company's building",
            "city": "Albany",
            "state": "NY",
            "country": "US",
        },
    ],
    "parties": [
        {
            "party_id": "P-TINA",
            "name": "Tina Ortiz",
            "email": "tina@example.org",
            "phone": "+12125550101",
            "language": "es",
            "address": "12 Elm Street, Apt 3B",
            "city": "Brooklyn",
            "state": "NY",
            "postal_code": "11201",
            "country": "US",
        },
        {
            "party_id": "P-GREG",
            "name": "Greg Ortiz",
            "email": "greg@example.org",
            "phone": "+17185550102",
            "language": "en",
            "address": "88 Hudson Avenue",
            "city": "Albany",
            "state": "NY",
            "postal_code": "12207",
            "country": "US",
        },
        {
            "party_id": "P-OSCAR",
            "name": "Oscar Diaz",
            "email": "oscar@example.org",
            "phone": "+15105550103",
            "language": "en",
            "address": "40 Oak Street, Apt 12",
            "city": "Oakland",
            "state": "CA",
            "postal_code": "94607",
            "country": "US",
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
            "account_id": "A-OSCAR",
            "property_id": "OAK",
            "unit": "12",
            "kind": "residential_lease",
            "opened": "2025-01-01",
            "rent": "950.00",
        },
    ],
    "account_parties": [
        {"account_id": "A-TINA", "party_id": "P-TINA", "role": "primary"},
        {"account_id": "A-TINA", "party_id": "P-GREG", "role": "guarantor"},
        {"account_id": "A-OSCAR", "party_id": "P-OSCAR", "role": "primary"},
    ],
    "transactions": [
        {
            "txn_id": "T-TINA-03",
            "account_id": "A-TINA",
            "posted": "2026-03-01",
            "type": "charge",
            "code": "RENT",
            "amount": "1200.00",
            "due": "2026-03-01",
        },
        {
            "txn_id": "T-OSCAR-02",
            "account_id": "A-OSCAR",
            "posted": "2026-02-01",
            "type": "charge",
            "code": "RENT",
            "amount": "950.00",
            "due": "2026-02-01",
        },
    ],
}

TODAY = date(2026, 3, 26)
ROLES = {
    "alice": ("coordinator", [], ""),
    "bob": ("manager", ["ELM"], ""),
    "carol": ("attorney", [], FIRM),
    "dave": ("controller", [], ""),
    "erin": ("admin", [], ""),
    "mallory": ("manager", ["OTHER"], ""),
}


def write_book(folder: Path, book: dict[str, list[dict[str, str]]] = BOOK) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in book.items():
        fields = list(dict.fromkeys(k for row in rows for k in row))
        with (folder / f"{name}.csv").open("w", encoding="utf-8", newline="") as stream:
            writer = csv.DictWriter(stream, fieldnames=fields, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
    return folder


@pytest.fixture(autouse=True)
def fresh_cache() -> None:
    # Each test's database starts over (and may reuse row ids): so must what was cached from it.
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def archive_dir(settings: Any, tmp_path: Path) -> Any:
    """Each test archives its documents (statements, letters, print files) in its own folder."""
    folder = tmp_path / "archive"
    settings.STORAGES = {
        **settings.STORAGES,
        "archive": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(folder)},
        },
    }
    return folder


@pytest.fixture
def fast_passwords(settings: Any) -> None:
    # Hashing strength is Django's business; the tests only need it to work, quickly.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def book(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ARREARS_TODAY", TODAY.isoformat())
    folder = write_book(tmp_path / "book")
    book_import(folder)
    return folder


@pytest.fixture
def people(book: Path, fast_passwords: None) -> dict[str, Any]:
    users = {}
    for name, (role, props, firm) in ROLES.items():
        users[name] = user_add(
            username=name,
            password=PASSWORD,
            role=role,
            properties=props,
            firm=firm,
            actor=OPERATOR,
            via="system",
        )
    firm_add(name=FIRM, contingency_percent=Decimal("25"), on=TODAY)
    referral_make(
        account=Account.objects.get(account_id="A-OSCAR"), firm=FIRM, on=TODAY, actor="alice"
    )
    return users


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def tokens(people: dict[str, Any]) -> dict[str, str]:
    return {name: token_issue(username=name, actor=OPERATOR, via="system") for name in people}


def cli(capsys: Any, *words: str) -> tuple[int, str, str]:
    """Run `arrears WORDS…` in this process: (exit status, standard output, standard error)."""
    from arrears.cli import main

    capsys.readouterr()
    code = main(list(words))
    out, err = capsys.readouterr()
    return code, out, err


def attorney_of_another_firm(username: str = "otto", firm: str = "Other Firm LLP") -> Any:
    """An attorney of a firm none of the cast's cases are with (the firm is made)."""
    from arrears.legal.models import Firm

    Firm.objects.get_or_create(name=firm, defaults={"created_on": TODAY})
    return user_add(
        username=username,
        password=PASSWORD,
        role="attorney",
        firm=firm,
        actor=OPERATOR,
        via="system",
    )
