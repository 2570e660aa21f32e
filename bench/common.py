"""What the benchmark scripts share: the cached generated book, the CLI run as a child, the
databases, the machine, and the plain and Markdown tables of a report.

Imported by the scripts beside it (bench/*.py run as `python bench/<name>.py`, which puts bench/
first on the path). Only the standard library and the project's pure generator
(arrears.demo.generator) at import time; psycopg and Django are imported by the functions that
need them.
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

DATABASES = ("sqlite", "postgres")


class StepFailedError(Exception):
    """A step of a benchmark failed: its name and what its child said (`detail["error"]`)."""

    def __init__(self, step: str, detail: dict) -> None:
        super().__init__(step)
        self.step, self.detail = step, detail


def _drop_stale_books(folder: Path) -> None:
    """Remove books of another generator version (of no use) and a half-made `folder`."""
    for stale in CACHE.glob("book-*"):
        if not stale.name.removesuffix(".json").endswith(f"-v{GENERATOR_VERSION}"):
            if stale.is_dir():
                shutil.rmtree(stale)
            else:
                stale.unlink()
    shutil.rmtree(folder, ignore_errors=True)


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
    _drop_stale_books(folder)
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
    """The `arrears` console script of this venv, or the module when it is not installed."""
    exe = Path(sys.executable).parent / "arrears"
    if exe.exists():
        return [str(exe)]
    return [sys.executable, "-m", "arrears.cli"]


def run_child(args: list[str], env: dict, workdir: Path, name: str) -> dict:
    """Run a child to its end: wall time, exit status, its own peak RSS and its CPU seconds (from
    wait4)."""
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
        "cpu_seconds": rusage.ru_utime + rusage.ru_stime,  # its own and its reaped children's
    }
    lines = out_path.read_text(errors="replace").strip().splitlines()
    if lines and len(lines[-1]) < 500:
        result["output"] = lines[-1]
    if proc.returncode != 0:
        tail = (out_path.read_text(errors="replace") + err_path.read_text(errors="replace"))[-3000:]
        result["error"] = tail
    return result


def last_json_line(path: Path) -> dict:
    """The JSON document a child mode prints on its last line of output."""
    return json.loads(path.read_text().strip().splitlines()[-1])


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


def pg_server_version() -> str:
    """The PostgreSQL server's `SHOW server_version`."""
    import psycopg

    with psycopg.connect(PG_ADMIN_URL) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


def table(rows: list[list[str]], markdown: bool) -> str:
    """`rows` (the first one the header) as a plain table of aligned columns, or as Markdown."""
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


def human(n: int) -> str:
    """A size as results file names spell it: 10000 -> 10k, 1000000 -> 1M, 1003591 -> 1003591."""
    for unit, div in (("M", 1_000_000), ("k", 1_000)):
        if n >= div and n % (div // 10) == 0:
            return f"{n / div:g}{unit}"
    return str(n)


def machine() -> dict:
    """Python, platform, CPUs (count and model), memory and SQLite of this machine."""
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
    """The options that choose the generated book; bench/book.py and bench/cycle.py take them."""
    ap.add_argument("--large", action="store_true", help="100k accounts / 10M transactions")
    ap.add_argument("--accounts", type=int, help="number of accounts (custom size)")
    ap.add_argument("--transactions", type=int, help="about this many transactions (custom size)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--today", default="2026-11-01", help="the book's today (default 2026-11-01)")


def book_size(args: argparse.Namespace) -> tuple[int, int]:
    """Accounts and transactions the book options ask for: --large, a custom size, or 10k/1M."""
    accounts_n, txns = (100_000, 10_000_000) if args.large else (10_000, 1_000_000)
    if args.accounts or args.transactions:
        accounts_n = args.accounts or accounts_n
        txns = args.transactions or accounts_n * 100
    return accounts_n, txns


def databases(ap: argparse.ArgumentParser, option: str) -> list[str]:
    """The databases of a `--db` option (comma-separated); an unknown one is a usage error."""
    dbs = [d.strip() for d in option.split(",") if d.strip()]
    for d in dbs:
        if d not in DATABASES:
            ap.error(f"unknown database {d!r}: sqlite or postgres")
    return dbs


def exit_status(results: dict, check: bool) -> int:
    """1 when a step failed, or (with --check) a target was missed; else 0."""
    failed = any("failed" in r for r in results["databases"].values())
    missed = any(
        c["result"] == "FAIL" for r in results["databases"].values() for c in r.get("checks", [])
    )
    if failed or (check and missed):
        return 1
    return 0
