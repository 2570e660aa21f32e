"""Outbound letters and emails: queued by the run (in bulk) or one at a time, cancelled or dated
again when they go out, and the archive name each document will have.

Invariants: an outbound row has its action's idempotency key (unique), so queuing happens once
per action however often it is asked; every change of an outbound letter writes a timeline row
in the same transaction.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _

from arrears.core.errors import ValidationError
from arrears.core.fields import to_cents
from arrears.correspondence.models import Document, Outbound
from arrears.ledger import bulk
from arrears.ledger.models import Account, Party, TimelineEvent

LETTER_CHANNELS = ("letter", "certified_letter")
OUTBOUND_CHANNELS = (*LETTER_CHANNELS, "email")
POSTAGE = {"certified_letter": "Certified Mail", "letter": "First-Class Mail"}


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[:60] or "x"


def document_name(
    *, key: str, channel: str, run_on: date, account_id: str, step: str, party_id: str
) -> str:
    """The archive name of the document an outbound action produces, known before rendering:
    letters/2026/03/06/A-1-late-notice-P-1-<hash of the key>.pdf (emails: email/….eml)."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:10]
    folder, ext = ("letters", "pdf") if channel in LETTER_CHANNELS else ("email", "eml")
    return (
        f"{folder}/{run_on:%Y/%m/%d}/{_safe(account_id)}-{_safe(step)}-{_safe(party_id)}-"
        f"{digest}.{ext}"
    )


def outbound_create_many(actions: Iterable[Any], *, insert: bool = True) -> dict[str, str]:
    """Queue an outbound letter or email for each queued letter/email action; returns the
    document name (archive path) of each, by the action's key.

    `actions` are the run's new actions (objects with key, account, party, role, channel,
    template, language, policy, step, run_on, amount, deadline, delinquency, status, and
    optionally charge: the txn id of the charge a per-charge step is about); others
    (fees, calls, refusals) are skipped. Inserted in bulk in the caller's transaction; a key
    already queued is an IntegrityError (the run never asks twice for one key). insert=False
    (a dry run) only names the documents.
    """
    from django.db import connection

    now = dj_timezone.now()
    # Plain tuples, not model instances: the run queues up to one row per account and party, and
    # preparing instances field by field would cost more than the insert itself.
    fields = {f.name: f for f in Outbound._meta.concrete_fields}
    created = fields["created_at"].get_db_prep_save(now, connection)
    no_detail = fields["detail"].get_db_prep_save({}, connection)
    rows = []
    names: dict[str, str] = {}
    for a in actions:
        if a.status != "queued" or a.channel not in OUTBOUND_CHANNELS:
            continue
        names[a.key] = _action_document(a)
        detail = _charge_detail(fields["detail"], connection, a) or no_detail
        rows.append(_outbound_row(a, names[a.key], created, detail))
    if insert and rows:
        bulk.insert_rows(Outbound._meta.db_table, list(OUTBOUND_COLUMNS), rows)
    return names


# The columns of `_outbound_row`, in its order.
OUTBOUND_COLUMNS = (
    "key",
    "account_id",
    "party_id",
    "role",
    "channel",
    "template",
    "language",
    "policy",
    "step",
    "run_on",
    "amount",
    "deadline",
    "delinquency",
    "status",
    "document_name",
    "address",
    "postage_class",
    "article_number",
    "message_id",
    "recipient",
    "attempts",
    "error",
    "created_at",
    "detail",
)


def _action_document(a: Any) -> str:
    """The archive name of the document a run's action produces."""
    return document_name(
        key=a.key,
        channel=a.channel,
        run_on=a.run_on,
        account_id=a.account.account_id,
        step=a.step or a.template,
        party_id=a.party.party_id if a.party is not None else "",
    )


def _outbound_row(a: Any, name: str, created: Any, detail: Any) -> tuple[Any, ...]:
    """The queued outbound row of a run's action, as `OUTBOUND_COLUMNS` orders it."""
    party = a.party
    email = party.email if party is not None and a.channel == "email" else ""
    return (
        a.key,
        a.account.pk,
        party.pk if party is not None else None,
        a.role or "",
        a.channel,
        a.template,
        a.language or "en",
        a.policy or "",
        a.step or "",
        a.run_on,
        None if a.amount is None else to_cents(a.amount),
        a.deadline,
        a.delinquency,
        "queued",
        name,
        "",
        POSTAGE.get(a.channel, ""),
        "",
        "",
        email,
        0,
        "",
        created,
        detail,
    )


