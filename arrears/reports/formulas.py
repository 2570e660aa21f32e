"""The collection metrics' formulas (docs/metrics.md), pure: whole cents in, `Decimal` out.

Invariants: every input amount is an `int` of cents (a sum the database made), so nothing here
rounds money; each result is rounded once, half up, to its stated places (a rate to 4, days to
2); a metric whose denominator is zero or less is `None` (no figure), never a division by zero
or an infinite rate. No Django, no clock: the periods are passed in.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

RATE_PLACES = Decimal("0.0001")
DAYS_PLACES = Decimal("0.01")
HUNDRED = Decimal(100)
# How far back the count-back looks for billing: receivables larger than two years of billing
# have no count-back DSO (None), rather than one that would only say "more than 730 days".
COUNTBACK_MONTHS = 24


@dataclass(frozen=True)
class Span:
    """A run of days, both ends included."""

    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def month_spans(first: date, last: date) -> list[Span]:
    """The period cut at calendar months: [first, its month's end], whole months, [the last
    month's first day, last] (one span when both ends are in one month)."""
    spans = []
    start = first
    while start <= last:
        end = start.replace(day=calendar.monthrange(start.year, start.month)[1])
        spans.append(Span(start, min(end, last)))
        start = end + timedelta(days=1)
    return spans


def countback_spans(last: date, months: int = COUNTBACK_MONTHS) -> list[Span]:
    """The spans the count-back walks, newest first: [the first of `last`'s month, last], then
    each whole calendar month before it, `months` spans in all."""
    spans = [Span(last.replace(day=1), last)]
    while len(spans) < months:
        end = spans[-1].first - timedelta(days=1)
        spans.append(Span(end.replace(day=1), end))
    return spans


def _rate(numerator: Decimal, denominator: Decimal, places: Decimal) -> Decimal | None:
    if denominator <= 0:
        return None
    return (numerator / denominator).quantize(places, rounding=ROUND_HALF_UP)


def cei(*, opening: int, billed: int, closing: int, closing_current: int) -> Decimal | None:
    """Collection effectiveness index, in percent (4 places): (opening + billed − closing) /
    (opening + billed − closing_current) × 100. None when the denominator is not positive."""
    return _rate(
        Decimal(opening + billed - closing) * HUNDRED,
        Decimal(opening + billed - closing_current),
        RATE_PLACES,
    )


def dso_simple(*, closing: int, billed: int, days: int) -> Decimal | None:
    """Days sales outstanding, simple method (2 places): closing / billed × days. None with
    nothing billed."""
    return _rate(Decimal(closing) * days, Decimal(billed), DAYS_PLACES)


def dso_countback(*, closing: int, billed: Sequence[tuple[int, int]]) -> Decimal | None:
    """Days sales outstanding by the count-back method (2 places). `billed` is (billed, days)
    of each span, newest first: the closing receivables are exhausted against each span's
    billing in turn, a span billed in full counting all its days, the last one the share of its
    days that the receivables left cover. 0 when nothing is owed; None when the spans' billing
    does not cover the receivables."""
    left = Decimal(closing)
    if left <= 0:
        return Decimal("0.00")
    days = Decimal(0)
    for amount, span_days in billed:
        if amount > 0 and left <= amount:
            days += Decimal(span_days) * left / Decimal(amount)
            return days.quantize(DAYS_PLACES, rounding=ROUND_HALF_UP)
        left -= max(amount, 0)
        days += span_days
    return None


def share(part: int, whole: int) -> Decimal | None:
    """part / whole as a fraction (4 places): a roll rate. None when `whole` is not positive."""
    return _rate(Decimal(part), Decimal(whole), RATE_PLACES)


def rate_text(value: Decimal | None) -> str | None:
    """A rate or a number of days as the JSON carries it: a decimal string, or null."""
    return None if value is None else f"{value}"
