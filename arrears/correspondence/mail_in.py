"""Email in: read a mailbox (Maildir or IMAP, mailboxes.py), match each message to an account,
sort it, file it.

Invariants:
- a message is filed once: its raw bytes' SHA-256 is unique, so fetching again files nothing new;
- nothing is dropped: a message that matches no account is kept in triage until a coordinator
  assigns it;
- a filed message, its raw bytes and each attachment are stored in the archive with their
  SHA-256, and the timeline row names them;
- the match says how it was made, in this order: `thread` (In-Reply-To/References name one of
  our Message-IDs, or a message already filed), `sender` (the From address is the email of the
  parties of one account), `account` (an account number in the subject or text), `unit` (a unit
  number that names one account, of the sender's accounts if there are several).
"""

from __future__ import annotations

import email
import hashlib
import imaplib
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage, Message
from email.policy import default as default_policy
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from arrears.core.dates import today
from arrears.core.errors import NotFoundError, ValidationError
from arrears.correspondence.archive import archive_store
from arrears.correspondence.mail_models import InboundAttachment, InboundEmail
from arrears.correspondence.mail_out import bounce_record
from arrears.correspondence.mail_rules import (
    Sorted,
    account_tokens,
    new_text,
    sort_message,
    unit_numbers,
)
from arrears.correspondence.mailboxes import (
    FILED_KEYWORD as FILED_KEYWORD,
)
from arrears.correspondence.mailboxes import (
    ImapMailbox,
    Raw,
    maildir_read,
    parse_imap_url,
)
from arrears.correspondence.models import Outbound
from arrears.ledger.models import Account, AccountParty, Party, TimelineEvent

MSGID = re.compile(r"<[^<>\s]+>")


@dataclass
class Parsed:
    message_id: str
    in_reply_to: str
    references: list[str]
    from_address: str
    from_name: str
    subject: str
    sent_at: datetime | None
    text: str
    headers: dict[str, str]
    attachments: list[tuple[str, str, bytes]]  # (filename, mimetype, data)
    report: Message | None  # the delivery-status part of a bounce report


def parse(data: bytes) -> Parsed:
    msg = email.message_from_bytes(data, policy=default_policy)
    assert isinstance(msg, EmailMessage)
    name, address = parseaddr(str(msg.get("From", "")))
    sent_at = None
    if msg.get("Date"):
        try:
            sent_at = parsedate_to_datetime(str(msg["Date"]))
            if sent_at.tzinfo is None:
                sent_at = None
        except (TypeError, ValueError):
            sent_at = None
    body = msg.get_body(preferencelist=("plain", "html"))
    text = ""
    if body is not None:
        try:
            text = body.get_content()
        except (LookupError, UnicodeError, AssertionError):
            # An unknown charset or a broken encoding: keep what can be read.
            raw: Any = body.get_payload(decode=True)
            text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else ""
        if body.get_content_type() == "text/html":
            text = re.sub(r"<[^>]+>", " ", text)
    attachments = []
    report = None
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/delivery-status":
            report = part
        if part.is_multipart() or part is body:
            continue
        filename = part.get_filename()
        if filename or part.get_content_disposition() == "attachment":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                attachments.append((_plain(filename or "attachment"), ctype, payload))
    headers = {k.lower(): _plain(v) for k, v in msg.items()}
    return Parsed(
        message_id=_first_id(_plain(msg.get("Message-ID", ""))),
        in_reply_to=_first_id(_plain(msg.get("In-Reply-To", ""))),
        references=MSGID.findall(_plain(msg.get("References", ""))),
        from_address=_plain(address).lower(),
        from_name=_plain(name)[:200],
        subject=_plain(msg.get("Subject", ""))[:500],
        sent_at=sent_at,
        text=_plain(text),
        headers=headers,
        attachments=attachments,
        report=report if msg.get_content_type() == "multipart/report" else None,
    )


def _plain(value: Any) -> str:
    """A header or a text as a string the database takes (PostgreSQL refuses NUL characters)."""
    return str(value).replace("\x00", "")


def _first_id(value: str) -> str:
    found = MSGID.findall(value)
    return found[0][:300] if found else ""


