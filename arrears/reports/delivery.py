"""The subscriptions' emails: each recipient's report as a file attached to a short email, sent
through the mail path (EMAIL_URL: `correspondence.smtp`; the From address and Message-ID domain
of `correspondence.mail_message.Sender`), as the weekly case digest is (`legal.digest`).

Who is due and how each reads the report are given (`Due`, `Recipient`: `access.acts_subscriptions`
decides who still may and renders the report as that user; this part knows no users).
Invariants:
- once per subscription, recipient and period (`SubscriptionSend`, unique): the row is reserved
  with its message built (Message-ID from the three) and archived, and committed before the
  server is asked; it is marked sent once the server took the message. A second run of the
  period sends nothing again; a row left unsent (the server could not be reached) is sent again
  by the next run of the period, the archived bytes as they are (same Message-ID, same report);
- a recipient without an email address gets nothing and no row (reported);
- a report that cannot be drawn (its error's code) reserves nothing: the next run tries again.
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from email.message import EmailMessage as MimeMessage
from email.policy import SMTP
from typing import Any
from urllib.parse import urlencode

from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from arrears.core.errors import DomainError
from arrears.correspondence.archive import archive_read, archive_store, sha256_of
from arrears.correspondence.mail_message import (
    Attachment,
    OutgoingEmail,
    Sender,
    build_message,
    message_id_for,
)
from arrears.correspondence.models import Document as Archived
from arrears.correspondence.smtp import SmtpSettings
from arrears.reports import formats
from arrears.reports.document import Document
from arrears.reports.models import Subscription, SubscriptionSend
from arrears.reports.schedules import Window


@dataclass(frozen=True)
class Recipient:
    """A user the report goes to, and the report as they read it (drawn only when it is sent)."""

    username: str
    email: str
    render: Callable[[], Document]


@dataclass(frozen=True)
class Due:
    """A subscription due this run: its period, what it reports on, its recipients who may."""

    subscription: Subscription
    period: str
    window: Window
    recipients: Sequence[Recipient]
    takes_period: bool = False  # the report's `Spec.period`: it reads the window's days


@dataclass
class DeliveryReport:
    """What a run did, one line per subscription and recipient: {"subscription", "report",
    "user", "period"} (and "reason" or "error")."""

    on: str
    sent: list[dict[str, Any]] = field(default_factory=list)
    already: list[dict[str, Any]] = field(default_factory=list)  # sent earlier this period
    no_email: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)  # no longer may: "reason"
    failed: list[dict[str, Any]] = field(default_factory=list)  # "error": the server's, a code
    due: list[dict[str, Any]] = field(default_factory=list)  # a dry run: what it would send

    def as_json(self) -> dict[str, Any]:
        keys = ("on", "sent", "already", "no_email", "skipped", "failed", "due")
        return {k: getattr(self, k) for k in keys}


def line(due: Due, username: str, **extra: str) -> dict[str, Any]:
    s = due.subscription
    return {
        "subscription": s.pk,
        "report": s.report,
        "user": username,
        "period": due.period,
        **extra,
    }


def sent_already(due: Due, username: str) -> bool:
    return SubscriptionSend.objects.filter(
        subscription=due.subscription, username=username, period=due.period, sent_at__isnull=False
    ).exists()


def subscriptions_deliver(
    *,
    on: date,
    dues: Sequence[Due],
    smtp: SmtpSettings,
    sender: Sender,
    report: DeliveryReport | None = None,
    base_url: str = "",
    now: datetime | None = None,
) -> DeliveryReport:
    """Send each recipient of `dues` their report, once per period (see the module docstring).
    Never raises for the server's answers or a report's refusal: the report says who got
    theirs, who had it already, who has no address and whose failed."""
    now = now or timezone.now()
    report = report or DeliveryReport(on.isoformat())
    connection = None
    try:
        for due in dues:
            for r in due.recipients:
                here = line(due, r.username)
                row = SubscriptionSend.objects.filter(
                    subscription=due.subscription, username=r.username, period=due.period
                ).first()
                if row is not None and row.sent_at is not None:
                    report.already.append(here)
                    continue
                if row is None:
                    if not r.email:
                        report.no_email.append(here)
                        continue
                    try:
                        row = _reserve(due, r, sender, base_url, now)
                    except DomainError as exc:  # the report refused (a grouping, a currency)
                        report.failed.append({**here, "error": exc.code})
                        continue
                    if row is None:  # another run reserved it meanwhile
                        report.already.append(here)
                        continue
                data = archive_read(Archived.objects.get(name=row.document))
                if connection is None:
                    connection = smtp.connection()
                try:
                    connection.send_messages([_Archived(data, sender=sender.address, to=row.to)])
                except (smtplib.SMTPException, OSError) as exc:  # the server's answer, reported
                    error = f"{type(exc).__name__}: {exc}"[:500]
                    SubscriptionSend.objects.filter(pk=row.pk).update(error=error)
                    report.failed.append({**here, "error": error})
                    continue
                SubscriptionSend.objects.filter(pk=row.pk).update(sent_at=timezone.now(), error="")
                report.sent.append(here)
    finally:
        if connection is not None:
            connection.close()
    return report


def _reserve(
    due: Due, r: Recipient, sender: Sender, base_url: str, now: datetime
) -> SubscriptionSend | None:
    """The period's row for `r`, with its message archived, committed before anything is sent;
    None when another run has it. Raises what drawing the report raises."""
    s = due.subscription
    doc = r.render()
    fmt = s.format
    attachment = Attachment(
        formats.file_name(doc, fmt, due.window.as_of.isoformat()),
        formats.to_bytes(doc, fmt),
        formats.CONTENT_TYPES[fmt].partition(";")[0],
    )
    message_id = message_id_for(f"subscription:{s.pk}:{r.username}:{due.period}", sender.domain)
    email = OutgoingEmail(
        to=r.email,
        subject=f"{doc.title}, {doc.subtitle}",
        text=body(due, r.username, doc, attachment.filename, base_url),
        attachments=(attachment,),
    )
    message = build_message(
        email, sender=sender.address, sender_name=sender.name, message_id=message_id, at=now
    )
    data = message.as_bytes()
    # a name of its own per try: a file left by a try that rolled back is never in the way
    name = f"subscriptions/{due.period}/{s.pk}-{r.username}-{now:%Y%m%dT%H%M%S%f}.eml"
    try:
        with transaction.atomic():
            stored = archive_store(
                data=data, name=name, kind="email", content_type="message/rfc822"
            )
            return SubscriptionSend.objects.create(
                subscription=s,
                username=r.username,
                period=due.period,
                to=r.email,
                message_id=message_id,
                document=stored.name,
                sha256=sha256_of(data),
                reserved_at=now,
            )
    except IntegrityError:
        return None


def page_query(due: Due) -> str:
    """The report page's query of what was sent: its day or period, its grouping."""
    w, s = due.window, due.subscription
    query = {"as_of": w.as_of.isoformat()}
    if due.takes_period:
        query = {"from": w.date_from.isoformat(), "to": w.as_of.isoformat()}
    if s.by:
        query["by"] = s.by
    return urlencode(query)


