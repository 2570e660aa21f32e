"""Email out: an `Outbound` row of channel email is prepared (its message built and archived),
then sent through SMTP (EMAIL_URL).

Invariants:
- one action is one email: the outbound row is keyed by the action's idempotency key; its bytes,
  with a Message-ID derived from that key and dated by the row, are fixed when it is prepared;
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
import hashlib
import re
import smtplib
import ssl
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from django.db import transaction
from django.db.models import Q
from django.utils import timezone as dj_timezone

from arrears.core.errors import DomainError, ValidationError
from arrears.correspondence.archive import archive_read, archive_store
from arrears.correspondence.models import Outbound
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


# 12 CFR §1006.6(e) (Regulation F): an electronic communication by a debt collector must include a
# clear and conspicuous statement of a reasonable and simple way to opt out of further electronic
# communications to that address. Replying STOP is that way; `mail fetch` records the opt-out.
OPT_OUT_NOTICE = {
    "en": "To stop receiving email from us at this address, reply to this message with the word "
    "STOP. We will then write to you by mail only.",
    "es": "Para dejar de recibir correos electrónicos nuestros en esta dirección, responda a "
    "este mensaje con la palabra STOP. Desde entonces le escribiremos solo por correo postal.",
}


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send, parsed from EMAIL_URL."""

    host: str
    port: int
    security: str  # "plain", "starttls" or "tls" (implicit TLS, smtps://)
    username: str = ""
    password: str = field(default="", repr=False)
    cafile: str = ""  # trust this CA file instead of the system's (a private relay)
    timeout: float = 30.0

    def tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.cafile or None)


def parse_email_url(url: str) -> SmtpSettings:
    """Parse EMAIL_URL: `smtp://[user:pass@]host[:port][?starttls=yes|no&cafile=PATH&timeout=S]`
    or `smtps://…` (implicit TLS, port 465 by default).

    `smtp://` uses STARTTLS when `starttls=yes`, and by default on port 587 (the submission port,
    RFC 6409); it is refused if the server does not offer it. User and password are URL-decoded.
    Raises ValidationError for anything else.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise ValidationError(
            f"EMAIL_URL must start smtp:// or smtps://, not {url.split(':')[0]!r}"
        )
    if not parts.hostname:
        raise ValidationError("EMAIL_URL names no host")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    unknown = set(query) - {"starttls", "cafile", "timeout"}
    if unknown:
        raise ValidationError(f"EMAIL_URL: unknown option {sorted(unknown)[0]!r}")
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 25)
        timeout = float(query.get("timeout", "30"))
    except ValueError as exc:
        raise ValidationError(f"EMAIL_URL: {exc}") from None
    if parts.scheme == "smtps":
        security = "tls"
    else:
        flag = query.get("starttls", "yes" if port == 587 else "no").lower()
        if flag not in ("yes", "no", "true", "false", "1", "0"):
            raise ValidationError(f"EMAIL_URL: starttls is yes or no, not {flag!r}")
        security = "starttls" if flag in ("yes", "true", "1") else "plain"
    return SmtpSettings(
        host=parts.hostname,
        port=port,
        security=security,
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        cafile=query.get("cafile", ""),
        timeout=timeout,
    )


def message_id_for(key: str, domain: str) -> str:
    """The Message-ID of an action's email: the same key gives the same id, on every try."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"<{digest}@{domain}>"


@dataclass(frozen=True)
class Attachment:
    filename: str
    data: bytes
    mimetype: str  # "application/pdf"


@dataclass(frozen=True)
class OutgoingEmail:
    """One email as plain data: what `email_queue` needs, whatever rendered it."""

    to: str
    subject: str
    text: str
    html: str = ""
    attachments: Sequence[Attachment] = ()
    to_name: str = ""
    language: str = "en"
    opt_out_notice: bool = False  # add the Reg F §1006.6(e) opt-out statement
    template_version: int | None = None  # of the template it was rendered from (0: built in)


