"""The daily run on Celery workers when its broker or its database goes away for a while, against
a real Redis, a real RabbitMQ and a real PostgreSQL: taken away through a proxy of the test's own
(`cut_proxy.CutProxy`), never by stopping the machine's shared services.

The book is `test_run_workers`' (six leases, three chunks of two, run on 2026-09-10); each run
here must say what a clean in-process run of the same book says (JSON equal apart from order)
and leave the same rows, each once.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
import urllib.parse
from typing import Any

import pytest

from arrears.dunning.tests.cut_proxy import CutProxy
from arrears.dunning.tests.test_run_workers import (  # noqa: F401 (the fixtures)
    RUN_ON,
    Book,
    _sorted,
    _stop,
    books,
    broker,
    clean,
)

pytestmark = pytest.mark.django_db(transaction=True)

# The rows of the first chunk's accounts, and whether the chunk is recorded done:
# read by the test itself, at once (a process of its own takes seconds to start under load, and
# the worker holds the chunk for two).
MINE = "JOIN ledger_account a ON a.id = t.account_id AND a.account_id IN ('A-1', 'A-2')"
FIRST_CHUNK_ROWS = {
    "actions": f"SELECT count(*) FROM dunning_action t {MINE}",
    "outbound": f"SELECT count(*) FROM correspondence_outbound t {MINE}",
    "timeline": f"SELECT count(*) FROM ledger_timelineevent t {MINE}",
    "fees": f"SELECT count(*) FROM ledger_transaction t {MINE} WHERE t.code = 'LATE'",
    "done": 'SELECT count(*) FROM dunning_runchunk WHERE "index" = 0',
}


def _first_chunk_rows(book: Book) -> dict[str, int]:
    import psycopg

    counts = {}
    with psycopg.connect(book.url) as db:
        for name, sql in FIRST_CHUNK_ROWS.items():
            row = db.execute(sql).fetchone()
            assert row is not None
            counts[name] = row[0]
    return counts


def _through(url: str, proxy: CutProxy) -> str:
    """`url` with its host and port replaced by the proxy's."""
    parts = urllib.parse.urlsplit(url)
    login = parts.netloc.rpartition("@")[0]
    netloc = f"{login}@127.0.0.1:{proxy.port}" if login else f"127.0.0.1:{proxy.port}"
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def _port(url: str) -> int:
    return urllib.parse.urlsplit(url).port or 5432


class Said:
    """The lines a process writes on standard error, read as they come (the pipe never fills)."""

    def __init__(self, stream: Any) -> None:
        self.lines: list[str] = []
        self._changed = threading.Condition()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: Any) -> None:
        for line in stream:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()

    def count(self, text: str) -> int:
        with self._changed:
            return sum(text in line for line in self.lines)

    def wait_for(self, text: str, times: int = 1, timeout: float = 60) -> None:
        with self._changed:
            if not self._changed.wait_for(lambda: self.count(text) >= times, timeout):
                pytest.fail(
                    f"not said {times}× within {timeout} s: {text!r}\n{''.join(self.lines)}"
                )


