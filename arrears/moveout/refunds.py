"""Refunds of credit balances: every account the book owes money back to (a deposit's rest after
its disposition, an overpayment, a credit after a dispute) becomes a refund to review; a
controller approves it, which posts a `refund` entry (interchange format 1.1), or rejects it with
a reason; approved refunds go to the company's accounts-payable system in a payables CSV, each once
(docs/moveout.md, "Refunds").

Invariants:
- proposing is idempotent: an account has at most one proposal at a time, its amount the account's
  credit balance as of today (revised when the credit changes, withdrawn when it is gone); a
  rejected refund is not proposed again while the credit stays what it was;
- a refund is never larger than the credit it pays out: the ledger refuses it
  (`posting.refunds_post`), and nothing changes;
- an approved refund's entry has txn_id and reference `RF-<id>`, so it is posted once;
- an exported refund names its batch and is never exported again (a batch's file can be written
  again from the book: `refund_batch`);
- every proposal, revision, decision and export is on the account's timeline, in the same
  transaction.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _

from arrears.core.cells import safe_row
from arrears.core.errors import NotFoundError, ValidationError
from arrears.core.money import ZERO
from arrears.correspondence.addresses import mailing_address
from arrears.ledger.models import Account, AccountParty, OpenItem, TimelineEvent, Transaction
from arrears.ledger.posting import NewRefund, refunds_post
from arrears.ledger.selectors import account_ledger, open_items_as_of
from arrears.moveout.models import Refund

# 34 CFR §668.164(h)(2): a Title IV credit balance is paid to the student (or parent) no later
# than 14 days after the balance occurs (or after the first day of class of the payment period,
# when it occurs before it: a day the book does not hold, so the day it arose is counted here).
STUDENT_REFUND_DAYS = 14
AT_RISK_DAYS = 3  # `refund list --late` shows refunds due within this many days
DEPOSIT_CODE = "DEP"
REFUND_CODE = "REFUND"
OUTSTANDING = (Refund.Status.PROPOSED, Refund.Status.APPROVED)
PAYABLES_COLUMNS = (
    "refund_id",
    "batch",
    "account_id",
    "payee_name",
    "payee_address",
    "payee_city",
    "payee_state",
    "payee_postal_code",
    "payee_country",
    "amount",
    "currency",
    "approved_on",
    "txn_id",
    "memo",
)


def refund_days(kind: str) -> int:
    """Days within which an account of `kind` is refunded its credit balance."""
    if kind == Account.Kind.STUDENT:
        return STUDENT_REFUND_DAYS
    return int(getattr(settings, "ARREARS_REFUND_DAYS", 30))


def parse_refund_id(refund_id: str) -> int:
    """The key of `RF-12` (or `12`); NotFoundError for anything else."""
    text = refund_id.strip().upper().removeprefix("RF-")
    if not text.isdigit() or len(text) > 18:
        raise NotFoundError(
            _("no refund {refund_id!r}"), code="refund_not_found", refund_id=refund_id[:40]
        )
    return int(text)


@dataclass(frozen=True)
class Credit:
    """An account's credit balance as of a day: how much, since when, and where it came from."""

    account: Account
    amount: Decimal
    arose_on: date
    origin: str


# Accounts whose credit balance is refunded while they are open: a student's (a Title IV credit
# balance is paid to the student, 34 CFR §668.164(h)) and a patient's (an overpayment). An open
# lease's or customer's credit is rent paid ahead or a credit on account, which the next charges
# use: it is refunded once the account is closed (moved out, service ended).
REFUNDED_WHILE_OPEN = ("student", "patient")


