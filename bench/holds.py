"""Benchmark of the holds the daily run derives from plans, promises and disputes.

    .venv/bin/python bench/holds.py                      # 5k accounts / 300k transactions, SQLite
    .venv/bin/python bench/holds.py --accounts 2000 --transactions 100000 --share 0.2

On a fresh SQLite file it imports bench/cycle.py's NY/CA book (generated and cached by
bench/book.py), then times, in-process:

1. `derived_holds` over every chunk of the run (2,000 accounts each) with no plan, promise or
   dispute in the book, and the number of SQL queries it sends per chunk;
2. the same after giving `--share` of the accounts with open items a plan, another share a promise
   and another a dispute on their oldest open charge (through the services, as a coordinator
   would), spread over every chunk;
3. the dry run (`cycle_run(dry_run=True)`) before and after, and the refusals it reports by rule.

It prints a table and the Markdown for the README.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common
import cycle_setup


def _time_holds(chunks: list[list[int]], run_on: date) -> tuple[float, float]:
    """derived_holds over every chunk: seconds in all, SQL queries per chunk."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from arrears.dunning.derived import derived_holds

    queries = 0
    started = time.perf_counter()
    for chunk in chunks:
        with CaptureQueriesContext(connection) as captured:
            derived_holds(chunk, run_on)
        queries += len(captured)
    return time.perf_counter() - started, queries / len(chunks)


def _time_dry_run(run_on: date) -> tuple[float, Counter[str]]:
    """The dry run: seconds, and its refusals by rule."""
    from arrears.dunning.services import cycle_run

    started = time.perf_counter()
    result = cycle_run(on=run_on, dry_run=True)
    return time.perf_counter() - started, Counter(b["rule"] for b in result.blocked)


def _commit(n: int, account_id: str, charge: str, today: date, run_on: date) -> str:
    """A plan, a promise or a dispute (in turn, by `n`) for the account; returns which."""
    from arrears.disputes.services import dispute_open
    from arrears.dunning.commitments import plan_create
    from arrears.plans.services import promise_add

    if n % 3 == 0:
        plan_create(account_id=account_id, on=today, actor="bench", start=run_on, installments=3)
        return "plans"
    if n % 3 == 1:
        promise_add(
            account_id=account_id,
            amount=Decimal("100.00"),
            promised_on=run_on,
            on=today,
            actor="bench",
        )
        return "promises"
    dispute_open(account_id=account_id, charges=[charge], reason="bench", on=today, actor="bench")
    return "disputes"


def _commitments(items, pks: list[int], share: float, today: date, run_on: date):
    """Plans, promises and disputes for `share` of the accounts each, through the services:
    how many of each were made, and the seconds the services took."""
    from arrears.core.errors import DomainError
    from arrears.ledger.models import Account

    per = int(len(pks) * share)
    oldest: dict[int, str] = {}
    for item in items:
        if not item.is_credit:
            oldest.setdefault(item.account_pk, item.txn_id)
    # Accounts with an open charge, spread over every chunk.
    stride = max(1, round(1 / (3 * share)))
    targets = sorted(oldest)[::stride][: 3 * per]
    ids = dict(Account.objects.filter(pk__in=targets).values_list("pk", "account_id"))
    started = time.perf_counter()
    made: Counter[str] = Counter()
    for n, pk in enumerate(targets):
        try:
            made[_commit(n, ids[pk], oldest[pk], today, run_on)] += 1
        except DomainError as exc:  # an account with nothing to plan is skipped
            made[f"skipped ({type(exc).__name__})"] += 1
    return made, time.perf_counter() - started


def _print(rows: list[tuple[str, str]], args: argparse.Namespace, run_on: date) -> None:
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:{width}}  {v}")
    print(
        f"\n**{args.accounts:,} accounts, {args.transactions:,} transactions** (SQLite, run date "
        f"{run_on}):\n"
    )
    print("| figure | value |\n| --- | --- |")
    for k, v in rows:
        print(f"| {k} | {v} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--accounts", type=int, default=5000)
    ap.add_argument("--transactions", type=int, default=300_000)
    ap.add_argument("--share", type=float, default=0.1, help="of accounts with open items, each")
    args = ap.parse_args()
    today = date(2026, 11, 1)
    source, _ = common.cached_book(args.accounts, args.transactions, 1, today)
    folder = cycle_setup.cycle_book(source)
    tmp = Path(tempfile.mkdtemp(prefix="arrears-holds-"))
    os.environ["ARREARS_TODAY"] = today.isoformat()
    common.django_here(f"sqlite:///{tmp / 'holds.sqlite3'}", tmp / "archive")
    from arrears.dunning.services import CHUNK
    from arrears.ledger.selectors import open_items_as_of
    from arrears.ledger.services import book_import

    started = time.perf_counter()
    book_import(folder)
    print(f"imported {folder.name} in {time.perf_counter() - started:.1f} s")
    run_on = today + timedelta(days=5)
    items = open_items_as_of(as_of=run_on)
    pks = sorted({i.account_pk for i in items})
    chunks = [pks[i : i + CHUNK] for i in range(0, len(pks), CHUNK)]
    empty_s, empty_q = _time_holds(chunks, run_on)
    dry_before, _ = _time_dry_run(run_on)
    made, setup_s = _commitments(items, pks, args.share, today, run_on)
    full_s, full_q = _time_holds(chunks, run_on)
    dry_after, rules = _time_dry_run(run_on)
    rows = [
        ("accounts with open items / chunks", f"{len(pks):,} / {len(chunks)}"),
        (
            "derived_holds, no plan, promise or dispute",
            f"{empty_s:.3f} s in all, {empty_q:.1f} queries per chunk",
        ),
        (
            "commitments made (services)",
            ", ".join(f"{k} {v:,}" for k, v in sorted(made.items())) + f" in {setup_s:.1f} s",
        ),
        ("derived_holds, with them", f"{full_s:.3f} s in all, {full_q:.1f} queries per chunk"),
        ("dry run before / after", f"{dry_before:.2f} s / {dry_after:.2f} s"),
        ("refused after, by rule", ", ".join(f"{k} {v:,}" for k, v in rules.most_common())),
    ]
    _print(rows, args, run_on)


if __name__ == "__main__":
    main()