def body(due: Due, username: str, doc: Document, filename: str, base_url: str) -> str:
    """The email's text: what the report is, for whom, where to read it and how to stop it."""
    s = due.subscription
    link = f"{base_url.rstrip('/')}/reports/{s.report}/?{page_query(due)}"
    lines = [
        f"Hello {username},",
        "",
        doc.title,
        doc.subtitle,
        *doc.notes,
        "",
        f"The report is attached ({filename}), with the accounts you may see in Arrears.",
        f"Read it in Arrears: {link}",
        "",
        f"You get it {s.every} (subscription {s.pk}). To stop it: the page "
        f"{base_url.rstrip('/')}/reports/subscriptions/ or `arrears subscription pause {s.pk}`.",
    ]
    return "\n".join(lines) + "\n"


class _Archived(mail.EmailMessage):
    """An archived message handed to the backend as it is: its bytes, not a new build."""

    def __init__(self, data: bytes, *, sender: str, to: str) -> None:
        super().__init__(from_email=sender, to=[to])
        self.data = data

    def message(self, *, policy: Any = None) -> Any:
        return _Bytes(self.data)


class _Bytes(MimeMessage):
    """The bytes Django's SMTP backend writes (`as_bytes(linesep="\\r\\n")`), which the archive
    holds already with those line ends (policy SMTP)."""

    def __init__(self, data: bytes) -> None:
        super().__init__(policy=SMTP)
        self.data = data

    def as_bytes(self, unixfrom: bool = False, policy: Any = None, linesep: str = "") -> bytes:
        return self.data
