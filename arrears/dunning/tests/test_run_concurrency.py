"""The daily run beside an import, and beside another run of its date, in real processes with their
own connections (a file database on SQLite, the test database on PostgreSQL).

Two leases at Elm Court (Brooklyn NY), A-1 and A-2, each with September's rent of 1,200.00 due
on Tuesday 2026-09-01. The run of 2026-09-10 posts a late fee on what is still unpaid. Rita (A-2)
paid on 09-04, inside the grace period, and the bank file saying so is imported while the run is
going: between its first chunk (A-1) and its second (A-2), the run held there by the test.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[3]
RUN_ON = "2026-09-10"

SETUP = "import os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings')\n"
SETUP += "import django; django.setup()\n"

# A run of RUN_ON a chunk of one account at a time, which says "paused" after its first chunk
# and goes on when the test writes a line to it; it prints its result as JSON.
RUN_HELD = (
    SETUP
    + """
import json, sys
from datetime import date
from arrears.dunning import services
services.CHUNK = 1

def held(done, total):
    if done == 1:
        print("paused", flush=True)
        sys.stdin.readline()

result = services.cycle_run(on=date.fromisoformat(sys.argv[1]), progress=held)
print(json.dumps({"actions": len(result.actions), "blocked": len(result.blocked)}), flush=True)
"""
)

# What the book holds afterwards: the late fees by account, the actions, the runs.
WHAT = (
    SETUP
    + """
import json
from arrears.dunning.models import Action, RunLog
from arrears.ledger.models import Transaction
fees = Transaction.objects.filter(type="charge", code="LATE").values_list(
    "account__account_id", flat=True)
print(json.dumps({"fees": sorted(fees), "actions": Action.objects.count(),
                  "keys": Action.objects.values("key").distinct().count(),
                  "runs": RunLog.objects.filter(dry_run=False).count()}))
