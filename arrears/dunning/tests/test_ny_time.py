"""New York's time computation, database-free: the public holidays (GCL §24), the grace period
counted without its first day (GCL §20) and carried to a business day (GCL §25-a), and the
deadline a notice names (RPAPL §711(2)), as the `ny-residential` policy and a company's own
policy say them.

Tina Ortiz rents in New York; her brother Greg guarantees the lease.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrears.dunning.calendar import (
    BUSINESS_DAYS,
    carry_to_business_day,
    is_new_york_business_day,
    new_york_public_holidays,
)
from arrears.dunning.deadlines import notice_deadline
from arrears.dunning.planning import AccountState, OpenCharge, Party, first_day, next_steps
from arrears.dunning.policy import (
    BUSINESS_DAY_RULES,
    PolicyError,
    Step,
    built_in_policies,
    parse_policy,
)

NY = built_in_policies()["ny-residential"]
TINA = Party("P-TINA", "primary", "Tina Ortiz")
GREG = Party("P-GREG", "guarantor", "Greg Ortiz")
GRACE_STEPS = ("late-notice", "late-notice-guarantor", "late-fee")


def tina_owes(due: date, amount: str = "1200.00", fees: frozenset[date] = frozenset()):
    rent = OpenCharge(f"R-{due:%m}", "RENT", due, due, Decimal(amount))
    return AccountState(
        "A-TINA",
        "residential_lease",
        moved_out=False,
        rent=Decimal("1200.00"),
        balance=rent.open_amount,
        open_charges=(rent,),
        parties=(TINA, GREG),
        fees_posted={"LATE": fees} if fees else {},
    )


def grace_steps_on(state: AccountState, on: date, policy=NY) -> list[str]:
    planned = next_steps(state, policy, set(), on, carry_over=carry_to_business_day)
    return [p.step.key for p in planned if p.step.key in GRACE_STEPS]


def test_the_2026_new_york_public_holidays_are_those_of_general_construction_law_24():
    assert new_york_public_holidays(2026) == {
        date(2026, 1, 1): "New Year's Day",
        date(2026, 1, 19): "Martin Luther King Jr. Day",  # third Monday of January
        date(2026, 2, 12): "Lincoln's Birthday",  # Feb 12, not a federal holiday
        date(2026, 2, 16): "Washington's Birthday",  # third Monday in February
        date(2026, 5, 25): "Memorial Day",  # last Monday in May
        date(2026, 6, 14): "Flag Day",  # second Sunday in June, never moved
        date(2026, 6, 19): "Juneteenth National Independence Day",  # L. 2020, ch. 249
        # A Saturday: not moved, so Friday, Jul 3 is a business day in New York
        date(2026, 7, 4): "Independence Day",
        date(2026, 9, 7): "Labor Day",  # first Monday in September
        date(2026, 10, 12): "Columbus Day",  # second Monday in October
        date(2026, 11, 3): "Election Day",  # "each general election day"
        date(2026, 11, 11): "Veterans Day",
        date(2026, 11, 26): "Thanksgiving Day",  # fourth Thursday; the Friday after is not one
        date(2026, 12, 25): "Christmas Day",
    }


def test_the_2027_new_york_public_holidays_move_a_sunday_to_monday_and_never_a_saturday():
    assert new_york_public_holidays(2027) == {
        date(2027, 1, 1): "New Year's Day",
        date(2027, 1, 18): "Martin Luther King Jr. Day",
        date(2027, 2, 12): "Lincoln's Birthday",
        # Susan B. Anthony Day (Feb 15), which the package adds, is not a §24 holiday
        date(2027, 2, 15): "Washington's Birthday",
        date(2027, 5, 31): "Memorial Day",
        date(2027, 6, 13): "Flag Day",
        date(2027, 6, 19): "Juneteenth National Independence Day",  # Saturday: Jun 18 is open
        date(2027, 7, 4): "Independence Day",
        date(2027, 7, 5): "Independence Day (observed)",  # GCL §24: a Sunday, "the next day"
        date(2027, 9, 6): "Labor Day",
        date(2027, 10, 11): "Columbus Day",
        date(2027, 11, 2): "Election Day",
        date(2027, 11, 11): "Veterans Day",
        date(2027, 11, 25): "Thanksgiving Day",
        # Saturday: not moved (the package's Friday, Dec 24 is a business day here), and New
        # Year's Day 2028, a Saturday, is not observed on Friday, Dec 31
        date(2027, 12, 25): "Christmas Day",
    }


@pytest.mark.parametrize(
    ("day", "what"),
    [
        (date(2026, 7, 3), "Friday before a Saturday Independence Day: §24 moves Sundays only"),
        (date(2027, 12, 24), "Friday before a Saturday Christmas"),
        (date(2027, 12, 31), "Friday before a Saturday New Year's Day 2028"),
        (date(2028, 2, 11), "Friday before a Saturday Lincoln's Birthday"),
        (date(2026, 2, 13), "Friday after Lincoln's Birthday"),
        (date(2029, 2, 15), "Susan B. Anthony Day: a commemoration, not a §24 holiday"),
        (date(2026, 11, 27), "the day after Thanksgiving: not in §24"),
        (date(2026, 4, 3), "Good Friday: not in §24"),
    ],
)
def test_days_the_package_or_other_states_close_are_new_york_business_days(day, what):
    assert day not in new_york_public_holidays(day.year), what
    assert is_new_york_business_day(day), what


def test_flag_day_is_a_holiday_on_its_sunday_and_is_not_moved_to_the_monday():
    assert new_york_public_holidays(2026)[date(2026, 6, 14)] == "Flag Day"
    assert is_new_york_business_day(date(2026, 6, 15))


def test_saturdays_sundays_and_holidays_are_not_business_days_in_new_york():
    assert not is_new_york_business_day(date(2026, 9, 5))  # Saturday
    assert not is_new_york_business_day(date(2026, 9, 6))  # Sunday
    assert not is_new_york_business_day(date(2026, 9, 7))  # Labor Day
    assert not is_new_york_business_day(date(2026, 11, 3))  # Election Day
    assert is_new_york_business_day(date(2026, 9, 8))  # Tuesday


def test_years_before_juneteenth_was_a_new_york_holiday_have_the_other_public_holidays():
    # when
    days = new_york_public_holidays(2019)

    # then: §24's days of 2019, Juneteenth not among them (a §24 holiday from 2021)
    assert days[date(2019, 7, 4)] == "Independence Day"
    assert days[date(2019, 9, 2)] == "Labor Day"
    assert days[date(2019, 11, 5)] == "Election Day"
    assert days[date(2019, 6, 9)] == "Flag Day"
    assert date(2019, 6, 19) not in days
    assert not any("Juneteenth" in name for name in days.values())
    # and from 2021 it is one (a Saturday that year: §24 moves no Saturday holiday)
    assert "Juneteenth" in new_york_public_holidays(2021)[date(2021, 6, 19)]


def test_every_business_day_rule_a_policy_may_name_has_a_calendar():
    assert set(BUSINESS_DAYS) == set(BUSINESS_DAY_RULES) - {""}


@pytest.mark.parametrize(
    ("due", "tenants_last_day"),
    [
        (date(2026, 10, 1), date(2026, 10, 6)),  # Thursday: the 6th is a Tuesday
        (date(2026, 9, 1), date(2026, 9, 8)),  # the 6th a Sunday, the 7th Labor Day
        (date(2026, 3, 1), date(2026, 3, 6)),  # due on a Sunday: the 6th is a Friday
        (date(2026, 8, 1), date(2026, 8, 6)),  # Saturday: the 6th is a Thursday
        (date(2026, 6, 1), date(2026, 6, 8)),  # the 6th a Saturday: to Monday the 8th
        (date(2026, 10, 29), date(2026, 11, 4)),  # Nov 3, the last day, is Election Day
        (date(2027, 2, 7), date(2027, 2, 16)),  # Fri Lincoln's, weekend, Mon Washington's
    ],
)
def test_the_notice_and_the_fee_come_the_day_after_the_tenants_last_day(due, tenants_last_day):
    # given Tina's rent due on `due`, unpaid
    state = tina_owes(due)
    # then nothing on her last day to pay, and the notice, Greg's letter and the fee the next day
    assert grace_steps_on(state, tenants_last_day) == []
    assert grace_steps_on(state, tenants_last_day + timedelta(days=1)) == list(GRACE_STEPS)


def test_rent_due_october_1_is_noticed_on_wednesday_the_7th_not_the_6th():
    state = tina_owes(date(2026, 10, 1))
    assert grace_steps_on(state, date(2026, 10, 6)) == []
    assert grace_steps_on(state, date(2026, 10, 7)) == list(GRACE_STEPS)


def test_rent_due_september_1_is_noticed_on_wednesday_the_9th_after_labor_day():
    state = tina_owes(date(2026, 9, 1))
    for day in (6, 7, 8):
        assert grace_steps_on(state, date(2026, 9, day)) == [], day
    assert grace_steps_on(state, date(2026, 9, 9)) == list(GRACE_STEPS)


def test_the_late_notice_window_runs_23_days_from_its_own_first_day():
    # given September's rent, whose notice could not come before the 9th
    state = tina_owes(date(2026, 9, 1))
    # then a missed run still sends it on its 23rd day (Oct 1), not on the 24th
    assert "late-notice" in grace_steps_on(state, date(2026, 10, 1))
    assert "late-notice" not in grace_steps_on(state, date(2026, 10, 2))
    # and the fee for 10 days from the 9th (Sep 18), no later
    assert "late-fee" in grace_steps_on(state, date(2026, 9, 18))
    assert "late-fee" not in grace_steps_on(state, date(2026, 9, 19))


@pytest.mark.parametrize(
    "posted",
    [date(2026, 9, 6), date(2026, 9, 9), date(2026, 9, 19)],
    ids=["in grace", "first", "last"],
)
def test_a_late_fee_already_on_the_ledger_for_the_month_is_never_doubled(posted):
    # given September's rent unpaid and a LATE fee someone posted on `posted` (an import)
    state = tina_owes(date(2026, 9, 1), fees=frozenset({posted}))
    # then the policy posts no second fee for September
    assert "late-fee" not in grace_steps_on(state, date(2026, 9, 9))


def test_a_late_fee_of_the_month_before_does_not_stand_for_this_months():
    state = tina_owes(date(2026, 9, 1), fees=frozenset({date(2026, 8, 31)}))
    assert "late-fee" in grace_steps_on(state, date(2026, 9, 9))


@given(
    due=st.dates(min_value=date(2026, 1, 1), max_value=date(2040, 12, 31)),
    grace=st.integers(min_value=0, max_value=30),
)
def test_a_grace_period_never_ends_on_a_day_new_york_is_closed_nor_before_the_plain_count(
    due, grace
):
    step = Step(key="k", action="fee", grace_days_exclusive=grace)
    first = first_day(step, due, "US-NY", carry_to_business_day)
    assert first is not None
    last = first - timedelta(days=1)
    assert is_new_york_business_day(last)
    assert last >= due + timedelta(days=grace)
    # and it is the first business day from the plain count: nothing skipped past
    day = due + timedelta(days=grace)
    while day < last:
        assert not is_new_york_business_day(day)
        day += timedelta(days=1)


@pytest.mark.parametrize(
    ("served", "deadline"),
    [
        (date(2026, 12, 11), date(2026, 12, 28)),  # 14 days: Fri Dec 25, Christmas, then a weekend
        (date(2026, 7, 11), date(2026, 7, 27)),  # served on a Saturday: 14 days, Sat Jul 25
        (date(2026, 3, 11), date(2026, 3, 25)),  # a Wednesday: nothing to carry
        (date(2026, 10, 20), date(2026, 11, 4)),  # Nov 3, Election Day
        (date(2027, 1, 29), date(2027, 2, 16)),  # Feb 12 Lincoln's, the weekend, Feb 15
    ],
)
def test_the_rent_demand_names_a_deadline_that_is_a_new_york_business_day(served, deadline):
    step = NY.step("rent-demand")
    assert notice_deadline(NY, step, served) == deadline


def test_the_planned_rent_demand_names_the_deadline_the_letter_will():
    # given Tina's December rent unpaid and everything before the demand done
    state = tina_owes(date(2026, 12, 1))
    done = {
        f"A-TINA:{k}:R-12:{p}"
        for k, p in (
            ("reminder", "P-TINA"),
            ("late-notice", "P-TINA"),
            ("late-notice-guarantor", "P-GREG"),
        )
    }
    done |= {"A-TINA:late-fee:R-12"}
    # when the cycle plans the demand on Friday, Dec 11
    planned = next_steps(state, NY, done, date(2026, 12, 11), carry_over=carry_to_business_day)
    # then it names Monday, Dec 28, as notice_deadline does: Christmas is no one's last day
    assert [(p.step.key, p.deadline) for p in planned] == [("rent-demand", date(2026, 12, 28))]
    assert planned[0].deadline == notice_deadline(NY, NY.step("rent-demand"), date(2026, 12, 11))


def test_the_referral_waits_for_a_deadline_carried_past_christmas():
    # given the demand served on Friday, Dec 11, whose deadline is Monday, Dec 28
    state = tina_owes(date(2026, 12, 1))
    done = {"A-TINA:rent-demand:2026-12-01:P-TINA"}
    done_on = {"A-TINA:rent-demand:2026-12-01": date(2026, 12, 11)}

    def referral(on: date) -> list[str]:
        planned = next_steps(state, NY, done, on, done_on=done_on, carry_over=carry_to_business_day)
        return [p.step.key for p in planned if p.step.key == "referral"]

    # then no referral on day 15 (Dec 26) nor on the deadline itself, and one the day after
    assert referral(date(2026, 12, 26)) == []
    assert referral(date(2026, 12, 28)) == []
    assert referral(date(2026, 12, 29)) == ["referral"]


@given(
    served=st.dates(min_value=date(2026, 1, 1), max_value=date(2040, 12, 31)),
    days=st.integers(min_value=1, max_value=60),
)
def test_a_deadline_is_never_a_day_new_york_is_closed_nor_earlier_than_the_plain_count(
    served, days
):
    step = Step(key="k", action="notice", channel="letter", template="t", deadline_days=days)
    deadline = notice_deadline(NY, step, served)
    assert deadline is not None
    assert deadline.weekday() < 5
    assert deadline not in new_york_public_holidays(deadline.year)
    assert deadline >= served + timedelta(days=days)
    assert deadline - (served + timedelta(days=days)) <= timedelta(days=4)


def test_the_built_in_new_york_policy_is_version_3_and_counts_by_new_york_days():
    assert NY.version == 3  # 2 counted by New York's days; 3 added the coordinator's calls
    assert NY.business_day_rule == "US-NY"
    assert {NY.step(k).grace_days_exclusive for k in GRACE_STEPS} == {5}
    assert {NY.step(k).days_past_due for k in GRACE_STEPS} == {None}


def test_the_other_built_in_policies_carry_nothing_over():
    others = [p for name, p in built_in_policies().items() if name != "ny-residential"]
    assert {p.business_day_rule for p in others} == {""}
    assert not [s for p in others for s in p.steps if s.grace_days_exclusive is not None]


COMPANY = """
name = "acme-ny"
business_day_rule = "US-NY"
[[steps]]
key = "late-notice"
grace_days_exclusive = 5
per = "charge"
action = "notice"
channel = "certified_letter"
template = "ny-late-rent-notice"
"""


def test_a_company_policy_says_the_same_in_its_own_words():
    policy = parse_policy(COMPANY)
    state = tina_owes(date(2026, 9, 1))
    assert grace_steps_on(state, date(2026, 9, 8), policy) == []
    assert grace_steps_on(state, date(2026, 9, 9), policy) == ["late-notice"]


def test_without_a_business_day_rule_a_grace_period_is_counted_by_gcl_20_alone():
    policy = parse_policy(COMPANY.replace('business_day_rule = "US-NY"', ""))
    state = tina_owes(date(2026, 9, 1))
    assert grace_steps_on(state, date(2026, 9, 6), policy) == []
    assert grace_steps_on(state, date(2026, 9, 7), policy) == ["late-notice"]


def test_a_planner_without_a_calendar_refuses_a_policy_that_needs_one():
    with pytest.raises(ValueError, match="US-NY"):
        next_steps(tina_owes(date(2026, 9, 1)), NY, set(), date(2026, 9, 9))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('business_day_rule = "US-NY"', 'business_day_rule = "NY"'), "business_day_rule must be"),
        (('business_day_rule = "US-NY"', "business_day_rule = true"), "business_day_rule must be"),
        (('business_day_rule = "US-NY"', 'business_day_rul = "US-NY"'), "unknown policy keys"),
        (("grace_days_exclusive = 5", "grace_days_exclusive = -1"), "whole number of days"),
        (("grace_days_exclusive = 5", 'grace_days_exclusive = "5"'), "whole number of days"),
        (("grace_days_exclusive = 5", "grace_days_exclusive = 5.0"), "whole number of days"),
        (
            ("grace_days_exclusive = 5", "grace_days_exclusive = 5\ndays_past_due = 5"),
            "grace_days_exclusive is a trigger of its own: leave out days_past_due",
        ),
        (
            ('template = "ny-late-rent-notice"', 'template = "t"\ndeadline_days = 0'),
            "deadline_days is a whole number of days, 1 or more",
        ),
        (
            ('template = "ny-late-rent-notice"', 'template = "t"\ndeadline_rule = "business"'),
            "deadline_rule must be one of calendar, court_days",
        ),
    ],
)
def test_a_malformed_business_day_rule_or_grace_period_is_refused(change, message):
    with pytest.raises(PolicyError, match=message):
        parse_policy(COMPANY.replace(*change))
