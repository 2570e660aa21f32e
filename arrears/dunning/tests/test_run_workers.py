"""The daily run handed to Celery workers (CELERY_BROKER_URL), against a real Redis and a real
RabbitMQ, with `arrears worker` and `arrears run` as real processes on a book of their own (a new
SQLite file, or new PostgreSQL databases beside the test's when the suite runs on PostgreSQL).

Six leases, rent of 1,200.00 due on Tuesday 2026-09-01, run on 2026-09-10 two accounts a chunk
(three chunks): A-1, A-3 and A-5 at Elm Court in Brooklyn (NY), A-2, A-4 and A-6 at Oak Row in
Oakland (CA). Bea (A-2) and Eve (A-5) have an email address, the others none; Gus guarantees A-3;
Dan (A-4) paid 500.00 on 09-03. New York's five days of grace (GCL §20) are over: the NY leases
get their late notice and their late fee (RPL §238-a(2): 50.00, the lesser of $50 and 5% of
1,200.00), whoever still owes. The same book is run in-process and through the workers, and the
two runs must say the same thing (JSON equal apart from order) and leave the same rows.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from arrears.dunning.tests.test_run_concurrency import ROOT, SETUP, write_book

pytestmark = pytest.mark.django_db(transaction=True)

RUN_ON = "2026-09-10"
BROKERS = {
    "redis": "redis://127.0.0.1:6379/11",
    "amqp": "amqp://guest:guest@127.0.0.1:5672//",
}

# What a run left in the book: its rows counted, and the late fees by account.
LEFT = (
    SETUP
    + """
import json
from arrears.correspondence.models import Outbound
from arrears.dunning.models import Action
from arrears.ledger.models import TimelineEvent, Transaction
fees = Transaction.objects.filter(type="charge", code="LATE").values_list(
    "account__account_id", "amount")
print(json.dumps({"fees": sorted([a, str(x)] for a, x in fees),
                  "actions": sorted(Action.objects.values_list("key", "status")),
                  "outbound": Outbound.objects.count(),
                  "timeline": TimelineEvent.objects.count()}))
