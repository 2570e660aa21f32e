"""Payment plans as pure functions: the schedule, the tracking of payments, affordability.

Invariants (property-tested):
- a schedule's installments, down payment included, sum to the plan's amount to the cent
  (`arrears.core.money.allocate` splits; nothing is rounded away);
- tracking matches payments to what is due in due-date order, oldest first, and never gives an
  obligation more than its amount;
- a plan is broken on `as_of` exactly when something it required was due more than `grace_days`
  before `as_of` and is not fully paid by then.

No Django, no clock: every function takes the date it answers for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from arrears.core.dates import add_months
from arrears.core.money import ZERO, allocate

FREQUENCIES = ("weekly", "biweekly", "monthly", "dates")
STEP_DAYS = {"weekly": 7, "biweekly": 14}


class ScheduleError(ValueError):
    """Terms that cannot make a schedule; the message says which term and why."""


@dataclass(frozen=True)
class Installment:
    seq: int  # 0 is the down payment, when there is one
    due_on: date
    amount: Decimal


def due_dates(frequency: str, start: date, count: int, dates: Sequence[date] = ()) -> list[date]:
    """`count` due dates from `start`: every 7 or 14 days, monthly (clamped to the month's end:
    Jan 31, Feb 28, Mar 31) or the chosen `dates` (frequency "dates")."""
    if frequency not in FREQUENCIES:
        raise ScheduleError(f"frequency must be one of {', '.join(FREQUENCIES)}, not {frequency!r}")
    if frequency == "dates":
        chosen = sorted(dates)
        if len(chosen) != count or len(set(chosen)) != count:
            raise ScheduleError(f"{count} installments need {count} different dates")
        return chosen
    if frequency == "monthly":
        return [add_months(start, i) for i in range(count)]
    return [start + timedelta(days=STEP_DAYS[frequency] * i) for i in range(count)]


def build_schedule(
    *,
    amount: Decimal,
    start: date,
    frequency: str,
    installments: int | None = None,
    installment_amount: Decimal | None = None,
    down: Decimal = ZERO,
    down_on: date | None = None,
    dates: Sequence[date] = (),
) -> list[Installment]:
    """The installments of a plan on `amount`: the down payment (seq 0, due `down_on` or `start`)
    then equal parts (largest remainder: 1,000.00 in 3 is 333.34, 333.33, 333.33), or parts of
    `installment_amount` with a smaller last one. Raises ScheduleError for impossible terms."""
    if amount <= 0:
        raise ScheduleError(f"nothing to plan: the amount is {amount:.2f}")
    if down < 0 or down >= amount:
        raise ScheduleError(
            f"the down payment {down:.2f} must be at least 0 and less than the amount {amount:.2f}"
        )
    rest = amount - down
    if (installments is None) == (installment_amount is None):
        raise ScheduleError("give either a number of installments or an installment amount")
    if installment_amount is not None:
        if installment_amount <= 0:
            raise ScheduleError("the installment amount must be positive")
        count = int((rest / installment_amount).to_integral_value(rounding=ROUND_CEILING))
        parts = [installment_amount] * (count - 1) + [rest - installment_amount * (count - 1)]
    else:
        assert installments is not None
        if installments < 1:
            raise ScheduleError("a plan needs at least one installment")
        count = installments
        parts = allocate(rest, [1] * count)
    if count > 520:
        raise ScheduleError(f"{count} installments is more than any plan should have")
    days = due_dates(frequency, start, count, dates)
    out = []
    if down:
        out.append(Installment(0, down_on or start, down))
    out.extend(Installment(i + 1, d, p) for i, (d, p) in enumerate(zip(days, parts, strict=True)))
    return out


@dataclass(frozen=True)
class Due:
    """Something a plan requires by a date: an installment, or a new charge (when the plan
    requires current charges to be paid on top)."""

    label: str
    due_on: date
    amount: Decimal


@dataclass(frozen=True)
class DueStatus:
    label: str
    due_on: date
    amount: Decimal
    paid: Decimal
    paid_on: date | None  # when it was paid in full
    status: str  # paid | partly_paid | due | late | missed

    @property
    def left(self) -> Decimal:
        return self.amount - self.paid


@dataclass(frozen=True)
class Tracking:
    lines: tuple[DueStatus, ...]
    broken_on: date | None  # the first day the plan counts as broken, if it is
    paid: Decimal  # payments counted toward the plan
    unmatched: Decimal  # payments beyond everything the plan has required so far

    @property
    def broken(self) -> bool:
        return self.broken_on is not None

    @property
    def complete(self) -> bool:
        return all(line.status == "paid" for line in self.lines)


def track(
    dues: Sequence[Due],
    payments: Sequence[tuple[date, Decimal]],
    *,
    as_of: date,
    grace_days: int,
) -> Tracking:
    """Match `payments` (posted date, amount; reversals already taken off) to `dues` in due-date
    order and say, as of `as_of`, what each is: paid, partly paid (something paid, not all, within
    the grace), due (nothing paid, not yet due), late (past due, nothing paid, within the grace)
    or missed (more than `grace_days` past due and not fully paid: the plan is broken)."""
    ordered = sorted(dues, key=lambda d: (d.due_on, d.label))
    counted = sorted((p for p in payments if p[0] <= as_of), key=lambda p: p[0])
    # Cumulative payments over time; an obligation is paid in full on the day the running total
    # reaches its running requirement.
    lines = []
    running_need = ZERO
    total_paid = sum((amount for _, amount in counted), ZERO)
    left_over = total_paid
    broken_on: date | None = None
    for due in ordered:
        running_need += due.amount
        paid = min(due.amount, max(ZERO, left_over))
        left_over -= paid
        paid_on = _day_total_reached(counted, running_need) if paid == due.amount else None
        deadline = due.due_on + timedelta(days=grace_days)
        if paid == due.amount:
            status = "paid"
        elif as_of > deadline:
            status = "missed"
        elif paid > 0:
            status = "partly_paid"
        elif as_of > due.due_on:
            status = "late"
        else:
            status = "due"
        # Broken from the day after the grace ran out, if not paid in full by then.
        if paid_on is None or paid_on > deadline:
            first_broken = deadline + timedelta(days=1)
            if first_broken <= as_of and (broken_on is None or first_broken < broken_on):
                broken_on = first_broken
        lines.append(DueStatus(due.label, due.due_on, due.amount, paid, paid_on, status))
    return Tracking(
        tuple(lines), broken_on, total_paid - max(ZERO, left_over), max(ZERO, left_over)
    )


def _day_total_reached(payments: Sequence[tuple[date, Decimal]], need: Decimal) -> date | None:
    running = ZERO
    for day, amount in payments:
        running += amount
        if running >= need:
            return day
    return None


@dataclass(frozen=True)
class Limits:
    """A company's limits on plans (settings ARREARS_PLANS; see docs/plans.md)."""

    max_installments: int = 12  # the longest plan, in months
    min_installment: Decimal = Decimal("50.00")
    income_share: Decimal = Decimal("0.40")  # of monthly income, for rent and every debt
    min_down_share: Decimal = Decimal("0")  # of the balance, paid at signing
    grace_days: int = 5
    promise_grace_days: int = 2
    require_current: bool = True  # new charges (next month's rent) are paid on top


