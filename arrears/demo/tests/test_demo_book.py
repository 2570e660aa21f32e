"""The demo book: read back with the csv module, it is deterministic, whole and lawful.

No database: `write_demo_book` is pure and these tests only read the files it writes. Balances are
plain Decimal sums (charges - payments - credits + reversals), independent of cash application.
"""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from arrears.demo import book as book_module
from arrears.demo.book import DemoSummary, write_demo_book
from arrears.ledger.allocation import SIGN

TODAY = date(2026, 3, 10)
COLUMNS = {
    "properties.csv": [
        "property_id",
        "name",
        "address",
        "city",
        "state",
        "postal_code",
        "country",
        "timezone",
    ],
    "parties.csv": [
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
    ],
    "accounts.csv": [
        "account_id",
        "property_id",
        "unit",
        "kind",
        "opened",
        "closed",
        "rent",
        "deposit_held",
        "currency",
    ],
    "account_parties.csv": ["account_id", "party_id", "role", "guarantee_limit"],
    "transactions.csv": [
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
    ],
}
AMOUNT = re.compile(r"^\d+\.\d{2}$")
E164 = re.compile(r"^\+[1-9]\d{7,14}$")


@dataclass(frozen=True)
class Book:
    today: date
    summary: DemoSummary
    headers: dict[str, list[str]]
    properties: list[dict[str, str]]
    parties: list[dict[str, str]]
    accounts: list[dict[str, str]]
    links: list[dict[str, str]]
    txns: list[dict[str, str]]

    @property
    def account(self) -> dict[str, dict[str, str]]:
        return {a["account_id"]: a for a in self.accounts}

    @property
    def state_of(self) -> dict[str, str]:
        """Account id -> the state of its building."""
        states = {p["property_id"]: p["state"] for p in self.properties}
        return {a["account_id"]: states[a["property_id"]] for a in self.accounts}

    def balances(self) -> dict[str, Decimal]:
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for t in self.txns:
            totals[t["account_id"]] += SIGN[t["type"]] * Decimal(t["amount"])
        return totals


def read_book(folder: Path, summary: DemoSummary, today: date) -> Book:
    tables: dict[str, list[dict[str, str]]] = {}
    headers: dict[str, list[str]] = {}
    for name in COLUMNS:
        with (folder / name).open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            tables[name] = list(reader)
            headers[name] = list(reader.fieldnames or [])
    return Book(
        today=today,
        summary=summary,
        headers=headers,
        properties=tables["properties.csv"],
        parties=tables["parties.csv"],
        accounts=tables["accounts.csv"],
        links=tables["account_parties.csv"],
        txns=tables["transactions.csv"],
    )


