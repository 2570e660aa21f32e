"""Money: Decimal amounts rounded in one place, capped in one place, split without losing a cent.

Invariants: `allocate` always returns parts that sum to the total exactly; a fee cap is rounded
down, never up.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)


def quantize(amount: Decimal) -> Decimal:
    """Round to cents, half up: the one rounding rule of the book."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def fmt(amount: Decimal) -> str:
    """The interchange and JSON form of an amount: two decimals, no separators."""
    return f"{quantize(amount):.2f}"


def fee_cap(fixed: Decimal | None, percent: Decimal | None, rent: Decimal | None) -> Decimal | None:
    """The most a fee may be: the lesser of `fixed` and `percent` of the monthly `rent`, of those
    given (None when neither applies).

    The percentage is rounded down to the cent, never up: a cap is a cap (5% of 810.10 is 40.505,
    so the most allowed is 40.50). New York's late fee is the lesser of $50 and 5% of the monthly
    rent (RPL §238-a(2)); every fee step and every check of a posted fee reads it here.
    """
    candidates = []
    if fixed is not None:
        candidates.append(fixed)
    if percent is not None and rent:
        candidates.append((rent * percent / HUNDRED).quantize(CENT, rounding=ROUND_DOWN))
    return min(candidates) if candidates else None


def allocate(total: Decimal, weights: Sequence[Decimal | int]) -> list[Decimal]:
    """Split `total` (in cents) by `weights` with the largest-remainder method.

    The parts always sum to `total`, a negative one too; earlier parts take the leftover cents on
    ties, so 1000.00 in three equal parts is 333.34, 333.33, 333.33 (-1000.00: the same, negated).
    Raises ValueError for no weights, a negative weight or weights that sum to zero.
    """
    if not weights:
        raise ValueError("allocate needs at least one weight")
    ws = [Decimal(w) for w in weights]
    if any(w < 0 for w in ws) or sum(ws) == 0:
        raise ValueError("weights must be non-negative and not all zero")
    cents = int((quantize(total) / CENT).to_integral_value())
    # A negative total (a credit) is split as its size, then signed: Decimal's `//` truncates
    # toward zero, so flooring a negative share would hand out cents that are not there.
    sign = -1 if cents < 0 else 1
    cents = abs(cents)
    weight_sum = sum(ws)
    exact = [Decimal(cents) * w / weight_sum for w in ws]
    floors = [int(e // 1) for e in exact]
    leftover = cents - sum(floors)
    order = sorted(range(len(ws)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:leftover]:
        floors[i] += 1
    return [Decimal(sign * c) * CENT for c in floors]