def _worker(book: Book, env: dict[str, str], hold: str) -> tuple[Any, Said]:
    """`arrears worker` in one process, holding each chunk `hold` seconds before it commits,
    saying what it does (INFO), once it is ready."""
    worker = book.popen(
        "worker",
        "--pool",
        "solo",
        "--loglevel",
        "INFO",
        env={**env, "ARREARS_TEST_CHUNK_DELAY": hold},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    said = Said(worker.stderr)
    try:
        said.wait_for("ready.")
    except BaseException:
        _stop(worker)
        raise
    return worker, said


def _run(book: Book, env: dict[str, str]) -> Any:
    """`arrears run` of the day through the workers, waiting for them up to 60 s."""
    return book.popen(
        "run",
        "--date",
        RUN_ON,
        "--format",
        "json",
        "--wait",
        "60",
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _end(worker: Any, proxy: CutProxy, settings: dict[str, str]) -> None:
    """Stop the worker and the proxy, and take the test's queue off the shared broker."""
    from kombu import Connection

    _stop(worker)
    proxy.close()
    with Connection(settings["CELERY_BROKER_URL"], connect_timeout=5) as conn:
        conn.default_channel.queue_delete(settings["CELERY_QUEUE"])


def _assert_clean(book: Book, run: Any, said: tuple[str, str], clean_run: Any) -> None:
    """The run ended well, said what the clean run said (apart from order), and left the same
    rows in the book."""
    expected, expected_left = clean_run
    out, err = said
    assert run.returncode == 0, err
    assert _sorted(json.loads(out)) == _sorted(expected)
    assert book.left() == expected_left


def test_the_run_and_its_worker_ride_out_the_broker_going_away_and_the_run_equals_a_clean_one(
    tmp_path,
    broker,  # noqa: F811
    books,  # noqa: F811
    clean,  # noqa: F811
):
    # given the book, its clean run, and a worker that reaches the broker through a proxy and
    # holds each chunk a second before it commits
    book = Book(tmp_path / "book", "restart", broker)
    books.append(book)
    proxy = CutProxy(_port(broker["CELERY_BROKER_URL"])).start()
    via = {"CELERY_BROKER_URL": _through(broker["CELERY_BROKER_URL"], proxy)}
    worker, said = _worker(book, via, hold="1")
    try:
        # when the broker is down as the run starts (it asks for its workers in vain)
        proxy.cut()
        run = _run(book, via)
        time.sleep(3)
        # and, back, goes down again for 3 s the moment the run sends its first chunk (the chunk
        # lost with it)
        proxy.cut_on(b"arrears.run_chunk", seconds=3)
        proxy.restore()
        assert proxy.tripped.wait(60), "the run sent no chunk"
        # and a third time, for 3 s, while the worker is in the middle of a chunk
        said.wait_for("chunk 0 holding")
        with proxy.down():
            time.sleep(3)
        out, err = run.communicate(timeout=90)
    finally:
        _end(worker, proxy, broker)
    # then the run finishes and says what the clean run said, apart from order, and the book
    # holds the same rows, each once
    _assert_clean(book, run, (out, err), clean)
    # and the worker did lose its broker, and found it again
    assert said.count("Connection to broker lost") >= 1, "".join(said.lines)


@pytest.mark.postgres
def test_postgresql_gone_mid_chunk_the_chunk_is_tried_again_later_and_nothing_half_written(
    tmp_path,
    broker,  # noqa: F811
    books,  # noqa: F811
    clean,  # noqa: F811
):
    # given the book on PostgreSQL, its clean run, and a worker and a run that reach the
    # database through a proxy, the worker holding each chunk 2 s before it commits
    book = Book(tmp_path / "book", "pgdown", broker)
    books.append(book)
    proxy = CutProxy(_port(book.url)).start()
    via = {"DATABASE_URL": _through(book.url, proxy)}
    worker, said = _worker(book, via, hold="2")
    try:
        run = _run(book, via)
        # when PostgreSQL goes away for 3 s while the worker holds chunk 0 written, uncommitted
        # (and the run's own connection with it, as it waits)
        said.wait_for("chunk 0 holding")
        with proxy.down():
            time.sleep(3)
        # then the chunk's transaction failed and the task is tried again after a wait
        said.wait_for("Retry in")
        # and when the worker holds chunk 0 again, nothing of its first try is in the book:
        # no row of its accounts, A-1 and A-2, and the chunk not recorded done
        said.wait_for("chunk 0 holding", times=2)
        nothing = {"actions": 0, "outbound": 0, "timeline": 0, "fees": 0, "done": 0}
        assert _first_chunk_rows(book) == nothing, "".join(said.lines)
        out, err = run.communicate(timeout=90)
    finally:
        _end(worker, proxy, broker)
    # and the run, which waited through it, finishes and says what the clean run said, and the
    # book holds the same rows, each once
    _assert_clean(book, run, (out, err), clean)
    status = json.loads(book.arrears("run", "--status", "--format", "json").stdout)
    assert (status["state"], status["chunks_done"]) == ("finished", 3)


def test_a_broker_that_does_not_come_back_within_the_wait_stops_the_run_with_exit_2(
    tmp_path,
    books,  # noqa: F811
):
    # given a book whose broker is down (a proxy to Redis, cut) and stays down
    proxy = CutProxy(6379).start()
    proxy.cut()
    books.append(
        Book(
            tmp_path / "book",
            "nobroker",
            {
                "CELERY_BROKER_URL": _through("redis://127.0.0.1:6379/11", proxy),
                "CELERY_QUEUE": "arrears-test-nobroker",
            },
        )
    )
    book = books[0]
    before = book.left()
    # when the run is asked to wait two seconds
    started = time.monotonic()
    done = book.arrears("run", "--date", RUN_ON, "--format", "json", "--wait", "2", check=False)
    # then it says the broker did not answer, with exit status 2, once its wait is spent
    assert done.returncode == 2, done.stderr
    assert "the broker (CELERY_BROKER_URL) did not answer within 2 s" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""
    assert time.monotonic() - started < 30
    # and nothing was written
    assert book.left() == before
