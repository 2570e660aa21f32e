"""The demo book, written in the ledger interchange format (version 1): raw rows, nothing more.

`write_demo_book` writes properties, parties, accounts, account_parties and transactions CSV files
for four invented buildings (Manhattan, Brooklyn, Albany, Oakland): about 430 units and 18 months
of rent, fees, payments, returned payments, credits and move-outs ending at `today`. The book
means what the product makes of it once imported (`arrears.demo.build`).

Invariants (arrears/demo/tests/test_demo_book.py):
- the same `seed` and `today` give byte-identical files; the only randomness is
  `random.Random(seed)`, and money is never computed with floats;
- nothing is posted after `today` or before its account opened; every id is unique in its file;
- a reversal comes after the payment it names and has its amount; every `applies_to` names an
  earlier charge of the same account;
- transactions are in posted order; within an account's day, charges (a returned-payment fee
  right after its reversal) come before credits, and credits before payments;
- a late fee is what the account's built-in policy posts, on the policy's day, when the product's
  cash application leaves the month's rent open (`arrears.demo.replay`).

Pure Python: no Django, no clock.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from arrears.demo.replay import Replay
from arrears.demo.story import Book

PROPERTY_COLUMNS = (
    "property_id",
    "name",
    "address",
    "city",
    "state",
    "postal_code",
    "country",
    "timezone",
)
PARTY_COLUMNS = (
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
)
ACCOUNT_COLUMNS = (
    "account_id",
    "property_id",
    "unit",
    "kind",
    "opened",
    "closed",
    "rent",
    "deposit_held",
    "currency",
)
ACCOUNT_PARTY_COLUMNS = ("account_id", "party_id", "role", "guarantee_limit")
TRANSACTION_COLUMNS = (
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
)


@dataclass(frozen=True, slots=True)
class DemoSummary:
    properties: int
    units: int
    accounts: int
    parties: int
    transactions: int
    first_posted: date | None
    last_posted: date | None


def _write(path: Path, columns: tuple[str, ...], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)  # RFC 4180: CRLF line ends
        writer.writeheader()
        writer.writerows(rows)


def write_demo_book(folder: Path, *, today: date, seed: int = 2026) -> DemoSummary:
    """Write a demo book of 18 months ending at `today` into `folder` (created if missing).

    Returns the counts of what was written. The same `seed` and `today` give the same bytes.
    """
    book = Book(random.Random(seed), today)  # noqa: S311 - a demo, not a secret
    book.plan()
    for tenancy in book.tenancies:
        Replay(book, tenancy).run()
    transactions = book.transaction_rows()
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder / "properties.csv", PROPERTY_COLUMNS, book.properties)
    _write(folder / "parties.csv", PARTY_COLUMNS, book.parties)
    _write(folder / "accounts.csv", ACCOUNT_COLUMNS, book.account_rows())
    _write(folder / "account_parties.csv", ACCOUNT_PARTY_COLUMNS, book.links)
    _write(folder / "transactions.csv", TRANSACTION_COLUMNS, transactions)
    return DemoSummary(
        properties=len(book.properties),
        units=book.units,
        accounts=len(book.tenancies),
        parties=len(book.parties),
        transactions=len(transactions),
        first_posted=book.txns[0].posted if book.txns else None,
        last_posted=book.txns[-1].posted if book.txns else None,
    )
