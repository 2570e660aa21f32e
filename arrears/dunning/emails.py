"""Emails sent after the daily run, through the guard at the minute each goes: the run's email
actions (`emails_send`), kept in step with what was sent (`email_actions_settle`), and a statement
of account emailed by hand (`statement_email`).

An email action stays `queued` until its email is sent (`done`, with its document), refused by the
guard (`refused`, with the rule), or given up or bounced (`failed`; a step with a
`fallback_channel` sends the same notice by letter: arrears.dunning.undelivered). An address that
bounced is not written to again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _

from arrears.core import dates
from arrears.core.dates import today
from arrears.core.errors import DomainError, ValidationError
from arrears.correspondence.mail_out import (
    CONSUMER_KINDS,
    Attachment,
    OutgoingEmail,
    RetrySchedule,
    Sender,
    SendReport,
    SmtpSettings,
    Verdict,
    email_fail,
    email_prepare,
    emails_pending,
    outbound_emails_render,
    outbox_send,
    smtp_from_env,
)
from arrears.correspondence.models import Outbound
from arrears.dunning.addressee import _account, _guard, addressee, answer_addressee
from arrears.dunning.derived import DerivedHolds
from arrears.dunning.email_batches import emails_batches_send
from arrears.dunning.models import Action
from arrears.dunning.services import company_policies
from arrears.ledger.models import Account, AccountParty, Party

Render = Callable[[Outbound], OutgoingEmail]


@dataclass
class EmailRun:
    queued: int = 0  # outbound rows made for email actions
    prepared: int = 0
    cancelled: list[str] = field(default_factory=list)  # keys no longer due when they were to go
    report: SendReport = field(default_factory=SendReport)
    documents: dict[str, str] = field(default_factory=dict)  # action key → archived message

    def as_json(self) -> dict[str, Any]:
        return {
            "queued": self.queued,
            "prepared": self.prepared,
            **self.report.as_json(),
            "cancelled": self.cancelled,
            "documents": self.documents,
        }

    def line(self) -> str:
        r = self.report
        return (
            f"Emails: {len(r.sent)} sent, {len(r.bounced)} bounced, {len(r.retry)} to retry, "
            f"{len(r.failed)} failed, {len(r.deferred)} waiting for contact hours, "
            f"{len(r.refused)} refused by the guard, {len(r.waiting)} waiting for their "
            "next try."
            + (f" {len(self.cancelled)} cancelled as no longer due." if self.cancelled else "")
        )


def email_outbound_ensure(*, on: date) -> int:
    """An outbound row for every queued email action up to `on` that has none (the run may have
    made it already); returns how many were made."""
    actions = list(
        Action.objects.filter(status="queued", channel="email", run_on__lte=on).select_related(
            "account", "party"
        )
    )
    have = set(
        Outbound.objects.filter(key__in=[a.key for a in actions]).values_list("key", flat=True)
    )
    made = 0
    for a in actions:
        if a.key in have:
            continue
        Outbound.objects.create(
            key=a.key,
            account=a.account,
            party=a.party,
            role=a.role,
            channel="email",
            template=a.template,
            language=a.language or "en",
            policy=a.policy,
            step=a.step,
            run_on=a.run_on,
            amount=a.amount,
            deadline=a.deadline,
            delinquency=a.delinquency,
            status="queued",
            document_name="",
            created_at=a.created_at,
        )
        made += 1
    return made


def email_check(
    now: Callable[[], datetime], derived: DerivedHolds | None = None
) -> Callable[[Outbound], Verdict]:
    """The guard, asked for each email at the minute it is to go: outside the contact hours it
    waits for a later pass; any other refusal is final. An address that bounced is not written
    to again. A plan agreement or a dispute's answer is not stopped by its own commitment's
    holds (NOT_HELD_BY)."""

    policies = company_policies()

    def check(row: Outbound) -> Verdict:
        # A case file sent to the firm an account was referred to is no contact with the
        # debtor: 15 USC §1692c(b) allows communicating with the creditor's attorney.
        if row.party is None and row.step == "referral":
            return Verdict("send")
        if row.party is None:
            return Verdict("refuse", "channel:no addressee", "the email names no party")
        bounced = Outbound.objects.filter(
            channel="email", party=row.party, status="bounced", recipient__iexact=row.recipient
        ).exists()
        if bounced:
            return Verdict("refuse", "channel:bounced", f"{row.recipient} bounced before")
        at = now()
        who = addressee(
            row.account,
            row.party,
            at,
            policies,
            role=row.role or "primary",
            calls=False,
            derived=derived,
        )
        decision = _guard(answer_addressee(who, row.step), "email", at)
        if decision.allowed:
            return Verdict("send")
        return Verdict(
            "defer" if decision.rule == "hours" else "refuse", decision.rule, decision.reason
        )

    return check


def emails_send(
    *,
    on: date,
    settings: SmtpSettings,
    sender: Sender,
    render: Render | None = None,
    now: Callable[[], datetime] = dates.now,
    actor: str = "mail",
    schedule: RetrySchedule | None = None,
    workers: int = 1,
    wait: float = 600,
) -> EmailRun:
    """Send the email actions due by `on`: make their outbound rows, prepare their messages,
    send through the guard, and bring the actions up to date (module docstring). `workers`
    processes render the PDF letters attached (1: in this process). The emails go in batches
    (`email_batches`): with CELERY_BROKER_URL on the workers, waited for `wait` seconds
    (NoWorkerError, before any is sent, when no worker answers). `now` is the clock
    of the guard and the retry schedule: the book's now (`core.dates.now`) by default.

    Each email is checked again first (`reissue.emails_recheck`): one no longer due is cancelled,
    the others are dated `on` with their figures of that day, and one prepared in an earlier
    pass whose figures changed is prepared again."""
    from arrears.dunning.reissue import emails_recheck  # it reads the guard from this module

    run = EmailRun()
    run.queued = email_outbound_ensure(on=on)
    run.cancelled = emails_recheck(on=on, actor=actor)
    unrendered: list[str] = []
    queued = list(
        Outbound.objects.filter(channel="email", status="queued", run_on__lte=on)
        .select_related("account", "party")
        .order_by("id")
    )
    rendered = (
        outbound_emails_render(queued, workers=workers)
        if render is None
        else ((row, _try_render(render, row)) for row in queued)
    )
    for row, email in rendered:
        try:
            if isinstance(email, str):
                raise ValidationError(email, code="email_not_rendered")
            email_prepare(
                outbound=row,
                email=email,
                sender=sender.address,
                domain=sender.domain,
                sender_name=sender.name,
            )
        except DomainError as exc:
            # One email that cannot be made (no address any more, a template gone) fails alone.
            email_fail(row, f"not rendered: {exc.message}", actor)
            unrendered.append(row.key)
            continue
        run.prepared += 1
    # Due now, in the pass's order (oldest first); those put off by the retry schedule wait.
    at = now()
    waiting = list(
        Outbound.objects.filter(channel="email", status="rendered", next_attempt_at__gt=at)
        .order_by("id")
        .values_list("key", flat=True)
    )
    run.report = emails_batches_send(
        keys=list(emails_pending(now=at).values_list("key", flat=True)),
        on=on,
        settings=settings,
        now=now,
        actor=actor,
        schedule=schedule,
        wait=wait,
    )
    run.report.waiting = waiting
    run.report.failed[:0] = unrendered
    run.documents = email_actions_settle(on=on, now=now, actor=actor)
    return run


def _try_render(render: Render, row: Outbound) -> OutgoingEmail | str:
    try:
        return render(row)
    except DomainError as exc:
        return exc.message


def email_actions_settle(
    *, on: date | None = None, now: Callable[[], datetime] = dj_timezone.now, actor: str = "mail"
) -> dict[str, str]:
    """Bring email actions in step with their outbound rows; returns key → document of the
    actions done now. An email given up or bounced fails its action (a bounce reported after
    the action was done too) and falls back to a letter where its step says so
    (`undelivered.emails_undelivered_settle`, as of `on` and `now`)."""
    from arrears.dunning.undelivered import emails_undelivered_settle

    settled: dict[str, str] = {}
    queued = dict(Action.objects.filter(status="queued", channel="email").values_list("key", "pk"))
    for key, status, name, error, detail in Outbound.objects.filter(
        key__in=list(queued), status__in=["sent", "failed"]
    ).values_list("key", "status", "document_name", "error", "detail"):
        if status == "sent":
            Action.objects.filter(pk=queued[key]).update(status="done", document=name)
            settled[key] = name
        elif (detail or {}).get("rule"):
            Action.objects.filter(pk=queued[key]).update(
                status="refused", rule=detail["rule"], reason=error[:300]
            )
    emails_undelivered_settle(on=on or today(), at=now(), actor=actor)
    return settled


def statement_email(*, account_id: str, as_of: date, pdf: bytes, filename: str, actor: str) -> str:
    """Email a statement of account (PDF) to the account's primary party, through the guard,
    once: the same statement asked for again is the same email, not a second one. Returns what
    it did; ValidationError if the guard refuses or the server fails."""
    account = _account(account_id)
    link = (
        AccountParty.objects.filter(account=account, role="primary")
        .select_related("party")
        .order_by("id")
        .first()
    )
    if link is None or not link.party.email:
        raise ValidationError(
            _("{account_id} has no primary party with an email address"),
            code="statement_no_email",
            account_id=account_id,
        )
    party = link.party
    row = _statement_row(account, party, as_of, pdf)
    if row.status in ("sent", "bounced"):
        return f"Statement already emailed to {row.recipient} ({row.message_id}): not sent again."
    sender = Sender.from_env()
    settings = smtp_from_env()
    email_prepare(
        outbound=row,
        sender=sender.address,
        domain=sender.domain,
        sender_name=sender.name,
        email=_statement_message(account, party, as_of, pdf, filename),
    )
    report = outbox_send(
        settings=settings, check=email_check(dj_timezone.now), keys=[row.key], actor=actor
    )
    row.refresh_from_db()
    if report.sent:
        return f"Statement emailed to {row.recipient} (Message-ID {row.message_id})."
    if report.deferred:
        return (
            f"Statement queued for {row.recipient}: outside the contact hours, `arrears mail "
            "send` sends it when they open."
        )
    raise ValidationError(
        _("statement not emailed to {recipient}: {error}"),
        code="statement_not_emailed",
        recipient=row.recipient,
        error=row.error or report.error or row.status,
    )


def _statement_row(account: Account, party: Party, as_of: date, pdf: bytes) -> Outbound:
    """The statement's email, keyed by the statement's content: made once."""
    account_id = account.account_id
    digest = hashlib.sha256(pdf).hexdigest()
    key = f"{account_id}:statement:{as_of.isoformat()}:{party.party_id}:{digest[:16]}"
    row = Outbound.objects.filter(key=key).first()
    if row is None:
        row = Outbound.objects.create(
            key=key,
            account=account,
            party=party,
            role="primary",
            channel="email",
            template="statement",
            language=party.language or "en",
            step="statement",
            run_on=today(),
            status="queued",
            document_name="",
            created_at=dj_timezone.now(),
            recipient=party.email,
        )
    return row


def _statement_message(
    account: Account, party: Party, as_of: date, pdf: bytes, filename: str
) -> OutgoingEmail:
    account_id = account.account_id
    es = party.language == "es"
    return OutgoingEmail(
        to=party.email,
        to_name=party.name,
        language="es" if es else "en",
        subject=(
            f"Estado de cuenta {account_id} al {as_of.isoformat()}"
            if es
            else f"Statement of account {account_id} as of {as_of.isoformat()}"
        ),
        text=(
            f"Estimado/a {party.name}:\n\nAdjuntamos el estado de su cuenta {account_id}."
            if es
            else f"Dear {party.name},\n\nYour statement of account {account_id} is attached."
        ),
        attachments=[Attachment(filename, pdf, "application/pdf")],
        opt_out_notice=account.kind in CONSUMER_KINDS,
    )
