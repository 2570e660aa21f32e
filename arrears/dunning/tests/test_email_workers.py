"""`arrears mail send` handing its batches of emails to Celery workers (CELERY_BROKER_URL), against
a real Redis and a real RabbitMQ, with `arrears worker` and `arrears mail send` as real processes
and a real SMTP server (aiosmtpd) for each book. The book, the brokers and the helpers are the
run's worker tests' (arrears/dunning/tests/test_run_workers.py: six leases run on 2026-09-10),
every tenant with an email address here; the emails go at 11:00 in New York (08:00 in Oakland),
within everyone's contact hours, one email a batch.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from arrears.correspondence.tests import smtp_server
from arrears.dunning.tests import test_run_workers as run_workers
from arrears.dunning.tests.test_run_workers import (  # noqa: F401  (fixtures)
    RUN_ON,
    Book,
    _stop,
    books,
    broker,
)

pytestmark = pytest.mark.django_db(transaction=True)

AT = "2026-09-10T11:00:00-04:00"


@pytest.fixture
def servers() -> Any:
    started: list[Any] = []

    def start() -> Any:
        handler = smtp_server.Recorder()
        controller = smtp_server.start(handler)
        started.append(controller)
        return handler, f"smtp://127.0.0.1:{controller.port}"

    yield start
    for controller in started:
        controller.stop()


@pytest.fixture(autouse=True)
def everyone_has_email(monkeypatch: pytest.MonkeyPatch) -> None:
    """The run's workers' book with every tenant's email address (Gus, the guarantor, none)."""
    book = run_workers._book

    def with_emails() -> dict[str, list[dict[str, str]]]:
        made = book()
        for party in made["parties"]:
            if party["party_id"].startswith("P-"):
                party["email"] = f"{party['name'].lower()}@example.com"
        return made

    monkeypatch.setattr(run_workers, "_book", with_emails)


def _mail_book(folder: Path, name: str, url: str, extra: dict[str, str]) -> Book:
    env = {
        "EMAIL_URL": url,
        "ARREARS_NOW": AT,
        "ARREARS_TODAY": RUN_ON,
        "ARREARS_ARCHIVE_DIR": str(folder / "archive"),
        "ARREARS_MAIL_FROM": "rent@elmcourt.example",
        "ARREARS_EMAIL_BATCH": "1",
        **extra,
    }
    book = Book(folder, name, env)
    # the day's run done in the run's own process, its emails left for `mail send`
    run = book.popen(
        "run",
        "--date",
        RUN_ON,
        env={"CELERY_BROKER_URL": "", "EMAIL_URL": ""},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, err = run.communicate(timeout=240)
    assert run.returncode == 0, err
    return book


def _wait_in(log: Path, said: str, send: Any) -> None:
    """Wait until the worker's log says `said`; the send is stopped, and the log shown, if it
    has not in 120 s."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if said in log.read_text():
            return
        time.sleep(0.1)
    send.kill()
    out, err = send.communicate()
    pytest.fail(f"the worker did not say {said!r}:\n{log.read_text()}\nsend: {out} {err}")


def _send(book: Book, *extra: str, **kw: Any) -> Any:
    return book.popen(
        "mail",
        "send",
        "--date",
        RUN_ON,
        "--format",
        "json",
        *extra,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **kw,
    )


def test_a_worker_killed_mid_batch_leaves_it_to_another_and_every_email_goes_once(
    tmp_path: Path,
    broker: dict[str, str],  # noqa: F811
    books: list[Book],  # noqa: F811  (the fixtures)
    servers: Any,
) -> None:
    # given the same book twice, its run done: one sends in-process, the other through workers
    inproc_smtp, inproc_url = servers()
    workers_smtp, workers_url = servers()
    books.append(_mail_book(tmp_path / "inproc", "mail_inproc", inproc_url, {}))
    books.append(_mail_book(tmp_path / "workers", "mail_workers", workers_url, broker))
    inproc, workers = books
    sent = _send(inproc, env={"CELERY_BROKER_URL": ""})
    out, err = sent.communicate(timeout=240)
    assert sent.returncode == 0, err
    expected = json.loads(out)
    assert len(expected["sent"]) >= 3, expected
    # and a first worker that holds after each email it sent, for a minute
    first_log = tmp_path / "first.log"
    first = workers.popen(
        "worker",
        "--pool",
        "solo",
        env={"ARREARS_TEST_EMAIL_DELAY": "60"},
        stdout=first_log.open("w"),
        stderr=subprocess.STDOUT,
    )
    second = None
    try:
        # when the send hands its batches over and the first worker is killed after an email
        send = _send(workers, "--wait", "120")
        _wait_in(first_log, "holding", send)
        first.send_signal(signal.SIGKILL)
        first.wait()
        assert len(workers_smtp.received) == 1
        # and a second worker comes up
        log = (tmp_path / "second.log").open("w")
        second = workers.popen("worker", "--pool", "solo", stdout=log, stderr=log)
        out, err = send.communicate(timeout=240)
    finally:
        for worker in (first, second):
            if worker is not None:
                _stop(worker)
    # then the send finishes and says what the in-process one said, in the same order
    assert send.returncode == 0, err
    got = json.loads(out)
    assert got == expected
    # and each email reached the server once, the same emails as in-process
    ids = workers_smtp.message_ids()
    assert len(ids) == len(set(ids)) == len(expected["sent"])
    assert sorted(ids) == sorted(inproc_smtp.message_ids())


def test_without_a_worker_mail_send_says_so_exits_2_and_sends_nothing(
    tmp_path: Path,
    broker: dict[str, str],  # noqa: F811
    books: list[Book],  # noqa: F811  (the fixtures)
    servers: Any,
) -> None:
    # given a book with emails to send, whose broker no worker listens to
    smtp, url = servers()
    books.append(_mail_book(tmp_path / "book", "mail_alone", url, broker))
    # when the emails are sent with a wait of one second
    send = _send(books[0], "--wait", "1")
    out, err = send.communicate(timeout=120)
    # then it says that no worker answered, and how to start one, with exit status 2
    assert send.returncode == 2, err
    assert "no worker answered within 1 s" in err
    assert "arrears worker" in err
    assert "Traceback" not in err
    assert out == ""
    assert smtp.received == []