def bounce_of(parsed: Parsed, data: bytes) -> tuple[str, str] | None:
    """(the original Message-ID, the reason) of a delivery report that says delivery failed for
    good (RFC 3464: Action: failed, Status 5.x.x); None otherwise."""
    if parsed.report is None:
        return None
    failed = ""
    for block in _status_blocks(parsed.report):
        action = block.get("action", "").strip().lower()
        status = block.get("status", "").strip()
        if action == "failed" and status.startswith("5"):
            diagnostic = block.get("diagnostic-code", "").strip()
            failed = f"{status} {diagnostic}".strip()
            break
    if not failed:
        return None
    msg = email.message_from_bytes(data, policy=default_policy)
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype in ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers"):
            payload: Any = part.get_payload()
            if ctype == "message/rfc822":
                inner = payload[0] if isinstance(payload, list) else payload
                original = _first_id(str(inner.get("Message-ID", ""))) if inner else ""
            else:
                raw: Any = part.get_payload(decode=True) or b""
                found = re.search(rb"(?im)^message-id:\s*(<[^>]+>)", bytes(raw))
                original = found.group(1).decode() if found else ""
            if original:
                return original, failed
    return ("", failed) if parsed.in_reply_to == "" else (parsed.in_reply_to, failed)


def _status_blocks(report: Message) -> list[dict[str, str]]:
    payload: Any = report.get_payload()
    blocks: list[dict[str, str]] = []
    if isinstance(payload, list):
        for part in payload:
            blocks.append({k.lower(): str(v) for k, v in part.items()})
    else:
        raw: Any = report.get_payload(decode=True) or str(payload).encode()
        for chunk in re.split(rb"\r?\n\r?\n", bytes(raw)):
            block = {}
            for line in chunk.decode("utf-8", "replace").splitlines():
                key, _, value = line.partition(":")
                block[key.strip().lower()] = value.strip()
            blocks.append(block)
    return blocks


@dataclass(frozen=True)
class Match:
    account: Account | None
    party: Party | None
    how: str  # thread, sender, account, unit; "" unmatched
    why: str = ""  # for triage: why no account was chosen


def match_message(parsed: Parsed) -> Match:
    """The account a message belongs to; see the module docstring for the order."""
    sender = _sender_party(parsed.from_address)
    ids = [i for i in [parsed.in_reply_to, *reversed(parsed.references)] if i]
    if ids:
        ours = Outbound.objects.filter(channel="email", message_id__in=ids).select_related(
            "account", "party"
        )
        by_id = {row.message_id: row for row in ours}
        for i in ids:
            if i in by_id:
                row = by_id[i]
                return Match(row.account, sender or row.party, "thread")
        earlier = InboundEmail.objects.filter(message_id__in=ids, account__isnull=False).first()
        if earlier is not None and earlier.account is not None:
            return Match(earlier.account, sender or earlier.party, "thread")
    sender_accounts = _accounts_of(sender) if sender else []
    if len(sender_accounts) == 1:
        return Match(sender_accounts[0], sender, "sender")
    text = f"{parsed.subject}\n{parsed.text}"
    tokens = account_tokens(text)
    if tokens:
        named = list(Account.objects.filter(account_id__in=tokens))
        if len(named) == 1:
            return Match(named[0], sender, "account")
        if len(named) > 1 and sender_accounts:
            mine = [a for a in named if a in sender_accounts]
            if len(mine) == 1:
                return Match(mine[0], sender, "account")
    units = unit_numbers(text)
    if units:
        pool = sender_accounts or list(
            Account.objects.filter(unit__in=units).select_related("property")
        )
        hits = [a for a in pool if a.unit.upper() in units]
        open_hits = [a for a in hits if a.closed_on is None] or hits
        if len(open_hits) == 1:
            return Match(open_hits[0], sender, "unit")
    if len(sender_accounts) > 1:
        return Match(
            None,
            sender,
            "",
            f"the sender is a party of {len(sender_accounts)} "
            "accounts and the message names none of them",
        )
    return Match(
        None,
        sender,
        "",
        gettext_noop("no reply to our mail, unknown sender, no account or unit number"),
    )


def _sender_party(address: str) -> Party | None:
    if not address:
        return None
    found = list(Party.objects.filter(email__iexact=address)[:2])
    return found[0] if len(found) == 1 else None


def _accounts_of(party: Party) -> list[Account]:
    return [
        ap.account
        for ap in AccountParty.objects.filter(party=party)
        .select_related("account")
        .order_by("account__account_id")
    ]


@dataclass
class FetchReport:
    filed: list[int] = field(default_factory=list)  # inbound ids
    triage: list[int] = field(default_factory=list)
    bounces: list[int] = field(default_factory=list)
    already: int = 0  # messages filed by an earlier fetch

    def as_json(self) -> dict[str, Any]:
        return {
            "filed": len(self.filed),
            "triage": len(self.triage),
            "bounces": len(self.bounces),
            "already_filed": self.already,
        }


