"""The measurements of bench/book.py beside the CLI's wall times: the floors of the import (COPY
on PostgreSQL, executemany on SQLite, into a bare table) and the aging timed in-process.

The in-process timing runs in a child (`book.py --_measure-aging`, with the database's
environment), since Django reads its settings once per process: `measure_in_process` starts it,
`measure_aging_main` is what it runs and prints as JSON on its last line.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import sqlite3
import sys
import time
from pathlib import Path

from common import BENCH, ROOT, last_json_line, run_child

GROUP_BY_SQL = "SELECT account_id, SUM(amount) FROM ledger_transaction GROUP BY account_id"
REPEAT = 3  # best of


def _csv_header(path: Path) -> list[str]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return next(csv.reader(f))


def _bare_table_sql(cols: list[str]) -> str:
    types = {"posted": "date", "due": "date", "amount": "numeric"}
    return "CREATE TABLE bare_txn (" + ", ".join(f"{c} {types.get(c, 'text')}" for c in cols) + ")"


def pg_copy_floor(csv_path: Path, dsn: str) -> dict:
    """COPY the transactions CSV into a bare table (no index, no constraint): the import floor."""
    import psycopg

    cols = _csv_header(csv_path)
    with psycopg.connect(dsn) as conn:
        conn.execute("DROP TABLE IF EXISTS bare_txn")
        conn.execute(_bare_table_sql(cols))
        conn.commit()
        t0 = time.perf_counter()
        with (
            conn.cursor() as cur,
            cur.copy(
                f"COPY bare_txn ({', '.join(cols)}) FROM STDIN WITH (FORMAT csv, HEADER true)"
            ) as copy,
            open(csv_path, "rb") as f,
        ):
            while block := f.read(1 << 20):
                copy.write(block)
        conn.commit()
        seconds = time.perf_counter() - t0
        rows = conn.execute("SELECT count(*) FROM bare_txn").fetchone()[0]
        conn.execute("DROP TABLE bare_txn")
        conn.commit()
    return {"method": "COPY FROM STDIN (csv) into a bare table", "seconds": seconds, "rows": rows}


def sqlite_insert_floor(csv_path: Path, db_path: Path) -> dict:
    """SQLite has no COPY: executemany of the same CSV rows into a bare table, one transaction."""
    cols = _csv_header(csv_path)
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        # the pragmas of config.settings, so the floor writes like the importer does
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("DROP TABLE IF EXISTS bare_txn")
        conn.execute(_bare_table_sql(cols))
        sql = f"INSERT INTO bare_txn ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        t0 = time.perf_counter()
        with open(csv_path, encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f)
            next(reader)
            conn.execute("BEGIN")
            conn.executemany(sql, reader)
            conn.execute("COMMIT")
        seconds = time.perf_counter() - t0
        rows = conn.execute("SELECT count(*) FROM bare_txn").fetchone()[0]
        conn.execute("DROP TABLE bare_txn")
    finally:
        conn.close()
    return {
        "method": "executemany into a bare table, one transaction",
        "seconds": seconds,
        "rows": rows,
    }


def measure_in_process(env: dict, workdir: Path, as_ofs: list[tuple[str, str]]) -> dict:
    """Run book.py's --_measure-aging mode in a child with the database's environment."""
    args = [sys.executable, str(BENCH / "book.py"), "--_measure-aging"]
    for label, d in as_ofs:
        args += ["--_as-of", f"{label}={d}"]
    res = run_child(args, env, workdir, "measure")
    if res["exit"] != 0:
        return {"error": res.get("error", "")}
    return last_json_line(workdir / "measure.out")


def _materialize(result) -> int | None:
    """Force a lazy result (a queryset, a generator) and count its lines where it can."""
    if isinstance(result, (str, bytes, dict)) or not hasattr(result, "__iter__"):
        return None
    items = result if isinstance(result, (list, tuple)) else list(result)
    if all(isinstance(getattr(r, "rows", None), list) for r in items):
        return sum(len(r.rows) for r in items)  # a list of reports, one per currency
    return len(items)


def _report_balance(result) -> str | None:
    """The total balance of an aging result (its reports' totals), if it has that shape."""
    try:
        return f"{sum(r.totals.balance for r in result):.2f}"
    except (AttributeError, TypeError):
        return None


def _book_balance(as_of: dt.date) -> str | None:
    """Charges - payments - credits + reversals posted on or before `as_of`, through the ORM."""
    from django.db.models import Q, Sum

    from arrears.ledger.models import Transaction

    try:
        agg = Transaction.objects.filter(posted_on__lte=as_of).aggregate(
            plus=Sum("amount", filter=Q(type__in=["charge", "reversal"])),
            minus=Sum("amount", filter=Q(type__in=["payment", "credit"])),
        )
    except Exception as exc:  # the model moved on: say so rather than fail the run
        return f"n/a ({exc})"
    return f"{(agg['plus'] or 0) - (agg['minus'] or 0):.2f}"


def _aging_as_of(iso: str) -> dict:
    """aging_report as of `iso`, best of REPEAT, and its total balance beside the book's."""
    from arrears.ledger.selectors import aging_report

    as_of = dt.date.fromisoformat(iso)
    runs, size, result = [], None, None
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        result = aging_report(as_of=as_of, by="account")
        size = _materialize(result)
        runs.append(time.perf_counter() - t0)
    # untimed: the aging's total balance must be the book's balance as of that date (spec)
    book_balance = _book_balance(as_of)
    return {
        "as_of": iso,
        "seconds": min(runs),
        "runs": runs,
        "lines": size,
        "report_balance": _report_balance(result),
        "book_balance": book_balance,
    }


def _group_by() -> dict:
    """The bare GROUP BY through Django's connection, all rows fetched, best of REPEAT."""
    from django.db import connection

    runs, rows = [], 0
    for _ in range(REPEAT):
        with connection.cursor() as cur:
            t0 = time.perf_counter()
            cur.execute(GROUP_BY_SQL)
            rows = len(cur.fetchall())
            runs.append(time.perf_counter() - t0)
    return {"sql": GROUP_BY_SQL, "seconds": min(runs), "runs": runs, "rows": rows}


def measure_aging_main(as_ofs: list[str]) -> None:
    """Child mode: time aging_report and the bare GROUP BY in this process; print JSON."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connection

    out: dict = {"vendor": connection.vendor}
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM ledger_transaction")
        out["ledger_transactions"] = cur.fetchone()[0]
    for item in as_ofs:
        label, iso = item.split("=", 1)
        out[label] = _aging_as_of(iso)
    out["group_by"] = _group_by()
    print(json.dumps(out))
