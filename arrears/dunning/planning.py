"""Planning: which steps of its policy are due for one account on one date. Pure.

`next_steps` is a function of the account's state as of the date, its policy, what was already
done (by idempotency key) and the date; it never reads a clock or a database. Each planned step
carries its idempotency key, so that executing the same plan twice does nothing new:

- per charge: `account:step:charge` (one notice per month of arrears, e.g. NY's 5-day notice);
- per delinquency: `account:step:start` where start is the due date of the oldest charge of the
  delinquency (a delinquency ends when nothing past due is left);
- monthly (`day_of_month`): `account:step:YYYY-MM`;
- a notice adds `:party`, since each addressee gets their own.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from arrears.dunning.policy import Policy, Step

CENT = Decimal("0.01")
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class OpenCharge:
    txn_id: str
    code: str
    due_on: date
    posted_on: date
    open_amount: Decimal


@dataclass(frozen=True)
class Party:
    party_id: str
    role: str
    name: str = ""
    language: str = "en"


@dataclass(frozen=True)
class AccountState:
    """An account as of the planning date."""

    account_id: str
    kind: str
    moved_out: bool
    rent: Decimal | None
    balance: Decimal
    open_charges: tuple[OpenCharge, ...]
    parties: tuple[Party, ...]
    # The posted dates of the fee charges already on the ledger, by code: a fee posted while a
    # charge's fee step was due stands for the one the policy would post (an imported late fee).
    fees_posted: Mapping[str, frozenset[date]] = field(default_factory=dict)
    # The start of the delinquency when it began before its oldest open charge (a partial
    # payment cleared that charge, but the account never stopped being past due).
    delinquent_since: date | None = None
    # What open disputes hold (15 USC §1692g(b)): charges by txn id with the amount held, or the
    # whole balance. Steps about a disputed amount are planned, marked, and refused by the guard;
    # demands for "what is past due" leave the disputed amounts out.
    disputed: Mapping[str, Decimal] = field(default_factory=dict)
    disputed_whole: bool = False


@dataclass(frozen=True)
class PlannedStep:
    key: str  # the idempotency key
    account_id: str
    step: Step
    policy: str
    policy_version: int
    party_id: str | None = None
    role: str | None = None
    language: str = "en"
    amount: Decimal | None = None
    charge_txn_id: str | None = None
    deadline: date | None = None
    delinquency: date | None = None
    disputed: str = ""  # why this step is about a disputed amount only (the guard refuses it)


def fee_amount(step: Step, rent: Decimal | None) -> Decimal | None:
    """The lesser of the fixed fee and the percent of the monthly rent that the step gives."""
    candidates = []
    if step.fee_fixed is not None:
        candidates.append(step.fee_fixed)
    if step.fee_percent_of_rent is not None and rent:
        share = rent * step.fee_percent_of_rent / HUNDRED
        # Down, never up: a cap is a cap (5% of 810.10 is 40.505: the fee is 40.50).
        candidates.append(share.quantize(CENT, rounding=ROUND_DOWN))
    return min(candidates) if candidates else None


def delinquency_start(state: AccountState, on: date) -> date | None:
    """When the current delinquency began: `delinquent_since` if given, else the due date of the
    oldest charge past due on `on`; None when nothing is past due."""
    late = [c.due_on for c in state.open_charges if c.due_on < on]
    if not late:
        return None
    oldest = min(late)
    if state.delinquent_since is not None and state.delinquent_since < oldest:
        return state.delinquent_since
    return oldest


def past_due_throughout(
    charges: Sequence[tuple[date, Sequence[tuple[date, Decimal]]]], since: date, until: date
) -> bool:
    """Whether something was past due on every day from `since` to `until`.

    `charges` holds each charge's due date and the changes of its open amount (the deltas). The
    past-due amount can only fall to zero on a day some open amount fell, so those days are the
    only ones to look at.
    """
    falls = sorted(
        {on for _, deltas in charges for on, d in deltas if d < 0 and since < on <= until}
    )
    for day in falls:
        past_due = sum(
            (d for due, deltas in charges if due < day for on, d in deltas if on <= day),
            Decimal(0),
        )
        if past_due <= 0:
            return False
    return True


def add_days(start: date, days: int, rule: str, is_court_holiday: Callable[[date], bool]) -> date:
    """The date `days` after `start`, counting calendar days or court days (no weekends and no
    court holidays: Cal. Code Civ. Proc. §1161(2) as amended in 2019)."""
    if rule != "court_days":
        return start + timedelta(days=days)
    day, left = start, days
    while left:
        day += timedelta(days=1)
        if day.weekday() < 5 and not is_court_holiday(day):
            left -= 1
    return day


def _no_holidays(_: date) -> bool:
    return False


def next_steps(
    state: AccountState,
    policy: Policy,
    done: Collection[str],
    on: date,
    *,
    done_on: Mapping[str, date] | None = None,
    is_court_holiday: Callable[[date], bool] = _no_holidays,
) -> list[PlannedStep]:
    """The steps due on `on` and not yet done (by key), in policy order.

    `done_on` maps the key of a step done for this delinquency (without party) to the date it was
    done; `after_step` triggers read it.
    """
    if policy.state != "any" and (policy.state == "moved_out") != state.moved_out:
        return []
    start = delinquency_start(state, on)
    planned: list[PlannedStep] = []
    for step in policy.steps:
        if step.state and step.state != "any" and (step.state == "moved_out") != state.moved_out:
            continue
        if state.balance < step.min_balance:
            continue
        for charge, anchor in _triggers(step, state, on, start, done_on or {}):
            base = f"{state.account_id}:{step.key}:{charge.txn_id if charge else anchor}"
            if step.day_of_month is not None:  # once a month: the month is the key
                base = f"{state.account_id}:{step.key}:{on:%Y-%m}"
            planned.extend(_expand(step, policy, state, base, charge, anchor, on, done,
                                   is_court_holiday))  # fmt: skip
    return planned


def _triggers(
    step: Step, state: AccountState, on: date, start: date | None, done_on: Mapping[str, date]
) -> list[tuple[OpenCharge | None, date | None]]:
    """(charge, delinquency start) pairs for which the step's trigger holds on `on`."""
    charges = [c for c in state.open_charges if not step.codes or c.code in step.codes]
    if step.day_of_month is not None:
        # From its day to the month's end (a missed run catches up); the balance was checked
        # against min_balance already. No delinquency: a statement is not a collection rung.
        return [(None, None)] if on.day >= step.day_of_month else []
    if step.days_before_due is not None:
        return [(c, None) for c in charges if (c.due_on - on).days == step.days_before_due]
    if step.after_step is not None:
        if start is None:
            return []
        key = f"{state.account_id}:{step.after_step}:{start.isoformat()}"
        then = done_on.get(key)
        if then is None or (on - then).days < (step.after_days or 0):
            return []
        return [(None, start)]
    if step.days_past_due is None:
        return [(None, start)] if start is not None or state.moved_out else []
    late = [c for c in charges if (on - c.due_on).days >= step.days_past_due]
    if not late:
        return []
    if step.per == "charge":
        window = step.days_past_due + step.within_days
        fresh = [c for c in late if (on - c.due_on).days < window]
        return [(c, start) for c in sorted(fresh, key=lambda c: (c.due_on, c.txn_id))]
    return [(None, start or min(c.due_on for c in late))]


