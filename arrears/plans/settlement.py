"""The daily settlement of plans and promises (called by the daily run before it plans): promises
kept or broken, plans completed or broken, each settled once, its timeline row written in the same
transaction."""

from __future__ import annotations

from datetime import date

from django.db import transaction

from arrears.core.money import ZERO
from arrears.ledger.models import AccountParty
from arrears.plans.models import Plan, Promise
from arrears.plans.selectors import payments_by_account, tracking_for
from arrears.plans.services import _end, _event


@transaction.atomic
def commitments_review(*, on: date, actor: str = "cycle") -> dict[str, int]:
    """Settle what `on` decides: promises kept (payments since made cover them) or broken (their
    date and grace passed), plans completed (all paid) or broken (something missed past grace).

    Each is settled once; returns the counts. A broken plan's timeline row names the guarantors,
    who can be told (their letter is correspondence's).
    """
    counts = {"promises_kept": 0, "promises_broken": 0, "plans_completed": 0, "plans_broken": 0}
    _settle_promises(on, actor, counts)
    _settle_plans(on, actor, counts)
    return counts


def _settle_promises(on: date, actor: str, counts: dict[str, int]) -> None:
    """Promises kept (payments since made cover them) or broken (their date and grace passed)."""
    promises = list(
        Promise.objects.select_for_update()
        .filter(status="open", made_on__lte=on)
        .select_related("account")
    )
    after: dict[int, int] = {}
    for p in promises:
        after[p.account_id] = min(after.get(p.account_id, p.book_position), p.book_position)
    paid = payments_by_account(list(after), after, on)
    for promise in promises:
        deadline = date.fromordinal(promise.promised_on.toordinal() + promise.grace_days)
        # Kept by what was paid by its date and grace: a payment after that is not the promise
        # kept, even when the run that settles it comes later (a day without a run).
        got = sum(
            (
                a
                for day, a, txn in paid.get(promise.account_id, [])
                if txn > promise.book_position and day <= deadline
            ),
            ZERO,
        )
        if got >= promise.amount:
            status = "kept"
        elif on > deadline:
            status = "broken"
        else:
            continue
        promise.status, promise.settled_on, promise.paid = status, on, min(got, promise.amount)
        promise.save(update_fields=["status", "settled_on", "paid"])
        counts[f"promises_{status}"] += 1
        _event(
            promise.account,
            on,
            f"promise.{status}",
            actor,
            f"promise {promise.pk} of {promise.amount:.2f} by {promise.promised_on} {status}"
            f" ({got:.2f} paid)",
            promise=promise.pk,
            paid=f"{got:.2f}",
        )


def _settle_plans(on: date, actor: str, counts: dict[str, int]) -> None:
    """Plans completed (all paid) or broken (something missed past grace), the guarantors named."""
    plans = list(
        Plan.objects.select_for_update()
        .filter(status="active", made_on__lte=on)
        .select_related("account")
    )
    tracked = tracking_for(plans, on)
    for plan in plans:
        t = tracked[plan.pk]
        if t.broken:
            missed = [line for line in t.lines if line.status == "missed"]
            guarantors = list(
                AccountParty.objects.filter(account=plan.account, role="guarantor").values_list(
                    "party__party_id", flat=True
                )
            )
            what = (
                "; ".join(
                    f"{m.label} of {m.amount:.2f} due {m.due_on} ({m.paid:.2f} paid)"
                    for m in missed
                )
                or "paid after its grace"
            )
            _end(
                plan,
                "broken",
                on,
                f"missed past {plan.grace_days} days' grace: {what}",
                actor,
                guarantors=guarantors,
                notify_guarantors=bool(guarantors),
            )
            counts["plans_broken"] += 1
        elif t.complete and plan.installments.filter(due_on__gt=on).count() == 0:
            _end(plan, "completed", on, f"paid in full ({t.paid:.2f})", actor)
            counts["plans_completed"] += 1