def credit_balances(*, on: date, account_pks: list[int] | None = None) -> list[Credit]:
    """The accounts with a credit balance as of `on` (those with unapplied credit in the book)
    that is to be paid back: closed by `on`, or of a kind refunded while open."""
    refundable = Account.objects.filter(
        Q(closed_on__isnull=False, closed_on__lte=on) | Q(kind__in=REFUNDED_WHILE_OPEN)
    )
    candidates = OpenItem.objects.filter(is_credit=True, account__in=refundable)
    if account_pks is not None:
        candidates = candidates.filter(account_id__in=account_pks)
    pks = sorted(set(candidates.values_list("account_id", flat=True)))
    if not pks:
        return []
    balance: dict[int, Decimal] = defaultdict(lambda: ZERO)
    credit_ids: dict[int, list[str]] = defaultdict(list)
    for item in open_items_as_of(as_of=on, account_pks=pks):
        balance[item.account_pk] += -item.amount if item.is_credit else item.amount
        if item.is_credit:
            credit_ids[item.account_pk].append(item.txn_id)
    owed = {pk: -b for pk, b in balance.items() if b < 0}
    out = []
    for account in Account.objects.filter(pk__in=owed).select_related("property").order_by("pk"):
        out.append(
            Credit(
                account,
                owed[account.pk],
                _arose_on(account, on),
                _origin(credit_ids[account.pk]),
            )
        )
    return out


def _arose_on(account: Account, on: date) -> date:
    """The day the account's balance last went below zero (and has stayed there since)."""
    ledger = account_ledger(account_id=account.account_id, as_of=on, account=account)
    arose = on
    before = ZERO
    for line in ledger.lines:
        if before >= 0 > line.balance:
            arose = line.posted_on
        before = line.balance
    return arose


def _origin(credit_txn_ids: list[str]) -> str:
    kinds = set(Transaction.objects.filter(txn_id__in=credit_txn_ids).values_list("type", "code"))
    if any(code == DEPOSIT_CODE for _t, code in kinds):
        return "deposit"
    if any(kind == Transaction.Type.CREDIT for kind, _c in kinds):
        return "credit"
    return "overpayment"


def _event(refund: Refund, kind: str, summary: str, actor: str, on: date, **detail: Any) -> None:
    TimelineEvent.objects.create(
        account=refund.account,
        at=dj_timezone.now(),
        on=on,
        kind=kind,
        actor=actor,
        summary=summary[:500],
        detail={
            "refund_id": refund.refund_id,
            "amount": f"{refund.amount:.2f}",
            "due_on": refund.due_on.isoformat(),
            **detail,
        },
    )


@transaction.atomic
def refunds_propose(*, today: date, actor: str) -> list[Refund]:
    """Make a refund to review of every credit balance as of `today` that has none; revise a
    proposal whose credit changed, withdraw one whose credit is gone. Returns the new and revised
    proposals; a second call on the same book changes nothing."""
    credits = {c.account.pk: c for c in credit_balances(on=today)}
    proposals = {
        r.account_id: r
        for r in Refund.objects.select_for_update(of=("self",))
        .filter(status=Refund.Status.PROPOSED)
        .select_related("account")
    }
    rejected = set(
        Refund.objects.filter(status=Refund.Status.REJECTED, account_id__in=credits).values_list(
            "account_id", "amount", "arose_on"
        )
    )
    changed = []
    now = dj_timezone.now()
    for pk, credit in sorted(credits.items()):
        days = refund_days(credit.account.kind)
        due = credit.arose_on + timedelta(days=days)
        current = proposals.pop(pk, None)
        if current is not None:
            if (current.amount, current.arose_on) == (credit.amount, credit.arose_on):
                continue
            was = current.amount
            current.amount, current.arose_on, current.due_on = credit.amount, credit.arose_on, due
            current.origin = credit.origin
            current.save(update_fields=["amount", "arose_on", "due_on", "origin"])
            _event(
                current,
                "refund.revised",
                f"refund {current.refund_id} revised from {was:,.2f} to {credit.amount:,.2f}: "
                f"the credit balance changed; due by {due.isoformat()}",
                actor,
                today,
                was=f"{was:.2f}",
            )
            changed.append(current)
            continue
        if (pk, credit.amount, credit.arose_on) in rejected:
            continue  # rejected as it stands: proposed again only when the credit changes
        made = Refund.objects.create(
            account=credit.account,
            amount=credit.amount,
            currency=credit.account.currency,
            origin=credit.origin,
            arose_on=credit.arose_on,
            due_on=due,
            proposed_at=now,
        )
        law = " (34 CFR §668.164(h)(2))" if credit.account.kind == Account.Kind.STUDENT else ""
        _event(
            made,
            "refund.proposed",
            f"refund {made.refund_id} of {made.amount:,.2f} to review ({made.origin}): a credit "
            f"balance since {made.arose_on.isoformat()}, to be refunded by "
            f"{made.due_on.isoformat()}{law}",
            actor,
            today,
            origin=made.origin,
            arose_on=made.arose_on.isoformat(),
        )
        changed.append(made)
    for gone in proposals.values():
        gone.status = Refund.Status.REJECTED
        gone.reason = "the credit balance is gone (applied to charges, or reversed)"
        gone.decided_by, gone.decided_at, gone.decided_on = actor, now, today
        gone.save(update_fields=["status", "reason", "decided_by", "decided_at", "decided_on"])
        summary = f"refund {gone.refund_id} withdrawn: {gone.reason}"
        _event(gone, "refund.withdrawn", summary, actor, today)
    return changed


