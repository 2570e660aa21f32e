"""The daily job and its catch-up (access.schedule), the schedule beat keeps (access.tasks) and
`arrears scheduler` without a broker."""

from __future__ import annotations

import logging
import threading
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone as dj_timezone

from arrears.access.acting import By
from arrears.access.models import AuditEntry
from arrears.access.schedule import daily_tick, days_due, without_password
from arrears.access.tests.people import OPERATOR, TODAY
from arrears.cli import main
from arrears.dunning.models import RunLog
from arrears.dunning.run_lock import run_lock

pytestmark = pytest.mark.django_db

SYSTEM = By(OPERATOR, "system")


def real_runs() -> list[date]:
    """The days of the real runs, in the order they were made."""
    return list(
        RunLog.objects.filter(dry_run=False).order_by("id").values_list("run_on", flat=True)
    )


def finished_run(on: date) -> None:
    now = dj_timezone.now()
    RunLog.objects.create(run_on=on, dry_run=False, started_at=now, finished_at=now)


def test_a_tick_runs_the_missed_days_oldest_first_then_nothing_new(book: Path) -> None:
    # given a book whose last run was two days before today's tick
    first = TODAY - timedelta(days=2)
    assert daily_tick(by=SYSTEM, on=first).ran == [first]
    # when the tick of today comes
    tick = daily_tick(by=SYSTEM, on=TODAY)
    # then the missed day runs, then today, each with its letter batch after its run
    missed = TODAY - timedelta(days=1)
    assert tick.ran == [missed, TODAY]
    assert tick.busy is None
    assert real_runs() == [first, missed, TODAY]
    verbs = list(AuditEntry.objects.order_by("id").values_list("verb", "detail"))
    batches = [(v, d.get("date") or d.get("batch")) for v, d in verbs]
    assert batches == [
        ("run.real", first.isoformat()),
        ("letters.manage", first.isoformat()),
        ("run.real", missed.isoformat()),
        ("letters.manage", missed.isoformat()),
        ("run.real", TODAY.isoformat()),
        ("letters.manage", TODAY.isoformat()),
    ]
    # and a second tick the same day runs nothing
    again = daily_tick(by=SYSTEM, on=TODAY)
    assert again.ran == []
    assert real_runs() == [first, missed, TODAY]
    assert AuditEntry.objects.count() == 6


def test_the_catch_up_is_bounded_and_skips_a_stopped_or_unfinished_run(book: Path) -> None:
    assert days_due(TODAY) == [TODAY]  # no run yet: today alone
    finished_run(date(2026, 3, 1))
    # a run that stopped (no worker) or never finished does not count as the day run
    RunLog.objects.create(
        run_on=date(2026, 3, 20), dry_run=False, started_at=dj_timezone.now(), stopped="no worker"
    )
    RunLog.objects.create(run_on=date(2026, 3, 21), dry_run=False, started_at=dj_timezone.now())
    with override_settings(ARREARS_CATCH_UP_DAYS=3):
        # 25 days missed (March 2 to 26): the latest 3 of them
        assert days_due(TODAY) == [date(2026, 3, 24), date(2026, 3, 25), date(2026, 3, 26)]
    assert days_due(TODAY)[0] == date(2026, 3, 2)
    assert len(days_due(TODAY)) == 25
    finished_run(TODAY)
    assert days_due(TODAY) == []


def test_a_tick_that_finds_the_run_locked_does_nothing(book: Path) -> None:
    # given another run of today holding the run's lock, from another thread (its own database
    # session, as another process's tick would be)
    held, release = threading.Event(), threading.Event()

    def other_run() -> None:
        try:
            with run_lock(TODAY):
                held.set()
                release.wait(60)
        finally:
            connection.close()

    other = threading.Thread(target=other_run)
    other.start()
    try:
        assert held.wait(60)
        tick = daily_tick(by=SYSTEM, on=TODAY)
    finally:
        release.set()
        other.join()
    # then the tick says so and runs nothing
    assert tick.ran == []
    assert tick.busy == TODAY
    assert real_runs() == []
    assert tick.as_json() == {"ran": [], "busy": "2026-03-26"}


@override_settings(ARREARS_DAILY_AT="05:30", ARREARS_MAIL_FETCH_MINUTES=7)
def test_the_schedule_from_the_settings_in_the_books_zone(settings: Any) -> None:
    from arrears.access.tasks import app, beat_schedule

    schedule = beat_schedule()
    assert sorted(schedule) == ["daily", "mail-fetch"]
    daily = schedule["daily"]
    assert daily["task"] == "arrears.daily_tick"
    assert daily["schedule"].hour == {5}
    assert daily["schedule"].minute == {30}
    assert str(app.conf.timezone) == settings.TIME_ZONE == "America/New_York"
    assert str(daily["schedule"].tz) == "America/New_York"
    # last sent at 05:30 EDT (UTC-4) on March 25th 2026, 09:30 UTC; at 09:20 UTC on the 26th,
    # 05:20 in New York, the next is due in 10 minutes
    utc = ZoneInfo("UTC")
    last = datetime(2026, 3, 25, 9, 30, tzinfo=utc)
    now = datetime(2026, 3, 26, 9, 20, tzinfo=utc)
    daily["schedule"].nowfun = lambda: now
    due, wait = daily["schedule"].is_due(last)
    assert (due, wait) == (False, 600.0)
    # and a fetch not begun by the time the next is sent is dropped: one fetch, not a backlog
    assert schedule["mail-fetch"] == {
        "task": "arrears.mail_fetch",
        "schedule": timedelta(minutes=7),
        "options": {"expires": 420.0},
    }
    with override_settings(ARREARS_MAIL_FETCH_MINUTES=0):
        assert sorted(beat_schedule()) == ["daily"]