"""
)


def _book() -> dict[str, list[dict[str, str]]]:
    properties = [
        {"property_id": "ELM", "name": "Elm Court", "city": "Brooklyn", "state": "NY"},
        {"property_id": "OAK", "name": "Oak Row", "city": "Oakland", "state": "CA"},
    ]
    book: dict[str, list[dict[str, str]]] = {
        "properties": [{**p, "country": "US"} for p in properties],
        "parties": [],
        "accounts": [],
        "account_parties": [],
        "transactions": [],
    }
    names = {1: "Ann", 2: "Bea", 3: "Cal", 4: "Dan", 5: "Eve", 6: "Fay"}
    for n, name in names.items():
        ny = n % 2 == 1
        book["parties"].append(_party(f"P-{n}", name, ny, email=n in (2, 5)))
        book["accounts"].append(
            {
                "account_id": f"A-{n}",
                "property_id": "ELM" if ny else "OAK",
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
    book["parties"].append(_party("G-3", "Gus", True, email=False))
    book["account_parties"].append({"account_id": "A-3", "party_id": "G-3", "role": "guarantor"})
    book["transactions"].append(
        {
            "txn_id": "PAY-4",
            "account_id": "A-4",
            "posted": "2026-09-03",
            "type": "payment",
            "code": "",
            "amount": "500.00",
            "due": "",
        }
    )
    return book


def _party(party_id: str, name: str, ny: bool, *, email: bool) -> dict[str, str]:
    return {
        "party_id": party_id,
        "name": name,
        "email": f"{name.lower()}@example.com" if email else "",
        "language": "en",
        "address": f"{party_id[-1]} {'Elm Street' if ny else 'Oak Row'}",
        "city": "Brooklyn" if ny else "Oakland",
        "state": "NY" if ny else "CA",
        "postal_code": "11201" if ny else "94607",
        "country": "US",
    }


# The books made once per session, by what they hold (the book, the day): a SQLite file, or a
# PostgreSQL database the tests' books are created from (`CREATE DATABASE … TEMPLATE`).
_TEMPLATES: dict[str, str] = {}


def _server_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}"


def _template(env: dict[str, str]) -> str:
    """The session's copy of the book `_book()` initialised and imported (as of the day of
    `env`, if it names one), made on first use."""
    book = _book()
    day = {k: env.get(k, "") for k in ("ARREARS_TODAY", "ARREARS_NOW")}
    key = hashlib.sha256(json.dumps([book, day], sort_keys=True).encode()).hexdigest()[:12]
    if key in _TEMPLATES:
        return _TEMPLATES[key]
    folder = Path(tempfile.mkdtemp(prefix="arrears-book-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    if connection.vendor == "postgresql":
        made = f"{connection.settings_dict['NAME']}_book_{key}"
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{made}"')
            cursor.execute(f'CREATE DATABASE "{made}"')
        atexit.register(_drop_template, _server_url(), made)
        url = f"{_server_url()}/{made}"
    else:
        made = str(folder / "book.sqlite3")
        url = f"sqlite:///{made}"
    maker = {**env, "DATABASE_URL": url}
    _arrears(maker, "init")
    _arrears(maker, "import", str(write_book(folder / "csv", book)))
    _TEMPLATES[key] = made
    return made


def _arrears(
    env: dict[str, str], *args: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """`arrears ARGS` in a process of its own with `env`; it must succeed, unless not `check`."""
    done = subprocess.run(
        [sys.executable, "-m", "arrears.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if check:
        assert done.returncode == 0, done.stderr
    return done


def _drop_template(server: str, name: str) -> None:
    import psycopg

    with (
        contextlib.suppress(psycopg.Error),
        psycopg.connect(f"{server}/postgres", autocommit=True) as db,
    ):
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Book:
    """A book the test's processes share: a new SQLite file, or a new PostgreSQL database, each a
    copy of the book made once per test session (`_template`): `arrears init` and the import
    of the six leases take seconds a book, and every test here makes one or two."""

    def __init__(self, folder: Path, name: str, extra_env: dict[str, str]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ARREARS_", "CELERY_"))}
        env.pop("DJANGO_SETTINGS_MODULE", None)
        self.env = {**env, "ARREARS_RUN_CHUNK": "2", **extra_env}
        template = _template(self.env)
        if connection.vendor == "postgresql":
            self.database = f"{connection.settings_dict['NAME']}_{name}"
            with connection.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{self.database}"')
                cursor.execute(f'CREATE DATABASE "{self.database}" TEMPLATE "{template}"')
            self.url = f"{_server_url()}/{self.database}"
        else:
            self.database = ""
            shutil.copyfile(template, folder / "book.sqlite3")
            self.url = f"sqlite:///{folder / 'book.sqlite3'}"
        self.env["DATABASE_URL"] = self.url

    def arrears(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return _arrears(self.env, *args, check=check)

    def popen(self, *args: str, env: dict[str, str] | None = None, **kw: Any) -> Any:
        return subprocess.Popen(
            [sys.executable, "-m", "arrears.cli", *args],
            cwd=ROOT,
            env={**self.env, **(env or {})},
            text=True,
            **kw,
        )

    def left(self) -> Any:
        done = subprocess.run(
            [sys.executable, "-c", LEFT],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])

    def drop(self) -> None:
        if self.database:
            with connection.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')


def _reachable(url: str) -> bool:
    parts = urllib.parse.urlparse(url)
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=3).close()
    except OSError:
        return False
    return True


@pytest.fixture(params=sorted(BROKERS))
def broker(request: pytest.FixtureRequest) -> dict[str, str]:
    """The broker's settings, a queue of the test's own (so that no other worker takes its
    chunks); skipped when the broker is not running (a failure under CI=true: conftest)."""
    url = BROKERS[request.param]
    if not _reachable(url):
        pytest.skip(f"{request.param} is not reachable at {url}: start it (.ci/run does)")
    return {
        "CELERY_BROKER_URL": url,
        "CELERY_QUEUE": f"arrears-test-{uuid.uuid4().hex[:12]}",
        # Redis gives a chunk taken by a worker that died to another after this long.
        "CELERY_VISIBILITY_TIMEOUT": "3",
    }


@pytest.fixture
def books(tmp_path: Path) -> Iterator[list[Book]]:
    made: list[Book] = []
    yield made
    for book in made:
        book.drop()


_CLEAN: dict[str, tuple[dict[str, Any], Any]] = {}


@pytest.fixture
def clean(tmp_path: Path) -> tuple[dict[str, Any], Any]:
    """What the clean run of the book says (its JSON) and leaves (`Book.left`): in-process,
    with no broker and no fault; made once per database engine, the same for every broker."""
    if connection.vendor not in _CLEAN:
        book = Book(tmp_path / "clean", "clean", {})
        try:
            said = json.loads(book.arrears("run", "--date", RUN_ON, "--format", "json").stdout)
            _CLEAN[connection.vendor] = (said, book.left())
        finally:
            book.drop()
    return _CLEAN[connection.vendor]


def _sorted(doc: dict[str, Any]) -> dict[str, Any]:
    """The run's JSON with its lists in one order (the contract: equal apart from order)."""
    return {
        k: sorted(json.dumps(x, sort_keys=True) for x in v) if isinstance(v, list) else v
        for k, v in doc.items()
    }


