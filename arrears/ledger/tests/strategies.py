"""Hypothesis strategies: random account histories in book order."""

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import strategies as st

from arrears.ledger.allocation import Entry, apply_cash

D0 = date(2026, 1, 1)


@st.composite
def histories(draw, max_entries=40, start=D0):
    """A random account history in book order: charges, payments, credits, reversals, and
    refunds of at most the unapplied credit of their day."""
    entries = []
    day = start
    receipts = []  # (id, amount) of payments and credits not yet reversed
    charges = []
    for i in range(1, draw(st.integers(1, max_entries)) + 1):
        day += timedelta(days=draw(st.integers(0, 20)))
        kind = draw(
            st.sampled_from(
                ["charge", "charge", "payment", "payment", "credit", "reversal", "refund"]
            )
        )
        amount = Decimal(draw(st.integers(1, 300_000))) / 100
        credit = (
            sum((o.amount for o in apply_cash(entries).open_items if o.is_credit), Decimal(0))
            if kind == "refund"
            else Decimal(0)
        )
        if kind == "refund" and credit:
            cents = draw(st.integers(1, int(credit * 100)))
            entries.append(Entry(i, "refund", day, Decimal(cents) / 100))
        elif kind == "reversal" and receipts:
            j = draw(st.integers(0, len(receipts) - 1))
            source, amount = receipts.pop(j)
            entries.append(Entry(i, "reversal", day, amount, reverses=source))
        elif kind in ("charge", "reversal", "refund"):
            due = day + timedelta(days=draw(st.integers(-5, 10)))
            code = draw(st.sampled_from(["RENT", "LATE", "UTIL"]))
            entries.append(Entry(i, "charge", day, amount, due, code))
            charges.append(i)
        else:
            applies = draw(st.one_of(st.none(), st.sampled_from(charges))) if charges else None
            entries.append(Entry(i, kind, day, amount, applies_to=applies))
            receipts.append((i, amount))
    return entries
