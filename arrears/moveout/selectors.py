"""Reads of move-outs for the parts above: the deposits whose itemized statement is due soon or
overdue and not yet sent, and the refunds due soon or late and not yet paid, for the
coordinator's worklist; the leases ending soon whose tenant is owed a pre-move-out inspection
offer (N.Y. Gen. Oblig. Law §7-108(1-a)(d), Cal. Civ. Code §1950.5(f)(1)), for the daily run's
pass that sends it (`arrears.dunning.inspection_offer`) and the account page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Q

from arrears.correspondence.models import Outbound
from arrears.ledger.models import Account
from arrears.moveout.models import Disposition, MoveOut, Refund
from arrears.moveout.refunds import AT_RISK_DAYS, OUTSTANDING
from arrears.moveout.rules import InspectionRule, InspectionWindow, deposit_rule
from arrears.moveout.services import jurisdiction, statement_clock

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


# -- the pre-move-out inspection offer ------------------------------------------------------------

INSPECTION_OFFER = "inspection-offer"  # the letter (correspondence's catalog) and its key's word
# How far ahead the daily run looks for tenancies ending: a notice of termination is commonly
# given 30 days ahead (a month-to-month tenancy), a lease's end known longer before. Within this,
# the offer goes out the day the run first sees the date (the statutes' "reasonable time after
# the notice"), at the latest the rule's `inspection_offer_days` before it.
INSPECTION_LOOK_AHEAD_DAYS = 60


@dataclass(frozen=True)
class InspectionOfferDue:
    """A lease ending on `window.vacate_on` whose tenant is to be offered an inspection."""

    account_pk: int
    account_id: str
    window: InspectionWindow
    law: str


def inspection_offer_key(account_id: str, vacate_on: date, party_id: str) -> str:
    """The offer's idempotency key: once per account, vacate date and addressee (a vacate date
    changed since makes a new offer)."""
    return f"{account_id}:{INSPECTION_OFFER}:{vacate_on.isoformat()}:{party_id}"


def _offer_rule(account: Account) -> InspectionRule:
    return deposit_rule(jurisdiction(account)).inspection


def _owed_an_offer(account: Account, on: date) -> InspectionOfferDue | None:
    """The offer an account is owed on `on` by its jurisdiction's rule, sent or not: a
    residential lease holding a deposit whose tenancy ends after `on`, in a jurisdiction that
    requires the offer, while the inspection's window has not closed."""
    vacate = account.closed_on
    if (
        vacate is None
        or vacate <= on
        or account.kind != Account.Kind.RESIDENTIAL_LEASE
        or not account.deposit_held
        or account.deposit_held <= 0
    ):
        return None
    rule = _offer_rule(account)
    if not rule.required:
        return None
    window = rule.window(vacate)
    if window.closes < on:
        return None
    return InspectionOfferDue(account.pk, account.account_id, window, rule.law)


def inspection_offers_due(
    on: date, *, look_ahead: int = INSPECTION_LOOK_AHEAD_DAYS
) -> list[InspectionOfferDue]:
    """The residential leases holding a deposit whose `closed` date is after `on` and within
    `look_ahead` days, in a jurisdiction whose rule requires the inspection offer, whose window
    has not closed, and which have not been sent the offer for that date: three queries, whatever
    the book's size (the leases ending soon, with their properties; the offers queued for them;
    the move-outs recorded among them)."""
    ending = (
        Account.objects.filter(
            closed_on__gt=on,
            closed_on__lte=on + timedelta(days=look_ahead),
            kind=Account.Kind.RESIDENTIAL_LEASE,
            deposit_held__gt=0,
        )
        .select_related("property")
        .order_by("pk")
    )
    owed = [x for x in (_owed_an_offer(a, on) for a in ending) if x is not None]
    if not owed:
        return []
    pks = [x.account_pk for x in owed]
    sent = set(
        Outbound.objects.filter(account_id__in=pks, template=INSPECTION_OFFER).values_list(
            "key", flat=True
        )
    )
    heads = {k.rpartition(":")[0] for k in sent}
    # A move-out recorded already is a tenancy ended (`moveout_record` refuses a day to come):
    # there is nothing to inspect before it.
    moved = set(MoveOut.objects.filter(account_id__in=pks).values_list("account_id", flat=True))
    return [
        x
        for x in owed
        if x.account_pk not in moved
        and f"{x.account_id}:{INSPECTION_OFFER}:{x.window.vacate_on.isoformat()}" not in heads
    ]


@dataclass(frozen=True)
class InspectionOfferState:
    """What the account page says of an account's inspection offer: sent on a day, or due by
    one."""

    window: InspectionWindow
    law: str
    sent_on: date | None  # the day the offer for this vacate date was queued; None: not yet


def inspection_offer_state(account: Account, on: date) -> InspectionOfferState | None:
    """The inspection offer of a lease ending after `on` (None when none is owed): one query
    for the offer queued for its vacate date."""
    owed = _owed_an_offer(account, on)
    if owed is None:
        return None
    head = f"{account.account_id}:{INSPECTION_OFFER}:{owed.window.vacate_on.isoformat()}:"
    sent = (
        Outbound.objects.filter(account=account, template=INSPECTION_OFFER, key__startswith=head)
        .order_by("run_on")
        .values_list("run_on", flat=True)
        .first()
    )
    return InspectionOfferState(owed.window, owed.law, sent)