def month_before(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


@pytest.fixture(
    scope="module",
    params=[
        (2026, TODAY),
        (7, date(2025, 12, 31)),
        (11, date(2024, 2, 29)),
        (3, date(2026, 6, 1)),
    ],
    ids=lambda p: f"seed{p[0]}-{p[1].isoformat()}",
)
def book(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Book:
    seed, today = request.param
    folder = tmp_path_factory.mktemp(f"demo-{seed}")
    summary = write_demo_book(folder, today=today, seed=seed)
    return read_book(folder, summary, today)


def test_the_same_seed_and_day_write_byte_identical_files(tmp_path: Path) -> None:
    # given two folders
    first, second, other = tmp_path / "first", tmp_path / "second", tmp_path / "other"
    # when the book is written into each
    write_demo_book(first, today=TODAY)
    summary = write_demo_book(second, today=TODAY)
    write_demo_book(other, today=TODAY, seed=2027)
    # then every file is byte for byte the same, and another seed gives another book
    for name in COLUMNS:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    assert (first / "transactions.csv").read_bytes() != (other / "transactions.csv").read_bytes()
    assert summary == write_demo_book(tmp_path / "third", today=TODAY)


def test_the_demo_module_imports_no_django() -> None:
    code = (
        "import sys, arrears.demo.book, arrears.demo.generator\n"
        "sys.exit(any(name.startswith('django') for name in sys.modules))"
    )
    root = Path(__file__).resolve().parents[3]
    assert subprocess.run([sys.executable, "-c", code], cwd=root, check=False).returncode == 0


def test_the_files_have_exactly_the_columns_of_the_spec(book: Book) -> None:
    assert book.headers == COLUMNS


def test_the_demo_writes_the_columns_the_export_writes() -> None:
    # given the demo's own column lists (it imports no Django, so it cannot import the ledger's)
    # and the interchange format's, as the export writes them
    from arrears.demo.generator import TRANSACTION_COLUMNS as GENERATED
    from arrears.ledger.interchange import EXPORT_COLUMNS

    # then each file's columns are the same, so the copies cannot drift apart
    assert {f"{k}.csv": list(v) for k, v in EXPORT_COLUMNS.items()} == {
        "properties.csv": list(book_module.PROPERTY_COLUMNS),
        "parties.csv": list(book_module.PARTY_COLUMNS),
        "accounts.csv": list(book_module.ACCOUNT_COLUMNS),
        "account_parties.csv": list(book_module.ACCOUNT_PARTY_COLUMNS),
        "transactions.csv": list(book_module.TRANSACTION_COLUMNS),
    }
    assert list(GENERATED) == list(EXPORT_COLUMNS["transactions"])


def test_the_summary_counts_what_was_written(book: Book) -> None:
    s = book.summary
    assert s.properties == len(book.properties)
    assert s.accounts == len(book.accounts)
    assert s.parties == len(book.parties)
    assert s.transactions == len(book.txns)
    assert s.units == len({(a["property_id"], a["unit"]) for a in book.accounts})
    assert s.first_posted == date.fromisoformat(book.txns[0]["posted"])
    assert s.last_posted == date.fromisoformat(book.txns[-1]["posted"])


def test_the_book_holds_new_york_and_california_buildings_and_400_units(book: Book) -> None:
    states = {p["state"]: p["timezone"] for p in book.properties}
    cities = {(p["city"], p["state"]) for p in book.properties}
    assert len(book.properties) >= 3
    assert states["NY"] == "America/New_York"
    assert states["CA"] == "America/Los_Angeles"
    assert ("New York", "NY") in cities
    assert any(state == "NY" and city != "New York" for city, state in cities)
    assert all(
        p["country"] == "US" and re.fullmatch(r"\d{5}", p["postal_code"]) for p in book.properties
    )
    assert book.summary.units >= 400
    assert len(book.accounts) >= 400
    assert 15_000 <= len(book.txns) <= 30_000


def test_ids_are_unique_and_every_reference_exists(book: Book) -> None:
    properties = {p["property_id"] for p in book.properties}
    parties = {p["party_id"] for p in book.parties}
    accounts = book.account
    txns = {t["txn_id"]: (n, t) for n, t in enumerate(book.txns)}
    assert len(properties) == len(book.properties)
    assert len(parties) == len(book.parties)
    assert len(accounts) == len(book.accounts)
    assert len(txns) == len(book.txns)
    assert all(a["property_id"] in properties for a in book.accounts)
    for link in book.links:
        assert link["account_id"] in accounts
        assert link["party_id"] in parties
    assert len({(link["account_id"], link["party_id"]) for link in book.links}) == len(book.links)
    primaries = Counter(link["account_id"] for link in book.links if link["role"] == "primary")
    assert set(primaries) == set(accounts)
    assert set(primaries.values()) == {1}
    for n, t in enumerate(book.txns):
        assert t["account_id"] in accounts
        for column, types in (("applies_to", {"charge"}), ("reverses", {"payment", "credit"})):
            if t[column]:
                m, target = txns[t[column]]
                assert target["type"] in types, (t, target)
                assert target["account_id"] == t["account_id"]
                assert m < n


def test_values_have_the_forms_of_the_spec(book: Book) -> None:
    for t in book.txns:
        assert AMOUNT.match(t["amount"]), t
        assert Decimal(t["amount"]) > 0, t
        assert t["type"] in SIGN
        date.fromisoformat(t["posted"])
        if t["type"] == "charge":
            assert t["code"]
            assert t["code"] == t["code"].upper()
            assert t["due"] == t["posted"]
        else:
            assert t["due"] == ""
        assert bool(t["reverses"]) == (t["type"] == "reversal")
    for a in book.accounts:
        assert a["kind"] in {"residential_lease", "commercial_lease"}
        assert AMOUNT.match(a["rent"])
        assert AMOUNT.match(a["deposit_held"])
        assert a["currency"] == "USD"
        opened = date.fromisoformat(a["opened"])
        assert not a["closed"] or opened < date.fromisoformat(a["closed"]) <= book.today
    for p in book.parties:
        assert p["kind"] in {"person", "organization"}
        assert p["language"] in {"en", "es"}
        assert not p["phone"] or E164.match(p["phone"]), p
        assert not p["email"] or re.fullmatch(r"[a-z0-9.]+@example\.(com|net|org)", p["email"])
        assert p["timezone"]
        assert p["country"]
    for link in book.links:
        assert link["role"] in {"primary", "co_obligor", "guarantor"}
        assert not link["guarantee_limit"] or AMOUNT.match(link["guarantee_limit"])
        assert not link["guarantee_limit"] or link["role"] == "guarantor"


def test_nothing_is_posted_after_today_or_before_the_account_opened(book: Book) -> None:
    accounts = book.account
    for t in book.txns:
        posted = date.fromisoformat(t["posted"])
        assert posted <= book.today
        assert posted >= date.fromisoformat(accounts[t["account_id"]]["opened"])


def test_the_history_covers_eighteen_months_in_posted_order(book: Book) -> None:
    posted = [t["posted"] for t in book.txns]
    assert posted == sorted(posted)
    assert posted[0] == month_before(book.today, 17).isoformat()


def test_a_days_charges_come_before_its_payments_and_credits(book: Book) -> None:
    seen_money_in: set[tuple[str, str]] = set()
    for t in book.txns:
        day = (t["account_id"], t["posted"])
        if t["type"] in {"payment", "credit"}:
            seen_money_in.add(day)
        elif t["type"] == "charge":
            assert day not in seen_money_in, t


def test_a_reversal_has_its_payments_amount_and_is_followed_by_an_nsf_fee(book: Book) -> None:
    by_id = {t["txn_id"]: t for t in book.txns}
    reversals = [(n, t) for n, t in enumerate(book.txns) if t["type"] == "reversal"]
    assert reversals
    assert len({t["reverses"] for _, t in reversals}) == len(reversals)
    for n, t in reversals:
        payment = by_id[t["reverses"]]
        assert payment["type"] == "payment"
        assert t["amount"] == payment["amount"]
        assert (date.fromisoformat(t["posted"]) - date.fromisoformat(payment["posted"])).days >= 2
        fee = book.txns[n + 1]
        assert (fee["account_id"], fee["posted"], fee["type"], fee["code"]) == (
            t["account_id"],
            t["posted"],
            "charge",
            "NSF",
        )


def test_new_york_late_fees_wait_for_the_sixth_and_stay_under_the_cap(book: Book) -> None:
    # NY RPL §238-a(2): not before rent is 5 days late; at most $50 or 5% of the rent.
    accounts, states = book.account, book.state_of
    late = [t for t in book.txns if t["code"] == "LATE"]
    assert late
    for t in late:
        rent = Decimal(accounts[t["account_id"]]["rent"])
        assert date.fromisoformat(t["posted"]).day >= 6
        assert Decimal(t["amount"]) <= rent * Decimal("0.05")
        if states[t["account_id"]] == "NY":
            assert Decimal(t["amount"]) <= min(Decimal("50.00"), rent * Decimal("0.05"))
    assert any(states[t["account_id"]] == "NY" for t in late)
    # The fees are the built-in policies' (arrears/demo/tests/test_late_fees.py): California's
    # residential policy and the shops' have no late-fee step, so none of their leases has one.
    assert not any(states[t["account_id"]] == "CA" for t in late)


def test_rent_is_charged_on_the_first_at_the_accounts_rent(book: Book) -> None:
    accounts = book.account
    rents = [t for t in book.txns if t["code"] == "RENT"]
    on_first = [t for t in rents if t["posted"].endswith("-01")]
    assert len(on_first) > 0.95 * len(rents)
    assert all(t["amount"] == accounts[t["account_id"]]["rent"] for t in on_first)
    moved_in = [t for t in rents if not t["posted"].endswith("-01")]
    assert all(t["posted"] == accounts[t["account_id"]]["opened"] for t in moved_in)


def test_the_book_tells_the_stories_a_collector_meets(book: Book) -> None:
    accounts, balances = book.account, book.balances()
    closed = {a for a, row in accounts.items() if row["closed"]}
    current = set(accounts) - closed
    rent = {a: Decimal(row["rent"]) for a, row in accounts.items()}
    codes = Counter((t["type"], t["code"]) for t in book.txns)
    # returned payments, concessions, late fee waivers, deposits applied
    assert codes["reversal", ""] >= 5
    assert codes["credit", "CONC"] >= 1
    assert codes["credit", "WAIVE"] >= 1
    assert codes["credit", "DEP"] >= 1
    assert codes["charge", "UTIL"] >= 1
    assert codes["charge", "MAINT"] >= 1
    assert any(t["applies_to"] and t["type"] == "payment" for t in book.txns)
    # moved out owing, and a new tenant in the same unit after them
    assert any(balances[a] > 0 for a in closed)
    units = Counter((row["property_id"], row["unit"]) for row in accounts.values())
    assert any(n > 1 for n in units.values())
    # prepaid tenants carry a credit
    assert any(balances[a] < 0 for a in current)
    # several tenants owe two months or more, so are 60 or more days behind
    assert sum(1 for a in current if balances[a] >= 2 * rent[a]) >= 5
    # accounts opened before and during the history
    start = month_before(book.today, 17)
    opened = [date.fromisoformat(row["opened"]) for row in accounts.values()]
    assert sum(d < start for d in opened) > 0.8 * len(opened)
    assert any(d >= start for d in opened)
    assert any(row["kind"] == "commercial_lease" for row in accounts.values())


def test_the_people_are_many_and_reachable(book: Book) -> None:
    roles = Counter(link["role"] for link in book.links)
    n = len(book.accounts)
    assert 0.12 * n <= roles["co_obligor"] <= 0.30 * n
    assert 0.18 * n <= roles["guarantor"] <= 0.35 * n
    limits = [link["guarantee_limit"] for link in book.links if link["role"] == "guarantor"]
    assert "" in limits
    assert any(limits)
    people = [p for p in book.parties if p["kind"] == "person"]
    spanish = sum(p["language"] == "es" for p in people) / len(people)
    assert 0.08 <= spanish <= 0.25
    assert len({p["name"] for p in people}) > 0.8 * len(people)
    assert len({p["phone"] for p in book.parties if p["phone"]}) > 0.95 * len(book.parties)
    guarantors = {link["party_id"] for link in book.links if link["role"] == "guarantor"}
    far = [
        p for p in book.parties if p["party_id"] in guarantors and p["state"] not in ("NY", "CA")
    ]
    assert far
    assert len({p["timezone"] for p in far}) > 1
