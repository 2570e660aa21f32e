"""The demo's move-outs as a coordinator handles them: the deposits of the tenants who vacated
during the demo's days are disposed of through the same services as `arrears deposit dispose`
(arrears.moveout), most a week after the move-out, in time; the first New York one of the demo's
first month late, with the coordinator's reason; the last of that month forgotten (Today's
"Deposits due" tab shows it overdue, its deposit forfeited); and the first balance owed after a
disposition put on a payment plan. The last week's move-outs are left for the coordinator."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from arrears.core.errors import DomainError
from arrears.ledger.models import Account
from arrears.moveout.models import Disposition
from arrears.moveout.services import Deduct, disposition_post, jurisdiction, statement_clock

DISPOSE_AFTER_DAYS = 7  # a week after the move-out: the inspection, then the statement
LATE_BY_DAYS = 2
FORGOTTEN_WITHIN_DAYS = 30
LATE_REASON = "the contractor's estimate for the kitchen came after the deadline"
DAMAGE = (
    "kitchen cabinet door replaced",
    "holes in the living-room wall patched and painted",
    "broken bedroom window pane replaced",
    "bathroom mirror replaced",
)


def _deductions(account: Account) -> list[Deduct]:
    """What is kept, the same for an account every time the demo is built: in New York a repair
    beyond wear and tear; in California a cleaning under the $125 for which receipts are asked
    (Cal. Civ. Code §1950.5(g)(4)(A))."""
    rng = random.Random(account.account_id)  # noqa: S311 (a demo's figures, not a secret)
    if account.property is not None and account.property.state == "CA":
        return [Deduct("cleaning", Decimal("95.00"), "carpets shampooed after move-out")]
    amount = Decimal(rng.randint(12, 60) * 25)
    return [Deduct("damage", amount, rng.choice(DAMAGE))]


def demo_deposits(*, on: date, first_day: date, actor: str) -> list[str]:
    """Dispose, on the demo's day `on`, of the deposits due for it; a line for each."""
    from arrears.dunning.commitments import plan_create

    done = []
    moved = (
        Account.objects.filter(closed_on__gte=first_day, closed_on__lte=on, deposit_held__gt=0)
        .exclude(pk__in=Disposition.objects.values("account_id"))
        .select_related("property")
        .order_by("closed_on", "account_id")
    )
    new_york = [
        a.account_id
        for a in Account.objects.filter(
            closed_on__gte=first_day,
            closed_on__lte=first_day + timedelta(days=FORGOTTEN_WITHIN_DAYS),
            deposit_held__gt=0,
        )
        .select_related("property")
        .order_by("closed_on", "account_id")
        if jurisdiction(a) == "US-NY"
    ]
    # Of the New York move-outs of the demo's first month, the first deposit is disposed of late,
    # with a reason; the last is forgotten, so that Today shows the overdue statement and the
    # deposit it forfeits.
    late_one = new_york[0] if new_york else None
    forgotten = new_york[-1] if len(new_york) > 1 else None
    for account in moved:
        assert account.closed_on is not None
        _rule, due = statement_clock(account, account.closed_on)
        late = account.account_id == late_one
        if account.account_id == forgotten:
            continue
        when = (
            due + timedelta(days=LATE_BY_DAYS)
            if late
            else (account.closed_on + timedelta(days=DISPOSE_AFTER_DAYS))
        )
        if when != on:
            continue
        view = disposition_post(
            account_id=account.account_id,
            deductions=_deductions(account),
            on=on,
            actor=actor,
            late_reason=LATE_REASON if late else "",
        )
        d = view.disposition
        assert d is not None
        said = (
            f"refund due {d.refund_due:,.2f}"
            if d.refund_due
            else (f"balance owed {d.balance_owed:,.2f}")
        )
        late_words = " (late)" if late else ""
        done.append(f"deposit of {account.account_id} disposed of on {on}{late_words}: {said}")
        if (
            d.balance_owed
            and not Disposition.objects.filter(
                account__closed_on__gte=first_day, balance_owed__gt=0, account__plans__isnull=False
            ).exists()
        ):
            try:
                plan_create(
                    account_id=account.account_id,
                    on=on,
                    actor=actor,
                    start=on + timedelta(days=14),
                    frequency="monthly",
                    installments=6,
                )
            except DomainError:  # a plan already running, nothing left to plan
                continue
            done.append(f"{account.account_id}: a plan of 6 monthly installments on what is owed")
    return done