def _excerpt(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()[:1000]


def message_file(
    raw: Raw, *, actor: str = "mail", now: datetime | None = None
) -> tuple[InboundEmail, bool]:
    """File one message: (its row, True) the first time, (the row filed before, False) after."""
    sha = hashlib.sha256(raw.data).hexdigest()
    existing = InboundEmail.objects.filter(sha256=sha).first()
    if existing is not None:
        return existing, False
    parsed = parse(raw.data)
    bounce = bounce_of(parsed, raw.data)
    fresh = new_text(parsed.text)
    match, sorted_ = _match_and_sort(parsed, bounce, fresh)
    now = now or dj_timezone.now()
    received = now
    with transaction.atomic():
        if InboundEmail.objects.select_for_update().filter(sha256=sha).exists():
            return InboundEmail.objects.get(sha256=sha), False
        kept = archive_store(
            data=raw.data,
            name=f"mail-in/{received:%Y/%m}/{sha}.eml",
            kind="email-in",
            content_type="message/rfc822",
        )
        row = InboundEmail.objects.create(
            sha256=sha,
            message_id=parsed.message_id,
            in_reply_to=parsed.in_reply_to,
            references=" ".join(parsed.references)[:5000],
            from_address=parsed.from_address,
            from_name=parsed.from_name,
            subject=parsed.subject,
            sent_at=parsed.sent_at,
            received_at=now,
            source=raw.source[:300],
            document=kept,
            excerpt=_excerpt(fresh),
            account=match.account,
            party=match.party,
            matched_by=match.how,
            why_unmatched=match.why[:200],
            status="filed" if match.account else "triage",
            category=sorted_.category,
            rule=sorted_.rule[:100],
            needs_answer=sorted_.needs_answer,
            bounce_of=bounce[0] if bounce else "",
        )
        _attachments_store(row, parsed)
        if match.account is not None:
            _filed_event(row, actor, now)
        if bounce is not None and bounce[0]:
            # In the same transaction: a report filed is a bounce recorded.
            bounce_record(message_id=bounce[0], reason=bounce[1], actor=actor)
    return row, True


def _match_and_sort(
    parsed: Parsed, bounce: tuple[str, str] | None, fresh: str
) -> tuple[Match, Sorted]:
    """The account a message is about and its sorting: a delivery report goes with the email
    of ours it reports on (a bounce), any other message is matched and sorted by its content."""
    if bounce is not None:
        original = (
            Outbound.objects.filter(channel="email", message_id=bounce[0])
            .select_related("account", "party")
            .first()
            if bounce[0]
            else None
        )
        match = (
            Match(original.account, original.party, "bounce")
            if original
            else Match(None, None, "", "a delivery report about no email of ours")
        )
        sorted_ = Sorted("bounce", f"report:delivery-status {bounce[1]}"[:100])
    else:
        match = match_message(parsed)
        sorted_ = sort_message(subject=parsed.subject, text=fresh, headers=parsed.headers)
    return match, sorted_


def _attachments_store(row: InboundEmail, parsed: Parsed) -> None:
    """Archive each attachment of a message filed, and list it on the message."""
    for filename, mimetype, data in parsed.attachments:
        stored = archive_store(
            data=data,
            name=f"attachments/{_sha(data)}/{_safe(filename)}",
            kind="attachment",
            content_type=mimetype[:100],
        )
        InboundAttachment.objects.create(
            email=row,
            filename=filename[:255],
            mimetype=mimetype[:100],
            size=len(data),
            document=stored,
        )


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _safe(filename: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", Path(filename).name)[:100] or "attachment"


def _filed_event(row: InboundEmail, actor: str, now: datetime) -> None:
    assert row.account is not None
    files = [
        {
            "filename": f.filename,
            "content_type": f.mimetype,
            "sha256": f.document.sha256,
            "document": f.document.name,
        }
        for f in row.files.select_related("document")
    ]
    TimelineEvent.objects.create(
        account=row.account,
        at=now,
        on=today(),
        kind="email.received",
        actor=actor,
        summary=f"email from {row.from_address or 'unknown'}: “{row.subject}” "
        f"({row.category.replace('_', ' ')})"[:500],
        detail={
            "inbound": row.pk,
            "message_id": row.message_id,
            "from": row.from_address,
            "subject": row.subject,
            "category": row.category,
            "rule": row.rule,
            "matched_by": row.matched_by,
            "needs_answer": row.needs_answer,
            "document": row.document.name,
            "sha256": row.sha256,
            "attachments": files,
            "party_id": row.party.party_id if row.party else None,
            "excerpt": row.excerpt[:300],
        },
    )


def mail_fetch(*, source: str, actor: str = "mail") -> FetchReport:
    """Read a mailbox and file what is new. `source` is an IMAP_URL (imap://, imaps://) or a
    Maildir folder's path."""
    report = FetchReport()

    def take(row: InboundEmail, new: bool) -> None:
        if not new:
            report.already += 1
        elif row.category == "bounce":
            report.bounces.append(row.pk)
        elif row.status == "triage":
            report.triage.append(row.pk)
        else:
            report.filed.append(row.pk)

    if source.startswith(("imap://", "imaps://")):
        settings = parse_imap_url(source)
        where = f"IMAP {settings.username}@{settings.host}:{settings.port}"
        try:
            box = ImapMailbox(settings)
        except (OSError, imaplib.IMAP4.error) as exc:
            raise ValidationError(
                _("{source}: {reason}"), code="mailbox_unreachable", source=where, reason=str(exc)
            ) from None
        try:
            for uid, raw in box.read():
                take(*message_file(raw, actor=actor))
                box.mark_filed(uid)
        except (OSError, imaplib.IMAP4.error) as exc:
            # What was filed stays filed; the next fetch goes on from there.
            raise ValidationError(
                _("{source}: {reason} (after {filed} filed)"),
                code="mailbox_read_failed",
                source=where,
                reason=str(exc),
                filed=len(report.filed),
            ) from None
        finally:
            box.close()
    else:
        for raw in maildir_read(source):
            take(*message_file(raw, actor=actor))
    return report


def triage_list() -> list[InboundEmail]:
    return list(InboundEmail.objects.filter(status="triage").order_by("received_at", "id"))


@transaction.atomic
def triage_assign(*, inbound_id: int, account_id: str, actor: str) -> InboundEmail:
    """File a message from triage on an account's timeline."""
    row = InboundEmail.objects.select_for_update().filter(pk=inbound_id).first()
    if row is None:
        raise NotFoundError(
            _("no message {inbound_id} in the mailbox"),
            code="message_not_found",
            inbound_id=inbound_id,
        )
    if row.status != "triage":
        raise ValidationError(
            _("message {inbound_id} is already filed on an account"),
            code="message_already_filed",
            inbound_id=inbound_id,
        )
    account = Account.objects.filter(account_id=account_id).first()
    if account is None:
        raise NotFoundError(
            _("no account {account_id!r}"), code="account_not_found", account_id=account_id
        )
    row.account = account
    row.status = "filed"
    row.matched_by = f"assigned by {actor}"[:40]
    if row.party is None and row.from_address:
        row.party = Party.objects.filter(
            email__iexact=row.from_address, account_parties__account=account
        ).first()
    row.save(update_fields=["account", "status", "matched_by", "party"])
    _filed_event(row, actor, dj_timezone.now())
    return row


@transaction.atomic
def inbound_answered(*, inbound_id: int, actor: str, note: str = "") -> InboundEmail:
    """Take a message off the worklist: it was answered (by mail, phone or letter)."""
    row = InboundEmail.objects.select_for_update().filter(pk=inbound_id).first()
    if row is None:
        raise NotFoundError(
            _("no message {inbound_id} in the mailbox"),
            code="message_not_found",
            inbound_id=inbound_id,
        )
    if row.account is None:
        raise ValidationError(
            _("message {inbound_id} is in triage: assign it to an account first"),
            code="message_in_triage",
            inbound_id=inbound_id,
        )
    if row.answered_at is not None:
        raise ValidationError(
            _("message {inbound_id} was already answered on {answered_on}"),
            code="message_already_answered",
            inbound_id=inbound_id,
            answered_on=f"{row.answered_at:%Y-%m-%d}",
        )
    row.answered_at = dj_timezone.now()
    row.answered_by = actor
    row.save(update_fields=["answered_at", "answered_by"])
    TimelineEvent.objects.create(
        account=row.account,
        at=row.answered_at,
        on=today(),
        kind="email.answered",
        actor=actor,
        summary=f"answered: “{row.subject}”" + (f" ({note})" if note else ""),
        detail={"inbound": row.pk, "message_id": row.message_id, "note": note},
    )
    return row
