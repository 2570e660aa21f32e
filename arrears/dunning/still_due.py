"""Is a notice still due on the day it goes out? Pure.

A notice is decided by the daily run on the day it is queued, but it speaks on the day it is
printed for mailing or emailed: its reason is asked of the book as of that day, not taken on
trust from the queue. Invariants:
- a notice about one charge (`per = "charge"`, a reminder before a due date) goes only while that
  charge is open and not disputed, and names what is open of it that day;
- a notice about the delinquency goes only while something its step is about is still past due
  by the step's days, and names what is past due that day (the rent alone for a rent-only demand,
  RPAPL §702), less what is disputed (15 USC §1692g(b));
- nothing goes to an account whose balance is under the step's minimum (paid).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from arrears.dunning.planning import AccountState, _notice_amount
from arrears.dunning.policy import Step


@dataclass(frozen=True)
class StillDue:
    """`rule` and `reason` say why the notice is no longer due ("" when it is), else `amount`
    is what it names that day."""

    rule: str = ""
    reason: str = ""
    amount: Decimal | None = None


def notice_still_due(step: Step, state: AccountState, charge: str | None, on: date) -> StillDue:
    """Whether a notice of `step` (about the charge `charge`, if it is about one) is still due
    on `on`, the account being as `state` says on that day; see the module docstring."""
    if state.balance < step.min_balance:
        return StillDue("paid", f"the balance is {state.balance:.2f} on {on.isoformat()}: paid")
    charges = [c for c in state.open_charges if not step.codes or c.code in step.codes]
    if charge is not None and (step.per == "charge" or step.days_before_due is not None):
        open_charge = next((c for c in charges if c.txn_id == charge), None)
        if open_charge is None or open_charge.open_amount <= 0:
            return StillDue("paid", f"charge {charge} is paid by {on.isoformat()}")
        if state.disputed_whole or charge in state.disputed:
            return StillDue("dispute", f"charge {charge} is disputed")
        return StillDue(amount=open_charge.open_amount)
    if step.day_of_month is None and step.days_before_due is None:
        days = step.days_past_due if step.days_past_due is not None else 1
        late = [c for c in charges if (on - c.due_on).days >= days]
        if not late:
            what = f"{'/'.join(step.codes)} " if step.codes else ""
            return StillDue(
                "paid", f"nothing {what}is {days} days past due on {on.isoformat()}: paid"
            )
    amount = _notice_amount(step, state, None, on)
    if state.disputed_whole:
        return StillDue("dispute", "the whole balance is disputed")
    if amount <= 0 and state.disputed:
        return StillDue("dispute", "everything past due that it is about is disputed")
    if amount <= 0 and step.day_of_month is None:
        return StillDue("paid", f"nothing is past due on {on.isoformat()}: paid")
    return StillDue(amount=amount)
