"""The collection rate by month: what was collected over what was billed in each month (pure: no
Django, no clock; the month sums come from `web.selectors.collection_trend`).

Billed is the charges posted in the month (rent, fees: whatever the book charged). Collected is
the payments posted in the month less the reversals, posted in the month, of payments (a returned
cheque takes back what it had counted). Credits (concessions, write-offs) are neither: a credit
is not money collected. The rate is collected ÷ billed, rounded half up to four places (0.9642 is
96.42 %), and None for a month that billed nothing. It may pass 1 when arrears are caught up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

CHARGE, PAYMENT, PAYMENT_REVERSAL = "charge", "payment", "payment reversal"
RATE_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class MonthRate:
    month: date  # the month's first day
    billed: Decimal
    collected: Decimal
    rate: Decimal | None  # collected ÷ billed; None when nothing was billed


def last_months(as_of: date, count: int = 12) -> list[date]:
    """The first days of the `count` months ending with `as_of`'s, oldest first."""
    index = as_of.year * 12 + as_of.month - 1
    return [date(i // 12, i % 12 + 1, 1) for i in range(index - count + 1, index + 1)]


def month_ends(as_of: date, count: int = 12) -> list[date]:
    """The last days of the `count - 1` months before `as_of`'s, oldest first, then `as_of`
    itself (the portfolio page's aging chart and `arrears report aging-trend` plot them)."""
    firsts = last_months(as_of, count)
    return [first - timedelta(days=1) for first in firsts[1:]] + [as_of]


def collection_rates(
    sums: Mapping[tuple[date, str], Decimal], months: list[date]
) -> list[MonthRate]:
    """The rate of each of `months` from `sums`: the amounts posted, by (month's first day, kind)
    with kind CHARGE, PAYMENT or PAYMENT_REVERSAL. A month without sums billed and collected 0."""
    rates = []
    for month in months:
        billed = sums.get((month, CHARGE), Decimal(0))
        collected = sums.get((month, PAYMENT), Decimal(0)) - sums.get(
            (month, PAYMENT_REVERSAL), Decimal(0)
        )
        rate = (collected / billed).quantize(RATE_PLACES, ROUND_HALF_UP) if billed > 0 else None
        rates.append(MonthRate(month, billed, collected, rate))
    return rates
