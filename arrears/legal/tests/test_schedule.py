"""A settlement's tracking and a case's fees (arrears.legal.schedule): pure, no database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from arrears.legal.schedule import Due, recovery, track

D = Decimal
PLAN = [Due(date(2026, 4, 10), D("420.00")), Due(date(2026, 5, 10), D("420.00"))]


def test_a_settlement_paid_in_its_two_parts_is_complete() -> None:
    paid = [(date(2026, 4, 8), D("420.00")), (date(2026, 5, 6), D("420.00"))]
    t = track(PLAN, paid, on=date(2026, 5, 6), grace_days=5)
    assert (t.complete, t.broken, t.paid, t.remaining) == (True, False, D("840.00"), D("0.00"))
    assert [line.status for line in t.lines] == ["paid", "paid"]


def test_an_installment_missed_past_its_grace_breaks_it_but_not_within_the_grace() -> None:
    paid = [(date(2026, 4, 8), D("420.00"))]
    within = track(PLAN, paid, on=date(2026, 5, 15), grace_days=5)
    assert (within.broken, [x.status for x in within.lines]) == (False, ["paid", "due"])
    past = track(PLAN, paid, on=date(2026, 5, 16), grace_days=5)
    assert past.broken
    assert past.missed is not None
    assert past.missed.due_on == date(2026, 5, 10)


def test_a_first_part_paid_late_breaks_it_even_if_paid_since() -> None:
    # the first part came on April 20, ten days after its date, past the 5 days' grace
    paid = [(date(2026, 4, 20), D("420.00"))]
    t = track(PLAN, paid, on=date(2026, 4, 21), grace_days=5)
    assert t.broken
    assert [x.status for x in t.lines] == ["missed", "ahead"]


def test_the_whole_paid_before_the_first_date_is_complete_at_once() -> None:
    t = track(PLAN, [(date(2026, 4, 1), D("840.00"))], on=date(2026, 4, 1), grace_days=5)
    assert t.complete
    assert not t.broken


def test_a_bounced_payment_counts_against_it() -> None:
    paid = [(date(2026, 4, 8), D("420.00")), (date(2026, 4, 12), D("-420.00"))]
    t = track(PLAN, paid, on=date(2026, 4, 16), grace_days=5)
    assert t.broken
    assert t.paid == D("0.00")


def test_the_firms_fee_is_its_contingency_rounded_half_up_and_its_flat_fee() -> None:
    r = recovery(D("840.10"), percent=D("33.33"), flat_fee=D("150.00"))
    # 840.10 × 33.33% = 280.00533 → 280.01
    assert (r.contingency, r.fees, r.net) == (D("280.01"), D("430.01"), D("410.09"))


@given(
    st.decimals(min_value=0, max_value=10**7, places=2),
    st.decimals(min_value=0, max_value=100, places=2),
)
def test_fees_and_net_always_add_up_to_what_was_recovered(
    recovered: Decimal, percent: Decimal
) -> None:
    r = recovery(recovered, percent=percent, flat_fee=D("0.00"))
    assert r.fees + r.net == recovered
    assert r.contingency == r.contingency.quantize(D("0.01"))