def _refund(refund_id: str) -> Refund:
    found = (
        Refund.objects.select_for_update(of=("self",))
        .filter(pk=parse_refund_id(refund_id))
        .select_related("account")
        .first()
    )
    if found is None:
        raise NotFoundError(
            _("no refund {refund_id!r}"), code="refund_not_found", refund_id=refund_id[:40]
        )
    return found


def refund_account_id(refund_id: str) -> str:
    """The account of a refund (for the caller's scope); NotFoundError if there is none."""
    found = (
        Refund.objects.filter(pk=parse_refund_id(refund_id))
        .values_list("account__account_id", flat=True)
        .first()
    )
    if found is None:
        raise NotFoundError(
            _("no refund {refund_id!r}"), code="refund_not_found", refund_id=refund_id[:40]
        )
    return found


def _undecided(refund: Refund) -> None:
    if refund.status != Refund.Status.PROPOSED:
        raise ValidationError(
            _("refund {refund_id} is {status} already ({by}, {on})"),
            code="refund_decided",
            refund_id=refund.refund_id,
            status=refund.status,
            by=refund.decided_by,
            on=refund.decided_on.isoformat() if refund.decided_on else "",
        )


@transaction.atomic
def refund_approve(*, refund_id: str, on: date, actor: str, today: date) -> Refund:
    """Approve a proposed refund: its `refund` entry (txn_id `RF-<id>`) is posted on `on`, paid
    out of the account's unapplied credit. Raises ValidationError when it is decided already,
    dated before its credit arose or after `today` (money is paid out once it is), or larger
    than the credit on `on` (then nothing changes)."""
    refund = _refund(refund_id)
    _undecided(refund)
    if on > today:
        raise ValidationError(
            _(
                "refund {refund_id} cannot be paid on {on}: that day is still to come (today "
                "is {today})"
            ),
            code="refund_in_future",
            field="on",
            refund_id=refund.refund_id,
            on=on.isoformat(),
            today=today.isoformat(),
        )
    if on < refund.arose_on:
        raise ValidationError(
            _("refund {refund_id} cannot be paid on {on}, before its credit arose ({arose})"),
            code="refund_before_credit",
            field="on",
            refund_id=refund.refund_id,
            on=on.isoformat(),
            arose=refund.arose_on.isoformat(),
        )
    txn_id = refund.refund_id
    refunds_post(
        [
            NewRefund(
                txn_id=txn_id,
                account_pk=refund.account_id,
                posted_on=on,
                amount=refund.amount,
                code=REFUND_CODE,
                reference=txn_id,
                memo=f"refund of a credit balance ({refund.origin}), approved by {actor}"[:300],
            )
        ]
    )
    refund.transaction = Transaction.objects.get(txn_id=txn_id)
    refund.status = Refund.Status.APPROVED
    refund.decided_by, refund.decided_at, refund.decided_on = actor, dj_timezone.now(), on
    refund.save(update_fields=["transaction", "status", "decided_by", "decided_at", "decided_on"])
    _event(
        refund,
        "refund.approved",
        f"refund {refund.refund_id} of {refund.amount:,.2f} approved and posted on "
        f"{on.isoformat()}" + (" (after its due date)" if on > refund.due_on else ""),
        actor,
        on,
        txn_id=txn_id,
    )
    return refund


