"""The scheduled tasks of the book and the schedule `arrears scheduler` (Celery beat) keeps.

`arrears.daily_tick`: the daily job for the days due (`access.schedule.daily_tick`), sent at
ARREARS_DAILY_AT in the book's zone (TIME_ZONE: the app's `timezone`); `arrears.mail_fetch`:
the mailbox read every ARREARS_MAIL_FETCH_MINUTES. Both are done by `arrears worker` as the
operator (`system:<OS login>`), as the same commands run by cron are. The daily tick's run
hands its chunks to the workers and waits for them, holding one worker process meanwhile: the
workers need two processes at least between them (docs/scaling.md "Schedule").
"""

from __future__ import annotations

import getpass
from datetime import timedelta
from typing import Any

from django.conf import settings

from arrears.access.acting import By
from arrears.access.schedule import daily_tick, mail_fetch
from arrears.access.services import SystemActor
from arrears.core.broker import celery_app
from arrears.core.dates import today

app = celery_app()


def _operator() -> By:
    return By(SystemActor(getpass.getuser()), "system")


@app.task(name="arrears.daily_tick", acks_late=True, reject_on_worker_lost=True)
def daily_tick_task() -> dict[str, Any]:
    """The daily job for each day due up to the book's today, oldest first."""
    return daily_tick(by=_operator(), on=today()).as_json()


@app.task(name="arrears.mail_fetch", acks_late=True, reject_on_worker_lost=True)
def mail_fetch_task() -> None:
    """The mailbox read and filed (`arrears mail fetch`)."""
    mail_fetch(by=_operator())


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
        schedule["mail-fetch"] = {
            "task": "arrears.mail_fetch",
            "schedule": timedelta(minutes=settings.ARREARS_MAIL_FETCH_MINUTES),
        }
    return schedule
