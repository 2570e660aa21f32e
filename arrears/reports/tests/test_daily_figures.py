"""The daily review's arithmetic over aging lines (database-free): balance, past due, new
delinquencies, movers and the share over 60 days."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from arrears.ledger.collection import month_ends
from arrears.reports import daily_figures as fig

# current, 1-30, 31-60, 61-90, 91+, credit (cents)
PAID_UP = (0, 0, 0, 0, 0, 0)
RENT_DUE_TODAY = (100000, 0, 0, 0, 0, 0)
RENT_LATE = (0, 100000, 0, 0, 0, 0)
OLD_AND_CREDIT = (0, 0, 50000, 45000, 0, 5000)


def test_balance_nets_the_credit_and_past_due_does_not() -> None:
    # 500.00 + 450.00 open, 50.00 unapplied credit
    assert fig.balance(OLD_AND_CREDIT) == 50000 + 45000 - 5000
    # past due is the open charges more than 0 days past due, the credit apart
    assert fig.past_due(OLD_AND_CREDIT) == 95000
    assert fig.past_due(RENT_DUE_TODAY) == 0


def test_an_account_is_newly_past_due_when_it_was_not_the_day_before() -> None:
    before = {1: RENT_DUE_TODAY, 2: RENT_LATE, 3: PAID_UP}
    after = {1: RENT_LATE, 2: RENT_LATE, 4: RENT_LATE}
    # 1 fell past due overnight, 2 was already, 4 was absent (nothing open) the day before
    assert fig.newly_past_due(before, after) == [1, 4]


def test_the_move_is_the_larger_of_the_balance_s_and_the_past_due_s_change() -> None:
    before = {1: RENT_DUE_TODAY, 2: RENT_LATE, 3: OLD_AND_CREDIT, 5: RENT_LATE}
    # 1: the rent fell past due: balance 0 change, past due +1000.00
    # 2: paid 400.00: balance and past due -400.00
    # 3: unchanged; 5: paid in full (absent: nothing open): -1000.00 both
    # 6: a new charge due today: balance +1000.00, past due 0
    after = {1: RENT_LATE, 2: (0, 60000, 0, 0, 0, 0), 3: OLD_AND_CREDIT, 6: RENT_DUE_TODAY}
    found = {m.pk: m.size for m in fig.moves(before, after)}
    assert found == {1: 100000, 2: -40000, 5: -100000, 6: 100000}
    names = {1: "A-1", 2: "A-2", 5: "A-5", 6: "A-0"}
    up, down = fig.movers(fig.moves(before, after), names)
    # ties by account id: A-0 before A-1
    assert [m.pk for m in up] == [6, 1]
    assert [m.pk for m in down] == [5, 2]
    up, down = fig.movers(fig.moves(before, after), names, limit=1)
    assert ([m.pk for m in up], [m.pk for m in down]) == ([6], [5])


def test_the_share_over_60_days_is_of_the_open_charges() -> None:
    # 450.00 of 950.00 open is 61-90 days past due: 0.47368... -> 0.4737
    assert fig.share_over_60(OLD_AND_CREDIT) == Decimal("0.4737")
    assert fig.share_over_60(PAID_UP) is None


def test_the_trend_s_days_are_the_month_ends_before_the_day_then_the_day() -> None:
    # the 12 month ends of March 2025 to February 2026, then March 15
    ends = month_ends(date(2026, 3, 15), 13)
    assert ends[0] == date(2025, 3, 31)
    assert ends[-2:] == [date(2026, 2, 28), date(2026, 3, 15)]
    assert len(ends) == 13
    # on a month's last day the day is its own month end, after the month before's
    assert month_ends(date(2026, 3, 31), 3) == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
    ]
