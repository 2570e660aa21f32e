"""`arrears scheduler` and `arrears worker` as real processes against a real Redis and a real
RabbitMQ (skipped when one is not running; a failure under CI=true): the scheduler starts beat
with the book's schedule, and the daily tick it sends is done by the workers, its run's
chunks and its letters batch's chunks by the worker's other process. The book and the broker
fixtures are the run's worker tests' (arrears/dunning/tests/test_run_workers.py: six leases, run
on 2026-09-10).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from arrears.dunning.tests.test_run_concurrency import ROOT, SETUP
from arrears.dunning.tests.test_run_workers import (  # noqa: F401  (fixtures)
    RUN_ON,
    Book,
    _stop,
    _wait_for,
    books,
    broker,
)

pytestmark = pytest.mark.django_db(transaction=True)

SEND_TICK = SETUP + (
    "from arrears.core.broker import celery_app\n"
    "import arrears.access.tasks\n"
    "celery_app().send_task('arrears.daily_tick')\n"
)


def test_the_scheduler_starts_beat_and_a_worker_does_the_daily_tick(
    tmp_path: Path,
    broker: dict[str, str],  # noqa: F811
    books: list[Book],  # noqa: F811  (the fixtures)
) -> None:
    # given a book on the broker, its today 2026-09-10, and its worker (two processes)
    env = {**broker, "ARREARS_TODAY": RUN_ON, "ARREARS_ARCHIVE_DIR": str(tmp_path / "archive")}
    books.append(Book(tmp_path / "book", "tick", env))
    book = books[0]
    log = (tmp_path / "worker.log").open("w")
    worker = book.popen(
        "worker", "--concurrency", "2", "--loglevel", "INFO", stdout=log, stderr=log
    )
    scheduler = book.popen(
        "scheduler", stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={"PYTHONUNBUFFERED": "1"}
    )
    try:
        # when the scheduler has started beat
        _wait_for(scheduler.stdout, "celery beat", scheduler)
        # and the daily tick is sent (as beat sends it at ARREARS_DAILY_AT)
        sent = subprocess.run(
            [sys.executable, "-c", SEND_TICK],
            cwd=ROOT,
            env=book.env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert sent.returncode == 0, sent.stderr
        # then the day's run is done by the workers (no run before: today alone)
        deadline = time.monotonic() + 180
        status = None
        while time.monotonic() < deadline:
            status = json.loads(book.arrears("run", "--status", "--format", "json").stdout)
            if status and status["state"] == "finished":
                break
            time.sleep(0.5)
        # and the day's letters are rendered by the workers too, a task per chunk
        while time.monotonic() < deadline:
            letters = book.arrears("letters", "list").stdout
            if "queued" not in letters and "rendered" in letters:
                break
            time.sleep(0.5)
    finally:
        for process in (scheduler, worker):
            _stop(process)
    assert status is not None
    assert (status["date"], status["state"]) == (RUN_ON, "finished")
    assert (status["chunks_total"], status["chunks_done"]) == (3, 3)
    assert "queued" not in letters
    assert letters.count("rendered") == 7
    assert "arrears.letters_chunk" in (tmp_path / "worker.log").read_text()
