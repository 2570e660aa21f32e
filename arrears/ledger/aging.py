"""Aging buckets: labels, the due-date limits of each bucket as of a date, and aging of open items.

Days past due = as_of − due. With boundaries (0, 30, 60, 90) the buckets are `current` (≤ 0 days),
`1-30`, `31-60`, `61-90` and `91+`. Bucket i > 0 holds b[i-1] < days ≤ b[i], that is
as_of − b[i] ≤ due < as_of − b[i-1]; the set-based query uses these due-date limits so that it
never computes a date difference in SQL.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TypeAlias

from arrears.core.fields import from_cents
from arrears.core.money import ZERO

DEFAULT_BOUNDARIES = (0, 30, 60, 90)


@dataclass(frozen=True, slots=True)
class Buckets:
    boundaries: tuple[int, ...] = DEFAULT_BOUNDARIES

    def __post_init__(self) -> None:
        b = self.boundaries
        if not b or any(x < 0 for x in b) or any(x >= y for x, y in itertools.pairwise(b)):
            raise ValueError("bucket boundaries must be non-negative whole days, ascending")

    @classmethod
    def parse(cls, text: str) -> Buckets:
        """Buckets from "0,30,60,90"; ValueError with the reason otherwise."""
        try:
            values = tuple(int(part) for part in text.split(","))
        except ValueError:
            raise ValueError(f"buckets must be whole days separated by commas: {text!r}") from None
        return cls(values)

    @property
    def labels(self) -> list[str]:
        b = self.boundaries
        first = "current" if b[0] == 0 else f"0-{b[0]}"
        middle = [f"{lo + 1}-{hi}" for lo, hi in itertools.pairwise(b)]
        return [first, *middle, f"{b[-1] + 1}+"]

    def due_limits(self, as_of: date) -> list[tuple[date | None, date | None]]:
        """For each bucket, (earliest due, latest due) included; None means open-ended."""
        b = self.boundaries
        limits: list[tuple[date | None, date | None]] = [(as_of - timedelta(days=b[0]), None)]
        for lo, hi in itertools.pairwise(b):
            limits.append((as_of - timedelta(days=hi), as_of - timedelta(days=lo + 1)))
        limits.append((None, as_of - timedelta(days=b[-1] + 1)))
        return limits

    def index(self, as_of: date, due_on: date) -> int:
        days = (as_of - due_on).days
        for i, bound in enumerate(self.boundaries):
            if days <= bound:
                return i
        return len(self.boundaries)


@dataclass(frozen=True, slots=True)
class AgedLine:
    """Open amounts per bucket, unapplied credit, and balance = sum of buckets − credit."""

    buckets: tuple[Decimal, ...]
    credit: Decimal

    @property
    def balance(self) -> Decimal:
        return sum(self.buckets, ZERO) - self.credit


def age_open_items(
    items: Iterable[tuple[bool, date | None, Decimal]], as_of: date, buckets: Buckets
) -> AgedLine:
    """Age (is_credit, due_on, open amount) items as of a date."""
    amounts = [ZERO] * (len(buckets.boundaries) + 1)
    credit = ZERO
    for is_credit, due_on, amount in items:
        if is_credit:
            credit += amount
        else:
            assert due_on is not None
            amounts[buckets.index(as_of, due_on)] += amount
    return AgedLine(tuple(amounts), credit)


@dataclass(slots=True, eq=False)  # not frozen: quicker to make, a line per account
class CentsLine:
    """An aged line as the book's aggregate gives it, in whole cents: its Decimals (`buckets`,
    `credit`, `balance`, as an AgedLine's) are made when they are read, once per line printed,
    not for every line of a report whose totals are added up in cents (issue 20: at 10M
    transactions, making them for every line was most of the aging's time)."""

    cents: tuple[int, ...]
    credit_cents: int

    @property
    def buckets(self) -> tuple[Decimal, ...]:
        return tuple(map(from_cents, self.cents))

    @property
    def credit(self) -> Decimal:
        return from_cents(self.credit_cents)

    @property
    def balance(self) -> Decimal:
        return from_cents(sum(self.cents) - self.credit_cents)

    def __eq__(self, other: object) -> bool:
        """Equal to a line of the same amounts, in cents or in Decimals (an AgedLine)."""
        if isinstance(other, CentsLine):
            return (self.cents, self.credit_cents) == (other.cents, other.credit_cents)
        if isinstance(other, AgedLine):
            return (self.buckets, self.credit) == (other.buckets, other.credit)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.buckets, self.credit))


Line: TypeAlias = AgedLine | CentsLine


def sum_lines(lines: Sequence[Line], width: int) -> Line:
    """The sum of aged lines: in whole cents when they all are (exact, and no Decimal made)."""
    exact = [line for line in lines if type(line) is CentsLine]
    if lines and len(exact) == len(lines):
        return CentsLine(
            tuple(map(sum, zip(*(line.cents for line in exact), strict=True))),
            sum(line.credit_cents for line in exact),
        )
    # A column at a time by the built-in sum: the book's tens of thousands of lines add up in C.
    totals = [sum(column, ZERO) for column in zip(*(line.buckets for line in lines), strict=True)]
    return AgedLine(tuple(totals or [ZERO] * width), sum((line.credit for line in lines), ZERO))
