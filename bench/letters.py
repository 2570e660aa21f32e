"""Benchmark of the letters batch: one-page letters per second, rendered in parallel processes.

    .venv/bin/python bench/letters.py                   # 500 letters, 2 worker processes
    .venv/bin/python bench/letters.py --letters 10000   # the issue's 10,000 notices
    .venv/bin/python bench/letters.py --workers 1       # in one process, for comparison
    .venv/bin/python bench/letters.py --count 10000 --broker redis://127.0.0.1:6379/13
        # the same batch in-process, then through 1 and 2 Celery worker processes
    .venv/bin/python bench/letters.py --count 10000 --broker redis://127.0.0.1:6379/13 --modes 2
        # through 2 worker processes only

In a fresh SQLite database (a temporary folder, with its own archive), it imports a book of N
one-tenant New York leases whose rent is past its five days of grace (one tenant in five reads
Spanish; every tenant also owes last month's late fee, so each letter itemizes two charges), runs
the daily run for that day (which queues N certified late notices, RPL §235-e(d)), then times
`letters_print(...)`, the service the CLI, the page and the API call: checking every letter
again as of the day and dating it, rendering every letter (HTML by Django templates in the main
process, PDF by WeasyPrint in the worker processes), archiving each with its SHA-256, the
timeline rows, the per-letter files, the merged print file and the manifest (both archived).

With --broker, the book as the run left it is copied before the batch, and the batch is timed
three times on a copy each (and an empty archive): in-process (`--workers` rendering processes),
then through `arrears worker --concurrency 1` and `--concurrency 2` (a queue of the bench's own;
each worker's start is not timed): the letters' chunks are Celery tasks (`arrears.letters_chunk`)
and the batch's process writes the print file and manifest once they are all rendered.
Results go to bench/results-letters-<N>-broker.json.

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
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


def _prepare(args: argparse.Namespace, on: dt.date, folder: Path) -> None:
    """Django set up on a fresh SQLite book in `folder`; the book imported and the day run."""
    common.django_here(f"sqlite:///{folder / 'bench.sqlite3'}", folder / "archive")
    from django.test import override_settings

    from arrears.correspondence.models import Outbound
    from arrears.dunning.services import cycle_run
    from arrears.ledger.services import book_import

    (folder / "book").mkdir()
    write_book(folder / "book", args.letters, on)
    book_import(folder / "book")
    with override_settings(CELERY_BROKER_URL=""):  # the run in-process: only the batch is timed
        cycle_run(on=on)
    queued = Outbound.objects.filter(channel="certified_letter", status="queued").count()
    print(f"{queued} letters queued by the run of {on.isoformat()}", flush=True)


def _batch(
    args: argparse.Namespace, on: dt.date, folder: Path, pids: Callable[[], list[int]]
) -> dict:
    """Time the letters batch with memory sampled as it goes (of this process and of the
    processes `pids` names); its figures."""
    from arrears.dunning.reissue import letters_print

    samples: list[dict[str, float]] = []
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        samples.append(
            {
                "done": done,
                "seconds": round(time.perf_counter() - started, 2),
                "main_mb": round(rss_mb(os.getpid()), 1),
                "workers_mb": round(sum(rss_mb(pid) for pid in pids()), 1),
            }
        )

    cpu_before = _cpu(pids())
    result = letters_print(
        on=on, output=folder / "print", actor="bench", workers=args.workers, progress=progress
    )
    total = time.perf_counter() - started
    return {
        "total": total,
        "samples": samples,
        "main_after_merge": round(rss_mb(os.getpid()), 1),
        "workers_cpu_seconds": _cpu(pids()) - cpu_before,
        "main_cpu": resource.getrusage(resource.RUSAGE_SELF),
        "rendered": samples[-1]["seconds"] if samples else total,
        "count": len(result.letters),
        "print_size": result.print_file.stat().st_size if result.print_file else 0,
        "load": os.getloadavg(),
    }


def _pool() -> list[int]:
    return [p.pid for p in multiprocessing.active_children() if p.pid]


def _cpu(pids: list[int]) -> float:
    """CPU seconds (user and system) of the processes `pids` and their children waited for;
    for the in-process pool, of this process's children waited for."""
    if not pids or pids == _pool():
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return children.ru_utime + children.ru_stime
    ticks = os.sysconf("SC_CLK_TCK")
    seconds = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds += sum(int(x) for x in fields[11:15]) / ticks  # utime stime cutime cstime
    return seconds


