"""The metrics' formulas against published worked examples (database-free)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from arrears.reports import formulas


def test_cei_reproduces_the_published_three_month_example() -> None:
    # given creditguru.com's CEI illustration (the Credit Research Foundation's formula): Jan to
    # March, beginning receivables 6,200, credit sales 10,890 over N = 3 months (3,630 a month),
    # ending total receivables 6,340, ending current 3,590; published CEI 55.9%
    # (6200 + 3630 - 6340) / (6200 + 3630 - 3590) * 100 = 3490 / 6240 * 100 = 55.9294...
    # when the formula is given the month's average as its billed amount
    cei = formulas.cei(opening=620000, billed=363000, closing=634000, closing_current=359000)
    # then it is the published figure, to four places
    assert cei == Decimal("55.9295")


def test_cei_over_the_whole_period_takes_all_its_billing() -> None:
    # the contract's CEI adds the period's whole billing (CRF's formula for a one-period span):
    # (6200 + 10890 - 6340) / (6200 + 10890 - 3590) * 100 = 10750 / 13500 * 100 = 79.6296...
    assert formulas.cei(
        opening=620000, billed=1089000, closing=634000, closing_current=359000
    ) == Decimal("79.6296")


def test_cei_with_nothing_to_collect_has_no_figure() -> None:
    # opening 0, billed 100.00, all of it current at the close: 0 / 0
    assert formulas.cei(opening=0, billed=10000, closing=10000, closing_current=10000) is None


def test_countback_dso_follows_the_textbook_example() -> None:
    # given the count-back example of Benji Pays' "The Count-Back Method Explained" (months of
    # 30 days): sales 70,000, 80,000 and 100,000 in months 1 to 3, ending receivables 212,000
    # month 3 takes 100,000 (30 days, 112,000 left), month 2 80,000 (30 days, 32,000 left),
    # month 1 covers the rest: 32,000 / 70,000 * 30 = 13.714 days; DSO = 73.71
    billed = [(10_000_000, 30), (8_000_000, 30), (7_000_000, 30)]
    assert formulas.dso_countback(closing=21_200_000, billed=billed) == Decimal("73.71")


def test_countback_dso_is_none_when_the_billing_does_not_cover_the_receivables() -> None:
    assert formulas.dso_countback(closing=500, billed=[(100, 31), (100, 30)]) is None
    # and nothing owed is no days at all
    assert formulas.dso_countback(closing=-500, billed=[(100, 31)]) == Decimal("0.00")


def test_simple_dso_is_closing_over_billed_times_the_days() -> None:
    # 2,950.00 / 3,000.00 * 59 = 58.0166...
    assert formulas.dso_simple(closing=295000, billed=300000, days=59) == Decimal("58.02")
    assert formulas.dso_simple(closing=295000, billed=0, days=59) is None


def test_a_period_is_cut_at_calendar_months_and_the_countback_walks_whole_months() -> None:
    spans = formulas.month_spans(date(2026, 1, 15), date(2026, 3, 10))
    assert [(s.first, s.last, s.days) for s in spans] == [
        (date(2026, 1, 15), date(2026, 1, 31), 17),
        (date(2026, 2, 1), date(2026, 2, 28), 28),
        (date(2026, 3, 1), date(2026, 3, 10), 10),
    ]
    back = formulas.countback_spans(date(2026, 3, 10), months=3)
    assert [(s.first, s.last) for s in back] == [
        (date(2026, 3, 1), date(2026, 3, 10)),
        (date(2026, 2, 1), date(2026, 2, 28)),
        (date(2026, 1, 1), date(2026, 1, 31)),
    ]