def _wait_for(stream: Any, said: str, process: Any) -> None:
    """Read `stream` until a line says `said`; the process is killed if it has not in 120 s."""
    timer = threading.Timer(120, process.kill)
    timer.start()
    try:
        for line in stream:
            if said in line:
                return
    finally:
        timer.cancel()
    pytest.fail(f"the worker ended without saying {said!r}")


def _stop(worker: Any) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def killed_mid_task(
    book: Book, command: list[str], *, hold: dict[str, str], log: Path
) -> subprocess.CompletedProcess[str]:
    """`command` done while the book's first worker (solo) holds each task it takes, per `hold`
    (its test delay), and is killed (-9) once it says it holds one; a second worker then comes
    up. Returns the command's status and output."""
    first = book.popen(
        "worker", "--pool", "solo", env=hold, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    second = None
    try:
        done = book.popen(*command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        _wait_for(first.stderr, "holding", first)
        first.send_signal(signal.SIGKILL)
        first.wait()
        with log.open("w") as stream:
            second = book.popen("worker", "--pool", "solo", stdout=stream, stderr=stream)
        out, err = done.communicate(timeout=240)
    finally:
        for worker in (first, second):
            if worker is not None:
                _stop(worker)
    return subprocess.CompletedProcess(command, done.returncode, out, err)


def test_a_worker_killed_mid_chunk_leaves_it_to_another_and_the_run_equals_the_in_process_one(
    tmp_path, broker, books, clean
):
    # given the book run in-process (what it said and left), and the same book with the broker
    expected, expected_left = clean
    books.append(Book(tmp_path / "workers", "workers", broker))
    workers = books[0]
    # when the run hands its chunks over to a worker that holds each, written but not
    # committed, and that worker is killed in the middle of one; a second worker comes up
    run = killed_mid_task(
        workers,
        ["run", "--date", RUN_ON, "--format", "json", "--wait", "120"],
        hold={"ARREARS_TEST_CHUNK_DELAY": "60"},
        log=tmp_path / "second.log",
    )
    out, err = run.stdout, run.stderr
    # then the run finishes and says what the in-process run said, apart from order
    assert run.returncode == 0, err
    got = json.loads(out)
    assert _sorted(got) == _sorted(expected)
    # and what it says is the law's: NY's late notice (RPL §235-e(d): to the tenant; Gus, the
    # guarantor, has a letter of his own) and late fee of 50.00 (RPL §238-a(2)) on and
    # A-5, none on the CA leases
    fees = sorted(a["account_id"] for a in got["actions"] if a["step"] == "late-fee")
    assert fees == ["A-1", "A-3", "A-5"]
    assert {a["amount"] for a in got["actions"] if a["step"] == "late-fee"} == {"50.00"}
    notices = {
        (a["account_id"], a["party_id"]) for a in got["actions"] if a["step"] == "late-notice"
    }
    assert notices == {("A-1", "P-1"), ("A-3", "P-3"), ("A-5", "P-5")}
    guarantor = [a["party_id"] for a in got["actions"] if a["step"] == "late-notice-guarantor"]
    assert guarantor == ["G-3"]
    # and the book holds the same rows, each once: the killed worker's chunk left nothing
    assert workers.left() == expected_left
    # and the run's status says it is finished, its three chunks done
    status = json.loads(workers.arrears("run", "--status", "--format", "json").stdout)
    assert (status["state"], status["chunks_total"], status["chunks_done"]) == ("finished", 3, 3)
    assert status["accounts_done"] == 6
    assert status["counts"]["actions"] == len(expected["actions"])


def test_without_a_worker_the_run_says_so_exits_2_after_its_wait_and_changes_nothing(
    tmp_path, broker, books
):
    # given a book whose broker no worker listens to
    books.append(Book(tmp_path / "book", "alone", broker))
    book = books[0]
    before = book.left()
    # when the run is asked to wait one second
    done = book.arrears("run", "--date", RUN_ON, "--format", "json", "--wait", "1", check=False)
    # then it says that no worker answered, and how to start one, with exit status 2
    assert done.returncode == 2, done.stderr
    assert "no worker answered within 1 s" in done.stderr
    assert "arrears worker" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""
    # and nothing was written: no run, no action
    assert book.left() == before
    status = json.loads(book.arrears("run", "--status", "--format", "json").stdout)
    assert status is None