@transaction.atomic
def refund_reject(*, refund_id: str, reason: str, actor: str, today: date) -> Refund:
    """Reject a proposed refund, saying why (it is not proposed again while the credit stays as it
    is). Raises ValidationError without a reason, or when it is decided already."""
    reason = " ".join(reason.split())[:500]
    refund = _refund(refund_id)
    _undecided(refund)
    if not reason:
        raise ValidationError(
            _("say why refund {refund_id} is rejected"),
            code="refund_reason_missing",
            field="reason",
            refund_id=refund.refund_id,
        )
    refund.status = Refund.Status.REJECTED
    refund.reason = reason
    refund.decided_by, refund.decided_at, refund.decided_on = actor, dj_timezone.now(), today
    refund.save(update_fields=["status", "reason", "decided_by", "decided_at", "decided_on"])
    _event(
        refund,
        "refund.rejected",
        f"refund {refund.refund_id} of {refund.amount:,.2f} rejected: {reason}",
        actor,
        today,
        reason=reason,
    )
    return refund


def refund_list(
    *,
    accounts: QuerySet[Account] | None = None,
    today: date,
    late: bool = False,
    status: str = "",
) -> list[Refund]:
    """The refunds of `accounts` (all when None), by due date: with `late`, those still to pay
    (proposed or approved) that are past due or due within AT_RISK_DAYS days of `today`."""
    rows = Refund.objects.select_related("account", "transaction").order_by("due_on", "id")
    if accounts is not None:
        rows = rows.filter(account__in=accounts)
    if status:
        rows = rows.filter(status=status)
    if late:
        rows = rows.filter(status__in=OUTSTANDING, due_on__lte=today + timedelta(days=AT_RISK_DAYS))
    return list(rows)


def lateness(refund: Refund, today: date) -> str | None:
    """ "late" (past its due date and not exported), "at_risk" (due within AT_RISK_DAYS days) or
    None. A refund exported to payables is paid as far as the book knows."""
    if refund.status not in OUTSTANDING:
        return None
    if refund.due_on < today:
        return "late"
    if refund.due_on <= today + timedelta(days=AT_RISK_DAYS):
        return "at_risk"
    return None


def refund_json(refund: Refund, today: date) -> dict[str, Any]:
    return {
        "refund_id": refund.refund_id,
        "account_id": refund.account.account_id,
        "kind": refund.account.kind,
        "amount": f"{refund.amount:.2f}",
        "currency": refund.currency,
        "origin": refund.origin,
        "arose_on": refund.arose_on.isoformat(),
        "due_on": refund.due_on.isoformat(),
        "status": refund.status,
        "late": lateness(refund, today),
        "decided_by": refund.decided_by or None,
        "decided_on": refund.decided_on.isoformat() if refund.decided_on else None,
        "reason": refund.reason or None,
        "txn_id": refund.transaction.txn_id if refund.transaction else None,
        "exported_batch": refund.exported_batch or None,
        "exported_at": refund.exported_at.isoformat() if refund.exported_at else None,
    }


# -- the payables file ---------------------------------------------------------------------------


