"""The letters batch rendered by Celery workers (CELERY_BROKER_URL), against a real Redis and a
real RabbitMQ, with `arrears worker` and `arrears letters batch` as real processes on books of
their own (the book of test_run_workers: six leases, the NY ones late on 2026-09-10).

The run of 2026-09-10 queues seven letters: four certified late notices (RPL §235-e(d)) to Ann
(A-1), Cal (A-3) and Gus, A-3's guarantor, and Eve (A-5), and the California three-day notices
(CCP §1161(2)) to Bea, Dan and Fay. A chunk is one letter (ARREARS_LETTER_CHUNK=1), so A-3's two
letters make the one chunk of two (an account's letters stay together): six tasks.
The same book printed in-process and through the workers must give the same print file (pages
and their text), the same manifest and the same letters, rendered once each.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from pypdf import PdfReader

from arrears.dunning.tests import test_run_workers as run_workers
from arrears.dunning.tests.test_run_concurrency import ROOT, SETUP
from arrears.dunning.tests.test_run_workers import RUN_ON, Book, _stop, killed_mid_task

# The run's tests' fixtures: the broker with a queue of the test's own, the books it drops.
broker = run_workers.broker
books = run_workers.books

pytestmark = pytest.mark.django_db(transaction=True)

# The letters as the book holds them, and what rendering them wrote.
LETTERS = (
    SETUP
    + """
import json
from django.db.models import Count
from arrears.correspondence.models import Document, Outbound, PrintBatch
from arrears.ledger.models import TimelineEvent
letters = Outbound.objects.exclude(channel="email").order_by("id")
print(json.dumps({
    "letters": [[o.pk, o.account.account_id, o.template, o.status, o.batch_id is not None,
                 o.document.name if o.document else "", o.address] for o in letters],
    "timeline": sorted(TimelineEvent.objects.filter(kind__startswith="letter.")
                       .values_list("kind").annotate(n=Count("id"))),
    "documents": sorted(Document.objects.values_list("kind", "name", "sha256")),
    "batches": list(PrintBatch.objects.values_list("status", "number")),
}))
"""
)


def _book(tmp_path: Path, name: str, extra: dict[str, str]) -> Book:
    folder = tmp_path / name
    env = {"ARREARS_ARCHIVE_DIR": str(folder / "archive"), "ARREARS_LETTER_CHUNK": "1", **extra}
    return Book(folder, name, env)


def _python(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _letters(book: Book) -> Any:
    return json.loads(_python(book.env, "-c", LETTERS).strip().splitlines()[-1])


def _run_here(book: Book) -> None:
    """The day's run of `book` in-process (its broker left out): the letters queued. (Two
    workers doing the run's chunks at once would number the letters in another order.)"""
    plain = {k: v for k, v in book.env.items() if not k.startswith("CELERY_")}
    _python(plain, "-m", "arrears.cli", "run", "--date", RUN_ON)


def _printed(folder: Path) -> dict[str, Any]:
    """The batch's print file as pages of text, and its manifest."""
    reader = PdfReader(str(folder / f"print-{RUN_ON}.pdf"))
    return {
        "pages": [page.extract_text() for page in reader.pages],
        "manifest": (folder / f"manifest-{RUN_ON}.csv").read_text(encoding="utf-8"),
        "files": sorted(p.name for p in (folder / "letters").iterdir()),
    }


# What the in-process batch printed and left, per database engine: the same for every broker.
_IN_PROCESS: dict[str, tuple[dict[str, Any], Any]] = {}


def _two_books(
    tmp_path: Path, broker: dict[str, str], books: list[Book]
) -> tuple[dict[str, Any], Any, Book]:
    """The same book twice, each run on 2026-09-10: one printed in-process (what it printed and
    the letters it left, once per session), the other with the broker."""
    if connection.vendor not in _IN_PROCESS:
        inproc = _book(tmp_path, "inproc", {})
        books.append(inproc)
        inproc.arrears("run", "--date", RUN_ON)
        out = tmp_path / "inproc-print"
        inproc.arrears("letters", "batch", "--date", RUN_ON, "--output", str(out), "--workers", "2")
        _IN_PROCESS[connection.vendor] = (_printed(out), _letters(inproc))
    workers = _book(tmp_path, "workers", broker)
    books.append(workers)
    _run_here(workers)
    return (*_IN_PROCESS[connection.vendor], workers)


def _batch(out: Path, wait: str = "120") -> list[str]:
    return ["letters", "batch", "--date", RUN_ON, "--output", str(out), "--wait", wait]


def test_letters_rendered_by_workers_print_what_the_in_process_batch_prints(
    tmp_path, broker, books
):
    # given the same book twice, one printed in-process
    expected, expected_letters, workers = _two_books(tmp_path, broker, books)
    log = (tmp_path / "worker.log").open("w")
    worker = workers.popen("worker", "--concurrency", "2", stdout=log, stderr=log)
    try:
        # when the other's batch hands its letters to the workers
        out = tmp_path / "workers-print"
        done = workers.arrears(*_batch(out))
    finally:
        _stop(worker)
    # then it prints the same seven letters: the same pages, the same manifest
    assert "7 letters for 2026-09-10 in batch" in done.stdout
    got = _printed(out)
    assert len(got["pages"]) == len(expected["pages"]) >= 7
    assert got == expected
    assert "Gus" in got["manifest"]
    # and the book holds the same letters, each rendered once, in one complete batch
    left = _letters(workers)
    assert left == expected_letters
    assert [row[3] for row in left["letters"]] == ["rendered"] * 7
    assert left["timeline"] == [["letter.dated", 7], ["letter.rendered", 7]]
    assert left["batches"] == [["complete", 1]]


def test_a_worker_killed_mid_chunk_leaves_it_to_another_and_the_batch_prints_the_same(
    tmp_path, broker, books
):
    # given the same book twice, one printed in-process
    expected, expected_letters, workers = _two_books(tmp_path, broker, books)
    # when the other's batch hands its chunks to a worker that holds each, archived but not
    # committed, and that worker is killed in the middle of one; a second worker comes up
    out = tmp_path / "workers-print"
    done = killed_mid_task(
        workers,
        _batch(out),
        hold={"ARREARS_TEST_LETTER_DELAY": "60"},
        log=tmp_path / "second.log",
    )
    # then the batch finishes and prints what the in-process batch printed
    assert done.returncode == 0, done.stderr
    assert "7 letters for 2026-09-10 in batch" in done.stdout
    assert _printed(out) == expected
    # and each letter was rendered once: the killed chunk left nothing but a file the next
    # worker adopted (the same bytes)
    assert _letters(workers) == expected_letters


def test_without_a_worker_the_batch_says_so_exits_2_after_its_wait_and_changes_nothing(
    tmp_path, broker, books
):
    # given a book run on 2026-09-10 whose broker no worker listens to
    books.append(_book(tmp_path, "alone", broker))
    book = books[0]
    _run_here(book)
    before = _letters(book)
    assert [row[3] for row in before["letters"]] == ["queued"] * 7
    # when the batch is asked to wait one second
    done = book.arrears(*_batch(tmp_path / "out", wait="1"), check=False)
    # then it says that no worker answered, and how to start one, with exit status 2
    assert done.returncode == 2, done.stderr
    assert "no worker answered within 1 s" in done.stderr
    assert "arrears worker" in done.stderr
    assert "Traceback" not in done.stderr
    # and nothing was written: the letters still queued, no batch opened
    assert _letters(book) == before
