"""The daily aging snapshots (`reports.snapshots`): every account's line read back for every
day equals the aging computed as of that day, on a book of six months with charges, partial
payments, a reversal, a credit and rent billed ahead; a second build adds nothing; a back-dated
import is rebuilt from its day; the metrics read from snapshots equal those from the book."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from arrears.access.tests.people import cli, write_book
from arrears.access.tests.test_reports import HAND_BOOK, PROPERTIES, _json
from arrears.ledger.models import Account
from arrears.ledger.selectors import aging_report
from arrears.ledger.services import book_import
from arrears.reports.metrics import Period, metrics
from arrears.reports.models import AgingSnapshot, SnapshotDay
from arrears.reports.snapshots import coverage, lines_on, snapshots_build

pytestmark = pytest.mark.django_db

FIRST, LAST = date(2025, 11, 1), date(2026, 4, 30)
ACCOUNTS = ["A-1", "A-2", "A-3", "A-4", "A-5"]


def _generated_book() -> dict[str, list[dict[str, str]]]:
    """Five tenants over six months: rent on the 1st (one billed ahead, due the next 1st),
    payments of part, all or none of it on a random day, a late fee on the 6th for some, one
    payment reversed, one concession credit."""
    rng = random.Random(18)
    txns: list[dict[str, str]] = []

    def add(account: str, posted: date, type_: str, cents: int, **more: str) -> str:
        txn_id = f"{account}-{len(txns)}"
        row = {"txn_id": txn_id, "account_id": account, "posted": posted.isoformat()}
        row |= {"type": type_, "amount": f"{cents / 100:.2f}", "code": more.get("code", "")}
        row |= {"due": more.get("due", ""), "applies_to": "", "reverses": more.get("reverses", "")}
        txns.append(row)
        return txn_id

    month = FIRST
    while month <= LAST:
        for n, account in enumerate(ACCOUNTS):
            rent = 50_000 + 25_000 * n
            due = month
            # A-5 is billed ahead: posted the 25th before, due the 1st
            posted = month - timedelta(days=7) if account == "A-5" else month
            add(account, posted, "charge", rent, code="RENT", due=due.isoformat())
            if rng.random() < 0.4:
                late = month + timedelta(days=5)
                add(account, late, "charge", 5_000, code="LATE", due=late.isoformat())
            share = rng.choice([0, 0.5, 1, 1, 1.5])
            if share:
                paid = month + timedelta(days=rng.randrange(0, 27))
                add(account, paid, "payment", int(rent * share))
        month = (month + timedelta(days=32)).replace(day=1)
    payment = next(t for t in txns if t["type"] == "payment" and t["posted"] > "2026-01-10")
    back = date.fromisoformat(payment["posted"]) + timedelta(days=9)
    add(
        payment["account_id"],
        back,
        "reversal",
        int(float(payment["amount"]) * 100),
        reverses=payment["txn_id"],
    )
    add("A-2", date(2026, 2, 14), "credit", 12_500, code="CONC")
    txns.sort(key=lambda t: t["posted"])
    return {
        "properties": PROPERTIES,
        "parties": [
            {"party_id": f"P-{a}", "name": f"Tenant {a}", "state": "NY", "country": "US"}
            for a in ACCOUNTS
        ],
        "accounts": [
            {
                "account_id": a,
                "property_id": "ELM" if i % 2 == 0 else "OAK",
                "kind": "residential_lease",
                "opened": "2025-10-01",
            }
            for i, a in enumerate(ACCOUNTS)
        ],
        "account_parties": [
            {"account_id": a, "party_id": f"P-{a}", "role": "primary"} for a in ACCOUNTS
        ],
        "transactions": txns,
    }


@pytest.fixture
def generated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, list[dict[str, str]]]:
    monkeypatch.setenv("ARREARS_TODAY", "2026-05-15")
    book = _generated_book()
    book_import(write_book(tmp_path / "generated", book))
    return book


def _aging_cents(day: date) -> dict[str, tuple[int, ...]]:
    out = {}
    for report in aging_report(as_of=day):
        for row in report.rows:
            amounts = (*row.line.buckets, row.line.credit)
            out[row.key["account_id"]] = tuple(int(a * 100) for a in amounts)
    return out


def _snapshot_cents(day: date) -> dict[str, tuple[int, ...]]:
    names = dict(Account.objects.values_list("pk", "account_id"))
    return {names[pk]: line for pk, line in lines_on(day).items()}


def _each_day_equals_the_aging(first: date, last: date) -> None:
    day = first
    while day <= last:
        assert _snapshot_cents(day) == _aging_cents(day), day
        day += timedelta(days=1)


def test_every_day_s_snapshot_is_the_aging_of_that_day(generated: Any) -> None:
    built = snapshots_build(date_from=FIRST, date_to=LAST + timedelta(days=14))
    assert (built.first, built.last) == (FIRST, LAST + timedelta(days=14))
    assert built.days == (LAST - FIRST).days + 15
    # the book is not trivially empty on those days: every bucket is reached
    seen = [_aging_cents(d) for d in (date(2026, 1, 15), date(2026, 3, 28), date(2026, 5, 10))]
    reached = [any(line[k] for lines in seen for line in lines.values()) for k in range(6)]
    assert reached == [True] * 6
    _each_day_equals_the_aging(FIRST, LAST + timedelta(days=14))
    # kept compactly: fewer rows than accounts × days
    assert AgingSnapshot.objects.count() < len(ACCOUNTS) * built.days / 3


def test_a_second_build_adds_nothing_and_a_back_dated_import_rebuilds_from_its_day(
    generated: dict[str, list[dict[str, str]]], tmp_path: Path
) -> None:
    snapshots_build(date_from=FIRST, date_to=LAST)
    rows = list(AgingSnapshot.objects.order_by("account", "day").values_list())
    again = snapshots_build(date_to=LAST)
    assert (again.rebuilt_from, again.days, again.rows) == (None, 0, 0)
    assert list(AgingSnapshot.objects.order_by("account", "day").values_list()) == rows
    # an import brings a payment dated in February, after March was built
    generated["transactions"].append(
        {
            "txn_id": "late-1",
            "account_id": "A-3",
            "posted": "2026-02-03",
            "type": "payment",
            "amount": "300.00",
            "code": "",
            "due": "",
            "applies_to": "",
            "reverses": "",
        }
    )
    book_import(write_book(tmp_path / "later", generated))
    rebuilt = snapshots_build(date_to=LAST)
    assert rebuilt.rebuilt_from == date(2026, 2, 3)
    assert (coverage() or (None,))[0] == FIRST
    assert SnapshotDay.objects.count() == (LAST - FIRST).days + 1
    _each_day_equals_the_aging(date(2026, 1, 25), LAST)
    # and the months' roll sums were rebuilt with them
    period = Period(date(2026, 2, 1), date(2026, 4, 30))
    assert metrics(period=period) == metrics(period=period, from_snapshots=False)


def test_a_build_from_a_later_day_extends_without_a_gap(generated: Any) -> None:
    snapshots_build(date_from=date(2026, 1, 10), date_to=date(2026, 1, 31))
    built = snapshots_build(date_from=date(2026, 3, 5), date_to=date(2026, 3, 31))
    assert built.rebuilt_from == date(2026, 2, 1)
    assert coverage() == (date(2026, 1, 10), date(2026, 3, 31))
    _each_day_equals_the_aging(date(2026, 1, 10), date(2026, 3, 31))


@pytest.mark.parametrize("by", [None, "property"])
@pytest.mark.parametrize(
    ("first", "last"),
    [
        (date(2025, 12, 1), date(2026, 3, 31)),
        (date(2026, 1, 17), date(2026, 4, 9)),
        (date(2026, 2, 1), date(2026, 2, 28)),
    ],
)
def test_the_metrics_from_snapshots_are_the_metrics_from_the_book(
    generated: Any, by: str | None, first: date, last: date
) -> None:
    period = Period(first, last)
    without = metrics(period=period, by=by)
    snapshots_build(date_from=FIRST, date_to=LAST)
    with_snapshots = metrics(period=period, by=by)
    assert with_snapshots == without
    assert with_snapshots == metrics(period=period, by=by, from_snapshots=False)
    assert without[0]["groups"][0]["opening_receivables"] != "0.00"


def test_the_hand_book_s_metrics_from_snapshots_and_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("ARREARS_TODAY", "2026-04-15")
    book_import(write_book(tmp_path / "hand", HAND_BOOK))
    words = ("report", "metrics", "--from", "2026-02-01", "--to", "2026-03-31", "--format", "json")
    before = _json(capsys, *words)
    code, out, err = cli(capsys, "report", "snapshots", "build", "--from", "2025-12-01")
    assert code == 0, err
    assert "2025-12-01" in out
    assert "2026-04-15" in out
    assert coverage() == (date(2025, 12, 1), date(2026, 4, 15))
    assert _json(capsys, *words) == before
    assert before["groups"][0]["roll_rates"]["current->1-30"] == "0.8400"


def test_the_daily_run_builds_the_day_s_snapshot_at_its_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("ARREARS_TODAY", "2026-04-15")
    book_import(write_book(tmp_path / "hand", HAND_BOOK))
    code, _out, err = cli(capsys, "run", "--date", "2026-04-15", "--snapshots")
    assert code == 0, err
    # with none built, the run's day alone (the past is built by `report snapshots build`)
    assert coverage() == (date(2026, 4, 15), date(2026, 4, 15))
    assert _snapshot_cents(date(2026, 4, 15)) == _aging_cents(date(2026, 4, 15))
    code, _out, err = cli(capsys, "run", "--date", "2026-04-16", "--dry-run", "--snapshots")
    assert code == 0, err
    assert coverage() == (date(2026, 4, 15), date(2026, 4, 15))  # a dry run changes nothing
    # and, the next day, a run without --snapshots builds none; the next one with it builds the
    # next days
    monkeypatch.setenv("ARREARS_TODAY", "2026-04-16")
    code, _out, err = cli(capsys, "run", "--date", "2026-04-16")
    assert code == 0, err
    assert coverage() == (date(2026, 4, 15), date(2026, 4, 15))
    code, _out, err = cli(capsys, "run", "--date", "2026-04-16", "--snapshots")
    assert code == 0, err
    assert coverage() == (date(2026, 4, 15), date(2026, 4, 16))
    assert _snapshot_cents(date(2026, 4, 16)) == _aging_cents(date(2026, 4, 16))
