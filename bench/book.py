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
Only the standard library, psycopg and the project's pure generator (arrears.demo.generator) are
used (Django only inside the in-process timing child).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import json
import os
import platform
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

if str(ROOT) not in sys.path:  # the generator is the project's: arrears.demo.generator
    sys.path.insert(0, str(ROOT))
from arrears.demo.generator import GENERATOR_VERSION, synthetic_book  # noqa: E402

PG_HOST, PG_PORT = "127.0.0.1", 5432
PG_ADMIN_URL = f"postgresql://postgres@{PG_HOST}:{PG_PORT}/postgres"
PG_BENCH_DB = "arrears_bench"
PG_BENCH_URL = f"postgres://postgres@{PG_HOST}:{PG_PORT}/{PG_BENCH_DB}"

GROUP_BY_SQL = "SELECT account_id, SUM(amount) FROM ledger_transaction GROUP BY account_id"
REPEAT = 3  # best of

# Targets of the issue.
IMPORT_MIN_RATE = 50_000  # transactions/s, PostgreSQL
IMPORT_MAX_RATIO = 5.0  # x the bare COPY, PostgreSQL
IMPORT_MAX_RSS = 1_000_000_000  # bytes, stated for 10M transactions
AGING_TODAY_MAX_S = 1.0  # PostgreSQL, stated for 10M transactions
AGING_PAST_MAX_RATIO = 2.0  # x the bare GROUP BY, both databases


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
        summary = synthetic_book(tmp, accounts_n, txns, seed, today)
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
