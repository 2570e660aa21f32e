"""The daily job and its catch-up: what the documented cron does after midnight, as one call
(`arrears scheduler` ticks it through Celery beat, docs/scaling.md "Schedule").

A day's job is the existing system jobs in their order, nothing of its own: the run
(`acts.book_run`), the letter batch (`dunning.reissue.letters_print`, audited as
`letters.manage`: the print file and manifest go to the archive), the day's emails and those
that waited (`contact.emails_send`, as `arrears mail send`), the day's snapshots
(`acts_reports.snapshots_after_run`) and the report subscriptions due
(`acts_subscriptions.subscriptions_send`, a task of its own on the workers: `subscriptions_after`);
the mail steps only when EMAIL_URL is set. With CELERY_BROKER_URL the run's chunks and the
emails' batches go to the workers and are waited for, so each step begins once the one before is
done.

`daily_tick(on)` runs the job for each day after the last day a real run finished (`RunLog`), in
order, up to `on`: at most ARREARS_CATCH_UP_DAYS of them (the latest), so a book that was left
for months does not run them all at once. A day that has run is not run again. A tick that finds
another run holding the run's lock (two ticks at once, or an `arrears run` by hand) logs it and
does nothing more: the other finishes the day, the next tick the rest.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from arrears.access.acting import By, run_job
from arrears.access.acts import book_run
from arrears.access.acts_reports import snapshots_after_run
from arrears.access.acts_subscriptions import subscriptions_send
from arrears.core.broker import broker_url, celery_app
from arrears.core.errors import DomainError
from arrears.core.locks import exclusive
from arrears.correspondence.mail_out import Sender, smtp_from_env
from arrears.dunning import contact
from arrears.dunning.models import RunLog
from arrears.dunning.reissue import letters_print
from arrears.dunning.run_lock import RunInProgressError

log = logging.getLogger("arrears.schedule")


@dataclass
class Tick:
    """What a tick did: the days it ran, in order, and the day it found running, if any."""

    ran: list[date] = field(default_factory=list)
    busy: date | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "ran": [d.isoformat() for d in self.ran],
            "busy": self.busy.isoformat() if self.busy else None,
        }


def days_due(on: date) -> list[date]:
    """The days a tick on `on` runs, oldest first: each after the last real run finished, up to
    `on`, at most ARREARS_CATCH_UP_DAYS of them; just `on` when no run has finished yet."""
    last = (
        RunLog.objects.filter(dry_run=False, finished_at__isnull=False, stopped="")
        .order_by("-run_on")
        .values_list("run_on", flat=True)
        .first()
    )
    if last is None:
        return [on]
    first = max(last + timedelta(days=1), on - timedelta(days=settings.ARREARS_CATCH_UP_DAYS - 1))
    return [first + timedelta(days=n) for n in range((on - first).days + 1)]


def daily_tick(*, by: By, on: date) -> Tick:
    """The scheduled tick: `daily_job` for each day `days_due(on)`, oldest first (see the
    module docstring)."""
    tick = Tick()
    for day in days_due(on):
        try:
            daily_job(by=by, on=day)
        except RunInProgressError:
            log.warning("daily job for %s: another run holds the run's lock; not run", day)
            tick.busy = day
            break
        tick.ran.append(day)
    return tick


def daily_job(*, by: By, on: date) -> None:
    """One day's job: the run, the letter batch, the emails, the snapshots, the subscriptions
    (each the existing act or system job; see the module docstring)."""
    # The run's emails go with the mail step below (the same `emails_send` of the day), in this
    # process: a Celery worker's pool process may not start processes of its own.
    book_run(by=by, on=on, dry_run=False, send_emails=False)
    # With a broker the letters are rendered by the workers, a task per chunk (this process,
    # a worker's, waits for them); without, here (workers=1: a Celery pool process may not start
    # processes of its own).
    with tempfile.TemporaryDirectory() as folder:
        run_job(
            by,
            "letters.manage",
            detail={"batch": on.isoformat()},
            do=lambda: letters_print(on=on, output=Path(folder), actor=by.name, workers=1),
        )
    if settings.EMAIL_URL:
        run_job(
            by,
            "mail.send",
            detail={"date": on.isoformat()},
            do=lambda: contact.emails_send(
                on=on, settings=smtp_from_env(), sender=Sender.from_env(), actor=by.name, workers=1
            ),
        )
    snapshots_after_run(on=on)
    if settings.EMAIL_URL:
        subscriptions_after(by=by, on=on)


def subscriptions_after(*, by: By, on: date) -> None:
    """The day's report subscriptions, last of its job: with CELERY_BROKER_URL a task of their
    own (`arrears.subscriptions_send`), sent once the run, the letters, the emails and the
    snapshots are done, so the job's worker is free and a failing report fails alone; else here.
    Each is sent once per period (`reports.delivery`), so a task done twice sends nothing more."""
    if broker_url():
        celery_app().send_task("arrears.subscriptions_send", kwargs={"on": on.isoformat()})
        return
    subscriptions_send(by=by, on=on)


class MailFetchBusyError(DomainError):
    """Another mail fetch of the book is reading the mailbox."""

    code = "mail_fetch_busy"


MAIL_FETCH_LOCK = 0x41524D46  # "ARMF": the PostgreSQL advisory lock of the mail fetch


def mail_fetch(*, by: By, source: str = "") -> tuple[Any, int]:
    """`arrears mail fetch` and the scheduler's fetch every ARREARS_MAIL_FETCH_MINUTES: the
    mailbox read (`source`, else IMAP_URL, else ARREARS_MAILDIR) and filed, the opt-outs
    recorded, a bounce reported after sending settled; audited as `mail.fetch`. Returns the
    fetch's report and how many opted out. Two fetches of a book never run at once (a lock
    that dies with its holder: `core.locks`): MailFetchBusyError, at once, while another
    runs."""
    from arrears.correspondence.mail_in import mail_fetch as fetch_mailbox

    where = source or settings.IMAP_URL or settings.ARREARS_MAILDIR

    def fetch() -> tuple[Any, int]:
        with exclusive(space=MAIL_FETCH_LOCK, key=0, name="mail-fetch-lock", busy=_busy):
            report = fetch_mailbox(source=where, actor=by.name)
            opted = contact.opt_outs_record(report, actor=by.name)
            if report.bounces:
                # A bounce reported after the email was sent fails its action, puts it on the
                # worklist and sends the letter its step falls back to, as a bounce at sending
                # does.
                contact.email_actions_settle(actor=by.name)
        return report, opted

    return run_job(by, "mail.fetch", detail={"source": without_password(where)}, do=fetch)


def _busy() -> MailFetchBusyError:
    return MailFetchBusyError(
        _("another mail fetch is reading the mailbox: this one is not run"),
        code="mail_fetch_busy",
    )


def without_password(source: str) -> str:
    """The mailbox as the audit may keep it: an IMAP URL without its password."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(source)
    if parts.password is None:
        return source[:200]
    host = parts.hostname or ""
    netloc = f"{parts.username}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))[:200]
