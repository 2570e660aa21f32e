"""Email out: an `Outbound` row of channel email, prepared by arrears.correspondence.mail_message
(its message built and archived), is sent through Django's SMTP email backend to the server
EMAIL_URL names (arrears.correspondence.smtp).

Invariants:
- the bytes sent are the archived bytes: a Message-ID derived from the action's key, dated by
  the row;
- a try is counted (committed) only once a server session is open (connected, TLS and login
  done), before the message is handed to it; right after the server accepts it the row is `sent`
  (committed, with its timeline row), so a repeated pass never sends a sent row again. A row
  whose try was counted but that is not sent (a pass died, the connection dropped) is tried
  again with the same Message-ID, by which the receiving side can tell the copy (RFC 5322
  §3.6.4);
- a server that cannot be reached (connection refused, DNS, TLS, login, or a 421 that closes
  the channel before it took the message: RFC 5321 §3.8) stops the pass and is no try of any
  message: a try so counted is given back;
- a permanent refusal (5xx) is a bounce; a temporary one of this message (a 4xx, a timeout) puts
  its next try off by the `RetrySchedule` (15 min, 1 h, 3 h, 6 h, 12 h, 24 h by default) and a
  pass leaves the row alone until then; the row fails (`given_up_at`, the last error on the
  timeline) only once the schedule is spent and its first try is old enough (2 days).

The compliance guard is above this module: the caller passes `check`, asked for each row at the
moment it is to go (send, defer to a later pass, or refuse with the guard's rule). What to do
about an email given up or bounced (the worklist, a letter instead) is the caller's too.
"""

from __future__ import annotations

import contextlib
import email.message
import smtplib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.policy import SMTP
from typing import Any

from django.core import mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone as dj_timezone

from arrears.core.errors import ValidationError
from arrears.correspondence.archive import archive_read
from arrears.correspondence.mail_message import CONSUMER_KINDS as CONSUMER_KINDS
from arrears.correspondence.mail_message import OPT_OUT_NOTICE as OPT_OUT_NOTICE
from arrears.correspondence.mail_message import Attachment as Attachment
from arrears.correspondence.mail_message import OutgoingEmail as OutgoingEmail
from arrears.correspondence.mail_message import Sender as Sender
from arrears.correspondence.mail_message import build_message as build_message
from arrears.correspondence.mail_message import email_document_name as email_document_name
from arrears.correspondence.mail_message import email_prepare as email_prepare
from arrears.correspondence.mail_message import message_id_for as message_id_for
from arrears.correspondence.mail_message import outbound_email_render as outbound_email_render
from arrears.correspondence.mail_message import outbound_emails_render as outbound_emails_render
from arrears.correspondence.models import Outbound
from arrears.correspondence.smtp import SmtpSettings as SmtpSettings
from arrears.correspondence.smtp import parse_email_url as parse_email_url
from arrears.correspondence.smtp import smtp_from_env as smtp_from_env
from arrears.ledger.models import TimelineEvent


@dataclass(frozen=True)
class RetrySchedule:
    """When an email the server put off (a 4xx, a timeout) is tried again, and when it is given
    up: after its n-th try it waits `delays[n-1]` (the last delay once they are spent), and it
    fails only when every delay is spent and its first try is `give_up_after` old. A greylisting
    server (RFC 6647), which answers 451 to a first try and takes the message some minutes
    later, is passed within the first delays."""

    delays: tuple[timedelta, ...] = (
        timedelta(minutes=15),
        timedelta(hours=1),
        timedelta(hours=3),
        timedelta(hours=6),
        timedelta(hours=12),
        timedelta(hours=24),
    )
    give_up_after: timedelta = timedelta(days=2)

    def next_try(self, *, attempts: int, first: datetime, now: datetime) -> datetime | None:
        """When to try again a row whose `attempts`-th try (the first at `first`) was put off
        at `now`; None: give it up."""
        spent = attempts > len(self.delays)
        if spent and now - first >= self.give_up_after:
            return None
        if not self.delays:
            return now
        return now + self.delays[min(attempts, len(self.delays)) - 1]

    @classmethod
    def from_env(cls) -> RetrySchedule:
        """ARREARS_MAIL_RETRY (e.g. "15m 1h 3h 6h 12h 24h") and ARREARS_MAIL_GIVE_UP_AFTER
        (e.g. "2d"), each the default when unset; ValidationError for anything else."""
        from django.conf import settings

        delays = getattr(settings, "ARREARS_MAIL_RETRY", "") or ""
        after = getattr(settings, "ARREARS_MAIL_GIVE_UP_AFTER", "") or ""
        default = cls()
        return cls(
            delays=tuple(duration(d) for d in delays.split()) if delays else default.delays,
            give_up_after=duration(after) if after else default.give_up_after,
        )


UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration(text: str) -> timedelta:
    """A duration written `15m`, `1h`, `2d` or `30s`; ValidationError otherwise."""
    number, unit = text.strip()[:-1], text.strip()[-1:].lower()
    if unit not in UNITS or not number.isdigit():
        raise ValidationError(f"not a duration (like 15m, 1h, 2d): {text!r}")
    return timedelta(seconds=int(number) * UNITS[unit])


@dataclass(frozen=True)
class Verdict:
    """The caller's answer for one row at the moment it is to go."""

    go: str  # "send", "defer" (leave it for a later pass) or "refuse"
    rule: str = ""
    reason: str = ""


SEND = Verdict("send")


@dataclass
class SendReport:
    sent: list[str] = field(default_factory=list)  # keys
    bounced: list[str] = field(default_factory=list)
    retry: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    deferred: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # put off by the retry schedule, not due
    error: str = ""  # why the pass stopped early (the server could not be reached)

    def as_json(self) -> dict[str, Any]:
        keys = ("sent", "bounced", "retry", "failed", "deferred", "refused", "waiting", "error")
        return {k: getattr(self, k) for k in keys}


class _Session:
    """One session of the email backend, opened on first use and again after the server drops
    it. The backend fails loudly, so each SMTP error reaches the classification below."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.backend = settings.connection()

    def open(self) -> None:
        self.backend.open()  # nothing when it is open already

    def send(self, message: mail.EmailMessage) -> None:
        self.backend.send_messages([message])

    def drop(self) -> None:
        """Close a session the server may have broken, without a QUIT that would wait on it."""
        server = getattr(self.backend, "connection", None)
        if server is not None:
            try:
                server.close()
            finally:
                self.backend.connection = None

    def quit(self) -> None:
        with contextlib.suppress(smtplib.SMTPException, OSError):
            self.backend.close()


class _Archived(mail.EmailMessage):
    """An archived message handed to the backend as it is: its bytes, not a new build."""

    def __init__(self, data: bytes, *, sender: str, to: str) -> None:
        super().__init__(from_email=sender, to=[to])
        self.data = data

    def message(self, *, policy: Any = None) -> Any:
        return _Bytes(self.data)


class _Bytes(email.message.EmailMessage):
    """The bytes a backend writes (Django's SMTP backend: `as_bytes(linesep="\\r\\n")`), which
    the archive holds already with those line ends (policy SMTP)."""

    def __init__(self, data: bytes) -> None:
        super().__init__(policy=SMTP)
        self.data = data

    def as_bytes(self, unixfrom: bool = False, policy: Any = None, linesep: str = "") -> bytes:
        return self.data


def _permanent(exc: Exception) -> str:
    """The server's permanent refusal of this message (a 5xx), or ""."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = list(exc.recipients.values())
        if codes and all(code >= 500 for code, _ in codes):
            code, text = codes[0]
            return f"{code} {text.decode(errors='replace')}"
        return ""
    # A refused sender (MAIL FROM) is our configuration, not the addressee: no bounce.
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return ""
    if isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500:
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"
    return ""


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def _event(
    row: Outbound,
    kind: str,
    summary: str,
    actor: str,
    *,
    at: datetime | None = None,
    **detail: Any,
) -> None:
    doc = row.document
    TimelineEvent.objects.create(
        account_id=row.account_id,
        at=at or dj_timezone.now(),
        on=row.run_on,
        kind=kind,
        actor=actor,
        summary=summary[:500],
        detail={
            "key": row.key,
            "message_id": row.message_id,
            "to": row.recipient,
            "subject": row.detail.get("subject", ""),
            "document": doc.name if doc else "",
            "sha256": doc.sha256 if doc else "",
            "attachments": row.detail.get("attachments", []),
            "party_id": row.party.party_id if row.party else None,
            **detail,
        },
    )


def _finish(
    row: Outbound,
    status: str,
    kind: str,
    summary: str,
    actor: str,
    *,
    at: datetime | None = None,
    **changes: Any,
) -> None:
    with transaction.atomic():
        Outbound.objects.filter(pk=row.pk).update(status=status, **changes)
        for name, value in changes.items():
            setattr(row, name, value)
        row.status = status
        _event(
            row,
            kind,
            summary,
            actor,
            at=at,
            attempts=row.attempts,
            error=row.error,
            rule=row.detail.get("rule", ""),
        )


def email_fail(row: Outbound, error: str, actor: str = "mail") -> None:
    """Give up on one email that cannot be sent at all (it could not be rendered)."""
    _finish(
        row,
        "failed",
        "email.failed",
        f"email {row.key} not sent: {error}",
        actor,
        error=error[:500],
        given_up_at=dj_timezone.now(),
    )


def emails_pending(keys: Sequence[str] | None = None, *, now: datetime | None = None) -> Any:
    """The email rows a pass sends: prepared, not yet sent, bounced or failed, and due (not put
    off by the retry schedule past `now`); oldest first."""
    rows = (
        Outbound.objects.filter(channel="email", status="rendered")
        .select_related("document", "party", "account", "account__property")
        .order_by("id")
    )
    if keys is not None:
        rows = rows.filter(key__in=list(keys))
    if now is not None:
        rows = rows.filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    return rows


# Exceptions that say the server (or our settings for it) cannot be used at all, not that this
# message is refused: no session could be opened, or the server closed the channel.
UNREACHABLE = (smtplib.SMTPException, OSError)


def outbox_send(
    *,
    settings: SmtpSettings,
    check: Callable[[Outbound], Verdict] | None = None,
    keys: Sequence[str] | None = None,
    schedule: RetrySchedule | None = None,
    now: Callable[[], datetime] = dj_timezone.now,
    actor: str = "mail",
    after: Callable[[Outbound], None] | None = None,
) -> SendReport:
    """Send the prepared emails that are due (all, or those of `keys`); see the module
    docstring. `now` is the clock the retry schedule reads; `after` is called with each row
    once its try is recorded (committed). Never raises for the server's answers: the report
    (and each row) says what happened."""
    report = SendReport()
    schedule = schedule or RetrySchedule.from_env()
    conn = _Session(settings)
    at = now()
    waiting = Outbound.objects.filter(channel="email", status="rendered", next_attempt_at__gt=at)
    if keys is not None:
        waiting = waiting.filter(key__in=list(keys))
    report.waiting = list(waiting.order_by("id").values_list("key", flat=True))
    try:
        for row in emails_pending(keys, now=at).iterator(chunk_size=500):
            verdict = check(row) if check else SEND
            if verdict.go == "defer":
                report.deferred.append(row.key)
                continue
            if verdict.go == "refuse":
                _refused(row, verdict, report, actor)
                continue
            # A server that cannot be reached is no try of this message: the pass stops here
            # and the next one begins with this row, its count untouched.
            try:
                conn.open()
            except UNREACHABLE as exc:
                conn.drop()
                report.error = _describe(exc)
                break
            # Count the try (committed) before the server sees the message; a row another pass
            # took in the meantime is left to that pass.
            first = row.first_attempt_at or now()
            claimed = Outbound.objects.filter(
                pk=row.pk, status="rendered", attempts=row.attempts
            ).update(attempts=row.attempts + 1, first_attempt_at=first)
            if not claimed:
                continue
            row.attempts += 1
            row.first_attempt_at = first
            if not _try(conn, row, report, schedule, now, actor):
                break
            if after is not None:
                after(row)
    finally:
        conn.quit()
    return report


def _refused(row: Outbound, verdict: Verdict, report: SendReport, actor: str) -> None:
    """The guard refuses the email now: it fails, with the rule on its timeline."""
    row.detail = {**row.detail, "rule": verdict.rule}
    _finish(
        row,
        "failed",
        "email.refused",
        f"email to {row.recipient} not sent: {verdict.reason or verdict.rule}",
        actor,
        error=f"refused ({verdict.rule}): {verdict.reason}"[:500],
        detail=row.detail,
    )
    report.refused.append(row.key)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"
    return f"{type(exc).__name__}: {exc}"


def _closes_channel(exc: Exception) -> bool:
    """Did the server answer 421, closing the channel (RFC 5321 §3.8)? Not about the message."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return any(code == 421 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code == 421


def _try(
    conn: _Session,
    row: Outbound,
    report: SendReport,
    schedule: RetrySchedule,
    now: Callable[[], datetime],
    actor: str,
) -> bool:
    """Hand one row to the open session; False when the server cannot be used at all (the pass
    stops)."""
    assert row.document is not None
    data, sender = archive_read(row.document), row.detail.get("from", "")
    message = _Archived(data, sender=sender, to=row.recipient)
    for second in (False, True):
        try:
            conn.open()
        except UNREACHABLE as exc:
            # Only after the first session dropped: the message may have reached it.
            conn.drop()
            return _unreachable(row, report, _describe(exc), given_back=not second)
        try:
            conn.send(message)
        except smtplib.SMTPServerDisconnected as exc:
            conn.drop()
            if not second:
                # The server dropped the session (idle timeout, restart): one fresh session for
                # the same message, with the same Message-ID.
                continue
            # Twice on this message (smtplib reports a read that timed out so too): it waits
            # its turn by the schedule, not at the head of every pass, and this pass stops.
            _put_off(row, report, f"connection lost: {exc}", schedule, now, actor)
            report.error = f"connection lost: {exc}"
            return False
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as exc:
            return _answered(conn, row, report, exc, second, schedule, now, actor)
        except TimeoutError as exc:
            # The server took the session but not this message in time: the message's try.
            conn.drop()
            _put_off(row, report, f"timed out: {exc}", schedule, now, actor)
            return True
        except UNREACHABLE as exc:
            conn.drop()
            return _unreachable(row, report, _describe(exc), given_back=False)
        except ValueError as exc:
            # Django's backend refuses an address it cannot write in an SMTP command.
            _bounced(row, f"not an address: {exc}", actor, report)
            return True
        _sent(row, report, actor, now())
        return True
    raise AssertionError("unreachable")  # pragma: no cover


def _sent(row: Outbound, report: SendReport, actor: str, at: datetime) -> None:
    """The server took the message at `at` (the pass's clock): the row is sent, on its
    timeline."""
    subject = row.detail.get("subject", "")
    _finish(
        row,
        "sent",
        "email.sent",
        f"email “{subject}” sent to {row.recipient}",
        actor,
        at=at,
        sent_at=at,
        error="",
        next_attempt_at=None,
    )
    report.sent.append(row.key)


def _answered(
    conn: _Session,
    row: Outbound,
    report: SendReport,
    exc: smtplib.SMTPRecipientsRefused | smtplib.SMTPResponseException,
    second: bool,
    schedule: RetrySchedule,
    now: Callable[[], datetime],
    actor: str,
) -> bool:
    """The server refused the message with a code: a bounce (5xx), a try put off (4xx), or, when
    the refusal is about the server's state or our sender, no try of it and the pass stops."""
    if _closes_channel(exc) or isinstance(exc, smtplib.SMTPSenderRefused | smtplib.SMTPHeloError):
        # Not this message: no try of it, unless the first session took the message before it
        # dropped (its outcome unknown).
        conn.drop()
        return _unreachable(row, report, _refusal(exc), given_back=not second)
    bounce = _permanent(exc)
    if bounce:
        _bounced(row, bounce, actor, report)
        return True
    _put_off(row, report, _refusal(exc), schedule, now, actor)
    return True


def _refusal(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{c} {_text(t)}" for c, t in exc.recipients.values())
    return _describe(exc)


def _unreachable(row: Outbound, report: SendReport, error: str, *, given_back: bool) -> bool:
    """The pass stops; the row waits for the next pass, its try given back if the server never
    had the message."""
    changes: dict[str, Any] = {"error": error[:500]}
    if given_back:
        row.attempts -= 1
        changes["attempts"] = row.attempts
        if row.attempts == 0:
            changes["first_attempt_at"] = None
    Outbound.objects.filter(pk=row.pk).update(**changes)
    report.retry.append(row.key)
    report.error = error
    return False


def _put_off(
    row: Outbound,
    report: SendReport,
    error: str,
    schedule: RetrySchedule,
    now: Callable[[], datetime],
    actor: str,
) -> None:
    """A temporary failure of this message: its next try by the schedule, or given up."""
    at = now()
    assert row.first_attempt_at is not None
    when = schedule.next_try(attempts=row.attempts, first=row.first_attempt_at, now=at)
    if when is None:
        since = row.first_attempt_at.astimezone(UTC)
        _finish(
            row,
            "failed",
            "email.failed",
            f"email to {row.recipient} not sent after {row.attempts} tries since "
            f"{since:%Y-%m-%d %H:%M} UTC: {error}",
            actor,
            error=error[:500],
            given_up_at=at,
            next_attempt_at=None,
        )
        report.failed.append(row.key)
        return
    Outbound.objects.filter(pk=row.pk).update(error=error[:500], next_attempt_at=when)
    report.retry.append(row.key)


def _bounced(row: Outbound, bounce: str, actor: str, report: SendReport) -> None:
    summary = f"email to {row.recipient} refused by the server: {bounce}"
    _finish(
        row,
        "bounced",
        "email.bounced",
        summary,
        actor,
        error=bounce[:500],
        given_up_at=dj_timezone.now(),
        next_attempt_at=None,
    )
    report.bounced.append(row.key)


def bounce_record(*, message_id: str, reason: str, actor: str = "mail") -> Outbound | None:
    """Mark the email with this Message-ID bounced (a delivery report came back); None if it is
    not one of ours. Recording the same bounce twice changes nothing."""
    row = (
        Outbound.objects.filter(channel="email", message_id=message_id)
        .select_related("document", "party")
        .first()
    )
    if row is None or row.status == "bounced":
        return row
    _finish(
        row,
        "bounced",
        "email.bounced",
        f"email to {row.recipient} bounced: {reason}",
        actor,
        error=reason[:500],
        given_up_at=dj_timezone.now(),
    )
    return row
