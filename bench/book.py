"""Benchmark of the book: import, aging as of today and as of a year back, each beside its floor.

    .venv/bin/python bench/book.py            # 10k accounts / ~1M transactions, both databases
    .venv/bin/python bench/book.py --large    # 100k accounts / ~10M transactions
    .venv/bin/python bench/book.py --accounts 200 --transactions 20000 --db sqlite  # smoke run

For each database (SQLite in a new file in a temporary directory; PostgreSQL as a freshly created
database `arrears_bench` on postgres://postgres@127.0.0.1:5432/) it runs the project's CLI as child
processes (`arrears init`, `arrears import BOOK`, `arrears aging ...`), then times the aging
selector in-process (in a child process per database, since Django reads its settings once), and
measures the floor on the same database and the same data:

- import: PostgreSQL's `COPY` of the same transactions.csv into a bare table without indexes or
  constraints; on SQLite (which has no COPY) an `executemany` of the same CSV rows into a bare table
  in one transaction;
- aging: a bare `SELECT account_id, SUM(amount) FROM ledger_transaction GROUP BY account_id`.

Each figure is printed beside its floor as a ratio, with the targets of the issue:
import >= 50,000 transactions/s on PostgreSQL and within 5x of COPY; peak memory of the import
under 1 GB (stated for 10M transactions); aging as of today under 1 s on PostgreSQL (stated for
10M transactions); aging as of a past date within 2x the bare GROUP BY on the same database.

Books are generated deterministically from `--seed` and `--today` and cached under bench/.cache/.
Results go to bench/results-<size>.json; a Markdown table for bench/README.md is printed at the end.
Only the standard library and psycopg are used (Django only inside the in-process timing child).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import json
import math
import os
import platform
import random
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
CACHE = BENCH / ".cache"

GENERATOR_VERSION = 2  # bump when the generated book changes, so cached books are not reused

PG_HOST, PG_PORT = "127.0.0.1", 5432
PG_ADMIN_URL = f"postgresql://postgres@{PG_HOST}:{PG_PORT}/postgres"
PG_BENCH_DB = "arrears_bench"
PG_BENCH_URL = f"postgres://postgres@{PG_HOST}:{PG_PORT}/{PG_BENCH_DB}"

TXN_COLUMNS = (
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
GROUP_BY_SQL = "SELECT account_id, SUM(amount) FROM ledger_transaction GROUP BY account_id"
REPEAT = 3  # best of

# Targets of the issue.
IMPORT_MIN_RATE = 50_000  # transactions/s, PostgreSQL
IMPORT_MAX_RATIO = 5.0  # x the bare COPY, PostgreSQL
IMPORT_MAX_RSS = 1_000_000_000  # bytes, stated for 10M transactions
AGING_TODAY_MAX_S = 1.0  # PostgreSQL, stated for 10M transactions
AGING_PAST_MAX_RATIO = 2.0  # x the bare GROUP BY, both databases


STATES = (
    ("NY", "Albany", "122"),
    ("CA", "Sacramento", "958"),
    ("TX", "Austin", "787"),
    ("IL", "Springfield", "627"),
    ("WA", "Olympia", "985"),
    ("FL", "Tallahassee", "323"),
    ("AZ", "Phoenix", "850"),
    ("MA", "Boston", "021"),
)
STREETS = ("Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Park Rd", "Lake View", "Hill St")
FIRST = (
    "Ana",
    "Ben",
    "Chen",
    "Dana",
    "Eli",
    "Fatima",
    "Gus",
    "Hana",
    "Ivan",
    "June",
    "Kofi",
    "Lea",
)
LAST = (
    "Garcia",
    "Smith",
    "Nguyen",
    "Okafor",
    "Kowalski",
    "Haddad",
    "Ito",
    "Silva",
    "Brown",
    "Ruiz",
)

# Payment habits of the generated tenants: (habit, share).
HABITS = (("ontime", 0.70), ("late", 0.08), ("partial", 0.07), ("prepay", 0.07), ("slips", 0.08))
NSF_FEE = 3500  # cents


def _cents(c: int) -> str:
    return f"{c // 100}.{c % 100:02d}"


def _add_months(d: dt.date, n: int) -> dt.date:
    y, m = divmod(d.month - 1 + n, 12)
    return dt.date(d.year + y, m + 1, 1)


class _Account:
    __slots__ = (
        "aid",
        "balance",
        "close_m",
        "closed",
        "habit",
        "late_fee",
        "rent",
        "slip_m",
        "start_m",
    )

    def __init__(self) -> None:
        self.balance = 0  # cents: charges - payments - credits + reversals, as the tenant sees it


class _Writer:
    """Buckets transaction lines by posted date and writes them out in date order."""

    def __init__(self, f, today: dt.date) -> None:
        self.f = f
        self.today = today
        self.pending: dict[dt.date, list[str]] = {}
        self.datestr: dict[dt.date, str] = {}
        self.next_id = 0
        self.written = 0

    def new_id(self) -> str:
        self.next_id += 1
        return f"T{self.next_id:09d}"

    def add(self, posted: dt.date, line_after_date: str, aid: str, tid: str) -> None:
        ds = self.datestr.get(posted)
        if ds is None:
            ds = self.datestr[posted] = posted.isoformat()
        bucket = self.pending.get(posted)
        if bucket is None:
            bucket = self.pending[posted] = []
        bucket.append(f"{tid},{aid},{ds},{line_after_date}\n")

    def flush_before(self, limit: dt.date | None) -> None:
        for d in sorted(k for k in self.pending if limit is None or k < limit):
            lines = self.pending.pop(d)
            self.f.writelines(lines)
            self.written += len(lines)


def _simulate(accounts: list[_Account], months: list[dt.date], today: dt.date, rng, w) -> None:
    """Post each month of history for every account, month by month, into the writer."""
    rnd, rint = rng.random, rng.randint
    for mi, m0 in enumerate(months):
        next_m = _add_months(m0, 1)
        ndays = (next_m - m0).days
        for a in accounts:
            if mi < a.start_m or (a.close_m is not None and mi > a.close_m):
                continue
            aid = a.aid

            def post(day: int, rest: str, *, a=a, aid=aid, m0=m0) -> tuple[str, dt.date] | None:
                d = m0 + dt.timedelta(days=day - 1)
                if d > today:
                    return None
                tid = w.new_id()
                w.add(d, rest, aid, tid)
                return tid, d

            # 1. the rent, due the day it is posted
            if post(1, f"charge,{_cents(a.rent)},RENT,{m0.isoformat()},,,,") is None:
                continue
            a.balance += a.rent

            # 2. this month's payments: [(day, amount)]
            habit = a.habit
            if a.slip_m is not None and mi >= a.slip_m:
                habit = "delinquent"
            elif rnd() < 0.04:  # anyone has an odd month
                habit = rng.choice(("late", "partial", "ontime"))
            pays: list[tuple[int, int]] = []
            bal = a.balance
            if habit == "ontime":
                if bal > 0:
                    pays.append((rint(1, 5), bal))
            elif habit == "late":
                if bal > 0:
                    pays.append((rint(7, 25), bal + a.late_fee))
            elif habit == "partial":
                if bal > 0:
                    part = max(100, int(bal * (0.3 + 0.6 * rnd())))
                    pays.append((rint(1, 12), min(part, bal)))
                    if rnd() < 0.3:
                        pays.append((rint(15, 28), max(100, bal - part + a.late_fee)))
            elif habit == "prepay":
                if bal > 0:  # first month, or after a returned payment
                    pays.append((rint(1, 3), bal))
                pays.append((rint(20, 28), a.rent * (2 if rnd() < 0.1 else 1)))
            elif rnd() < 0.25:  # delinquent: now and then a little
                pays.append((rint(1, 28), max(100, int(a.rent * (0.1 + 0.4 * rnd())))))
            if rnd() < 0.02 and pays:  # an overpayment: unapplied credit
                day, amt = pays[-1]
                pays[-1] = (day, amt + rint(1, 20) * 1000)
            pays.sort()

            # 3. the late fee on the 6th, if the month is not paid by the 5th
            paid_by_5 = sum(amt for day, amt in pays if day <= 5)
            fee = None
            if a.balance - paid_by_5 > 0 and ndays >= 6:
                fee = post(6, f"charge,{_cents(a.late_fee)},LATE,{(m0 + dt.timedelta(5))},,,,")
                if fee is not None:
                    a.balance += a.late_fee

            # 4. the payments, some of them returned (NSF) a few days later with an NSF fee
            for day, amt in pays:
                if day > ndays:
                    day = ndays
                kind = "ACH" if rnd() < 0.7 else "CHK"
                pay = post(day, f"payment,{_cents(amt)},,,,,{kind}{rint(100000, 999999)},")
                if pay is None:
                    continue
                a.balance -= amt
                if rnd() < (0.04 if habit in ("partial", "delinquent") else 0.008):
                    back = pay[1] + dt.timedelta(days=rint(2, 10))
                    if back <= today:
                        tid, ds = w.new_id(), back.isoformat()
                        w.add(back, f"reversal,{_cents(amt)},,,,{pay[0]},,returned NSF", aid, tid)
                        w.add(back, f"charge,{_cents(NSF_FEE)},NSF,{ds},,,,", aid, w.new_id())
                        a.balance += amt + NSF_FEE

            # 5. credits: a waived late fee (applies_to the fee), now and then a concession
            if fee is not None and rnd() < 0.12:
                waive = post(rint(8, min(20, ndays)), f"credit,{_cents(a.late_fee)},,,{fee[0]},,,")
                if waive is not None:
                    a.balance -= a.late_fee
            if rnd() < 0.01:
                amt = rint(5, 40) * 500
                if post(rint(2, 28), f"credit,{_cents(amt)},,,,,,concession") is not None:
                    a.balance -= amt

            # 6. move-out: damages on the way out of a delinquent account
            if a.close_m == mi and a.slip_m is not None and rnd() < 0.5:
                dmg = _cents(rint(20, 150) * 1000)
                post(a.closed.day, f"charge,{dmg},MAINT,{a.closed},,,,move-out damages")
        w.flush_before(next_m)
    w.flush_before(None)


def _make_accounts(n: int, months: list[dt.date], today: dt.date, rng) -> list[_Account]:
    h = len(months)
    habits = [name for name, _ in HABITS]
    weights = [share for _, share in HABITS]
    accounts = []
    for i in range(n):
        a = _Account()
        a.aid = f"A{i + 1:07d}"
        a.rent = rng.randint(80, 350) * 1000 + (rng.choice((0, 0, 0, 5000, 2500)))
        a.late_fee = 5000 if rng.random() < 0.6 else a.rent // 20
        a.habit = rng.choices(habits, weights)[0]
        a.start_m = 0 if rng.random() < 0.75 else rng.randint(0, max(0, int(h * 0.6)))
        a.slip_m = a.close_m = a.closed = None
        if a.habit == "slips":
            a.habit = "ontime"
            a.slip_m = rng.randint(a.start_m, h - 1)
            out = a.slip_m + rng.randint(2, 7)
            if out < h - 1:
                a.close_m = out
        elif rng.random() < 0.03 and a.start_m < h - 2:
            a.close_m = rng.randint(a.start_m + 1, h - 2)
        if a.close_m is not None:
            a.closed = min(months[a.close_m] + dt.timedelta(days=rng.randint(10, 27)), today)
        accounts.append(a)
    return accounts


def _history_months(accounts_n: int, txns: int, today: dt.date, seed: int) -> int:
    """How many months of history give ~txns transactions: measured on a pilot book."""
    pilot_n, pilot_h = min(accounts_n, 2000), 48
    months = [_add_months(today.replace(day=1), k - pilot_h + 1) for k in range(pilot_h)]
    rng = random.Random(seed ^ 0x5EED)
    accounts = _make_accounts(pilot_n, months, today, rng)

    class _Count:
        def writelines(self, lines):
            pass

    w = _Writer(_Count(), today)
    _simulate(accounts, months, today, rng, w)
    per_account_month = w.written / pilot_n / pilot_h
    return max(1, round(txns / accounts_n / per_account_month))


def _csv_line(values) -> str:
    out = []
    for v in values:
        s = "" if v is None else str(v)
        if any(c in s for c in ',"\n\r'):
            s = '"' + s.replace('"', '""') + '"'
        out.append(s)
    return ",".join(out) + "\n"


def generate_book(folder: Path, accounts_n: int, txns: int, seed: int, today: dt.date) -> dict:
    """Write an interchange book into `folder` (which must not exist yet); returns its summary."""
    t0 = time.perf_counter()
    h = _history_months(accounts_n, txns, today, seed)
    months = [_add_months(today.replace(day=1), k - h + 1) for k in range(h)]
    rng = random.Random(seed)
    accounts = _make_accounts(accounts_n, months, today, rng)
    folder.mkdir(parents=True)

    n_props = max(1, math.ceil(accounts_n / 100))
    with open(folder / "properties.csv", "w", encoding="utf-8", newline="") as f:
        f.write("property_id,name,address,city,state,postal_code,country,timezone\n")
        for p in range(n_props):
            st, city, zip3 = STATES[p % len(STATES)]
            street = f"{rng.randint(1, 9999)} {rng.choice(STREETS)}"
            f.write(
                _csv_line(
                    (
                        f"P{p + 1:05d}",
                        f"{rng.choice(LAST)} {city} Apartments #{p + 1}",
                        street,
                        city,
                        st,
                        f"{zip3}{rng.randint(0, 99):02d}",
                        "US",
                        "",
                    )
                )
            )

    with (
        open(folder / "parties.csv", "w", encoding="utf-8", newline="") as fp,
        open(folder / "accounts.csv", "w", encoding="utf-8", newline="") as fa,
        open(folder / "account_parties.csv", "w", encoding="utf-8", newline="") as fap,
    ):
        fp.write("party_id,name,kind,email,phone,address,city,state,postal_code,country,language\n")
        fa.write("account_id,property_id,unit,kind,opened,closed,rent,deposit_held,currency\n")
        fap.write("account_id,party_id,role,guarantee_limit\n")
        party_n = 0

        def party(kind: str = "person") -> str:
            nonlocal party_n
            party_n += 1
            pid = f"C{party_n:07d}"
            if kind == "person":
                first, last = rng.choice(FIRST), rng.choice(LAST)
                name, email = f"{first} {last}", f"{first}.{last}{party_n}@example.com".lower()
            else:
                name, email = f"{rng.choice(LAST)} Holdings {party_n} LLC", ""
            phone = f"+1555{rng.randint(0, 9_999_999):07d}"
            lang = "es" if rng.random() < 0.15 else "en"
            fp.write(_csv_line((pid, name, kind, email, phone, "", "", "", "", "US", lang)))
            return pid

        for i, a in enumerate(accounts):
            p = i // 100
            opened = months[a.start_m]
            fa.write(
                _csv_line(
                    (
                        a.aid,
                        f"P{p + 1:05d}",
                        f"{(i % 100) // 10 + 1}{i % 10:02d}",
                        "residential_lease",
                        opened.isoformat(),
                        a.closed.isoformat() if a.closed else "",
                        _cents(a.rent),
                        _cents(a.rent),
                        "USD",
                    )
                )
            )
            fap.write(_csv_line((a.aid, party(), "primary", "")))
            if rng.random() < 0.25:
                fap.write(_csv_line((a.aid, party(), "co_obligor", "")))
            if rng.random() < 0.05:
                limit = _cents(a.rent * 12) if rng.random() < 0.7 else ""
                kind = "organization" if rng.random() < 0.3 else "person"
                fap.write(_csv_line((a.aid, party(kind), "guarantor", limit)))

    with open(folder / "transactions.csv", "w", encoding="utf-8", newline="") as f:
        f.write(",".join(TXN_COLUMNS) + "\n")
        w = _Writer(f, today)
        _simulate(accounts, months, today, rng, w)

    return {
        "accounts": accounts_n,
        "transactions": w.written,
        "transactions_requested": txns,
        "history_months": h,
        "first_month": months[0].isoformat(),
        "today": today.isoformat(),
        "seed": seed,
        "generator_version": GENERATOR_VERSION,
        "parties": party_n,
        "properties": n_props,
        "bytes": sum(p.stat().st_size for p in folder.iterdir()),
        "seconds": round(time.perf_counter() - t0, 2),
    }


def cached_book(accounts_n: int, txns: int, seed: int, today: dt.date) -> tuple[Path, dict]:
    """The book for these parameters, generated once under bench/.cache/.

    The book's summary goes beside the folder (KEY.json), not into it: the folder holds only the
    interchange files. KEY.json is written last, so a folder with one is complete.
    """
    key = f"book-a{accounts_n}-t{txns}-s{seed}-{today.isoformat()}-v{GENERATOR_VERSION}"
    folder, meta = CACHE / key, CACHE / f"{key}.json"
    if folder.is_dir() and meta.exists():
        return folder, json.loads(meta.read_text())
    CACHE.mkdir(parents=True, exist_ok=True)
    for stale in CACHE.glob("book-*"):  # books of another generator version are of no use
        if not stale.name.removesuffix(".json").endswith(f"-v{GENERATOR_VERSION}"):
            if stale.is_dir():
                shutil.rmtree(stale)
            else:
                stale.unlink()
    shutil.rmtree(folder, ignore_errors=True)
    tmp = CACHE / f".tmp-{key}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"generating {accounts_n:,} accounts / ~{txns:,} transactions into {folder} ...")
    try:
        summary = generate_book(tmp, accounts_n, txns, seed, today)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    tmp.rename(folder)
    meta.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"generated in {summary['seconds']:.1f} s")
    return folder, summary


def django_here(database_url: str, archive: Path) -> None:
    """Set Django up in this process on `database_url` (its documents archived in `archive`) and
    migrate it: for the benches that call the project's services directly."""
    os.environ["DATABASE_URL"] = database_url
    os.environ["ARREARS_ARCHIVE_DIR"] = str(archive)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def write_csv(folder: Path, name: str, rows: list[dict[str, str]]) -> None:
    """One file of the interchange format: `name`.csv with the rows' keys as its header."""
    with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def arrears_cmd() -> list[str]:
    exe = Path(sys.executable).parent / "arrears"
    if exe.exists():
        return [str(exe)]
    return [sys.executable, "-m", "arrears.cli"]


