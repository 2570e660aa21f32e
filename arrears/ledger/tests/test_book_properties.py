"""Properties of the whole book in the database, over random books (hypothesis).

The set-based aging in SQL must agree, for every account and date, with the pure replay of that
account; import → export → import is a no-op; a file imported in two parts gives the same book.
"""

import csv
import tempfile
from collections import defaultdict
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arrears.ledger.aging import Buckets, age_open_items
from arrears.ledger.allocation import SIGN, apply_cash
from arrears.ledger.export import book_export
from arrears.ledger.models import Allocation, Transaction
from arrears.ledger.selectors import aging_report
from arrears.ledger.services import book_import
from arrears.ledger.tests.strategies import histories

pytestmark = pytest.mark.django_db
db_settings = settings(
    max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)


class _RollbackError(Exception):
    pass


@contextmanager
def fresh_book():
    """Each hypothesis example starts from an empty book and leaves it empty."""
    try:
        with transaction.atomic():
            yield
            raise _RollbackError
    except _RollbackError:
        pass


@st.composite
def books(draw):
    """1 to 4 accounts (one in EUR sometimes), each with a random history."""
    n = draw(st.integers(1, 4))
    return [draw(histories(max_entries=25)) for _ in range(n)]


def txn_rows(book):
    """Transactions of all accounts as interchange rows, in book order (posted, then file order)."""
    rows = []
    for k, entries in enumerate(book):
        for e in entries:
            rows.append(
                {
                    "txn_id": f"a{k}-t{e.id}",
                    "account_id": f"A{k}",
                    "posted": e.posted_on.isoformat(),
                    "type": e.type,
                    "amount": f"{e.amount:.2f}",
                    "code": e.code if e.type == "charge" else "",
                    "due": e.due_on.isoformat() if e.type == "charge" else "",
                    "applies_to": f"a{k}-t{e.applies_to}" if e.applies_to else "",
                    "reverses": f"a{k}-t{e.reverses}" if e.reverses else "",
                    "reference": "",
                    "memo": "",
                }
            )
    return sorted(rows, key=lambda r: r["posted"])  # stable: file order within a day and account


