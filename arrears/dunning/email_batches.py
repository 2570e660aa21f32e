"""The sending of `emails_send` in batches: each batch is sent through the guard at the minute
each email goes (`email_batch_send`), one after the other in the send's own process, or, with
CELERY_BROKER_URL, one task per batch (`arrears.emails_batch`) on the workers, waited for. The
same function sends a batch in both; the workers' results come back through the database
(`EmailBatch` rows), in batch order, so the send reports what the in-process one does.

Never twice. Each email's try is counted (committed) before the server sees the message, and the
row is `sent` (committed, with its timeline row) right after the server accepts it
(correspondence.mail_out); a batch passes over the rows that are no longer waiting to go. A batch
redelivered to a second worker (the first died: the task is acknowledged late and given back
when its worker is lost) so sends none of the emails the first had sent, and reports them as
sent all the same (`_done_before`). The one window left is between the server's acceptance and
that commit: a worker killed there leaves a row counted but not `sent`, and the batch
redelivered sends it again, with the same Message-ID, by which the receiving side can tell the
copy (RFC 5322 §3.6.4). That is the choice mail_out makes for any pass that dies: at least once
in that window, rather than at most once, which would lose for good an email the server may
never have had.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import fields
from datetime import date, datetime
from typing import Any

from django.conf import settings as django_settings
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _

from arrears.core import dates
from arrears.core.broker import on_workers, tasks_done, worker_wait
from arrears.correspondence.mail_models import EmailBatch
from arrears.correspondence.mail_out import (
    RetrySchedule,
    SendReport,
    SmtpSettings,
    outbox_send,
    smtp_from_env,
)
from arrears.correspondence.models import Outbound
from arrears.dunning.derived import derived_holds

LISTS = tuple(f.name for f in fields(SendReport) if f.name != "error")


def batch_size() -> int:
    """Emails in each batch (ARREARS_EMAIL_BATCH)."""
    return int(getattr(django_settings, "ARREARS_EMAIL_BATCH", 200))


def email_batch_send(
    *,
    keys: list[str],
    on: date,
    settings: SmtpSettings,
    now: Callable[[], datetime] = dates.now,
    actor: str = "mail",
    schedule: RetrySchedule | None = None,
    after: Callable[[Outbound], None] | None = None,
) -> SendReport:
    """Send the emails of `keys` still waiting to go, through the guard as of `now` and one
    server session; returns what became of each (see the module docstring)."""
    from arrears.dunning.emails import email_check  # it reads the guard from this module

    accounts = Outbound.objects.filter(key__in=keys).values_list("account_id", flat=True)
    derived = derived_holds(sorted(set(accounts)), on)
    report = outbox_send(
        settings=settings,
        check=email_check(now, derived),
        keys=keys,
        schedule=schedule,
        now=now,
        actor=actor,
        after=after,
    )
    return _done_before(keys, report)


def _done_before(keys: list[str], report: SendReport) -> SendReport:
    """The batch's report with the emails an earlier try of it finished (a worker that died
    mid-batch) as that try left them, in the batch's order. Every key was waiting to go when
    the send listed it: one no longer waiting that this try did not touch was finished by the
    earlier one, and one put off past now was put off by it."""
    seen = {key for name in LISTS for key in getattr(report, name)}
    rows = Outbound.objects.filter(key__in=[k for k in keys if k not in seen]).exclude(
        status="rendered"
    )
    for key, status, detail in rows.values_list("key", "status", "detail"):
        if status == "sent":
            report.sent.append(key)
        elif status == "bounced":
            report.bounced.append(key)
        elif status == "failed":
            (report.refused if (detail or {}).get("rule") else report.failed).append(key)
    report.retry += report.waiting
    report.waiting = []
    order = {key: n for n, key in enumerate(keys)}
    for name in LISTS:
        setattr(report, name, sorted(getattr(report, name), key=lambda k: order.get(k, -1)))
    return report


def emails_batches_send(
    *,
    keys: list[str],
    on: date,
    settings: SmtpSettings,
    now: Callable[[], datetime],
    actor: str,
    schedule: RetrySchedule | None,
    wait: float,
) -> SendReport:
    """Send `keys` (due, in the send's order) in batches of ARREARS_EMAIL_BATCH: on the
    workers with a broker, else here, one after the other, stopping at a server that cannot be
    reached as one pass does. The batches' reports joined in order. NoWorkerError when no
    worker answers, or no batch is done, within `wait` seconds."""
    size = batch_size()
    batches = [keys[i : i + size] for i in range(0, len(keys), size)]
    if on_workers() and batches:
        # Asked once the emails are prepared, not before: the PDF renderers are forked
        # processes, and one forked after this process has talked to the broker was seen to
        # hang at its exit on the broker's inherited sockets.
        worker_wait(wait)
        return _joined(_on_workers(batches, on=on, actor=actor, wait=wait))
    reports: list[SendReport] = []
    for batch in batches:
        reports.append(
            email_batch_send(
                keys=batch, on=on, settings=settings, now=now, actor=actor, schedule=schedule
            )
        )
        if reports[-1].error:
            break
    return _joined(reports)


def _joined(reports: list[SendReport]) -> SendReport:
    joined = SendReport()
    for report in reports:
        for name in LISTS:
            getattr(joined, name).extend(getattr(report, name))
        joined.error = joined.error or report.error
    return joined


def _on_workers(batches: list[list[str]], *, on: date, actor: str, wait: float) -> list[SendReport]:
    from arrears.dunning.tasks import emails_batch_task

    send = uuid.uuid4().hex
    rows = EmailBatch.objects.bulk_create(
        EmailBatch(send=send, index=n, keys=keys, on=on, actor=actor[:150])
        for n, keys in enumerate(batches)
    )
    mine = EmailBatch.objects.filter(send=send)
    done: dict[int, dict[str, Any]] = {}

    def batches_done() -> int:
        done.update(
            mine.filter(done_at__isnull=False)
            .exclude(index__in=list(done))
            .values_list("index", "result")
        )
        return len(done)

    tasks_done(
        emails_batch_task,
        [{"batch_id": row.pk} for row in rows],
        wait=wait,
        total=len(batches),
        done=batches_done,
        stalled=(
            _(
                "no batch of emails sent within {wait} s ({done} of {total} done): are the "
                "workers up?"
            ),
            "no_batch_done",
        ),
        # A batch a worker finds later does nothing (its row is gone); one being sent goes on,
        # and the next send settles its actions.
        given_up=lambda _failure: mine.delete(),
    )
    mine.delete()
    return [SendReport(**done[n]) for n in range(len(batches))]


def email_batch_run(*, batch_id: int, after: Callable[[Outbound], None] | None = None) -> None:
    """A worker's batch (`arrears.emails_batch`): sent through EMAIL_URL as of the book's now
    (`core.dates.now`), its report written on its row. Nothing when the row is gone (its send
    gave up waiting) or done already (a duplicate)."""
    batch = EmailBatch.objects.filter(pk=batch_id, done_at__isnull=True).first()
    if batch is None:
        return
    report = email_batch_send(
        keys=list(batch.keys), on=batch.on, settings=smtp_from_env(), actor=batch.actor, after=after
    )
    EmailBatch.objects.filter(pk=batch_id).update(
        result=report.as_json(), done_at=dj_timezone.now()
    )