def run_child(args: list[str], env: dict, workdir: Path, name: str) -> dict:
    """Run a child to its end: wall time, exit status and its own peak RSS (from wait4)."""
    out_path, err_path = workdir / f"{name}.out", workdir / f"{name}.err"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=out, stderr=err)
        _, status, rusage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
    result = {
        "args": [Path(args[0]).name, *args[1:]],
        "exit": proc.returncode,
        "seconds": wall,
        "max_rss_bytes": rusage.ru_maxrss * 1024,  # KiB on Linux
    }
    lines = out_path.read_text(errors="replace").strip().splitlines()
    if lines and len(lines[-1]) < 500:
        result["output"] = lines[-1]
    if proc.returncode != 0:
        tail = (out_path.read_text(errors="replace") + err_path.read_text(errors="replace"))[-3000:]
        result["error"] = tail
    return result


def pg_reachable() -> str | None:
    """None if PostgreSQL answers on 127.0.0.1:5432, else why not."""
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=2):
            pass
    except OSError as exc:
        return f"{PG_HOST}:{PG_PORT} unreachable ({exc})"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed"
    return None


def pg_fresh_database() -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_BENCH_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {PG_BENCH_DB}")


def _csv_header(path: Path) -> list[str]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return next(csv.reader(f))


def _bare_table_sql(cols: list[str]) -> str:
    types = {"posted": "date", "due": "date", "amount": "numeric"}
    return "CREATE TABLE bare_txn (" + ", ".join(f"{c} {types.get(c, 'text')}" for c in cols) + ")"