def build_message(
    email: OutgoingEmail, *, sender: str, sender_name: str, message_id: str, at: datetime
) -> EmailMessage:
    """The message with its headers, text (and HTML) body and attachments."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = formataddr((sender_name, sender)) if sender_name else sender
    msg["To"] = formataddr((email.to_name, email.to)) if email.to_name else email.to
    msg["Subject"] = email.subject
    msg["Date"] = format_datetime(at)
    msg["Message-ID"] = message_id
    text, html = email.text, email.html
    if email.opt_out_notice:
        notice = OPT_OUT_NOTICE.get(email.language, OPT_OUT_NOTICE["en"])
        text = f"{text.rstrip()}\n\n--\n{notice}\n"
        if html:
            html = (
                html.replace("</body>", f"<hr><p>{notice}</p></body>")
                if "</body>" in html
                else f"{html}<hr><p>{notice}</p>"
            )
        # RFC 2369: a mail program can offer the same opt-out as a button.
        msg["List-Unsubscribe"] = f"<mailto:{sender}?subject=STOP>"
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    for a in email.attachments:
        maintype, _, subtype = a.mimetype.partition("/")
        msg.add_attachment(
            a.data, maintype=maintype, subtype=subtype or "octet-stream", filename=a.filename
        )
    # MIME boundaries from the Message-ID, not at random: the same email built again is the same
    # bytes, which the archive requires of a name it already holds (a crash before the commit).
    seed = hashlib.sha256(message_id.encode()).hexdigest()[:24]
    for n, part in enumerate(p for p in msg.walk() if p.is_multipart()):
        part.set_boundary(f"===={seed}.{n}====")
    return msg


@dataclass(frozen=True)
class Sender:
    """Who sends: the From address, its display name, and the domain of Message-IDs."""

    address: str
    name: str
    domain: str

    @classmethod
    def from_env(cls) -> Sender:
        """The ARREARS_MAIL_FROM setting (default: the company's email, else
        collections@localhost) and ARREARS_MAIL_DOMAIN (default: the sender's domain)."""
        from django.conf import settings

        company = getattr(settings, "ARREARS_COMPANY", {}) or {}
        address = (
            getattr(settings, "ARREARS_MAIL_FROM", "")
            or company.get("email")
            or "collections@localhost"
        )
        domain = getattr(settings, "ARREARS_MAIL_DOMAIN", "") or address.rpartition("@")[2]
        return cls(address, company.get("name", ""), domain or "localhost")


def smtp_from_env() -> SmtpSettings:
    """The EMAIL_URL setting parsed; ValidationError if it is not set."""
    from django.conf import settings

    url = getattr(settings, "EMAIL_URL", "")
    if not url:
        raise ValidationError("EMAIL_URL is not set (e.g. smtp://user:pass@host:587)")
    return parse_email_url(url)


# Reg F (12 CFR part 1006) governs consumer debts: email about them carries its opt-out notice.
CONSUMER_KINDS = ("residential_lease", "student", "patient")


def outbound_email_render(row: Outbound) -> OutgoingEmail:
    """The email of a queued outbound row, from its template (`rendering.outbound_message`), with
    the same notice as a one-page PDF letter attached."""
    from arrears.correspondence.pdfs import letter_pdf
    from arrears.correspondence.rendering import outbound_message

    party = row.party
    to = row.recipient or (party.email if party else "")
    if not to:
        raise ValidationError(f"{row.key}: the addressee has no email address", key=row.key)
    message = outbound_message(row)
    page = outbound_message(row, letter=True)
    pdf = letter_pdf(page.html)
    return OutgoingEmail(
        to=to,
        to_name=party.name if party else "",
        subject=message.subject,
        text=message.text,
        html=message.html,
        attachments=[
            Attachment(f"{row.template}.pdf", pdf, "application/pdf"),
            *_enclosed(row, {}),
        ],
        language=message.language,
        opt_out_notice=row.account.kind in CONSUMER_KINDS,
        template_version=message.template_version,
    )


RENDER_CHUNK = 16  # emails per task of a PDF worker process


def outbound_emails_render(
    rows: Sequence[Outbound], *, workers: int = 2
) -> Iterator[tuple[Outbound, OutgoingEmail | str]]:
    """`outbound_email_render` of each row, in order, the PDF letters rendered by `workers`
    processes (the letters batch's); a row that cannot be rendered comes with its error."""
    from arrears.correspondence.pdfs import render_parallel
    from arrears.correspondence.rendering import render_with, template_load
    from arrears.correspondence.selectors import outbound_contexts

    cache: dict[Any, Any] = {}
    enclosed: dict[Any, Any] = {}
    waiting: deque[list[tuple[Outbound, Any, Any] | tuple[Outbound, str]]] = deque()

    def one(row: Outbound, context: dict[str, Any] | None) -> tuple[Outbound, Any, Any]:
        if not (row.recipient or (row.party and row.party.email)):
            raise ValidationError(f"{row.key}: the addressee has no email address")
        if context is None:
            (context,) = outbound_contexts([row])
        loaded = template_load(row.template, context["language"], cache)
        return (
            row,
            render_with(loaded, context, letter=False),
            render_with(loaded, context, letter=True),
        )

    def pages() -> Iterator[list[str]]:
        for start in range(0, len(rows), RENDER_CHUNK):
            chunk = list(rows[start : start + RENDER_CHUNK])
            try:
                contexts: list[Any] = outbound_contexts(chunk)
            except DomainError:
                contexts = [None] * len(chunk)  # find the one that fails, row by row
            done: list[tuple[Outbound, Any, Any] | tuple[Outbound, str]] = []
            for row, context in zip(chunk, contexts, strict=True):
                try:
                    done.append(one(row, context))
                except DomainError as exc:
                    done.append((row, exc.message))
            waiting.append(done)
            yield [item[2].html for item in done if len(item) == 3]

    for pdfs in render_parallel(pages(), workers=workers):
        letters = iter(pdfs)
        for item in waiting.popleft():
            if len(item) == 2:
                yield item[0], item[1]
                continue
            row, message, _ = item
            party = row.party
            yield (
                row,
                OutgoingEmail(
                    to=row.recipient or (party.email if party else ""),
                    to_name=party.name if party else "",
                    subject=message.subject,
                    text=message.text,
                    html=message.html,
                    language=message.language,
                    attachments=[
                        Attachment(f"{row.template}.pdf", next(letters), "application/pdf"),
                        *_enclosed(row, enclosed),
                    ],
                    opt_out_notice=row.account.kind in CONSUMER_KINDS,
                    template_version=message.template_version,
                ),
            )


def _enclosed(row: Outbound, cache: dict[Any, Any]) -> list[Attachment]:
    """The row's enclosures (a monthly statement, a dispute's analysis) as PDF attachments."""
    from arrears.correspondence.enclosures import enclosures_for

    return [
        Attachment(e.filename, e.data, "application/pdf")
        for e in enclosures_for(row, actor="mail", cache=cache)
    ]


def email_document_name(outbound: Outbound) -> str:
    """Where an email's message is archived: the row's own name if the run gave one."""
    if outbound.document_name:
        return outbound.document_name
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", outbound.key)[:120]
    digest = hashlib.sha256(outbound.key.encode()).hexdigest()[:12]
    return f"email/{outbound.run_on:%Y/%m}/{safe}-{digest}.eml"


@transaction.atomic
def email_prepare(
    *, outbound: Outbound, email: OutgoingEmail, sender: str, domain: str, sender_name: str = ""
) -> Outbound:
    """Build and archive the message of a queued email row; the row is then `rendered`, with its
    Message-ID and recipient. A row prepared already is returned as it is."""
    row = Outbound.objects.select_for_update().get(pk=outbound.pk)
    if row.channel != "email":
        raise ValidationError(f"{row.key} is a {row.channel}, not an email")
    if row.status != "queued" or row.document_id is not None:
        return row
    if "@" not in email.to:
        raise ValidationError(f"not an email address: {email.to!r}", key=row.key)
    message_id = message_id_for(row.key, domain)
    # Dated by the row, not the clock: preparing again after a crash builds the same bytes.
    msg = build_message(
        email, sender=sender, sender_name=sender_name, message_id=message_id, at=row.created_at
    )
    files = []
    for a in email.attachments:
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", a.filename.rpartition("/")[2])[:100] or "file"
        kept = archive_store(
            data=a.data,
            name=f"attachments/{_sha(a.data)}/{safe}",
            kind="attachment",
            content_type=a.mimetype,
        )
        files.append(
            {
                "filename": a.filename,
                "content_type": a.mimetype,
                "sha256": kept.sha256,
                "document": kept.name,
            }
        )
    doc = archive_store(
        data=msg.as_bytes(),
        name=email_document_name(row),
        kind="email",
        content_type="message/rfc822",
    )
    row.document = doc
    row.document_name = doc.name
    row.message_id = message_id
    row.recipient = email.to
    row.status = "rendered"
    row.rendered_at = dj_timezone.now()
    if email.template_version is not None:
        row.template_version = email.template_version
    row.detail = {
        **row.detail,
        "subject": email.subject,
        "from": sender,
        "attachments": files,
        "opt_out_notice": email.opt_out_notice,
    }
    row.save(
        update_fields=[
            "document",
            "document_name",
            "message_id",
            "recipient",
            "status",
            "rendered_at",
            "detail",
            "template_version",
        ]
    )
    return row


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


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


class _Connection:
    """One SMTP session, opened on first use and again after the server drops it."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self.smtp: smtplib.SMTP | None = None

    def get(self) -> smtplib.SMTP:
        if self.smtp is None:
            s = self.settings
            if s.security == "tls":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=s.timeout, context=s.tls_context()
                )
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
                if s.security == "starttls":
                    smtp.ehlo()
                    if not smtp.has_extn("starttls"):
                        smtp.close()
                        raise smtplib.SMTPNotSupportedError(
                            "the server does not offer STARTTLS, which EMAIL_URL asks for"
                        )
                    smtp.starttls(context=s.tls_context())
            if s.username:
                smtp.login(s.username, s.password)
            self.smtp = smtp
        return self.smtp

    def drop(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.close()
            finally:
                self.smtp = None

    def quit(self) -> None:
        if self.smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.smtp.quit()
            self.smtp = None


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


def _event(row: Outbound, kind: str, summary: str, actor: str, **detail: Any) -> None:
    doc = row.document
    TimelineEvent.objects.create(
        account_id=row.account_id,
        at=dj_timezone.now(),
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
    row: Outbound, status: str, kind: str, summary: str, actor: str, **changes: Any
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
) -> SendReport:
    """Send the prepared emails that are due (all, or those of `keys`); see the module
    docstring. `now` is the clock the retry schedule reads. Never raises for the server's
    answers: the report (and each row) says what happened."""
    report = SendReport()
    schedule = schedule or RetrySchedule.from_env()
    conn = _Connection(settings)
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
                continue
            # A server that cannot be reached is no try of this message: the pass stops here
            # and the next one begins with this row, its count untouched.
            try:
                conn.get()
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
    finally:
        conn.quit()
    return report


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
    conn: _Connection,
    row: Outbound,
    report: SendReport,
    schedule: RetrySchedule,
    now: Callable[[], datetime],
    actor: str,
) -> bool:
    """Hand one row to the open session; False when the server cannot be used at all (the pass
    stops)."""
    assert row.document is not None
    data = archive_read(row.document)
    sender = row.detail.get("from", "")
    for second in (False, True):
        try:
            smtp = conn.get()
        except UNREACHABLE as exc:
            # Only after the first session dropped: the message may have reached it.
            conn.drop()
            return _unreachable(row, report, _describe(exc), given_back=not second)
        try:
            smtp.sendmail(sender, [row.recipient], data)
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
            if _closes_channel(exc) or isinstance(
                exc, smtplib.SMTPSenderRefused | smtplib.SMTPHeloError
            ):
                # The server's state or our sender, not this message: no try of it, unless the
                # first session took the message before it dropped (its outcome unknown).
                conn.drop()
                return _unreachable(row, report, _refusal(exc), given_back=not second)
            bounce = _permanent(exc)
            if bounce:
                _bounced(row, bounce, actor, report)
                return True
            _put_off(row, report, _refusal(exc), schedule, now, actor)
            return True
        except TimeoutError as exc:
            # The server took the session but not this message in time: the message's try.
            conn.drop()
            _put_off(row, report, f"timed out: {exc}", schedule, now, actor)
            return True
        except UNREACHABLE as exc:
            conn.drop()
            return _unreachable(row, report, _describe(exc), given_back=False)
        else:
            subject = row.detail.get("subject", "")
            _finish(
                row,
                "sent",
                "email.sent",
                f"email “{subject}” sent to {row.recipient}",
                actor,
                sent_at=dj_timezone.now(),
                error="",
                next_attempt_at=None,
            )
            report.sent.append(row.key)
            return True
    raise AssertionError("unreachable")  # pragma: no cover


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
