"""Money: Decimal amounts with a currency, rounded in one place, split without losing a cent.

Invariants: an amount is never built from a float; `allocate` always returns parts that sum to the
total exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def D(value: str | int | Decimal) -> Decimal:  # noqa: N802 - reads like a literal
    """A Decimal from a string, an int or a Decimal; floats are refused (TypeError)."""
    if isinstance(value, float):
        raise TypeError("money is never built from a float")
    try:
        return Decimal(value)
    except InvalidOperation as exc:
        raise ValueError(f"not a number: {value!r}") from exc


def quantize(amount: Decimal) -> Decimal:
    """Round to cents, half up: the one rounding rule of the book."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def fmt(amount: Decimal) -> str:
    """The interchange and JSON form of an amount: two decimals, no separators."""
    return f"{quantize(amount):.2f}"


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str = "USD"

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError("Money.amount must be a Decimal")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot mix {self.currency} and {other.currency}")

    def __str__(self) -> str:
        return f"{fmt(self.amount)} {self.currency}"


def allocate(total: Decimal, weights: Sequence[Decimal | int]) -> list[Decimal]:
    """Split `total` (in cents) by `weights` with the largest-remainder method.

    The parts always sum to `total`; earlier parts take the leftover cents on ties, so
    1000.00 in three equal parts is 333.34, 333.33, 333.33.
    Raises ValueError for no weights, a negative weight or weights that sum to zero.
    """
    if not weights:
        raise ValueError("allocate needs at least one weight")
    ws = [Decimal(w) for w in weights]
    if any(w < 0 for w in ws) or sum(ws) == 0:
        raise ValueError("weights must be non-negative and not all zero")
    cents = int((quantize(total) / CENT).to_integral_value())
    weight_sum = sum(ws)
    exact = [Decimal(cents) * w / weight_sum for w in ws]
    floors = [int(e // 1) for e in exact]
    leftover = cents - sum(floors)
    order = sorted(range(len(ws)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:leftover]:
        floors[i] += 1
    return [Decimal(c) * CENT for c in floors]