@dataclass(frozen=True)
class Proposal:
    feasible: bool
    balance: Decimal
    down: Decimal
    installments: int
    installment: Decimal  # the first (largest) installment
    room: Decimal  # what the tenant can put toward the plan each month
    reasons: tuple[str, ...]


def propose_terms(
    *,
    balance: Decimal,
    income: Decimal,
    obligations: Decimal,
    rent: Decimal | None,
    limits: Limits,
) -> Proposal:
    """Terms a tenant can keep: the monthly room is `income_share` of the monthly income less
    the other obligations (and the current rent when the plan requires it to be paid on top);
    the fewest monthly installments that fit the room, within the company's limits. Says why."""
    reasons = []
    down = (balance * limits.min_down_share).quantize(Decimal("0.01"))
    if down:
        reasons.append(
            f"a down payment of {down:.2f} ({limits.min_down_share:%} of the balance) "
            f"is required at signing"
        )
    budget = (income * limits.income_share).quantize(Decimal("0.01"))
    room = budget - obligations
    reasons.append(
        f"{limits.income_share * 100:.0f}% of a monthly income of {income:.2f} is "
        f"{budget:.2f}; less other obligations of {obligations:.2f}"
    )
    if limits.require_current and rent:
        room -= rent
        reasons[-1] += f" and the current rent of {rent:.2f}"
    reasons[-1] += f" leaves {room:.2f} a month"
    rest = balance - down
    if balance <= 0:
        return Proposal(
            False, balance, ZERO, 0, ZERO, room, (f"nothing to plan: the balance is {balance:.2f}",)
        )
    if room < limits.min_installment:
        reasons.append(
            f"that is less than the minimum installment of "
            f"{limits.min_installment:.2f}: no plan fits; ask for a smaller "
            f"obligation or a larger payment now"
        )
        return Proposal(False, balance, down, 0, ZERO, room, tuple(reasons))
    count = max(1, int((rest / room).to_integral_value(rounding=ROUND_CEILING)))
    # Installments no smaller than the minimum: fewer of them when the balance is small.
    most = max(1, int((rest / limits.min_installment).to_integral_value(rounding=ROUND_FLOOR)))
    count = min(count, most)
    feasible = count <= limits.max_installments
    first = allocate(rest, [1] * count)[0]
    if feasible:
        reasons.append(
            f"{rest:.2f} in {count} monthly installment(s) of at most {first:.2f} fits that room"
        )
    else:
        reasons.append(
            f"{rest:.2f} at {room:.2f} a month needs {count} installments, more than "
            f"the company's maximum of {limits.max_installments}"
        )
    return Proposal(feasible, balance, down, count, first, room, tuple(reasons))
