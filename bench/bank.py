"""Benchmark of a bank statement: a BAI2 file of 100,000 credits imported, matched and posted
(`arrears bank import`) on a book of 20,000 tenants, on PostgreSQL (and SQLite), as a user
runs it: the project's CLI as a child process, wall time. Issue 19's target: under 60 s on
PostgreSQL for 100,000 lines.

The generated data (seeded), and what the rules make of it (arrears/banking/rules.toml):
- 70%: the account number in the remittance text ("RENT A-000123"): posted (account_number);
- 10%: a unit number only ("UNIT 123-4"), each unit one account's: to review, suggested;
- 10%: an amount that is exactly one account's open balance (each rent differs by a cent),
  no text: to review, suggested (open_amount);
- 10%: nothing that names an account ("TRANSFER"): to review.
The share auto-matched is what the file says it is by construction (70%); the bench reports
the share the import posted, which checks it. A second import of the same file is timed too
(it adds nothing).

    .venv/bin/python bench/bank.py                     # 100,000 lines, PostgreSQL and SQLite
    .venv/bin/python bench/bank.py --lines 2000 --accounts 500 --db sqlite   # a smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

from common import (
    BENCH,
    PG_ADMIN_URL,
    ROOT,
    machine,
    pg_reachable,
    run_child,
    table,
    write_csv,
)

TODAY = "2026-03-26"


def book(folder: Path, accounts: int) -> None:
    """A book of `accounts` tenants of one property, each owing March's rent (1,000.00 plus a
    cent per account number, so each balance is one account's)."""
    folder.mkdir(parents=True)
    write_csv(
        folder,
        "properties",
        [{"property_id": "P1", "name": "Bench Court", "state": "NY", "country": "US"}],
    )
    write_csv(
        folder,
        "parties",
        [{"party_id": f"T-{i:06d}", "name": f"Tenant {i:06d}"} for i in range(accounts)],
    )
    write_csv(
        folder,
        "accounts",
        [
            {
                "account_id": f"A-{i:06d}",
                "property_id": "P1",
                "unit": f"{i // 10}-{i % 10}",
                "kind": "residential_lease",
                "opened": "2025-01-01",
                "rent": f"{1000 + i / 100:.2f}",
            }
            for i in range(accounts)
        ],
    )
    write_csv(
        folder,
        "account_parties",
        [
            {"account_id": f"A-{i:06d}", "party_id": f"T-{i:06d}", "role": "primary"}
            for i in range(accounts)
        ],
    )
    write_csv(
        folder,
        "transactions",
        [
            {
                "txn_id": f"R-{i:06d}",
                "account_id": f"A-{i:06d}",
                "posted": "2026-03-01",
                "type": "charge",
                "code": "RENT",
                "amount": f"{1000 + i / 100:.2f}",
                "due": "2026-03-01",
            }
            for i in range(accounts)
        ],
    )


def statement(path: Path, lines: int, accounts: int, seed: int) -> dict[str, int]:
    """A BAI2 file of `lines` credits (module docstring); the count of each kind made."""
    rng = random.Random(seed)
    made = {"account_number": 0, "unit_number": 0, "open_amount": 0, "nothing": 0}
    records = ["01,BANK,ARREARS,260320,0800,1,,,2/", "02,ARREARS,BANK,1,260320,,USD,2/"]
    records.append("03,5550001,USD,010,0,,/")
    for n in range(lines):
        i = rng.randrange(accounts)
        cents = 100000 + i
        draw = rng.random()
        if draw < 0.7:
            kind, text = "account_number", f"RENT A-{i:06d}"
        elif draw < 0.8:
            kind, text = "unit_number", f"UNIT {i // 10}-{i % 10}"
        elif draw < 0.9:
            kind, text = "open_amount", ""
        else:
            kind, text, cents = "nothing", "TRANSFER", rng.randrange(100, 500000)
        made[kind] += 1
        records.append(f"16,165,{cents},,BNK{n:09d},,{text}/")
    records += [f"49,0,{lines + 2}/", "98,0,1,1/", "99,0,1,1/"]
    path.write_text("\n".join(records) + "\n", encoding="ascii")
    return made


def _database(db: str, work: Path) -> str:
    if db == "sqlite":
        return f"sqlite:///{work / 'bench.sqlite3'}"
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS bank_bench")
        conn.execute("CREATE DATABASE bank_bench")
    return "postgres://postgres@127.0.0.1:5432/bank_bench"


def run(db: str, lines: int, accounts: int, seed: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="bank-bench-") as tmp:
        work = Path(tmp)
        book(work / "book", accounts)
        made = statement(work / "statement.bai2", lines, accounts, seed)
        env = {**os.environ, "DATABASE_URL": _database(db, work), "ARREARS_TODAY": TODAY}
        env["ARREARS_ARCHIVE_DIR"] = str(work / "archive")
        # this checkout's code, whatever the venv's console script was installed from
        cmd = [sys.executable, "-m", "arrears.cli"]
        env["PYTHONPATH"] = str(ROOT)
        for name, args in (
            ("init", [*cmd, "init"]),
            ("book", [*cmd, "import", str(work / "book")]),
        ):
            step = run_child(args, env, work, name)
            if step["exit"]:
                return {"db": db, "failed": name, "error": step.get("error", "")}
        result = {"db": db, "lines": lines, "accounts": accounts, "made": made}
        for name in ("import", "again"):
            args = [*cmd, "bank", "import", str(work / "statement.bai2"), "--format", "json"]
            step = run_child(args, env, work, name)
            if step["exit"]:
                return {**result, "failed": name, "error": step.get("error", "")}
            result[name] = {
                "seconds": round(step["seconds"], 2),
                "max_rss_mb": round(step["max_rss_bytes"] / 2**20),
                "answer": json.loads((work / f"{name}.out").read_text()),
            }
        answer = result["import"]["answer"]
        result["auto_share"] = round(answer["posted"] / answer["lines"], 4)
        return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=100_000)
    ap.add_argument("--accounts", type=int, default=20_000)
    ap.add_argument("--db", default="postgres,sqlite")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    results = {"machine": machine(), "runs": []}
    for db in args.db.split(","):
        if db == "postgres" and (why := pg_reachable()):
            print(f"postgres skipped: {why}")
            continue
        t0 = time.perf_counter()
        outcome = run(db, args.lines, args.accounts, args.seed)
        outcome["total_seconds"] = round(time.perf_counter() - t0, 1)
        results["runs"].append(outcome)
        print(json.dumps(outcome)[:2000])
    out = BENCH / f"results-bank-{args.lines}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    rows = [["database", "lines", "import, matched and posted", "posted (auto)", "again"]]
    for r in results["runs"]:
        if "failed" in r:
            rows.append([r["db"], str(r.get("lines", "")), f"failed: {r['failed']}", "", ""])
            continue
        a = r["import"]["answer"]
        rows.append(
            [
                r["db"],
                f"{a['lines']:,}",
                f"{r['import']['seconds']:.1f} s",
                f"{a['posted']:,} ({r['auto_share']:.0%})",
                f"{r['again']['seconds']:.1f} s",
            ]
        )
    print(table(rows, markdown=True))
    return 0 if all("failed" not in r for r in results["runs"]) else 1


if __name__ == "__main__":
    sys.exit(main())
