"""Benchmark of the book: import, aging as of today and as of a year back, each beside its floor.

    .venv/bin/python bench/book.py            # 10k accounts / ~1M transactions, both databases
    .venv/bin/python bench/book.py --large    # 100k accounts / ~10M transactions
    .venv/bin/python bench/book.py --accounts 200 --transactions 20000 --db sqlite  # smoke run

For each database (SQLite in a new file in a temporary directory; PostgreSQL as a freshly created
database `arrears_bench`, or `--pg-db NAME`, on postgres://postgres@127.0.0.1:5432/) it runs the
project's CLI as child processes (`arrears init`, `arrears import BOOK`, `arrears aging ...`),
then times the aging selector in-process (in a child process per database, since Django reads
its settings once), and measures the floor on the same database and the same data:

- import: PostgreSQL's `COPY` of the same transactions.csv into a bare table without indexes or
  constraints; on SQLite (which has no COPY) an `executemany` of the same CSV rows into a bare table
  in one transaction;
- aging: a bare `SELECT account_id, SUM(amount) FROM ledger_transaction GROUP BY account_id`.

Each figure is printed beside its floor as a ratio, with the targets of the issue:
import >= 50,000 transactions/s on PostgreSQL or within 5x of COPY; peak memory of the import
under 1 GB (stated for 10M transactions); aging as of today under 1 s on PostgreSQL (stated for
10M transactions); aging as of a past date within 2x the bare GROUP BY on the same database.

Books are generated deterministically from `--seed` and `--today` and cached under bench/.cache/.
Results go to bench/results-<size>.json; a Markdown table for bench/README.md is printed at the end.
Only the standard library, psycopg and the project's pure generator (arrears.demo.generator) are
used (Django only inside the in-process timing child). The floors and the in-process timing are in
bench/book_measure.py, the checks and tables in bench/book_report.py, what the benchmarks share in
bench/common.py.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sqlite3
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from book_measure import (
    REPEAT,
    measure_aging_main,
    measure_in_process,
    pg_copy_floor,
    sqlite_insert_floor,
)
from book_report import AGINGS, checks, markdown, report_rows
from common import (
    BENCH,
    PG_ADMIN_URL,
    PG_HOST,
    PG_PORT,
    ROOT,
    StepFailedError,
    add_book_arguments,
    arrears_cmd,
    book_size,
    cached_book,
    databases,
    exit_status,
    human,
    machine,
    pg_reachable,
    pg_server_version,
    run_child,
    table,
)

PG_BENCH_DB = "arrears_bench"  # the default of --pg-db


def pg_url(name: str) -> str:
    return f"postgres://postgres@{PG_HOST}:{PG_PORT}/{name}"


def pg_fresh_database(name: str) -> None:
    """Drop and create the PostgreSQL database of this benchmark."""
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")


@dataclass
class _Run:
    """One database's run: its work folder, its children's environment, its results so far."""

    db: str
    workdir: Path
    env: dict
    res: dict
    cli: list[str]

    def step(self, key: str, name: str, args: list[str]) -> dict:
        """Run `arrears ARGS` as a child, keep its figures as res[key]; raise if it failed."""
        step = self.res[key] = run_child([*self.cli, *args], self.env, self.workdir, name)
        if step["exit"] != 0:
            raise StepFailedError(name, step)
        return step


def _cli_steps(run: _Run, book: Path, n_txns: int, as_ofs: tuple[dt.date, dt.date]) -> None:
    """`arrears init`, `arrears import BOOK` and `arrears aging` as of each date, timed."""
    db = run.db
    print(f"[{db}] arrears init")
    run.step("init", "init", ["init"])
    print(f"[{db}] arrears import {book}")
    step = run.step("import", "import", ["import", str(book)])
    step["transactions"] = n_txns
    step["rate"] = n_txns / step["seconds"]
    print(
        f"[{db}]   {step['seconds']:.1f} s, {step['rate']:,.0f} txn/s, "
        f"peak RSS {step['max_rss_bytes'] / 1e6:,.0f} MB"
    )
    for (label, _), d in zip(AGINGS, as_ofs, strict=True):
        print(f"[{db}] arrears aging --as-of {d}")
        args = ["aging", "--as-of", d.isoformat(), "--format", "json", "--output", os.devnull]
        run.step(f"{label}_cli", label, args)


def _in_process(run: _Run, n_txns: int, as_ofs: tuple[dt.date, dt.date]) -> None:
    """aging_report and the bare GROUP BY timed in a child; a warning if the rows differ."""
    db, res = run.db, run.res
    print(f"[{db}] aging_report in-process and the bare GROUP BY, best of {REPEAT}")
    dates = [(label, d.isoformat()) for (label, _), d in zip(AGINGS, as_ofs, strict=True)]
    inproc = measure_in_process(run.env, run.workdir, dates)
    if "error" in inproc:
        raise StepFailedError("in-process aging", inproc)
    res["in_process"] = inproc
    if inproc.get("ledger_transactions") != n_txns:
        res["warning"] = (
            f"ledger_transaction holds {inproc.get('ledger_transactions')} rows, the book {n_txns}"
        )
        print(f"[{db}]   WARNING: {res['warning']}")


def bench_database(
    db: str, book: Path, n_txns: int, today: dt.date, past: dt.date, keep: bool, pg_db: str
):
    """Every figure of one database, on a new SQLite file or a fresh PostgreSQL database."""
    workdir = Path(tempfile.mkdtemp(prefix=f"arrears-bench-{db}-"))
    res: dict = {"database": db, "workdir": str(workdir)}
    env = dict(os.environ)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    db_path = workdir / "bench.sqlite3"
    if db == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{db_path}"
        res["sqlite_version"] = sqlite3.sqlite_version
    else:
        pg_fresh_database(pg_db)
        env["DATABASE_URL"] = pg_url(pg_db)
    res["database_url"] = env["DATABASE_URL"]
    run = _Run(db, workdir, env, res, arrears_cmd())
    try:
        _cli_steps(run, book, n_txns, (today, past))
        _in_process(run, n_txns, (today, past))
        print(f"[{db}] import floor")
        csv_path = book / "transactions.csv"
        if db == "postgres":
            res["import_floor"] = pg_copy_floor(csv_path, pg_url(pg_db))
        else:
            res["import_floor"] = sqlite_insert_floor(csv_path, db_path)
    except StepFailedError as exc:
        res["failed"] = exc.step
        print(f"[{db}]   FAILED at {exc.step}:\n{exc.detail.get('error', '')}")
    finally:
        if db == "sqlite" and keep:
            print(f"[{db}] kept {db_path} (and the logs of each step beside it)")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return res


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_book_arguments(ap)
    ap.add_argument("--db", default="sqlite,postgres", help="sqlite, postgres or both (default)")
    ap.add_argument("--keep", action="store_true", help="keep the SQLite database file")
    ap.add_argument(
        "--pg-db",
        default=PG_BENCH_DB,
        help=f"the PostgreSQL database, dropped and created afresh (default {PG_BENCH_DB})",
    )
    ap.add_argument("--generate-only", action="store_true", help="generate (cache) the book, stop")
    ap.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    ap.add_argument(
        "--_measure-aging", dest="measure_aging", action="store_true", help=argparse.SUPPRESS
    )
    ap.add_argument("--_as-of", dest="as_ofs", action="append", default=[], help=argparse.SUPPRESS)
    return ap


def _bench(
    dbs: list[str], results: dict, book: Path, summary: dict, keep: bool, pg_db: str
) -> None:
    """Each database's figures and checks into results["databases"] (PostgreSQL unreachable:
    skipped, with the reason)."""
    today, past = (dt.date.fromisoformat(results[k]) for k in ("today", "past"))
    for db in dbs:
        if db == "postgres":
            why = pg_reachable()
            if why:
                print(f"[postgres] skipped: {why}")
                results["databases"][db] = {"skipped": why}
                continue
        res = bench_database(db, book, summary["transactions"], today, past, keep, pg_db)
        if db == "postgres":
            res["server_version"] = pg_server_version()
        res["checks"] = checks(res)
        results["databases"][db] = res


def _report(results: dict, seed: int) -> None:
    """Write the results JSON; print the table and its Markdown."""
    summary, today, past = results["book"], results["today"], results["past"]
    out = BENCH / f"results-{results['size']}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    rows = report_rows(results)
    print()
    print(
        f"Book: {summary['accounts']:,} accounts, {summary['transactions']:,} transactions, "
        f"today {today}, a year back {past}; seed {seed}"
    )
    print(table(rows, markdown=False))
    print(f"\nresults: {out.relative_to(ROOT)}\n\nMarkdown:\n")
    print(markdown(results, rows))
    print()


def main(argv: list[str] | None = None) -> int:
    ap = _parser()
    args = ap.parse_args(argv)
    if args.measure_aging:
        measure_aging_main(args.as_ofs)
        return 0
    accounts_n, txns = book_size(args)
    today = dt.date.fromisoformat(args.today)
    past = today - dt.timedelta(days=365)
    dbs = databases(ap, args.db)
    book, summary = cached_book(accounts_n, txns, args.seed, today)
    print(
        f"book {book}: {summary['accounts']:,} accounts, {summary['transactions']:,} "
        f"transactions over {summary['history_months']} months "
        f"({summary['bytes'] / 1e6:,.0f} MB)"
    )
    if args.generate_only:
        return 0
    results: dict = {
        "size": f"{human(accounts_n)}-{human(txns)}",
        "book": summary,
        "machine": machine(),
        "today": today.isoformat(),
        "past": past.isoformat(),
        "databases": {},
    }
    _bench(dbs, results, book, summary, args.keep, args.pg_db)
    _report(results, args.seed)
    return exit_status(results, args.check)


if __name__ == "__main__":
    sys.exit(main())
