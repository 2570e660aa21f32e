"""A settlement's tracking as of a day, and the firm's fees on what a case recovered (pure: no
Django, no clock; amounts are `Decimal`, days `date`).

Invariants: a settlement is paid when the payments counted reach its amount, and broken when,
some day after an installment's due date and grace, the payments made by then fall short of
everything due by that installment (paid in full first wins: a settlement paid late but paid
before the day it would break is paid); fees are rounded half up to the cent once, on the
contingency, and the net is what is left (below zero when the fees are more than what was
recovered).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal("100")


@dataclass(frozen=True)
class Due:
    due_on: date
    amount: Decimal


@dataclass(frozen=True)
class Line:
    """One installment as of the day: what it needs paid by then (cumulative), what was paid
    toward it, its status (paid, due, missed, ahead)."""

    due_on: date
    amount: Decimal
    paid: Decimal
    status: str


@dataclass(frozen=True)
class Tracking:
    paid: Decimal  # counted toward the settlement by the day
    remaining: Decimal
    lines: tuple[Line, ...]
    complete: bool  # the payments reach the amount
    broken: bool  # an installment missed past its grace, before it was complete
    missed: Line | None  # the first one missed


def track(
    installments: Sequence[Due],
    payments: Sequence[tuple[date, Decimal]],
    *,
    on: date,
    grace_days: int,
) -> Tracking:
    """The settlement of `installments` (in order of their due dates) as of `on`, counting
    `payments` (their day and amount; a reversal is a negative amount) made by `on`."""
    made = sorted((d, a) for d, a in payments if d <= on)
    total = sum((i.amount for i in installments), ZERO)
    paid = sum((a for _d, a in made), ZERO)
    complete = paid >= total
    # the day the payments reached the amount (None: not yet)
    running, reached = ZERO, None
    for day, amount in made:
        running += amount
        if running >= total:
            reached = day
            break
    lines, needed, missed = [], ZERO, None
    for item in installments:
        needed += item.amount
        deadline = item.due_on + timedelta(days=grace_days)
        toward = min(max(paid - (needed - item.amount), ZERO), item.amount)
        short = sum((a for d, a in made if d <= deadline), ZERO) < needed
        if on > deadline and short and (reached is None or reached > deadline):
            status = "missed"  # even if paid since: it was not paid within its grace
        elif toward >= item.amount:
            status = "paid"
        elif item.due_on <= on:
            status = "due"
        else:
            status = "ahead"
        line = Line(item.due_on, item.amount, toward, status)
        if status == "missed" and missed is None:
            missed = line
        lines.append(line)
    broken = missed is not None
    return Tracking(
        paid=paid,
        remaining=max(total - paid, ZERO),
        lines=tuple(lines),
        complete=complete and not broken,
        broken=broken,
        missed=missed,
    )


@dataclass(frozen=True)
class Recovery:
    recovered: Decimal
    contingency: Decimal  # the firm's percentage of it
    flat_fee: Decimal
    court_costs: Decimal
    fees: Decimal
    net: Decimal


def recovery(
    recovered: Decimal, *, percent: Decimal, flat_fee: Decimal, court_costs: Decimal = ZERO
) -> Recovery:
    """What a case recovered after the firm's fees: `percent` of it (half up to the cent), its
    flat fee and the court costs it advanced."""
    contingency = (recovered * percent / HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)
    fees = contingency + flat_fee + court_costs
    return Recovery(
        recovered=recovered,
        contingency=contingency,
        flat_fee=flat_fee,
        court_costs=court_costs,
        fees=fees,
        net=recovered - fees,
    )
