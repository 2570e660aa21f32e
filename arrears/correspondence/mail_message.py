"""Email out, its first half: the message of an outbound email row built and archived
(`email_prepare`); arrears.correspondence.mail_out sends it.

Invariants:
- one action is one email: its Message-ID is derived from the action's idempotency key, and its
  bytes (dated by the row, MIME boundaries from the Message-ID) are fixed when it is prepared, so
  preparing again after a crash builds the same bytes, which the archive requires;
- an email about a consumer debt carries the Reg F opt-out statement (12 CFR §1006.6(e)).
"""

from __future__ import annotations

import hashlib
import re
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr
from typing import Any

from django.db import transaction
from django.utils import timezone as dj_timezone

from arrears.core.errors import DomainError, ValidationError
from arrears.correspondence.archive import archive_store
from arrears.correspondence.models import Outbound

# 12 CFR §1006.6(e) (Regulation F): an electronic communication by a debt collector must include a
# clear and conspicuous statement of a reasonable and simple way to opt out of further electronic
# communications to that address. Replying STOP is that way; `mail fetch` records the opt-out.
OPT_OUT_NOTICE = {
    "en": "To stop receiving email from us at this address, reply to this message with the word "
    "STOP. We will then write to you by mail only.",
    "es": "Para dejar de recibir correos electrónicos nuestros en esta dirección, responda a "
    "este mensaje con la palabra STOP. Desde entonces le escribiremos solo por correo postal.",
}


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
            yield row, _outgoing(row, message, next(letters), _enclosed(row, enclosed))


def _outgoing(
    row: Outbound, message: Any, letter: bytes, enclosed: list[Attachment]
) -> OutgoingEmail:
    """The email of a row: its rendered message, its letter as a PDF, its enclosures."""
    party = row.party
    return OutgoingEmail(
        to=row.recipient or (party.email if party else ""),
        to_name=party.name if party else "",
        subject=message.subject,
        text=message.text,
        html=message.html,
        language=message.language,
        attachments=[Attachment(f"{row.template}.pdf", letter, "application/pdf"), *enclosed],
        opt_out_notice=row.account.kind in CONSUMER_KINDS,
        template_version=message.template_version,
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
    files = [_attachment_kept(a) for a in email.attachments]
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


def _attachment_kept(a: Attachment) -> dict[str, str]:
    """An email's attachment stored in the archive, by its digest; what the row says of it."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", a.filename.rpartition("/")[2])[:100] or "file"
    kept = archive_store(
        data=a.data,
        name=f"attachments/{_sha(a.data)}/{safe}",
        kind="attachment",
        content_type=a.mimetype,
    )
    return {
        "filename": a.filename,
        "content_type": a.mimetype,
        "sha256": kept.sha256,
        "document": kept.name,
    }


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
