"""Reads of move-outs for the parts above: the deposits whose itemized statement is due soon or
overdue and not yet sent, and the refunds due soon or late and not yet paid, for the
coordinator's worklist."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Q

from arrears.ledger.models import Account
from arrears.moveout.models import Disposition, MoveOut, Refund
from arrears.moveout.refunds import AT_RISK_DAYS, OUTSTANDING
from arrears.moveout.services import statement_clock

DUE_WITHIN_DAYS = 5  # on the worklist from 5 days before the deadline (issue 16, item 3)
# A move-out older than this is not brought back to the worklist: an account closed long ago in
# an imported book is history, not a statement to write today.
LOOK_BACK_DAYS = 60


@dataclass(frozen=True)
class DepositDue:
    account_pk: int
    deposit: Decimal
    vacated: date
    due: date
    forfeits: bool
    law: str


def deposits_due(on: date) -> list[DepositDue]:
    """Accounts holding a deposit, vacated in the last LOOK_BACK_DAYS days with no disposition,
    whose statement is due within DUE_WITHIN_DAYS days of `on` or overdue: two queries, whatever
    the book's size."""
    since = on - timedelta(days=LOOK_BACK_DAYS)
    recorded = dict(
        MoveOut.objects.filter(vacated_on__gte=since, vacated_on__lte=on).values_list(
            "account_id", "vacated_on"
        )
    )
    closed = Account.objects.filter(
        Q(pk__in=list(recorded)) | Q(closed_on__gte=since, closed_on__lte=on)
    ).exclude(pk__in=Disposition.objects.values("account_id"))
    # No deposit held (none taken, or accounted for before the book came to Arrears): no statement.
    closed = closed.filter(deposit_held__gt=0)
    out = []
    for account in closed.select_related("property").order_by("pk"):
        vacated = recorded.get(account.pk) or account.closed_on
        if vacated is None:
            continue
        rule, due = statement_clock(account, vacated)
        if due - timedelta(days=DUE_WITHIN_DAYS) <= on:
            out.append(
                DepositDue(
                    account.pk,
                    account.deposit_held or Decimal("0.00"),
                    vacated,
                    due,
                    rule.forfeits,
                    rule.law,
                )
            )
    return out


def deposits_pending(account_pks: list[int], on: date) -> dict[int, str]:
    """Of these accounts, those moved out by `on`, holding a deposit with no disposition yet,
    whose statement is not overdue: {account pk: why their collection waits}. The statement
    comes first (N.Y. Gen. Oblig. Law §7-108(1-a)(e), Cal. Civ. Code §1950.5(g)): what is owed
    after a move-out is what the deposit leaves. One query, whatever the number of accounts."""
    if not account_pks:
        return {}
    out = {}
    for account in (
        Account.objects.filter(pk__in=account_pks, closed_on__lte=on, deposit_held__gt=0)
        .exclude(pk__in=Disposition.objects.values("account_id"))
        .select_related("property")
    ):
        assert account.closed_on is not None
        rule, due = statement_clock(account, account.closed_on)
        if on <= due:
            out[account.pk] = (
                f"the deposit's itemized statement comes first (due by {due.isoformat()}"
                + (f", {rule.law}" if rule.law else "")
                + ")"
            )
    return out


@dataclass(frozen=True)
class RefundDue:
    account_pk: int
    refund_id: str
    amount: Decimal
    status: str  # proposed or approved (not yet exported to payables)
    due: date
    student: bool  # a Title IV credit balance: 34 CFR §668.164(h)(2)'s 14 days


def refunds_due(on: date) -> list[RefundDue]:
    """The refunds still to pay (proposed, or approved and not yet exported to payables) whose
    due date is within AT_RISK_DAYS days of `on` or past: one query, whatever the book's size.
    A refund exported to payables is paid as far as the book knows."""
    rows = (
        Refund.objects.filter(status__in=OUTSTANDING, due_on__lte=on + timedelta(days=AT_RISK_DAYS))
        .order_by("due_on", "id")
        .values_list("pk", "account_id", "amount", "status", "due_on", "account__kind")
    )
    return [
        RefundDue(account, f"RF-{pk}", amount, status, due, kind == Account.Kind.STUDENT)
        for pk, account, amount, status, due, kind in rows
    ]
