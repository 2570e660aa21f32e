"""The book and the databases of bench/cycle.py: the generated book with its properties in NY and
CA, the PostgreSQL databases it drops, creates and copies, the SQLite copies, the statistics
gathered after the import, and the rows of the tables a run writes (read without Django)."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import time
from pathlib import Path

from common import CACHE, PG_ADMIN_URL

from arrears.demo.generator import NY_CA_STATES, property_lines

PG_DB = "arrears_cycle_bench"  # --pg-db: another name, for two benches on one server
IMPORTED_DB = f"{PG_DB}_imported"  # --reuse-import: the imported book, kept

TABLES = ("dunning_action", "ledger_transaction", "ledger_timelineevent", "dunning_runlog")


def use_database(name: str) -> None:
    """Name the bench's PostgreSQL database `name` (its copies are named after it)."""
    global PG_DB, IMPORTED_DB
    PG_DB, IMPORTED_DB = name, f"{name}_imported"


def _link_or_copy(source: Path, tmp: Path) -> None:
    """Every file of `source` but properties.csv into `tmp`, hard-linked where it can."""
    for path in source.iterdir():
        if path.name == "properties.csv":
            continue
        try:
            os.link(path, tmp / path.name)
        except OSError:
            shutil.copy2(path, tmp / path.name)


def cycle_book(source: Path) -> Path:
    """A copy of `source` whose properties alternate NY / CA; other files hard-linked. Cached.

    The properties are the generator's own for the book's parameters (read from its KEY.json) in
    the states of `NY_CA_STATES`: the same rows but for state, city, postal code and the name.
    """
    folder = CACHE / f"cycle-{source.name}-nyca"
    done = folder / ".complete"
    if done.exists():
        return folder
    summary = json.loads((source.parent / f"{source.name}.json").read_text())
    tmp = CACHE / f".tmp-{folder.name}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.rmtree(folder, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        _link_or_copy(source, tmp)
        lines = property_lines(
            summary["accounts"],
            summary["transactions_requested"],
            summary["seed"],
            dt.date.fromisoformat(summary["today"]),
            NY_CA_STATES,
        )
        with open(tmp / "properties.csv", "w", encoding="utf-8", newline="") as fout:
            fout.writelines(lines)
        (tmp / ".complete").write_text("")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    tmp.rename(folder)
    return folder


def pg_admin():
    """A connection to the server's `postgres` database, in autocommit (for CREATE DATABASE)."""
    import psycopg

    return psycopg.connect(PG_ADMIN_URL, autocommit=True)


def pg_fresh(name: str, template: str | None = None) -> float:
    """Drop and create database `name` (as a copy of `template`, if given); returns seconds."""
    t0 = time.perf_counter()
    with pg_admin() as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
    return time.perf_counter() - t0


def pg_holds(name: str, book_name: str) -> bool:
    """Whether database `name` exists and holds the import of the book `book_name`."""
    with pg_admin() as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (name,),
        ).fetchone()
    return row is not None and row[0] == book_name


def pg_keep_import(book_name: str) -> None:
    """Copy the imported database as IMPORTED_DB, marked as holding the book `book_name`."""
    pg_fresh(IMPORTED_DB, template=PG_DB)
    with pg_admin() as conn:
        conn.execute(f"COMMENT ON DATABASE {IMPORTED_DB} IS '{book_name}'")


def pg_drop(name: str) -> None:
    """Drop database `name`, if it exists, whoever is connected to it."""
    with pg_admin() as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def sqlite_clone(src: Path, dst: Path) -> float:
    """Copy the SQLite file `src` (its WAL checkpointed first) to `dst`; returns seconds."""
    t0 = time.perf_counter()
    conn = sqlite3.connect(src)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    shutil.copyfile(src, dst)
    return time.perf_counter() - t0


def settle(db: str, url: str, how: str) -> dict:
    """What autovacuum does to freshly loaded tables on a running server: VACUUM (ANALYZE) or
    ANALYZE the whole database. Returns the seconds and, on PostgreSQL, the server's autovacuum
    setting (when it is off, as on some test servers, nothing ever gathers statistics)."""
    out: dict = {"how": how}
    t0 = time.perf_counter()
    if db == "sqlite":
        if how != "none":
            conn = sqlite3.connect(url.removeprefix("sqlite:///"))
            try:
                conn.execute("ANALYZE")
            finally:
                conn.close()
    else:
        import psycopg

        dsn = url.replace("postgres://", "postgresql://", 1)
        with psycopg.connect(dsn, autocommit=True) as conn:
            out["autovacuum"] = conn.execute("SHOW autovacuum").fetchone()[0]
            if how == "vacuum":
                conn.execute("VACUUM (ANALYZE)")
            elif how == "analyze":
                conn.execute("ANALYZE")
    out["seconds"] = time.perf_counter() - t0
    return out


def table_counts(url: str) -> dict[str, int]:
    """Rows of the tables a run writes, read without Django."""
    if url.startswith("sqlite:///"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(url.replace("postgres://", "postgresql://", 1)) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
