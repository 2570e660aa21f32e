"""Benchmark of the letters batch: one-page letters per second, rendered in parallel processes.

    .venv/bin/python bench/letters.py                   # 500 letters, 2 worker processes
    .venv/bin/python bench/letters.py --letters 10000   # the issue's 10,000 notices
    .venv/bin/python bench/letters.py --workers 1       # in one process, for comparison

In a fresh SQLite database (a temporary folder, with its own archive), it imports a book of N
one-tenant New York leases whose rent is past its five days of grace (one tenant in five reads
Spanish; every tenant also owes last month's late fee, so each letter itemizes two charges), runs
the daily run for that day (which queues N certified late notices, RPL §235-e(d)), then times
`letters_print(...)`, the service the CLI, the page and the API call: checking every letter
again as of the day and dating it, rendering every letter (HTML by Django templates in the main
process, PDF by WeasyPrint in the worker processes), archiving each with its SHA-256, the
timeline rows, the per-letter files, the merged print file and the manifest (both archived).

Memory is sampled as the batch goes (resident set of the main process and of the workers), to
show it stays flat. Target of the issue: at least 20 letters per second on this 2-core machine
(10,000 notices in under 9 minutes), memory flat. Results go to bench/results-letters-<N>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import common  # bench/common.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
TARGET_PER_S = 20.0


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


PROPERTY = {
    "property_id": "BENCH",
    "name": "Bench Court",
    "address": "500 Atlantic Avenue",
    "city": "Brooklyn",
    "state": "NY",
    "postal_code": "11217",
    "country": "US",
}


def _charge(n: int, prefix: str, code: str, amount: str, on: dt.date) -> dict[str, str]:
    return {
        "txn_id": f"{prefix}{n:06d}",
        "account_id": f"A{n:06d}",
        "posted": on.isoformat(),
        "type": "charge",
        "code": code,
        "amount": amount,
        "due": on.isoformat(),
    }


def write_book(folder: Path, count: int, on: dt.date) -> None:
    # Due on the 1st, the late notice comes the day after five days of grace (RPL §235-e(d) as
    # counted by GCL §§20, 25-a): with the default date, rent due Sunday March 1 and a Friday
    # last day, the run of March 7 queues them.
    due = on - dt.timedelta(days=6)
    last = (due.replace(day=1) - dt.timedelta(days=1)).replace(day=6)

    common.write_csv(folder, "properties", [PROPERTY])
    parties, accounts, links, txns = [], [], [], []
    for n in range(1, count + 1):
        parties.append(
            {
                "party_id": f"P{n:06d}",
                "name": f"Tenant Number {n}",
                "address": f"500 Atlantic Avenue, Apt {n}",
                "city": "Brooklyn",
                "state": "NY",
                "postal_code": "11217",
                "country": "US",
                "language": "es" if n % 5 == 0 else "en",
            }
        )
        accounts.append(
            {
                "account_id": f"A{n:06d}",
                "property_id": "BENCH",
                "unit": str(n),
                "kind": "residential_lease",
                "opened": "2024-01-01",
                "rent": "1850.00",
            }
        )
        links.append({"account_id": f"A{n:06d}", "party_id": f"P{n:06d}", "role": "primary"})
        txns.append(_charge(n, "L", "LATE", "50.00", last))
        txns.append(_charge(n, "R", "RENT", "1850.00", due))
    common.write_csv(folder, "parties", parties)
    common.write_csv(folder, "accounts", accounts)
    common.write_csv(folder, "account_parties", links)
    common.write_csv(folder, "transactions", txns)


def _batch(args: argparse.Namespace, on: dt.date) -> dict:
    """Import the book and run the day in a fresh database, then time the letters batch with
    memory sampled as it goes; its figures."""
    with tempfile.TemporaryDirectory(prefix="arrears-letters-bench-") as tmp:
        folder = Path(tmp)
        common.django_here(f"sqlite:///{folder / 'bench.sqlite3'}", folder / "archive")
        from arrears.correspondence.models import Outbound
        from arrears.dunning.reissue import letters_print
        from arrears.dunning.services import cycle_run
        from arrears.ledger.services import book_import

        (folder / "book").mkdir()
        write_book(folder / "book", args.letters, on)
        book_import(folder / "book")
        cycle_run(on=on)
        queued = Outbound.objects.filter(channel="certified_letter", status="queued").count()
        print(f"{queued} letters queued by the run of {on.isoformat()}", flush=True)

        samples: list[dict[str, float]] = []
        started = time.perf_counter()

        def progress(done: int, total: int) -> None:
            workers = sum(rss_mb(p.pid) for p in multiprocessing.active_children() if p.pid)
            samples.append(
                {
                    "done": done,
                    "seconds": round(time.perf_counter() - started, 2),
                    "main_mb": round(rss_mb(os.getpid()), 1),
                    "workers_mb": round(workers, 1),
                }
            )

        result = letters_print(
            on=on, output=folder / "print", actor="bench", workers=args.workers, progress=progress
        )
        total = time.perf_counter() - started
        return {
            "total": total,
            "samples": samples,
            "main_after_merge": round(rss_mb(os.getpid()), 1),
            "workers_cpu": resource.getrusage(resource.RUSAGE_CHILDREN),
            "main_cpu": resource.getrusage(resource.RUSAGE_SELF),
            "rendered": samples[-1]["seconds"] if samples else total,
            "count": len(result.letters),
            "print_size": result.print_file.stat().st_size if result.print_file else 0,
        }


def _figures(args: argparse.Namespace, b: dict) -> dict:
    """The results JSON: rates, CPU per letter, memory at a tenth and at the end, the verdict."""
    samples, total, rendered, count = b["samples"], b["total"], b["rendered"], b["count"]
    workers_cpu, main_cpu = b["workers_cpu"], b["main_cpu"]
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
        "letters": count,
        "workers": args.workers,
        "batch_seconds": round(total, 2),
        "letters_per_second": round(count / total, 1),
        "render_seconds": rendered,
        "render_letters_per_second": round(count / rendered, 1) if rendered else None,
        "merge_and_manifest_seconds": round(total - rendered, 2),
        "workers_cpu_ms_per_letter": round(
            1000 * (workers_cpu.ru_utime + workers_cpu.ru_stime) / max(count, 1), 1
        ),
        "main_cpu_seconds_whole_script": round(main_cpu.ru_utime + main_cpu.ru_stime, 1),
        "print_file_mb": round(b["print_size"] / 1e6, 1),
        "memory_at_10_percent": samples[max(0, len(samples) // 10 - 1)] if samples else {},
        "memory_at_end_of_rendering": samples[-1] if samples else {},
        "main_mb_after_merge_and_manifest": b["main_after_merge"],
        "load_average_at_end": os.getloadavg(),
        "samples": samples[:: max(1, len(samples) // 20)],
        "target_letters_per_second": TARGET_PER_S,
        "result": "pass" if count / total >= TARGET_PER_S else "FAIL",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--letters", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--date", default="2026-03-07", help="the run's and the letters' date")
    args = parser.parse_args()
    on = dt.date.fromisoformat(args.date)
    batch = _batch(args, on)
    figures = _figures(args, batch)
    total, rendered, count = batch["total"], batch["rendered"], batch["count"]
    tenth, last = figures["memory_at_10_percent"], figures["memory_at_end_of_rendering"]
    out = ROOT / "bench" / f"results-letters-{count}.json"
    out.write_text(json.dumps(figures, indent=1) + "\n")
    print(json.dumps({k: v for k, v in figures.items() if k != "samples"}, indent=1))
    print(
        f"| {count} letters, {args.workers} workers | {total:.1f} s | {count / total:.1f}/s | "
        f"{rendered:.1f} s ({count / rendered:.1f}/s) | {total - rendered:.1f} s | "
        f"{tenth.get('main_mb')} → {last.get('main_mb')} MB main, "
        f"{tenth.get('workers_mb')} → {last.get('workers_mb')} MB workers | "
        f"{figures['result']} |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