def _expand(
    step: Step,
    policy: Policy,
    state: AccountState,
    base: str,
    charge: OpenCharge | None,
    anchor: date | None,
    on: date,
    done: Collection[str],
    is_court_holiday: Callable[[date], bool],
) -> list[PlannedStep]:
    common = {
        "account_id": state.account_id, "step": step, "policy": policy.name,
        "policy_version": policy.version, "charge_txn_id": charge.txn_id if charge else None,
        "delinquency": anchor, "disputed": _disputed(step, state, charge, on),
    }  # fmt: skip
    if step.action == "fee":
        if base in done or charge is None:
            return []
        first = charge.due_on + timedelta(days=step.days_past_due or 0)
        last = first + timedelta(days=step.within_days)
        if any(first <= p <= last for p in state.fees_posted.get(step.fee_code, ())):
            return []  # a fee for this charge is already on the ledger
        amount = fee_amount(step, state.rent)
        if not amount:
            return []
        return [PlannedStep(base, amount=amount, **common)]  # type: ignore[arg-type]
    if step.action != "notice":
        return [] if base in done else [PlannedStep(base, **common)]  # type: ignore[arg-type]
    amount = _notice_amount(step, state, charge, on)
    deadline = (
        add_days(on, step.deadline_days, step.deadline_rule, is_court_holiday)
        if step.deadline_days
        else None
    )
    out = []
    for party in state.parties:
        key = f"{base}:{party.party_id}"
        if party.role in step.audience and key not in done:
            out.append(PlannedStep(
                key, party_id=party.party_id, role=party.role, language=party.language,
                amount=amount, deadline=deadline, **common,  # type: ignore[arg-type]
            ))  # fmt: skip
    return out


def _notice_amount(step: Step, state: AccountState, charge: OpenCharge | None, on: date) -> Decimal:
    """What the notice demands: one charge, or what is past due on `on` (never a charge not yet
    due): the rent alone (RPAPL §711(2); CCP §1161(2)) or every charge, less what is disputed."""
    if charge is not None and step.per == "charge":
        return charge.open_amount
    past_due = [c for c in state.open_charges if c.due_on < on]
    if step.amounts == "rent_only":
        past_due = [c for c in past_due if c.code == "RENT"]
    return sum((_undisputed(c, state) for c in past_due), Decimal(0))


def _undisputed(charge: OpenCharge, state: AccountState) -> Decimal:
    if state.disputed_whole:
        return Decimal(0)
    return max(Decimal(0), charge.open_amount - state.disputed.get(charge.txn_id, Decimal(0)))


def _disputed(step: Step, state: AccountState, charge: OpenCharge | None, on: date) -> str:
    """Why the step is about disputed amounts only ("" when it is not): the whole balance is
    disputed, its charge is, or everything past due that it would act on is."""
    if state.disputed_whole:
        return "the whole balance is disputed"
    if not state.disputed:
        return ""
    if charge is not None and step.per == "charge":
        return f"charge {charge.txn_id} is disputed" if charge.txn_id in state.disputed else ""
    if _notice_amount(step, state, None, on) <= 0:
        return "everything past due that it is about is disputed"
    return ""