"""
)


def _book() -> dict[str, list[dict[str, str]]]:
    book: dict[str, list[dict[str, str]]] = {
        "properties": [
            {
                "property_id": "ELM",
                "name": "Elm Court",
                "city": "Brooklyn",
                "state": "NY",
                "country": "US",
            },
        ],
        "parties": [],
        "accounts": [],
        "account_parties": [],
        "transactions": [],
    }
    for n in (1, 2):
        book["parties"].append(
            {
                "party_id": f"P-{n}",
                "name": f"Tenant {n}",
                "email": "",
                "language": "en",
                "address": f"{n} Elm Street",
                "city": "Brooklyn",
                "state": "NY",
                "postal_code": "11201",
                "country": "US",
            }
        )
        book["accounts"].append(
            {
                "account_id": f"A-{n}",
                "property_id": "ELM",
                "unit": f"{n}A",
                "kind": "residential_lease",
                "opened": "2025-09-01",
                "rent": "1200.00",
            }
        )
        book["account_parties"].append(
            {"account_id": f"A-{n}", "party_id": f"P-{n}", "role": "primary"}
        )
        book["transactions"].append(
            {
                "txn_id": f"RENT-{n}",
                "account_id": f"A-{n}",
                "posted": "2026-09-01",
                "type": "charge",
                "code": "RENT",
                "amount": "1200.00",
                "due": "2026-09-01",
            }
        )
    return book


def write_book(folder: Path, book: dict[str, list[dict[str, str]]]) -> Path:
    folder.mkdir(parents=True)
    for name, rows in book.items():
        with (folder / f"{name}.csv").open("w", encoding="utf-8", newline="") as stream:
            writer = csv.DictWriter(stream, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
    return folder


class Book:
    """A database the children share: a new SQLite file, or the test's PostgreSQL database."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        if connection.vendor == "postgresql":
            s = connection.settings_dict
            self.url = (
                f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
            )
        else:
            self.url = f"sqlite:///{tmp_path / 'book.sqlite3'}"
        self.env = {**_env(), "DATABASE_URL": self.url}
        self.arrears("init")
        self.arrears("import", str(write_book(tmp_path / "book", _book())))

    def arrears(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cli = Path(sys.executable).parent / "arrears"
        done = subprocess.run(
            [str(cli), *args], cwd=ROOT, env=self.env, capture_output=True, text=True, check=False
        )
        if check:
            assert done.returncode == 0, done.stderr
        return done

    def python(self, code: str, *args: str) -> Any:
        done = subprocess.run(
            [sys.executable, "-c", code, *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])

    def held_run(self) -> subprocess.Popen[str]:
        run = subprocess.Popen(
            [sys.executable, "-c", RUN_HELD, RUN_ON],
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert run.stdout is not None
        assert run.stdout.readline().strip() == "paused", run.stderr.read() if run.stderr else ""
        return run


def _env() -> dict[str, str]:
    import os

    # The children are the operator's system jobs (the run, an import): no Arrears user named.
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "ARREARS_TODAY", "ARREARS_USER")
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


def _finish(run: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = run.communicate("go\n")
    assert run.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def test_a_payment_imported_while_the_run_goes_stops_the_late_fee_on_its_account(tmp_path):
    # given both rents unpaid, and the run of 09-10 held after its first chunk (A-1, fee posted)
    book = Book(tmp_path)
    run = book.held_run()
    # when the bank file with Rita's payment of 09-04, inside the grace period, is imported
    payments = tmp_path / "bank"
    payments.mkdir()
    (payments / "transactions.csv").write_text(
        "txn_id,account_id,posted,type,amount\nPAY-2,A-2,2026-09-04,payment,1200.00\n"
    )
    book.arrears("import", str(payments))
    # and the run goes on
    _finish(run)
    # then only A-1, still unpaid, has a late fee: the run decided A-2 on the book as committed
    assert book.python(WHAT)["fees"] == ["A-1"]


def test_a_second_run_of_the_date_says_one_is_in_progress_and_changes_nothing(tmp_path):
    # given a run of 09-10 under way (held after its first chunk)
    book = Book(tmp_path)
    first = book.held_run()
    # when a second run of the date is started
    second = book.arrears("run", "--date", RUN_ON, "--format", "json", check=False)
    # then it says clearly that a run is in progress, since when, and exits non-zero: no traceback
    assert second.returncode == 2, second.stderr
    assert f"a run for {RUN_ON} is in progress (started 20" in second.stderr
    assert "Traceback" not in second.stderr
    # and the first finishes: the book holds exactly its actions, each once, from one run
    done = _finish(first)
    what = book.python(WHAT)
    assert what["actions"] == what["keys"] == done["actions"] + done["blocked"]
    assert what["runs"] == 1
    assert what["fees"] == ["A-1", "A-2"]
    # and the same run once more does nothing new
    again = json.loads(book.arrears("run", "--date", RUN_ON, "--format", "json").stdout)
    assert (again["actions"], again["blocked"]) == ([], [])


# An import that says "paused" in its transaction, its locks taken and its rows not yet
# written, and goes on when the test writes a line to it.
IMPORT_HELD = (
    SETUP
    + """
import sys
from pathlib import Path
from arrears.ledger.services import book_import
said = []

def held(label, done, total):
    if not said:
        said.append(label)
        print("paused", flush=True)
        sys.stdin.readline()

book_import(Path(sys.argv[1]), progress=held)
print("{}", flush=True)
"""
)


def _waiting_on_the_book() -> int:
    """Sessions waiting for a lock on the transactions table (PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE NOT l.granted AND c.relname = 'ledger_transaction'"
        )
        return int(cursor.fetchone()[0])


# PostgreSQL only: SQLite has one writer at a time, and no view of who waits.
@pytest.mark.postgres
def test_a_run_that_meets_an_import_in_progress_waits_for_it_and_counts_its_payment(tmp_path):
    # given the bank file's import under way, holding its lock (Rita's payment not yet written)
    book = Book(tmp_path)
    payments = tmp_path / "bank"
    payments.mkdir()
    (payments / "transactions.csv").write_text(
        "txn_id,account_id,posted,type,amount\nPAY-2,A-2,2026-09-04,payment,1200.00\n"
    )
    held = subprocess.Popen(
        [sys.executable, "-c", IMPORT_HELD, str(payments)],
        cwd=ROOT,
        env=book.env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert held.stdout is not None
    assert held.stdout.readline().strip() == "paused"
    # when the run of 09-10 starts, reads the book (the payment not in it) and must wait
    cli = Path(sys.executable).parent / "arrears"
    run = subprocess.Popen(
        [str(cli), "run", "--date", RUN_ON, "--format", "json"],
        cwd=ROOT,
        env=book.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    while not _waiting_on_the_book():
        assert run.poll() is None, run.communicate()
        time.sleep(0.05)
    # and the import goes on and commits
    _, err = held.communicate("go\n")
    assert held.returncode == 0, err
    _, err = run.communicate()
    assert run.returncode == 0, err
    # then the run decided on the book as committed after the import: no fee on A-2
    assert book.python(WHAT)["fees"] == ["A-1"]
