"""A print batch killed mid-way (kill -9) and run again: every letter ends in exactly one print
file and one manifest line, the render workers die with the batch, and the PDFs printed are the
archived ones.

The book is a SQLite file of its own, built and printed by the `arrears` console script in real
subprocesses: twenty tenants of Elm Court with September's rent unpaid; the run of September 11
queues each a certified late notice (NY RPL §235-e(d)) and a 14-day rent demand (RPAPL §711(2)):
40 letters, three chunks of the batch.
"""

from __future__ import annotations

import csv
import os
import signal
import sqlite3
import subprocess
import sys
import time
from io import BytesIO
from pathlib import Path

from pypdf import PdfReader

from arrears.correspondence.services import BATCH_CHUNK
from arrears.correspondence.tests.conftest import ELM_COURT, write_csv

# 80 letters, 5 chunks of 16: the test's write lock has four gaps between chunks to be taken in
# (with 40 letters it once came only after the last chunk, the batch done: 40 of 40 rendered)
TENANTS = 40
ON = "2026-09-11"
ARREARS = str(Path(sys.executable).with_name("arrears"))


def _book(folder: Path) -> Path:
    folder.mkdir()
    parties, accounts, links, txns = [], [], [], []
    for n in range(1, TENANTS + 1):
        party, account = f"P-{n:03d}", f"A-{n:03d}"
        parties.append(
            {
                "party_id": party,
                "name": f"Tenant {n}",
                "email": f"t{n}@example.org",
                "address": f"12 Elm Street, Apt {n}",
                "city": "Brooklyn",
                "state": "NY",
                "postal_code": "11201",
                "country": "US",
            }
        )
        accounts.append(
            {
                "account_id": account,
                "property_id": "ELM",
                "unit": str(n),
                "kind": "residential_lease",
                "opened": "2025-06-01",
                "rent": "1000.00",
            }
        )
        links.append({"account_id": account, "party_id": party, "role": "primary"})
        txns.append(
            {
                "txn_id": f"R-{n:03d}-09",
                "account_id": account,
                "posted": "2026-09-01",
                "type": "charge",
                "code": "RENT",
                "amount": "1000.00",
                "due": "2026-09-01",
            }
        )
    for name, rows in (
        ("properties", [ELM_COURT]),
        ("parties", parties),
        ("accounts", accounts),
        ("account_parties", links),
        ("transactions", txns),
    ):
        write_csv(folder / f"{name}.csv", rows)
    return folder


def _arrears(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([ARREARS, *args], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (Linux /proc)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rpartition(")")[2].split()[1]) == pid:
            out.append(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def _pages(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(BytesIO(data)).pages]


def test_a_batch_killed_after_its_first_chunk_is_finished_by_the_rerun_once_and_whole(tmp_path):
    # given a SQLite book whose run of September 11 queued 40 letters
    database = tmp_path / "book.sqlite3"
    archive = tmp_path / "archive"
    output = tmp_path / "print"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "ARREARS_ARCHIVE_DIR": str(archive),
        "ARREARS_TODAY": ON,
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("ARREARS_USER", None)  # the operator's system jobs: init, import, run, the batch
    _arrears(env, "init")
    _arrears(env, "import", str(_book(tmp_path / "book")))
    _arrears(env, "run", "--date", ON)
    db = sqlite3.connect(database, timeout=60, isolation_level=None)
    letters = {
        pk
        for (pk,) in db.execute(
            "SELECT id FROM correspondence_outbound WHERE channel IN ('letter', 'certified_letter')"
        )
    }
    assert len(letters) == 2 * TENANTS

    # when the batch is killed (kill -9) once its first chunk is committed
    batch = subprocess.Popen(
        [ARREARS, "letters", "batch", "--date", ON, "--output", str(output), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # The render workers, as seen while the batch runs: a pool between two chunks may have none
    # at the very moment of the kill.
    workers: set[int] = set()
    while True:
        assert batch.poll() is None, "the batch ended before its first chunk was seen"
        time.sleep(0.005)
        workers.update(_children(batch.pid))
        # Counted under the write lock, and kept if the first chunk is in: the batch may commit
        # nothing more from here on, so it is mid-way when it is killed (on a loaded machine it
        # could finish between a count and a lock taken after it).
        db.execute("BEGIN IMMEDIATE")
        (rendered,) = db.execute(
            "SELECT COUNT(*) FROM correspondence_outbound WHERE status = 'rendered'"
        ).fetchone()
        if rendered >= BATCH_CHUNK:
            break
        db.execute("ROLLBACK")
    workers.update(_children(batch.pid))
    os.kill(batch.pid, signal.SIGKILL)
    batch.wait()
    (rendered,) = db.execute(
        "SELECT COUNT(*) FROM correspondence_outbound WHERE status = 'rendered'"
    ).fetchone()
    (state,) = db.execute("SELECT status FROM correspondence_printbatch").fetchone()
    db.execute("ROLLBACK")

    # then its render workers die with it, and no print file or manifest was left behind
    assert workers, "the batch rendered in worker processes"
    deadline = time.monotonic() + 60
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [pid for pid in workers if _alive(pid)] == []
    assert BATCH_CHUNK <= rendered < len(letters)
    assert state == "open"
    assert list(output.glob("print-*.pdf")) == list(output.glob("manifest-*.csv")) == []

    # when the batch is run again
    again = _arrears(env, "letters", "batch", "--date", ON, "--output", str(output))

    # then it finished the same batch: one print file and one manifest, every letter once
    assert "interrupted batch, finished" in again.stdout
    assert list(db.execute("SELECT status, number FROM correspondence_printbatch")) == [
        ("complete", 1)
    ]
    (print_file,) = output.glob("print-*.pdf")
    (manifest,) = output.glob("manifest-*.csv")
    with manifest.open() as stream:
        lines = list(csv.DictReader(stream))
    ids = [int(line["letter_id"]) for line in lines]
    assert sorted(ids) == sorted(letters)
    assert len(set(ids)) == len(ids)
    # the PDFs printed are the archived ones, page for page, in the manifest's order
    documents = dict(
        db.execute(
            "SELECT o.id, d.name FROM correspondence_outbound o JOIN correspondence_document d "
            "ON d.id = o.document_id"
        )
    )
    printed = _pages(print_file.read_bytes())
    assert len(printed) == len(letters)
    for page, letter in zip(printed, ids, strict=True):
        archived = (archive / documents[letter]).read_bytes()
        assert _pages(archived) == [page]
        assert (output / "letters" / Path(documents[letter]).name).read_bytes() == archived

    # and a second rerun prints nothing more
    assert (
        "No letters to print"
        in _arrears(env, "letters", "batch", "--date", ON, "--output", str(output)).stdout
    )