def pg_copy_floor(csv_path: Path, dsn: str = PG_BENCH_URL) -> dict:
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
    """Run this script's --_measure-aging mode in a child with the database's environment."""
    args = [sys.executable, str(Path(__file__).resolve()), "--_measure-aging"]
    for label, d in as_ofs:
        args += ["--_as-of", f"{label}={d}"]
    res = run_child(args, env, workdir, "measure")
    if res["exit"] != 0:
        return {"error": res.get("error", "")}
    lines = (workdir / "measure.out").read_text().strip().splitlines()
    return json.loads(lines[-1])


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


def _measure_aging_main(as_ofs: list[str]) -> None:
    """Child mode: time aging_report and the bare GROUP BY in this process; print JSON."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connection

    from arrears.ledger.selectors import aging_report

    out: dict = {"vendor": connection.vendor}
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM ledger_transaction")
        out["ledger_transactions"] = cur.fetchone()[0]
    for item in as_ofs:
        label, iso = item.split("=", 1)
        as_of = dt.date.fromisoformat(iso)
        runs, size, result = [], None, None
        for _ in range(REPEAT):
            t0 = time.perf_counter()
            result = aging_report(as_of=as_of, by="account")
            size = _materialize(result)
            runs.append(time.perf_counter() - t0)
        # untimed: the aging's total balance must be the book's balance as of that date (spec)
        book_balance = _book_balance(as_of)
        out[label] = {
            "as_of": iso,
            "seconds": min(runs),
            "runs": runs,
            "lines": size,
            "report_balance": _report_balance(result),
            "book_balance": book_balance,
        }
    runs, rows = [], 0
    for _ in range(REPEAT):
        with connection.cursor() as cur:
            t0 = time.perf_counter()
            cur.execute(GROUP_BY_SQL)
            rows = len(cur.fetchall())
            runs.append(time.perf_counter() - t0)
    out["group_by"] = {"sql": GROUP_BY_SQL, "seconds": min(runs), "runs": runs, "rows": rows}
    print(json.dumps(out))


def bench_database(db: str, book: Path, n_txns: int, today: dt.date, past: dt.date, keep: bool):
    workdir = Path(tempfile.mkdtemp(prefix=f"arrears-bench-{db}-"))
    res: dict = {"database": db, "workdir": str(workdir)}
    env = dict(os.environ)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    if db == "sqlite":
        db_path = workdir / "bench.sqlite3"
        env["DATABASE_URL"] = f"sqlite:///{db_path}"
        res["sqlite_version"] = sqlite3.sqlite_version
    else:
        pg_fresh_database()
        env["DATABASE_URL"] = PG_BENCH_URL
    res["database_url"] = env["DATABASE_URL"]
    cli = arrears_cmd()
    try:
        print(f"[{db}] arrears init")
        step = run_child([*cli, "init"], env, workdir, "init")
        res["init"] = step
        if step["exit"] != 0:
            raise _StepFailedError("init", step)

        print(f"[{db}] arrears import {book}")
        step = run_child([*cli, "import", str(book)], env, workdir, "import")
        res["import"] = step
        if step["exit"] != 0:
            raise _StepFailedError("import", step)
        step["transactions"] = n_txns
        step["rate"] = n_txns / step["seconds"]
        print(
            f"[{db}]   {step['seconds']:.1f} s, {step['rate']:,.0f} txn/s, "
            f"peak RSS {step['max_rss_bytes'] / 1e6:,.0f} MB"
        )

        for label, d in (("aging_today", today), ("aging_past", past)):
            print(f"[{db}] arrears aging --as-of {d}")
            args = [
                *cli,
                "aging",
                "--as-of",
                d.isoformat(),
                "--format",
                "json",
                "--output",
                os.devnull,
            ]
            step = run_child(args, env, workdir, label)
            res[f"{label}_cli"] = step
            if step["exit"] != 0:
                raise _StepFailedError(label, step)

        print(f"[{db}] aging_report in-process and the bare GROUP BY, best of {REPEAT}")
        inproc = measure_in_process(
            env, workdir, [("aging_today", today.isoformat()), ("aging_past", past.isoformat())]
        )
        if "error" in inproc:
            raise _StepFailedError("in-process aging", inproc)
        res["in_process"] = inproc
        if inproc.get("ledger_transactions") != n_txns:
            res["warning"] = (
                f"ledger_transaction holds {inproc.get('ledger_transactions')} rows, "
                f"the book {n_txns}"
            )
            print(f"[{db}]   WARNING: {res['warning']}")

        print(f"[{db}] import floor")
        csv_path = book / "transactions.csv"
        if db == "postgres":
            res["import_floor"] = pg_copy_floor(csv_path)
        else:
            res["import_floor"] = sqlite_insert_floor(csv_path, db_path)
    except _StepFailedError as exc:
        res["failed"] = exc.step
        print(f"[{db}]   FAILED at {exc.step}:\n{exc.detail.get('error', '')}")
    finally:
        if db == "sqlite" and keep:
            print(f"[{db}] kept {db_path} (and the logs of each step beside it)")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return res


class _StepFailedError(Exception):
    def __init__(self, step: str, detail: dict) -> None:
        super().__init__(step)
        self.step, self.detail = step, detail


def _checks(res: dict) -> list[dict]:
    """The rows of the report for one database: figure, value, floor, ratio, target, result."""
    pg = res["database"] == "postgres"
    rows: list[dict] = []

    def row(key, figure, value, floor="", ratio=None, target="", ok=None, **raw):
        rows.append(
            {
                "key": key,
                "figure": figure,
                "value": value,
                "floor": floor,
                "ratio": None if ratio is None else round(ratio, 2),
                "target": target,
                "result": "-" if ok is None else ("pass" if ok else "FAIL"),
                **raw,
            }
        )

    imp, floor = res.get("import"), res.get("import_floor")
    if imp and "rate" in imp:
        ratio = imp["seconds"] / floor["seconds"] if floor else None
        floor_txt = ""
        if floor:
            what = "COPY" if pg else "executemany"
            floor_txt = (
                f"{what} {floor['seconds']:.2f} s ({floor['rows'] / floor['seconds']:,.0f}/s)"
            )
        target, ok = "(PostgreSQL only)", None
        if pg:
            target = f">= {IMPORT_MIN_RATE:,}/s, <= {IMPORT_MAX_RATIO:g}x COPY"
            ok = imp["rate"] >= IMPORT_MIN_RATE and ratio is not None and ratio <= IMPORT_MAX_RATIO
        row(
            "import",
            "import, with cash application",
            f"{imp['seconds']:.2f} s ({imp['rate']:,.0f} txn/s)",
            floor_txt,
            ratio,
            target,
            ok,
            seconds=imp["seconds"],
            rate=imp["rate"],
            floor_seconds=floor["seconds"] if floor else None,
        )
        rss = imp["max_rss_bytes"]
        row(
            "import_rss",
            "import, peak RSS",
            f"{rss / 1e6:,.0f} MB",
            "",
            None,
            "< 1 GB (at 10M)",
            rss < IMPORT_MAX_RSS,
            bytes=rss,
        )

    inproc = res.get("in_process") or {}
    gb = inproc.get("group_by")
    gb_txt = f"GROUP BY {gb['seconds']:.3f} s" if gb else ""
    for label, name in (("aging_today", "aging as of today"), ("aging_past", "aging a year back")):
        m = inproc.get(label)
        if m:
            ratio = m["seconds"] / gb["seconds"] if gb else None
            if label == "aging_today":
                target, ok = "(PostgreSQL only)", None
                if pg:
                    target = f"< {AGING_TODAY_MAX_S:g} s (at 10M)"
                    ok = m["seconds"] < AGING_TODAY_MAX_S
            else:
                target = f"<= {AGING_PAST_MAX_RATIO:g}x GROUP BY"
                ok = ratio is not None and ratio <= AGING_PAST_MAX_RATIO
            row(
                f"{label}_query",
                f"{name}, query in-process",
                f"{m['seconds']:.3f} s",
                gb_txt,
                ratio,
                target,
                ok,
                seconds=m["seconds"],
                floor_seconds=gb["seconds"] if gb else None,
            )
        cli = res.get(f"{label}_cli")
        if cli and cli["exit"] == 0:
            row(
                f"{label}_cli",
                f"{name}, CLI wall time",
                f"{cli['seconds']:.2f} s",
                seconds=cli["seconds"],
                max_rss_bytes=cli["max_rss_bytes"],
            )
        if m and m.get("report_balance") is not None:
            row(
                f"{label}_balance",
                f"{name}, total balance",
                m["report_balance"],
                f"ledger {m['book_balance']}",
                None,
                "equal",
                m["report_balance"] == m["book_balance"],
            )
    return rows


def _table(rows: list[list[str]], markdown: bool) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    if markdown:
        lines = [
            "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"
            for r in rows
        ]
        lines.insert(1, "| " + " | ".join("-" * w for w in widths) + " |")
        return "\n".join(lines)
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _report_rows(results: dict) -> list[list[str]]:
    rows = [["db", "figure", "value", "floor", "ratio", "target", "result"]]
    for db, res in results["databases"].items():
        if "skipped" in res:
            rows.append([db, f"skipped: {res['skipped']}", "", "", "", "", ""])
            continue
        for c in res.get("checks", []):
            ratio = "" if c["ratio"] is None else f"{c['ratio']:.2f}x"
            rows.append([db, c["figure"], c["value"], c["floor"], ratio, c["target"], c["result"]])
        if "failed" in res:
            rows.append([db, f"FAILED at {res['failed']}", "", "", "", "", "FAIL"])
    return rows


def _markdown(results: dict, rows: list[list[str]]) -> str:
    book, m = results["book"], results["machine"]
    versions = [f"Python {m['python']}", f"SQLite {m['sqlite']}"]
    pg = results["databases"].get("postgres", {})
    if "server_version" in pg:
        versions.append(f"PostgreSQL {pg['server_version'].split()[0]}")
    return (
        f"**{book['accounts']:,} accounts, {book['transactions']:,} transactions** "
        f"({book['history_months']} months to {results['today']}, seed {book['seed']}); "
        f"aging as of {results['today']} and {results['past']}, queries best of {REPEAT}. "
        f"{m.get('cpu', platform.machine())}, {m['cpus']} CPUs, "
        f"{m.get('memory_gb', '?')} GB; {', '.join(versions)}.\n\n" + _table(rows, markdown=True)
    )


def _human(n: int) -> str:
    for unit, div in (("M", 1_000_000), ("k", 1_000)):
        if n >= div and n % (div // 10) == 0:
            return f"{n / div:g}{unit}"
    return str(n)


def _machine() -> dict:
    info = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "sqlite": sqlite3.sqlite_version,
    }
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory_gb"] = round(int(line.split()[1]) * 1024 / 1e9, 1)
                break
    return info


def add_book_arguments(ap: argparse.ArgumentParser) -> None:
    """The options that choose the generated book; bench/cycle.py takes the same."""
    ap.add_argument("--large", action="store_true", help="100k accounts / 10M transactions")
    ap.add_argument("--accounts", type=int, help="number of accounts (custom size)")
    ap.add_argument("--transactions", type=int, help="about this many transactions (custom size)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--today", default="2026-11-01", help="the book's today (default 2026-11-01)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_book_arguments(ap)
    ap.add_argument("--db", default="sqlite,postgres", help="sqlite, postgres or both (default)")
    ap.add_argument("--keep", action="store_true", help="keep the SQLite database file")
    ap.add_argument("--generate-only", action="store_true", help="generate (cache) the book, stop")
    ap.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    ap.add_argument(
        "--_measure-aging", dest="measure_aging", action="store_true", help=argparse.SUPPRESS
    )
    ap.add_argument("--_as-of", dest="as_ofs", action="append", default=[], help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.measure_aging:
        _measure_aging_main(args.as_ofs)
        return 0

    if args.large:
        accounts_n, txns = 100_000, 10_000_000
    else:
        accounts_n, txns = 10_000, 1_000_000
    if args.accounts or args.transactions:
        accounts_n = args.accounts or accounts_n
        txns = args.transactions or accounts_n * 100
    today = dt.date.fromisoformat(args.today)
    past = today - dt.timedelta(days=365)
    dbs = [d.strip() for d in args.db.split(",") if d.strip()]
    for d in dbs:
        if d not in ("sqlite", "postgres"):
            ap.error(f"unknown database {d!r}: sqlite or postgres")

    book, summary = cached_book(accounts_n, txns, args.seed, today)
    print(
        f"book {book}: {summary['accounts']:,} accounts, {summary['transactions']:,} "
        f"transactions over {summary['history_months']} months "
        f"({summary['bytes'] / 1e6:,.0f} MB)"
    )
    if args.generate_only:
        return 0

    size = f"{_human(accounts_n)}-{_human(txns)}"
    results: dict = {
        "size": size,
        "book": summary,
        "machine": _machine(),
        "today": today.isoformat(),
        "past": past.isoformat(),
        "databases": {},
    }
    for db in dbs:
        if db == "postgres":
            why = pg_reachable()
            if why:
                print(f"[postgres] skipped: {why}")
                results["databases"][db] = {"skipped": why}
                continue
        res = bench_database(db, book, summary["transactions"], today, past, args.keep)
        if db == "postgres":
            import psycopg

            with psycopg.connect(PG_ADMIN_URL) as conn:
                res["server_version"] = conn.execute("SHOW server_version").fetchone()[0]
        res["checks"] = _checks(res)
        results["databases"][db] = res

    out = BENCH / f"results-{size}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    rows = _report_rows(results)
    print()
    print(
        f"Book: {summary['accounts']:,} accounts, {summary['transactions']:,} transactions, "
        f"today {today}, a year back {past}; seed {args.seed}"
    )
    print(_table(rows, markdown=False))
    print(f"\nresults: {out.relative_to(ROOT)}\n\nMarkdown:\n")
    print(_markdown(results, rows))
    print()

    failed = any("failed" in r for r in results["databases"].values())
    missed = any(
        c["result"] == "FAIL" for r in results["databases"].values() for c in r.get("checks", [])
    )
    if failed or (args.check and missed):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