def _charge_detail(field: Any, connection: Any, action: Any) -> Any:
    """The `detail` of a queued letter about one charge (a per-charge step): its txn id, so
    that the letter names that charge as the ledger has it when it is rendered."""
    charge = getattr(action, "charge", None)
    return field.get_db_prep_save({"charge": charge}, connection) if charge else None


@transaction.atomic
def outbound_queue(
    *,
    key: str,
    account: Account,
    party: Party | None,
    role: str,
    channel: str,
    template: str,
    run_on: date,
    actor: str,
    language: str = "en",
    step: str = "",
    amount: Any = None,
    fields: dict[str, Any] | None = None,
    enclosures: Sequence[str] = (),
    summary: str = "",
) -> Outbound:
    """Queue one letter or email asked for outside the daily run (the answer to a dispute): the
    letters batch prints it, `mail send` sends it. `fields` are extra merge fields (JSON values;
    keys ending in `_on` are dates), `enclosures` archived documents put in the same envelope.

    Once per key: a key queued already returns its row unchanged. The caller has asked the
    compliance guard (arrears.dunning). Writes `letter.queued` (or `email.queued`) on the
    timeline, naming the document the letter will be.
    """
    existing = Outbound.objects.filter(key=key).first()
    if existing is not None:
        return existing
    _channel_check(channel)
    name = document_name(
        key=key,
        channel=channel,
        run_on=run_on,
        account_id=account.account_id,
        step=step or template,
        party_id=party.party_id if party is not None else "",
    )
    row = Outbound.objects.create(
        key=key,
        account=account,
        party=party,
        role=role,
        channel=channel,
        template=template,
        language=language,
        step=step,
        run_on=run_on,
        amount=amount,
        status="queued",
        document_name=name,
        postage_class=POSTAGE.get(channel, ""),
        created_at=dj_timezone.now(),
        recipient=party.email if party is not None and channel == "email" else "",
        detail={"fields": fields or {}, "enclosures": list(enclosures)},
    )
    _queued_event(row, actor=actor, summary=summary)
    return row


def _channel_check(channel: str) -> None:
    """ValidationError unless a queued document can go by `channel`."""
    if channel not in OUTBOUND_CHANNELS:
        raise ValidationError(
            _("a queued document goes by {choices}"),
            code="outbound_channel_unknown",
            channel=channel,
            choices=", ".join(OUTBOUND_CHANNELS),
        )


def _queued_event(row: Outbound, *, actor: str, summary: str) -> None:
    """The `letter.queued` (or `email.queued`) timeline row of a queued document."""
    party, account = row.party, row.account
    TimelineEvent.objects.create(
        account=account,
        at=row.created_at,
        on=row.run_on,
        kind="email.queued" if row.channel == "email" else "letter.queued",
        actor=actor,
        summary=(
            summary
            or f"{row.template} queued by {row.channel.replace('_', ' ')} for "
            f"{party.name if party else account.account_id}"
        )[:500],
        detail={
            "letter_id": row.pk,
            "key": row.key,
            "template": row.template,
            "channel": row.channel,
            "document": row.document_name,
            "party_id": party.party_id if party is not None else None,
            "enclosures": list(row.detail["enclosures"]),
        },
    )


@dataclass(frozen=True)
class Recheck:
    """The answer of the re-check a letter or an email gets when it goes out (dunning decides it
    and passes it down as a callback): `cancel` says why it no longer goes out ("" when it
    goes, with its `amount` and `deadline` counted as of that day)."""

    cancel: str = ""
    rule: str = ""
    amount: Decimal | None = None
    deadline: date | None = None


# Asked in the caller's transaction for the rows about to go out on a date: one Recheck per row,
# in order. It may write its own part's records in that transaction (dunning closes the action of
# a cancelled notice and brings its figures up to date).
Rechecker = Callable[[Sequence[Outbound], date], list[Recheck]]


