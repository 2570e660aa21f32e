"""The scheduled tasks of the book and the schedule `arrears scheduler` (Celery beat) keeps.

`arrears.daily_tick`: the daily job for the days due (`access.schedule.daily_tick`), sent at
ARREARS_DAILY_AT in the book's zone (TIME_ZONE: the app's `timezone`); at its end each day's
job sends `arrears.subscriptions_send`, the day's report subscriptions; `arrears.mail_fetch`:
the mailbox read every ARREARS_MAIL_FETCH_MINUTES. All are done by `arrears worker` as the
operator (`system:<OS login>`), as the same commands run by cron are. The daily tick's run and
emails hand their chunks and batches to the workers and wait for them, holding one worker
process meanwhile: the workers need two processes at least between them (docs/scaling.md
"Schedule").

A mail fetch is not retried: the next one, minutes later, is its retry. One that finds another
fetch reading the mailbox (the lock of `schedule.mail_fetch`) or the mailbox unreachable logs it
and ends; and a fetch not begun by the time the next is sent (the workers were down or busy) is
dropped (`expires`), so that workers coming back read the mailbox once, not once per fetch
missed.
"""

from __future__ import annotations

import getpass
import logging
from datetime import date, timedelta
from typing import Any

from django.conf import settings

from arrears.access.acting import By
from arrears.access.acts_subscriptions import subscriptions_send
from arrears.access.schedule import MailFetchBusyError, daily_tick, mail_fetch
from arrears.access.services import SystemActor
from arrears.core.broker import celery_app
from arrears.core.dates import today
from arrears.core.errors import ValidationError

app = celery_app()
log = logging.getLogger("arrears.schedule")
# The mailbox could not be reached or read (correspondence.mail_in, .mailboxes): what was filed
# stays filed, and the next fetch goes on from there.
MAILBOX_ERRORS = ("mailbox_unreachable", "mailbox_read_failed")


def _operator() -> By:
    return By(SystemActor(getpass.getuser()), "system")


@app.task(name="arrears.daily_tick", acks_late=True, reject_on_worker_lost=True)
def daily_tick_task() -> dict[str, Any]:
    """The daily job for each day due up to the book's today, oldest first."""
    return daily_tick(by=_operator(), on=today()).as_json()


@app.task(name="arrears.subscriptions_send", acks_late=True, reject_on_worker_lost=True)
def subscriptions_send_task(*, on: str) -> None:
    """The report subscriptions due on `on` (`arrears subscription send --date`)."""
    subscriptions_send(by=_operator(), on=date.fromisoformat(on))


@app.task(name="arrears.mail_fetch", acks_late=True, reject_on_worker_lost=True)
def mail_fetch_task() -> None:
    """The mailbox read and filed (`arrears mail fetch`); see the module docstring."""
    try:
        mail_fetch(by=_operator())
    except MailFetchBusyError:
        log.info("mail fetch: another fetch is reading the mailbox; not run")
    except ValidationError as exc:
        if exc.code not in MAILBOX_ERRORS:
            raise
        log.warning("mail fetch: %s; the next fetch tries again", exc.message)


def beat_schedule() -> dict[str, dict[str, Any]]:
    """The schedule from the settings: the daily tick at ARREARS_DAILY_AT (a crontab of the
    app's zone, the book's), the mail fetch every ARREARS_MAIL_FETCH_MINUTES (none at 0). An
    hour skipped by a change to summer time is run at the next (celery's crontab)."""
    from celery.schedules import crontab

    hour, minute = settings.ARREARS_DAILY_AT.split(":")
    schedule: dict[str, dict[str, Any]] = {
        "daily": {
            "task": "arrears.daily_tick",
            "schedule": crontab(hour=int(hour), minute=int(minute), app=app),
        }
    }
    if settings.ARREARS_MAIL_FETCH_MINUTES:
        every = timedelta(minutes=settings.ARREARS_MAIL_FETCH_MINUTES)
        schedule["mail-fetch"] = {
            "task": "arrears.mail_fetch",
            "schedule": every,
            "options": {"expires": every.total_seconds()},
        }
    return schedule
