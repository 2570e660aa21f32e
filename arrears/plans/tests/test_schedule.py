"""Plans as pure functions: schedules that add up, tracking of payments, affordability (no DB)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrears.plans.schedule import (
    Due,
    Limits,
    ScheduleError,
    build_schedule,
    due_dates,
    propose_terms,
    track,
)

APRIL_1 = date(2026, 4, 1)
cents = st.integers(min_value=1, max_value=10_000_000).map(lambda c: Decimal(c) / 100)


def test_1000_in_three_monthly_installments_is_333_34_333_33_333_33():
    schedule = build_schedule(
        amount=Decimal("1000.00"), start=APRIL_1, frequency="monthly", installments=3
    )
    assert [(i.due_on, i.amount) for i in schedule] == [
        (date(2026, 4, 1), Decimal("333.34")),
        (date(2026, 5, 1), Decimal("333.33")),
        (date(2026, 6, 1), Decimal("333.33")),
    ]


@given(
    amount=cents,
    down_share=st.integers(0, 99),
    count=st.integers(1, 60),
    frequency=st.sampled_from(["weekly", "biweekly", "monthly"]),
    start=st.dates(date(2024, 1, 1), date(2030, 12, 31)),
)
def test_any_plans_installments_sum_to_its_amount(amount, down_share, count, frequency, start):
    down = (amount * down_share / 100).quantize(Decimal("0.01"))
    if down >= amount:
        down = Decimal("0.00")
    schedule = build_schedule(
        amount=amount, start=start, frequency=frequency, installments=count, down=down
    )
    assert sum(i.amount for i in schedule) == amount
    assert all(i.amount > 0 for i in schedule) or amount - down < Decimal("0.01") * count
    assert [i.due_on for i in schedule] == sorted(i.due_on for i in schedule)


@given(amount=cents, each=cents)
def test_a_plan_by_installment_amount_sums_to_its_amount_with_a_smaller_last_part(amount, each):
    if amount / each > 500:
        return
    schedule = build_schedule(
        amount=amount, start=APRIL_1, frequency="weekly", installment_amount=each
    )
    assert sum(i.amount for i in schedule) == amount
    assert all(i.amount == each for i in schedule[:-1])
    assert 0 < schedule[-1].amount <= each


def test_monthly_dates_clamp_to_the_months_end():
    assert due_dates("monthly", date(2026, 1, 31), 3) == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
    ]


def test_impossible_terms_are_refused_with_the_reason():
    with pytest.raises(ScheduleError, match="down payment"):
        build_schedule(
            amount=Decimal("100.00"),
            start=APRIL_1,
            frequency="monthly",
            installments=2,
            down=Decimal("100.00"),
        )
    with pytest.raises(ScheduleError, match="frequency"):
        build_schedule(amount=Decimal("100.00"), start=APRIL_1, frequency="yearly", installments=2)
    with pytest.raises(ScheduleError, match="3 installments need 3 different dates"):
        build_schedule(
            amount=Decimal("100.00"),
            start=APRIL_1,
            frequency="dates",
            installments=3,
            dates=[APRIL_1, APRIL_1, date(2026, 5, 1)],
        )


DUES = [
    Due("installment 1", date(2026, 4, 1), Decimal("333.34")),
    Due("installment 2", date(2026, 5, 1), Decimal("333.33")),
]


def test_a_partial_payment_leaves_the_installment_partly_paid_and_the_plan_standing():
    t = track(DUES, [(date(2026, 3, 30), Decimal("200.00"))], as_of=date(2026, 4, 3), grace_days=5)
    assert [(line.status, line.paid) for line in t.lines] == [
        ("partly_paid", Decimal("200.00")),
        ("due", Decimal("0.00")),
    ]
    assert not t.broken


def test_an_installment_short_past_its_grace_breaks_the_plan_from_the_next_day():
    payments = [(date(2026, 4, 1), Decimal("200.00"))]
    on_grace_end = track(DUES, payments, as_of=date(2026, 4, 6), grace_days=5)
    assert not on_grace_end.broken
    after = track(DUES, payments, as_of=date(2026, 4, 7), grace_days=5)
    assert after.broken_on == date(2026, 4, 7)
    assert after.lines[0].status == "missed"


def test_a_reversed_payment_unpays_the_installment():
    payments = [(date(2026, 4, 1), Decimal("333.34")), (date(2026, 4, 3), Decimal("-333.34"))]
    assert track(DUES, payments, as_of=date(2026, 4, 2), grace_days=5).lines[0].status == "paid"
    assert track(DUES, payments, as_of=date(2026, 4, 4), grace_days=5).lines[0].status == "late"


@given(st.lists(st.tuples(st.integers(0, 90), cents), max_size=8), st.integers(0, 120))
def test_tracking_never_pays_an_installment_more_than_its_amount(payments, day):
    start = date(2026, 3, 1)
    t = track(
        DUES,
        [(start + timedelta(days=d), a) for d, a in payments],
        as_of=start + timedelta(days=day),
        grace_days=5,
    )
    assert all(Decimal(0) <= line.paid <= line.amount for line in t.lines)
    counted = sum((a for d, a in payments if d <= day), Decimal(0))
    assert t.paid + t.unmatched == counted


def test_affordability_proposes_the_fewest_installments_that_fit_and_says_why():
    p = propose_terms(
        balance=Decimal("2400.00"),
        income=Decimal("4000.00"),
        obligations=Decimal("200.00"),
        rent=Decimal("1200.00"),
        limits=Limits(),
    )
    # 40% of 4,000 = 1,600; less 200 and the rent of 1,200 leaves 200 a month: 12 installments.
    assert p.feasible
    assert p.installments == 12
    assert p.installment == Decimal("200.00")
    assert p.room == Decimal("200.00")
    assert "leaves 200.00 a month" in p.reasons[0]


def test_affordability_says_no_plan_fits_when_the_room_is_below_the_minimum():
    p = propose_terms(
        balance=Decimal("2400.00"),
        income=Decimal("3000.00"),
        obligations=Decimal("0.00"),
        rent=Decimal("1200.00"),
        limits=Limits(),
    )
    assert not p.feasible
    assert "less than the minimum installment of 50.00" in p.reasons[-1]


def test_affordability_refuses_a_plan_longer_than_the_company_allows():
    p = propose_terms(
        balance=Decimal("5000.00"),
        income=Decimal("4000.00"),
        obligations=Decimal("200.00"),
        rent=Decimal("1200.00"),
        limits=Limits(max_installments=12),
    )
    assert not p.feasible
    assert p.installments == 25
    assert "more than the company's maximum of 12" in p.reasons[-1]
