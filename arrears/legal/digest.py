"""The weekly digest of case news to property managers: what changed in the week on the cases
of their buildings (a referral, a filing, a hearing set, a judgment, …), one email per manager per
ISO week, sent through the mail path (EMAIL_URL: `correspondence.smtp`; the From address and
Message-ID domain of `correspondence.mail_message.Sender`).

The managers and their buildings are given (`Recipient`: `access.acts_cases` reads them; this
part knows no users). Invariants:
- once per manager per ISO week (`DigestSent`, unique): the row is reserved, with the window of
  changes it tells of and its Message-ID, and committed before the server is asked; it is marked
  sent once the server took the message. A second run of the week sends nothing again; a row left
  unsent (the server could not be reached) is tried again by the next run of the week, with the
  same bytes and Message-ID;
- a manager's window starts where their last digest's ended (or 7 days back), so no change is
  told twice or lost between two weeks;
- a manager with nothing new, or without an email address, gets nothing (and no row).
"""

from __future__ import annotations

import smtplib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from email.utils import format_datetime
from typing import Any

from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from arrears.core.dates import book_zone
from arrears.correspondence.archive import archive_store, sha256_of
from arrears.correspondence.mail_message import Sender, message_id_for
from arrears.correspondence.smtp import SmtpSettings
from arrears.legal.models import CASE_STATUSES, CaseEvent, DigestSent
from arrears.legal.selectors import case_changes

WINDOW_DAYS = 7


@dataclass(frozen=True)
class Recipient:
    """A property manager and the buildings they manage."""

    username: str
    email: str
    property_pks: tuple[int, ...]


@dataclass
class DigestReport:
    week: str
    sent: list[str] = field(default_factory=list)  # usernames
    already: list[str] = field(default_factory=list)  # sent earlier this week
    quiet: list[str] = field(default_factory=list)  # nothing new on their buildings
    no_email: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # username: the server's error

    def as_json(self) -> dict[str, Any]:
        keys = ("week", "sent", "already", "quiet", "no_email", "failed")
        return {k: getattr(self, k) for k in keys}


def iso_week(on: date) -> str:
    year, week, _day = on.isocalendar()
    return f"{year}-W{week:02d}"


def legal_digest_send(
    *,
    on: date,
    recipients: Sequence[Recipient],
    smtp: SmtpSettings,
    sender: Sender,
    now: datetime | None = None,
) -> DigestReport:
    """Send each manager of `recipients` the week's case news on their buildings, once in the
    ISO week of `on` (see the module docstring). Never raises for the server's answers: the
    report says who got theirs, who had it already, who had nothing new and whose failed."""
    now = now or timezone.now()
    week = iso_week(on)
    report = DigestReport(week)
    zone = book_zone()
    end_of_day = datetime.combine(on + timedelta(days=1), time(0), tzinfo=zone)
    through = min(end_of_day, now)
    start = datetime.combine(on - timedelta(days=WINDOW_DAYS - 1), time(0), tzinfo=zone)
    connection = None
    try:
        for r in sorted(recipients, key=lambda r: r.username):
            row = DigestSent.objects.filter(username=r.username, week=week).first()
            if row is not None and row.sent_at is not None:
                report.already.append(r.username)
                continue
            if row is None:
                if not r.email:
                    report.no_email.append(r.username)
                    continue
                last = (
                    DigestSent.objects.filter(username=r.username)
                    .order_by("-through")
                    .values_list("through", flat=True)
                    .first()
                )
                since = last if last is not None else start  # nothing lost between
                events = case_changes(property_pks=r.property_pks, since=since, through=through)
                if not events:
                    report.quiet.append(r.username)
                    continue
                row = _reserve(r, week, since, through, events, sender, now)
                if row is None:  # another run reserved it meanwhile
                    report.already.append(r.username)
                    continue
            events = case_changes(property_pks=r.property_pks, since=row.since, through=row.through)
            message = _message(r.username, row, events, sender)
            if connection is None:
                connection = smtp.connection()
            try:
                connection.send_messages([message])
            except (smtplib.SMTPException, OSError) as exc:  # the server's answer, reported
                error = f"{type(exc).__name__}: {exc}"[:500]
                DigestSent.objects.filter(pk=row.pk).update(error=error)
                report.failed[r.username] = error
                continue
            DigestSent.objects.filter(pk=row.pk).update(sent_at=timezone.now(), error="")
            report.sent.append(r.username)
    finally:
        if connection is not None:
            connection.close()
    return report