def _primary_first(links: QuerySet[AccountParty]) -> QuerySet[AccountParty]:
    """An account's parties, the primary party first, then the others as they were added (not
    by the role's name, which would put a guarantor before the tenant)."""
    first = Case(
        When(role=AccountParty.Role.PRIMARY, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    return links.annotate(payee_rank=first).order_by("account_id", "payee_rank", "id")


def payee_names(account_pks: list[int]) -> dict[int, str]:
    """The payee of each account's refund (its primary party, else its first): one query."""
    names: dict[int, str] = {}
    links = _primary_first(AccountParty.objects.filter(account_id__in=account_pks))
    for pk, name in links.values_list("account_id", "party__name"):
        names.setdefault(pk, name)
    return names


def refunds_of(account_pk: int, *, limit: int = 5) -> list[Refund]:
    """An account's refunds, newest first (the account page's state of them): one query."""
    return list(
        Refund.objects.filter(account_id=account_pk)
        .select_related("transaction")
        .order_by("-id")[:limit]
    )


def _payee(account: Account) -> tuple[str, tuple[str, str, str, str, str]]:
    """The primary party's name and mailing address (a forwarding address, after a move-out)."""
    link = (
        _primary_first(AccountParty.objects.filter(account=account)).select_related("party").first()
    )
    if link is None:
        return "", ("", "", "", "", "")
    p = link.party
    prop = account.property
    premises = (
        (prop.address, prop.city, prop.state, prop.postal_code, prop.country, account.unit)
        if prop is not None
        else None
    )
    where = mailing_address(
        role=link.role,
        party=(p.address, p.city, p.state, p.postal_code, p.country),
        premises=premises,
    )
    if where is None:
        return p.name, ("", "", "", "", "")
    return p.name, (where.street, where.city, where.state, where.postal_code, where.country)


def _payables_row(refund: Refund) -> list[str]:
    name, (address, city, state, postal, country) = _payee(refund.account)
    assert refund.transaction is not None
    assert refund.decided_on is not None
    return [
        refund.refund_id,
        refund.exported_batch,
        refund.account.account_id,
        name,
        address,
        city,
        state,
        postal,
        country,
        f"{refund.amount:.2f}",
        refund.currency,
        refund.decided_on.isoformat(),
        refund.transaction.txn_id,
        f"refund of a credit balance ({refund.origin}), account {refund.account.account_id}",
    ]


def _write_payables(output: Path, refunds: list[Refund]) -> None:
    """Write the payables CSV whole or not at all (a temporary file renamed over `output`)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=output.parent, prefix=".payables-", suffix=".csv")
    try:
        with os.fdopen(handle, "w", newline="", encoding="utf-8") as stream:
            writer = csv.writer(stream, lineterminator="\n")
            writer.writerow(PAYABLES_COLUMNS)
            for refund in refunds:
                writer.writerow(safe_row(_payables_row(refund)))
        Path(name).replace(output)
    except OSError as exc:
        Path(name).unlink(missing_ok=True)
        raise ValidationError(
            _("{path}: the payables file cannot be written ({reason})"),
            code="payables_unwritable",
            field="output",
            path=str(output),
            reason=exc.strerror or str(exc),
        ) from None


@dataclass(frozen=True)
class Export:
    batch: str  # "" when there was nothing to export
    refunds: list[Refund]
    path: Path


@transaction.atomic
def refunds_export(*, output: Path, actor: str, today: date) -> Export:
    """Write every approved refund not yet exported to the payables CSV `output` as one batch, and
    mark them exported (each is exported once). With none, the file holds the header alone and
    the batch is "". The file is written before the marks are committed: a file that cannot be
    written marks nothing."""
    refunds = list(
        Refund.objects.select_for_update(of=("self",))
        .filter(status=Refund.Status.APPROVED)
        .select_related("account__property", "transaction")
        .order_by("id")
    )
    batch = ""
    if refunds:
        count = Refund.objects.exclude(exported_batch="").values("exported_batch").distinct()
        batch = f"RB-{today:%Y%m%d}-{count.count() + 1}"
        now = dj_timezone.now()
        for refund in refunds:
            refund.status = Refund.Status.EXPORTED
            refund.exported_batch, refund.exported_at = batch, now
            refund.save(update_fields=["status", "exported_batch", "exported_at"])
            _event(
                refund,
                "refund.exported",
                f"refund {refund.refund_id} of {refund.amount:,.2f} sent to payables "
                f"(batch {batch})",
                actor,
                today,
                batch=batch,
            )
    _write_payables(output, refunds)
    return Export(batch, refunds, output)


def refund_batch(*, batch: str, output: Path) -> Export:
    """Write an exported batch's payables CSV again (nothing changes in the book)."""
    refunds = list(
        Refund.objects.filter(exported_batch=batch)
        .select_related("account__property", "transaction")
        .order_by("id")
    )
    if not refunds:
        raise NotFoundError(
            _("no refund batch {batch!r}"), code="refund_batch_not_found", batch=batch[:40]
        )
    _write_payables(output, refunds)
    return Export(batch, refunds, output)
