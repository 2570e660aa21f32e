"""Benchmark of the monthly statements: the daily run that queues them, and the letters batch
that prints each cover letter with the statement of account enclosed.

    .venv/bin/python bench/statements.py                 # 200 patient accounts, 2 workers
    .venv/bin/python bench/statements.py --accounts 1000

In a fresh SQLite database (a temporary folder, with its own archive) it imports N patient
accounts, each owing two visits (one past due), runs the daily run of the 1st of the month (the
`patient` policy's `monthly-statement` step queues one letter per account), runs it again (which
must queue nothing), then times `letters_batch(...)`: per letter the cover letter and the
statement, both rendered by the worker processes, the statement archived, the letter with its
enclosure archived, the print file and the manifest. Results go to
bench/results-statements-<N>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import common  # bench/common.py, beside this script

ROOT = Path(__file__).resolve().parent.parent


def write_book(folder: Path, count: int, on: dt.date) -> None:
    first = on - dt.timedelta(days=40)
    second = on - dt.timedelta(days=10)
    parties, accounts, links, txns = [], [], [], []
    for n in range(1, count + 1):
        parties.append(
            {
                "party_id": f"P{n:06d}",
                "name": f"Patient Number {n}",
                "address": f"{n} Clinic Road",
                "city": "Albany",
                "state": "NY",
                "postal_code": "12207",
                "country": "US",
                "language": "es" if n % 5 == 0 else "en",
            }
        )
        accounts.append({"account_id": f"H{n:06d}", "kind": "patient", "opened": "2025-01-01"})
        links.append({"account_id": f"H{n:06d}", "party_id": f"P{n:06d}", "role": "primary"})
        for tag, day, amount in (("V", first, "240.00"), ("P", second, "1180.50")):
            due = day + dt.timedelta(days=30)
            txns.append(
                {
                    "txn_id": f"{tag}{n:06d}",
                    "account_id": f"H{n:06d}",
                    "posted": day.isoformat(),
                    "type": "charge",
                    "code": "VISIT",
                    "amount": amount,
                    "due": due.isoformat(),
                }
            )
    common.write_csv(folder, "parties", parties)
    common.write_csv(folder, "accounts", accounts)
    common.write_csv(folder, "account_parties", links)
    common.write_csv(folder, "transactions", txns)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--date", default="2026-04-01", help="the run's date (a 1st)")
    args = parser.parse_args()
    on = dt.date.fromisoformat(args.date)

    with tempfile.TemporaryDirectory(prefix="arrears-statements-bench-") as tmp:
        folder = Path(tmp)
        common.django_here(f"sqlite:///{folder / 'bench.sqlite3'}", folder / "archive")
        from arrears.correspondence.services import letters_batch
        from arrears.dunning.models import Action
        from arrears.dunning.services import cycle_run
        from arrears.ledger.services import book_import

        (folder / "book").mkdir()
        write_book(folder / "book", args.accounts, on)
        book_import(folder / "book")
        started = time.perf_counter()
        first = cycle_run(on=on)
        run_seconds = time.perf_counter() - started
        again = cycle_run(on=on)
        queued = Action.objects.filter(step="monthly-statement", status="queued").count()
        print(
            f"{queued} monthly statements queued by the run of {on.isoformat()} "
            f"({run_seconds:.2f} s); the second run did {len(again.actions)} actions",
            flush=True,
        )
        started = time.perf_counter()
        result = letters_batch(on=on, output=folder / "print", actor="bench", workers=args.workers)
        total = time.perf_counter() - started
        count = len(result.letters)
    figures = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
        "accounts": args.accounts,
        "run_actions": len(first.actions),
        "run_seconds": round(run_seconds, 2),
        "second_run_actions": len(again.actions),
        "letters": count,
        "workers": args.workers,
        "batch_seconds": round(total, 2),
        "letters_with_statement_per_second": round(count / total, 1) if total else None,
    }
    out = ROOT / "bench" / f"results-statements-{args.accounts}.json"
    out.write_text(json.dumps(figures, indent=1) + "\n")
    print(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