def outbound_cancel(
    outbound: Outbound, *, rule: str, reason: str, on: date, actor: str
) -> dict[str, Any]:
    """Cancel a queued (or prepared, not yet sent) letter or email that is no longer due, with
    its reason on the timeline; returns what the batch or the sender reports of it."""
    what = "email" if outbound.channel == "email" else "letter"
    outbound.status = "cancelled"
    outbound.error = f"cancelled ({rule}): {reason}"[:500]
    outbound.detail = {
        **(outbound.detail or {}),
        "cancelled": {"rule": rule, "reason": reason, "on": on.isoformat()},
    }
    outbound.save(update_fields=["status", "error", "detail"])
    TimelineEvent.objects.create(
        account_id=outbound.account_id,
        at=dj_timezone.now(),
        on=on,
        kind=f"{what}.cancelled",
        actor=actor,
        summary=f"{outbound.template} to {outbound.party.name if outbound.party else '—'} "
        f"not {'sent' if what == 'email' else 'printed'}: {reason}"[:500],
        detail={
            "letter_id" if what == "letter" else "outbound": outbound.pk,
            "key": outbound.key,
            "rule": rule,
            "reason": reason,
            "queued_on": outbound.run_on.isoformat(),
        },
    )
    return {
        "id": outbound.pk,
        "key": outbound.key,
        "account_id": outbound.account.account_id,
        "rule": rule,
        "reason": reason,
    }


def outbound_dated(
    outbound: Outbound, *, on: date, amount: Decimal | None, deadline: date | None, actor: str
) -> None:
    """Fix a letter's or an email's date, amount and deadline as of `on`, the day it goes out:
    on the row (what it was queued with kept in `detail["queued_as"]`) and on the timeline."""
    what = "email" if outbound.channel == "email" else "letter"
    before = {
        "run_on": outbound.run_on.isoformat(),
        "dated_on": _iso(outbound.dated_on),
        "amount": _money(outbound.amount),
        "deadline": _iso(outbound.deadline),
    }
    detail = dict(outbound.detail or {})
    detail.setdefault("queued_as", before)
    outbound.dated_on, outbound.amount, outbound.deadline = on, amount, deadline
    outbound.detail = detail
    outbound.save(update_fields=["dated_on", "amount", "deadline", "detail"])
    after = {"dated_on": on.isoformat(), "amount": _money(amount), "deadline": _iso(deadline)}
    TimelineEvent.objects.create(
        account_id=outbound.account_id,
        at=dj_timezone.now(),
        on=on,
        kind=f"{what}.dated",
        actor=actor,
        summary=f"{outbound.template} dated {on.isoformat()}"
        + (f", {after['amount']}" if amount is not None else "")
        + (f", deadline {after['deadline']}" if deadline is not None else "")
        + f" (queued {outbound.run_on.isoformat()}"
        + (f" with {before['amount']}" if before["amount"] else "")
        + (f", deadline {before['deadline']}" if before["deadline"] else "")
        + ")",
        detail={
            "letter_id" if what == "letter" else "outbound": outbound.pk,
            "key": outbound.key,
            **after,
            "queued_as": detail["queued_as"],
        },
    )


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _money(amount: Decimal | None) -> str | None:
    return None if amount is None else f"{amount:.2f}"


def outbounds_recheck(
    rows: Sequence[Outbound], *, on: date, recheck: Rechecker, actor: str
) -> tuple[list[Outbound], list[dict[str, Any]]]:
    """Ask `recheck` about `rows` going out on `on` (in the caller's transaction): cancel what is
    no longer due, date the rest `on` with their figures of that day. Returns (the rows that
    go, the cancelled ones as reported)."""
    going: list[Outbound] = []
    cancelled: list[dict[str, Any]] = []
    for row, check in zip(rows, recheck(rows, on), strict=True):
        if check.cancel:
            cancelled.append(
                outbound_cancel(row, rule=check.rule, reason=check.cancel, on=on, actor=actor)
            )
        else:
            outbound_dated(row, on=on, amount=check.amount, deadline=check.deadline, actor=actor)
            going.append(row)
    return going, cancelled


def email_unprepare(outbound: Outbound, *, on: date) -> None:
    """Put a prepared email not yet sent back to be prepared again (its figures changed), under
    a new archive name: the message prepared before stays archived as it was."""
    old = outbound.document.name if outbound.document else outbound.document_name
    stem, _dot, ext = old.rpartition(".")
    base = f"{stem}-{on:%Y%m%d}"
    name, n = f"{base}.{ext}", 1
    while Document.objects.filter(name=name).exists():
        n += 1
        name = f"{base}-{n}.{ext}"
    detail = dict(outbound.detail or {})
    detail["superseded"] = [*detail.get("superseded", []), old]
    outbound.status, outbound.document, outbound.document_name = "queued", None, name
    outbound.rendered_at, outbound.detail = None, detail
    outbound.save(update_fields=["status", "document", "document_name", "rendered_at", "detail"])
