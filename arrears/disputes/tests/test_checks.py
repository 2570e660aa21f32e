"""The check of the figures as a pure function (no DB): each check finds what it names."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from arrears.disputes.checks import Applied, Entry, FeeRule, Rules, check_figures

NY_FEE = FeeRule(
    code="LATE",
    fixed=Decimal("50.00"),
    percent_of_rent=Decimal("5"),
    days_past_due=5,
    law="NY RPL §238-a(2)",
)
RULES = Rules(rent=Decimal("1200.00"), fees=(NY_FEE,), known_codes=frozenset({"RENT", "LATE"}))


def rent(txn, due, amount="1200.00", paid_by=()):
    return Entry(txn, due, "charge", "RENT", Decimal(amount), due, paid_by=paid_by)


def test_a_clean_account_has_no_finding():
    entries = [
        rent("R3", date(2026, 3, 1)),
        Entry("P1", date(2026, 3, 2), "payment", "", Decimal("1200.00")),
    ]
    result = check_figures(entries, RULES, book_balance=Decimal("0.00"))
    assert result.ok
    assert result.totals.balance == Decimal("0.00")


def test_each_check_names_the_entry_it_questions():
    march, april = date(2026, 3, 1), date(2026, 4, 1)
    entries = [
        rent("R3", march),
        Entry("F1", date(2026, 3, 6), "charge", "LATE", Decimal("75.00"), date(2026, 3, 6)),
        rent("R4", april, "1250.00", paid_by=(Applied("P1", Decimal("100.00"), april),)),
        Entry("F2", date(2026, 4, 3), "charge", "LATE", Decimal("50.00"), date(2026, 4, 3)),
        rent("R4B", april, "1250.00"),
        Entry("U1", april, "charge", "UTIL", Decimal("30.00"), april),
        Entry(
            "P1",
            april,
            "payment",
            "",
            Decimal("100.00"),
            applies_to="R4",
            paid=(Applied("R4", Decimal("100.00"), april),),
        ),
    ]
    # charges 3,855.00 less the payment of 100.00 is 3,755.00; the open items say 3,700.00
    result = check_figures(entries, RULES, book_balance=Decimal("3700.00"))
    found = {(f.check, f.txn_id) for f in result.findings}
    assert found == {
        ("totals", ""),
        ("late_fee_cap", "F1"),
        ("late_fee_early", "F2"),
        ("rent", "R4"),
        ("rent", "R4B"),
        ("duplicate", "R4B"),
        ("code", "U1"),
        ("order", "P1"),
    }
    cap = next(f for f in result.findings if f.check == "late_fee_cap")
    assert (cap.expected, cap.actual) == (Decimal("50.00"), Decimal("75.00"))
    assert result.totals.balance == Decimal("3755.00")


def test_the_cap_is_five_percent_of_a_small_rent_rounded_down():
    assert NY_FEE.cap(Decimal("810.10")) == Decimal("40.50")
    assert NY_FEE.cap(Decimal("1200.00")) == Decimal("50.00")


def test_a_fee_after_a_grace_period_is_early_until_the_day_the_policys_calendar_gives():
    # given a rule whose first day is the 9th for rent due Sep 1 (a business-day calendar
    # carried the grace over Labor Day), as the dunning part passes it down
    def first_day(due: date) -> date:
        return date(2026, 9, 9) if due == date(2026, 9, 1) else due

    rules = Rules(
        rent=Decimal("1200.00"),
        known_codes=frozenset({"RENT", "LATE"}),
        fees=(FeeRule(fixed=Decimal("50.00"), days_past_due=6, first_day=first_day),),
    )
    entries = [
        rent("R9", date(2026, 9, 1)),
        Entry("F8", date(2026, 9, 8), "charge", "LATE", Decimal("50.00"), date(2026, 9, 8)),
        Entry("F9", date(2026, 9, 9), "charge", "LATE", Decimal("50.00"), date(2026, 9, 9)),
    ]
    # when the figures are checked
    result = check_figures(entries, rules, book_balance=Decimal("1300.00"))
    # then the fee of the 8th is early and the fee of the 9th is not
    early = [(f.txn_id, f.message) for f in result.findings if f.check == "late_fee_early"]
    assert early == [
        (
            "F8",
            "late fee posted 2026-09-08, before 2026-09-09 (the first day after "
            "the grace period for the rent due 2026-09-01)",
        )
    ]