def _reserve(
    r: Recipient,
    week: str,
    since: datetime,
    through: datetime,
    events: list[CaseEvent],
    sender: Sender,
    now: datetime,
) -> DigestSent | None:
    """The week's row for `r`, with its message archived, committed before anything is sent;
    None when another run has it."""
    row = DigestSent(
        username=r.username,
        week=week,
        to=r.email,
        since=since,
        through=through,
        message_id=message_id_for(f"legal-digest:{r.username}:{week}", sender.domain),
        cases=sorted({e.case_id for e in events}),
        reserved_at=now,
    )
    data = _bytes(_message(r.username, row, events, sender))
    row.sha256 = sha256_of(data)
    try:
        with transaction.atomic():
            archive_store(
                data=data,
                name=f"digests/{week}/{r.username}.eml",
                kind="email",
                content_type="message/rfc822",
            )
            row.save()
    except IntegrityError:
        return None
    return row


def _bytes(message: mail.EmailMessage) -> bytes:
    """The bytes Django's SMTP backend sends of `message` (`as_bytes(linesep="\\r\\n")`): a
    text-only message with its Date and Message-ID given is the same bytes each time it is
    built."""
    data: bytes = message.message().as_bytes(linesep="\r\n")  # type: ignore[call-arg]
    return data


def _message(
    username: str, row: DigestSent, events: list[CaseEvent], sender: Sender
) -> mail.EmailMessage:
    first = row.since.astimezone(book_zone()).date()
    last = row.through.astimezone(book_zone()).date()
    subject = f"Cases on your buildings, week {row.week}: {len(row.cases)} with news"
    lines = [
        f"Hello {username},",
        "",
        f"What changed from {first:%Y-%m-%d} to {last:%Y-%m-%d} on the cases of the buildings "
        "you manage:",
    ]
    building = account = ""
    for e in events:
        case = e.case
        prop = case.account.property
        here = f"{prop.name} ({prop.property_id})" if prop is not None else "(no building)"
        if here != building:
            building, account = here, ""
            lines += ["", here]
        if case.account.account_id != account:
            account = case.account.account_id
            unit = f", unit {case.account.unit}" if case.account.unit else ""
            lines.append(f"  {account}{unit}: case {case.pk} with {case.firm}")
        lines.append(f"    {_change(e)}")
    lines += [
        "",
        "Each case's history is on its page (Cases, in Arrears) and on the account's timeline.",
    ]
    sender_text = f"{sender.name} <{sender.address}>" if sender.name else sender.address
    return mail.EmailMessage(
        subject=subject,
        body="\n".join(lines) + "\n",
        from_email=sender_text,
        to=[row.to],
        headers={"Message-ID": row.message_id, "Date": format_datetime(row.reserved_at)},
    )


def _change(e: CaseEvent) -> str:
    """One change in words (English, as the timeline's; the statuses' own words)."""
    recorded = e.at.astimezone(book_zone()).date()
    with translation.override("en"):
        status = str(CASE_STATUSES.get(e.status, e.status))
    d = e.detail
    if e.status == "hearing":
        text = f"{recorded:%Y-%m-%d}: hearing set for {d.get('hearing_on') or e.on.isoformat()}"
    elif e.status in ("prepared", "sent"):
        text = f"{e.on:%Y-%m-%d}: referred ({status})"
        if e.case.balance_referred is not None:
            text += f", balance {e.case.balance_referred:,.2f}"
    else:
        text = f"{e.on:%Y-%m-%d}: {status}"
    if d.get("index_number"):
        text += f", index number {d['index_number']}"
    if d.get("court"):
        text += f", {d['court']}"
    if d.get("amount"):
        text += f", amount {d['amount']}"
    if e.note:
        text += f" ({e.note})"
    return text