def test_the_scheduler_without_a_broker_exits_2_saying_so(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with override_settings(CELERY_BROKER_URL=""):
        assert main(["scheduler"]) == 2
    err = capsys.readouterr().err
    assert "arrears scheduler: CELERY_BROKER_URL is not set" in err
    assert "`arrears run --snapshots`, `arrears letters batch`, `arrears mail send`" in err


def test_the_mailbox_is_audited_without_its_password() -> None:
    assert (
        without_password("imaps://clerk:s3cret@mail.example.com:993/INBOX")
        == "imaps://clerk@mail.example.com:993/INBOX"
    )
    assert without_password("./maildir") == "./maildir"


@pytest.mark.django_db(transaction=True)
def test_two_mail_fetches_never_run_at_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from arrears.access.schedule import MAIL_FETCH_LOCK, MailFetchBusyError, mail_fetch
    from arrears.access.tasks import mail_fetch_task
    from arrears.core.locks import exclusive

    # given a Maildir, and a fetch of the book (another process: a thread and its own
    # connection) reading it
    caplog.set_level(logging.INFO, logger="arrears.schedule")
    folder = tmp_path / "maildir"
    for sub in ("cur", "new", "tmp"):
        (folder / sub).mkdir(parents=True)
    reading, done = threading.Event(), threading.Event()

    def other_fetch() -> None:
        try:
            with exclusive(space=MAIL_FETCH_LOCK, key=0, name="mail-fetch-lock", busy=RuntimeError):
                reading.set()
                done.wait(30)
        finally:
            connection.close()

    other = threading.Thread(target=other_fetch)
    other.start()
    try:
        assert reading.wait(30)
        # when a second fetch begins, by hand or scheduled
        with pytest.raises(MailFetchBusyError) as refused:
            mail_fetch(by=SYSTEM, source=str(folder))
        with override_settings(ARREARS_MAILDIR=str(folder), IMAP_URL=""):
            mail_fetch_task()
    finally:
        done.set()
        other.join()
    # then it is refused at once, saying why, and the scheduled one logs it and ends (the next
    # fetch is its retry); both are audited as fetches refused so
    assert refused.value.code == "mail_fetch_busy"
    assert "mail fetch: another fetch is reading the mailbox; not run" in caplog.text
    audited = AuditEntry.objects.filter(verb="mail.fetch").order_by("id")
    assert [a.detail.get("failed") for a in audited] == ["mail_fetch_busy", "mail_fetch_busy"]
    # and once the other is done, a fetch runs
    report, opted = mail_fetch(by=SYSTEM, source=str(folder))
    assert (report.filed, opted) == ([], 0)
    assert [a.detail.get("failed") for a in audited.all()] == [
        "mail_fetch_busy",
        "mail_fetch_busy",
        None,
    ]


@pytest.mark.django_db(transaction=True)
def test_a_scheduled_fetch_of_a_mailbox_that_cannot_be_reached_logs_it_and_waits_for_the_next(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from arrears.access.tasks import mail_fetch_task
    from arrears.correspondence.tests.smtp_server import free_port

    # given an IMAP server that is not there
    url = f"imap://clerk:s3cret@127.0.0.1:{free_port()}/INBOX"
    # when the scheduled fetch runs
    with override_settings(IMAP_URL=url):
        mail_fetch_task()
    # then it says so in the log, without the password, and raises nothing (no retry of its own)
    assert "mail fetch: IMAP clerk@127.0.0.1" in caplog.text
    assert "the next fetch tries again" in caplog.text
    assert "s3cret" not in caplog.text


def test_with_a_broker_the_days_subscriptions_are_a_task_of_their_own(
    settings: Any,
) -> None:
    import json
    import uuid

    import redis

    from arrears.access.schedule import subscriptions_after
    from arrears.core.broker import celery_app
    from arrears.dunning.tests.test_run_workers import _reachable

    url = "redis://127.0.0.1:6379/12"
    if not _reachable(url):
        pytest.skip(f"redis is not reachable at {url}: start it (.ci/run does)")
    # given a book on a broker (a queue of the test's own)
    settings.CELERY_BROKER_URL = url
    settings.CELERY_QUEUE = queue = f"arrears-test-{uuid.uuid4().hex[:12]}"
    celery_app.cache_clear()
    try:
        # when the day's job comes to its subscriptions
        subscriptions_after(by=SYSTEM, on=TODAY)
    finally:
        celery_app.cache_clear()
    # then they are sent to the workers as one task for the day, not sent here
    client = redis.Redis.from_url(url)
    try:
        [raw] = client.lrange(queue, 0, -1)
    finally:
        client.delete(queue)
    message = json.loads(raw)
    assert message["headers"]["task"] == "arrears.subscriptions_send"
    assert message["headers"]["kwargsrepr"] == repr({"on": TODAY.isoformat()})
    assert not AuditEntry.objects.filter(verb="subscription.send").exists()