def _tree(pid: int) -> list[int]:
    """`pid` and its descendants (a Celery worker and its pool processes)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    found = [pid]
    if children.exists():
        for child in children.read_text().split():
            found.extend(_tree(int(child)))
    return found


def _through_broker(args: argparse.Namespace, on: dt.date, folder: Path) -> dict[str, dict]:
    """The same batch in-process (args.workers processes) and through 1 and 2 Celery worker
    processes (`arrears worker --concurrency N`), each on a copy of the book as the run left it
    and an empty archive; the figures of each."""
    from django.db import connections
    from django.test import override_settings

    from arrears.core.broker import workers_answering

    base = folder / "bench.sqlite3"
    connections.close_all()
    with sqlite3.connect(base) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    runs: dict[str, dict] = {}
    for mode in args.modes:
        # A copy of its own (a file replaced under SQLite's write-ahead log would not be read
        # as written), which this process and the workers open.
        db = folder / f"batch-{mode}.sqlite3"
        shutil.copyfile(base, db)
        connections.close_all()
        connections["default"].settings_dict["NAME"] = str(db)
        for extra in (folder / "archive", folder / "print"):
            shutil.rmtree(extra, ignore_errors=True)
        if mode == "in_process":
            with override_settings(CELERY_BROKER_URL=""):
                runs["in_process"] = _batch(args, on, folder, _pool)
            continue
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}"}
        log = (folder / f"worker{mode}.log").open("wb")
        worker = subprocess.Popen(
            [*common.arrears_cmd(), "worker", "--concurrency", str(mode)],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=log,
        )
        try:
            while not workers_answering():  # the worker's start is not the batch's time
                time.sleep(0.5)
            time.sleep(2)  # its pool processes up
            runs[f"workers_{mode}"] = _batch(
                args, on, folder, lambda pid=worker.pid: _tree(pid)[1:]
            )
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=120)
    return runs


def _figures(args: argparse.Namespace, b: dict, workers: Any) -> dict:
    """The results JSON: rates, CPU per letter, memory at a tenth and at the end, the verdict."""
    samples, total, rendered, count = b["samples"], b["total"], b["rendered"], b["count"]
    main_cpu = b["main_cpu"]
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
        "letters": count,
        "workers": workers,
        "batch_seconds": round(total, 2),
        "letters_per_second": round(count / total, 1),
        "render_seconds": rendered,
        "render_letters_per_second": round(count / rendered, 1) if rendered else None,
        "merge_and_manifest_seconds": round(total - rendered, 2),
        "workers_cpu_ms_per_letter": round(1000 * b["workers_cpu_seconds"] / max(count, 1), 1),
        "main_cpu_seconds_whole_script": round(main_cpu.ru_utime + main_cpu.ru_stime, 1),
        "print_file_mb": round(b["print_size"] / 1e6, 1),
        "memory_at_10_percent": samples[max(0, len(samples) // 10 - 1)] if samples else {},
        "memory_at_end_of_rendering": samples[-1] if samples else {},
        "main_mb_after_merge_and_manifest": b["main_after_merge"],
        "load_average_at_end": [round(x, 2) for x in b["load"]],
        "samples": samples[:: max(1, len(samples) // 20)],
        "target_letters_per_second": TARGET_PER_S,
        "result": "pass" if count / total >= TARGET_PER_S else "FAIL",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--letters", "--count", type=int, default=500, dest="letters")
    parser.add_argument(
        "--workers", type=int, default=2, help="rendering processes of the in-process batch"
    )
    parser.add_argument("--date", default="2026-03-07", help="the run's and the letters' date")
    parser.add_argument(
        "--broker",
        help="a redis:// or amqp:// URL: also time the batch through 1 and 2 Celery worker "
        "processes (`arrears worker`), beside the in-process batch",
    )
    parser.add_argument(
        "--modes",
        default="in_process,1,2",
        help="with --broker, which batches to time, in order: in_process and the counts of "
        "worker processes (default in_process,1,2; `--modes 2` for 10,000 through 2 only)",
    )
    args = parser.parse_args()
    args.modes = [m if m == "in_process" else int(m) for m in args.modes.split(",")]
    on = dt.date.fromisoformat(args.date)
    if args.broker:
        # Before Django is set up: the book's Celery app reads them once.
        os.environ["CELERY_BROKER_URL"] = args.broker
        os.environ["CELERY_QUEUE"] = f"arrears-bench-letters-{uuid.uuid4().hex[:10]}"
    with tempfile.TemporaryDirectory(prefix="arrears-letters-bench-") as tmp:
        folder = Path(tmp)
        _prepare(args, on, folder)
        if args.broker:
            runs = _through_broker(args, on, folder)
        else:
            runs = {"in_process": _batch(args, on, folder, _pool)}
    results = {}
    for mode, batch in runs.items():
        workers = f"{args.workers} (in-process)" if mode == "in_process" else mode
        figures = _figures(args, batch, args.workers if not args.broker else workers)
        results[mode] = figures
        total, rendered, count = batch["total"], batch["rendered"], batch["count"]
        tenth, last = figures["memory_at_10_percent"], figures["memory_at_end_of_rendering"]
        print(json.dumps({k: v for k, v in figures.items() if k != "samples"}, indent=1))
        print(
            f"| {count} letters, {workers} | {total:.1f} s | {count / total:.1f}/s | "
            f"{rendered:.1f} s ({count / rendered:.1f}/s) | {total - rendered:.1f} s | "
            f"{tenth.get('main_mb')} → {last.get('main_mb')} MB main, "
            f"{tenth.get('workers_mb')} → {last.get('workers_mb')} MB workers | "
            f"{figures['result']} |",
            flush=True,
        )
    count = next(iter(runs.values()))["count"]
    if args.broker:
        out = ROOT / "bench" / f"results-letters-{count}-broker.json"
        doc: dict = {"broker": args.broker.split("@")[-1].split("://")[0], **results}
    else:
        out = ROOT / "bench" / f"results-letters-{count}.json"
        doc = results["in_process"]
    out.write_text(json.dumps(doc, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
