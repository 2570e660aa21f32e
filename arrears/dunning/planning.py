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
from decimal import Decimal
from functools import partial

from arrears.core.money import fee_cap
from arrears.dunning.policy import Policy, Step


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
    # The day the latest promise was broken, when nothing was agreed since; the day the latest
    # letter came back undeliverable: the coordinator's calls after them (Step).
    promise_broken_on: date | None = None
    mail_returned_on: date | None = None


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
    return fee_cap(step.fee_fixed, step.fee_percent_of_rent, rent)


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


def _no_carry(day: date, rule: str) -> date:
    """The carry-over of a planner given no business-day calendar: none, and a refusal for a
    policy that needs one (its dates would be wrong, not merely plain)."""
    if rule:
        raise ValueError(f"business_day_rule {rule!r} needs a calendar: pass carry_over")
    return day


def first_day(
    step: Step, due_on: date, business_day_rule: str, carry_over: Callable[[date, str], date]
) -> date | None:
    """The first day a step triggered by a charge's lateness is due for a charge due on `due_on`,
    or None for a step with no such trigger.

    `days_past_due = N`: the Nth day after the due date. `grace_days_exclusive = N`: the day after
    the grace period's last day, which is the due date + N (NY GCL §20: the day the period runs
    from is excluded) carried to the next business day by `carry_over(day, business_day_rule)`
    (NY GCL §25-a)."""
    if step.grace_days_exclusive is not None:
        last = carry_over(due_on + timedelta(days=step.grace_days_exclusive), business_day_rule)
        return last + timedelta(days=1)
    if step.days_past_due is not None:
        return due_on + timedelta(days=step.days_past_due)
    return None


def deadline_after(
    step: Step,
    served_on: date,
    business_day_rule: str,
    *,
    is_court_holiday: Callable[[date], bool],
    carry_over: Callable[[date, str], date],
) -> date | None:
    """The last day a notice of `step` served on `served_on` gives (None without `deadline_days`):
    `deadline_days` calendar or court days after the day of service (NY GCL §20, Cal. Code Civ.
    Proc. §12: that day excluded), carried to the next business day by the policy's
    `business_day_rule` (NY GCL §25-a). `dunning.deadlines.notice_deadline` binds it to the
    calendars."""
    if not step.deadline_days:
        return None
    last = add_days(served_on, step.deadline_days, step.deadline_rule, is_court_holiday)
    return carry_over(last, business_day_rule)


def next_steps(
    state: AccountState,
    policy: Policy,
    done: Collection[str],
    on: date,
    *,
    done_on: Mapping[str, date] | None = None,
    is_court_holiday: Callable[[date], bool] = _no_holidays,
    carry_over: Callable[[date, str], date] = _no_carry,
) -> list[PlannedStep]:
    """The steps due on `on` and not yet done (by key), in policy order.

    `done_on` maps the key of a step done for this delinquency (without party) to the date it was
    done; `after_step` triggers read it. `carry_over(day, rule)` carries the last day of a period
    to the next business day by the policy's `business_day_rule` (`calendar.carry_to_business_day`);
    without it a policy with a rule is refused (ValueError).
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
        first = partial(
            first_day, step, business_day_rule=policy.business_day_rule, carry_over=carry_over
        )
        expired = partial(
            _deadline_passed, policy, is_court_holiday=is_court_holiday, carry_over=carry_over
        )
        deadline = partial(
            _deadline_of, policy, is_court_holiday=is_court_holiday, carry_over=carry_over
        )
        triggered = (
            _call_triggers(step, state, on, start, done_on or {}, deadline)
            if step.has_call_trigger
            else _triggers(step, state, on, start, done_on or {}, first, expired)
        )
        for charge, anchor in triggered:
            base = f"{state.account_id}:{step.key}:{charge.txn_id if charge else anchor}"
            if step.day_of_month is not None:  # once a month: the month is the key
                base = f"{state.account_id}:{step.key}:{on:%Y-%m}"
            planned.extend(
                _expand(
                    step,
                    policy,
                    state,
                    base,
                    charge,
                    anchor,
                    on,
                    done,
                    is_court_holiday,
                    carry_over,
                    first,
                )
            )
    return planned


def _triggers(
    step: Step,
    state: AccountState,
    on: date,
    start: date | None,
    done_on: Mapping[str, date],
    first: Callable[[date], date | None],
    expired: Callable[[str, date, date], bool],
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
        if not expired(step.after_step, then, on):
            return []  # the earlier notice's deadline, carried over a holiday, is still running
        return [(None, start)]
    if step.days_past_due is None and step.grace_days_exclusive is None:
        return [(None, start)] if start is not None or state.moved_out else []
    firsts = {c.txn_id: first(c.due_on) or c.due_on for c in charges}
    late = [c for c in charges if on >= firsts[c.txn_id]]
    if not late:
        return []
    if step.per == "charge":
        # Due for `within_days` from its own first day, wherever a business day put it.
        window = timedelta(days=step.within_days)
        fresh = [c for c in late if on < firsts[c.txn_id] + window]
        return [(c, start) for c in sorted(fresh, key=lambda c: (c.due_on, c.txn_id))]
    return [(None, start or min(c.due_on for c in late))]


def _call_triggers(
    step: Step,
    state: AccountState,
    on: date,
    start: date | None,
    done_on: Mapping[str, date],
    deadline: Callable[[str, date], date | None],
) -> list[tuple[OpenCharge | None, date | None]]:
    """The coordinator's calls (Step): before a notice's deadline runs out, after a broken
    promise, after a returned letter. Empty when the step has none of these triggers, or it
    does not hold on `on`; the anchor of the key is the delinquency, the promise's day broken or
    the letter's day returned, so that each is called about once."""
    if step.before_deadline_of is not None:
        if start is None:
            return []
        served = done_on.get(f"{state.account_id}:{step.before_deadline_of}:{start.isoformat()}")
        last = deadline(step.before_deadline_of, served) if served else None
        if last is None:
            return []
        first = last - timedelta(days=step.days_before_deadline or 0)
        return [(None, start)] if first <= on <= last else []
    for days, happened in (
        (step.after_broken_promise, state.promise_broken_on),
        (step.after_returned_mail, state.mail_returned_on),
    ):
        if days is not None:
            if happened is None:
                return []
            due = happened + timedelta(days=days)
            return [(None, happened)] if due <= on < due + timedelta(days=step.within_days) else []
    return []