def write_book(folder: Path, book, txns) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "accounts.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["account_id", "kind", "opened", "currency"])
        for k in range(len(book)):
            w.writerow([f"A{k}", "customer", "2025-12-01", "EUR" if k == 3 else "USD"])
    if txns:
        with (folder / "transactions.csv").open("w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(txns[0]))
            w.writeheader()
            w.writerows(txns)
    return folder


def expected_aging(book, as_of, buckets):
    """Per account id: the aged line computed by the pure replay alone."""
    out = {}
    for k, entries in enumerate(book):
        replay = apply_cash(entries)
        amounts = defaultdict(Decimal)
        for d in replay.deltas:
            if d.on_date <= as_of:
                amounts[(d.item, d.is_credit, d.due_on)] += d.delta
        items = [(c, due, a) for (_, c, due), a in amounts.items() if a]
        line = age_open_items(items, as_of, buckets)
        balance = sum(
            (SIGN[e.type] * e.amount for e in entries if e.posted_on <= as_of), Decimal(0)
        )
        assert line.balance == balance
        if items:
            out[f"A{k}"] = line
    return out


def actual_aging(as_of, buckets):
    out = {}
    for report in aging_report(as_of=as_of, by="account", buckets=buckets):
        for row in report.rows:
            out[row.key["account_id"]] = row.line
    return out


def probe_dates(book):
    days = sorted({e.posted_on for entries in book for e in entries})
    return [
        days[0] - timedelta(days=1),
        *days[:: max(1, len(days) // 6)],
        days[-1],
        days[-1] + timedelta(days=45),
    ]


@db_settings
@given(books(), st.sampled_from([(0, 30, 60, 90), (0, 15, 45), (7, 14)]))
def test_set_based_aging_agrees_with_the_pure_replay_for_every_account_and_date(book, bounds):
    buckets = Buckets(bounds)
    with tempfile.TemporaryDirectory() as tmp, fresh_book():
        book_import(write_book(Path(tmp), book, txn_rows(book)))
        for as_of in probe_dates(book):
            assert actual_aging(as_of, buckets) == expected_aging(book, as_of, buckets)


@db_settings
@given(books(), st.floats(0, 1))
def test_a_file_imported_in_two_parts_gives_the_same_book(book, cut_share):
    txns = txn_rows(book)
    cut = int(len(txns) * cut_share)
    with tempfile.TemporaryDirectory() as tmp, fresh_book():
        book_import(write_book(Path(tmp) / "first", book, txns[:cut]))
        book_import(write_book(Path(tmp) / "second", book, txns[cut:]))
        for as_of in probe_dates(book):
            assert actual_aging(as_of, Buckets()) == expected_aging(book, as_of, Buckets())


@db_settings
@given(books())
def test_import_export_import_is_a_no_op(book):
    with tempfile.TemporaryDirectory() as tmp, fresh_book():
        source = write_book(Path(tmp) / "in", book, txn_rows(book))
        book_import(source)
        book_export(Path(tmp) / "out")
        allocations = sorted(
            Allocation.objects.values_list(
                "charge__txn_id", "source__txn_id", "amount", "made_on", "undone_on"
            )
        )
        again = book_import(Path(tmp) / "out")
        assert not again.changed
        assert Transaction.objects.count() == sum(len(entries) for entries in book)
        assert (
            sorted(
                Allocation.objects.values_list(
                    "charge__txn_id", "source__txn_id", "amount", "made_on", "undone_on"
                )
            )
            == allocations
        )
        with (Path(tmp) / "out" / "transactions.csv").open() as f:
            exported = list(csv.DictReader(f))
        assert exported == txn_rows(book)


def test_a_back_dated_entry_replays_its_own_account_only(tmp_path):
    # given alice's and bob's accounts, each with a charge and a payment
    first = [
        {
            "txn_id": "c1",
            "account_id": "A0",
            "posted": "2026-01-01",
            "type": "charge",
            "amount": "100.00",
            "code": "RENT",
            "due": "2026-01-01",
        },
        {
            "txn_id": "c2",
            "account_id": "A1",
            "posted": "2026-01-01",
            "type": "charge",
            "amount": "100.00",
            "code": "RENT",
            "due": "2026-01-01",
        },
        {
            "txn_id": "p1",
            "account_id": "A0",
            "posted": "2026-02-01",
            "type": "payment",
            "amount": "100.00",
        },
        {
            "txn_id": "p2",
            "account_id": "A1",
            "posted": "2026-02-01",
            "type": "payment",
            "amount": "100.00",
        },
    ]
    book_import(write_book(tmp_path / "one", [[], []], first))
    bobs = list(Allocation.objects.filter(account__account_id="A1").values_list("id", flat=True))
    # when a late fee for alice posted back in January arrives
    late = [
        {
            "txn_id": "f1",
            "account_id": "A0",
            "posted": "2026-01-10",
            "type": "charge",
            "amount": "50.00",
            "code": "LATE",
            "due": "2026-01-10",
        }
    ]
    summary = book_import(write_book(tmp_path / "two", [[], []], late))
    # then only alice's account was replayed: bob's allocation rows are the very same rows
    assert summary.accounts_replayed == 1
    assert (
        list(Allocation.objects.filter(account__account_id="A1").values_list("id", flat=True))
        == bobs
    )
    # and the February payment now pays the rent, leaving the fee open from January 10
    (report,) = aging_report(as_of=date(2026, 2, 15))
    (alice,) = [r for r in report.rows if r.key["account_id"] == "A0"]
    assert alice.line.balance == Decimal("50.00")
    assert alice.line.buckets[2] == Decimal("50.00")  # 36 days past due: 31-60
