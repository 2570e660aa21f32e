"""Texts: a provider interface, the file adapter, and the sending of one text.

A provider is anything with `name` and `send(*, key, to, body) -> str` (the provider's reference
for the message), raising `SmsError` when the text was not taken. Only one adapter ships: `file`,
which appends each text as one JSON line to `outbox-YYYY-MM-DD.jsonl` in a folder, for tests and
the demo. It delivers nothing and says so; a real carrier's adapter implements the same interface.
No provider is pretended.

Invariants: one key is one text (a unique key); a text is recorded `sending` before the provider
is asked and `sent` after, so a repeated send of a sent key does nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from django.db import transaction
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _

from arrears.core.dates import today
from arrears.core.errors import DomainError, ValidationError
from arrears.correspondence.mail_models import OutboundSms
from arrears.ledger.models import Account, Party, TimelineEvent

# 12 CFR §1006.6(e): a text is an electronic communication; it carries the way to opt out.
STOP_LINE = {
    "en": "Reply STOP to opt out of texts.",
    "es": "Responda STOP para no recibir más mensajes de texto.",
}


class SmsError(DomainError):
    code = "sms_failed"


class SmsProvider(Protocol):
    name: str

    def send(self, *, key: str, to: str, body: str) -> str: ...


@dataclass
class FileSmsProvider:
    """Writes texts to a folder as JSON lines; delivers nothing."""

    folder: Path
    name: str = "file"

    def send(self, *, key: str, to: str, body: str) -> str:
        """Append the text, unless a text of this key was written already (a send that died
        before it was recorded sent): the key is the idempotency key a real provider takes."""
        self.folder.mkdir(parents=True, exist_ok=True)
        for done in sorted(self.folder.glob("outbox-*.jsonl")):
            with done.open(encoding="utf-8") as stream:
                if any(json.loads(line).get("key") == key for line in stream if line.strip()):
                    return f"{done.name}:{key}"
        stamp = dj_timezone.now()
        path = self.folder / f"outbox-{stamp:%Y-%m-%d}.jsonl"
        line = json.dumps(
            {"key": key, "to": to, "body": body, "at": stamp.isoformat()}, ensure_ascii=False
        )
        with path.open("a", encoding="utf-8") as stream:
            stream.write(line + "\n")
        return f"{path.name}:{key}"


def sms_provider(url: str | None = None) -> SmsProvider:
    """The provider named by SMS_URL: `file:///path/to/folder` (the default is ./sms-outbox)."""
    from django.conf import settings

    url = url or getattr(settings, "SMS_URL", "") or "file://sms-outbox"
    if url.startswith("file://"):
        return FileSmsProvider(Path(url.removeprefix("file://")))
    raise ValidationError(
        _("SMS_URL: no adapter for {scheme!r} (only file:// ships)"),
        code="sms_url_scheme",
        scheme=url.split(":")[0],
    )


def sms_send(
    *,
    provider: SmsProvider,
    key: str,
    account: Account,
    party: Party,
    body: str,
    language: str = "en",
    actor: str = "sms",
    now: datetime | None = None,
) -> OutboundSms:
    """Send one text for `key` unless it was sent already; returns its row. SmsError if the
    provider refused it (the row says `failed`, with the error, and may be sent again)."""
    if not party.phone:
        raise ValidationError(
            _("{party_id} has no phone number"), code="party_no_phone", party_id=party.party_id
        )
    now = now or dj_timezone.now()
    text = f"{body.rstrip()} {STOP_LINE.get(language, STOP_LINE['en'])}"
    with transaction.atomic():
        row, created = OutboundSms.objects.select_for_update().get_or_create(
            key=key,
            defaults={
                "account": account,
                "party": party,
                "to_number": party.phone,
                "body": text,
                "provider": provider.name,
                "status": "sending",
                "on": today(),
                "created_at": now,
            },
        )
        if not created and row.status == "sent":
            return row
        if not created:
            row.status = "sending"
            row.save(update_fields=["status"])
    try:
        ref = provider.send(key=key, to=row.to_number, body=row.body)
    except (OSError, SmsError) as exc:
        OutboundSms.objects.filter(pk=row.pk).update(status="failed", last_error=str(exc)[:500])
        raise SmsError(
            _("text to {number} not sent: {reason}"),
            code="sms_not_sent",
            number=row.to_number,
            reason=str(exc),
        ) from None
    _sent(row, ref, account=account, party=party, provider=provider, actor=actor)
    return row


def _sent(
    row: OutboundSms, ref: str, *, account: Account, party: Party, provider: SmsProvider, actor: str
) -> None:
    """Record a text sent, with its provider's reference and its `sms.sent` timeline row."""
    with transaction.atomic():
        row.status = "sent"
        row.provider_ref = ref[:200]
        row.sent_at = dj_timezone.now()
        row.last_error = ""
        row.save(update_fields=["status", "provider_ref", "sent_at", "last_error"])
        TimelineEvent.objects.create(
            account=account,
            at=row.sent_at,
            on=row.on,
            kind="sms.sent",
            actor=actor,
            summary=f"text to {party.party_id} at {row.to_number} ({provider.name})",
            detail={
                "key": row.key,
                "to": row.to_number,
                "body": row.body,
                "provider": provider.name,
                "ref": row.provider_ref,
            },
        )