def _deadline_of(
    policy: Policy,
    key: str,
    served_on: date,
    *,
    is_court_holiday: Callable[[date], bool],
    carry_over: Callable[[date, str], date],
) -> date | None:
    """The last day the notice of the policy's step `key` served on `served_on` gives."""
    return deadline_after(
        policy.step(key),
        served_on,
        policy.business_day_rule,
        is_court_holiday=is_court_holiday,
        carry_over=carry_over,
    )


def _deadline_passed(
    policy: Policy,
    key: str,
    served_on: date,
    on: date,
    *,
    is_court_holiday: Callable[[date], bool],
    carry_over: Callable[[date, str], date],
) -> bool:
    """Whether the deadline of the policy's step `key` served on `served_on`, if it has one, is
    over by `on`: a step after it never comes while the addressee's time still runs."""
    deadline = deadline_after(
        policy.step(key),
        served_on,
        policy.business_day_rule,
        is_court_holiday=is_court_holiday,
        carry_over=carry_over,
    )
    return deadline is None or on > deadline


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
    carry_over: Callable[[date, str], date],
    first: Callable[[date], date | None],
) -> list[PlannedStep]:
    common = {
        "account_id": state.account_id,
        "step": step,
        "policy": policy.name,
        "policy_version": policy.version,
        "charge_txn_id": charge.txn_id if charge else None,
        "delinquency": anchor,
        "disputed": _disputed(step, state, charge, on),
    }
    if step.action == "fee":
        if base in done or charge is None:
            return []
        amount = _fee_due(step, state, charge, first)
        if not amount:
            return []
        return [PlannedStep(base, amount=amount, **common)]  # type: ignore[arg-type]
    if step.action != "notice":
        return [] if base in done else [PlannedStep(base, **common)]  # type: ignore[arg-type]
    amount = _notice_amount(step, state, charge, on)
    deadline = deadline_after(
        step,
        on,
        policy.business_day_rule,
        is_court_holiday=is_court_holiday,
        carry_over=carry_over,
    )
    out = []
    for party in state.parties:
        key = f"{base}:{party.party_id}"
        if party.role in step.audience and key not in done:
            out.append(
                PlannedStep(
                    key,
                    party_id=party.party_id,
                    role=party.role,
                    language=party.language,
                    amount=amount,
                    deadline=deadline,
                    **common,  # type: ignore[arg-type]
                )
            )
    return out


def _fee_due(
    step: Step, state: AccountState, charge: OpenCharge, first: Callable[[date], date | None]
) -> Decimal | None:
    """The fee the step charges for `charge`, unless one for it is already on the ledger."""
    # A fee posted from the step's first day to the end of its window stands for this one.
    # After a grace period, so does one posted during the grace (too early: the account
    # analysis flags it as `late_fee_early`), never a second fee for the month (RPL §238-a(2)).
    start_on = first(charge.due_on) or charge.due_on
    until = start_on + timedelta(days=step.within_days)
    since = start_on if step.grace_days_exclusive is None else charge.due_on + timedelta(days=1)
    if any(since <= p <= until for p in state.fees_posted.get(step.fee_code, ())):
        return None  # a fee for this charge is already on the ledger
    return fee_amount(step, state.rent)


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
