"""The subscriptions' schedules (`reports.schedules`): pure, no database. The calendar facts the
cases rest on: 2026-12-31 is a Thursday, so ISO week 2026-W53 runs Monday 2026-12-28 to Sunday
2027-01-03 and 2027-W01 starts Monday 2027-01-04 (ISO 8601: week 1 holds the year's first
Thursday, 2027-01-07); 2026-06-01 is a Monday; 2027 is not a leap year, 2028 is."""

from __future__ import annotations

from datetime import date

import pytest

from arrears.reports.schedules import (
    Every,
    ScheduleError,
    Window,
    every_parse,
    is_due,
    next_occasion,
    occasion,
    period_after,
    period_key,
    window,
)

DAILY, MONDAYS = every_parse("daily"), every_parse("weekly:mon")
FIRSTS, LASTS = every_parse("monthly:1"), every_parse("monthly:last")


def test_a_schedule_is_read_and_written_back_the_same() -> None:
    for text in ("daily", "weekly:mon", "weekly:sun", "monthly:1", "monthly:28", "monthly:last"):
        assert str(every_parse(text)) == text
    assert every_parse("Weekly:FRI") == Every("weekly", 4)


@pytest.mark.parametrize(
    "text", ["", "hourly", "weekly", "weekly:monday", "monthly:0", "monthly:29", "daily:1"]
)
def test_a_schedule_that_is_none_of_the_forms_is_refused(text: str) -> None:
    with pytest.raises(ScheduleError):
        every_parse(text)


def test_the_period_keys_across_a_month_end_and_an_iso_week_that_spans_the_new_year() -> None:
    # a month ends: the monthly key turns, the week's does not (Nov 30 and Dec 1 are both W49)
    assert period_key(FIRSTS, date(2026, 11, 30)) == "2026-11"
    assert period_key(FIRSTS, date(2026, 12, 1)) == "2026-12"
    assert period_key(MONDAYS, date(2026, 11, 30)) == "2026-W49"
    assert period_key(MONDAYS, date(2026, 12, 6)) == "2026-W49"  # its Sunday
    assert period_key(MONDAYS, date(2026, 12, 7)) == "2026-W50"
    # the year ends inside 2026-W53: January 1st to 3rd 2027 are still in it
    assert period_key(MONDAYS, date(2026, 12, 31)) == "2026-W53"
    assert period_key(MONDAYS, date(2027, 1, 3)) == "2026-W53"
    assert period_key(MONDAYS, date(2027, 1, 4)) == "2027-W01"
    assert period_key(LASTS, date(2027, 1, 1)) == "2027-01"
    assert period_key(DAILY, date(2026, 12, 6)) == "2026-12-06"


def test_the_occasion_of_a_period() -> None:
    # Monday of 2026-W53 is in December; Friday of it in January
    assert occasion(MONDAYS, date(2027, 1, 2)) == date(2026, 12, 28)
    assert occasion(every_parse("weekly:fri"), date(2026, 12, 28)) == date(2027, 1, 1)
    assert occasion(LASTS, date(2027, 2, 3)) == date(2027, 2, 28)
    assert occasion(LASTS, date(2028, 2, 3)) == date(2028, 2, 29)
    assert occasion(every_parse("monthly:15"), date(2026, 12, 31)) == date(2026, 12, 15)


def test_a_period_is_due_from_its_occasion_to_its_end_but_not_before_the_subscription() -> None:
    made = date(2026, 5, 20)
    # the 1st: due on the 1st, and still on the 3rd (a run missed: the catch up)
    assert is_due(FIRSTS, date(2026, 6, 1), since=made)
    assert is_due(FIRSTS, date(2026, 6, 3), since=made)
    # not on the last of May: June's occasion has not come, May's came before the subscription
    assert not is_due(FIRSTS, date(2026, 5, 31), since=made)
    assert not is_due(LASTS, date(2026, 5, 30), since=made)
    assert is_due(LASTS, date(2026, 5, 31), since=made)
    assert is_due(DAILY, made, since=made)


def test_what_a_send_reports_on_the_day_the_week_or_the_month_just_ended() -> None:
    # monthly on the 1st of June, or caught up on the 3rd: May, as of May 31st
    assert window(FIRSTS, date(2026, 6, 1)) == Window(date(2026, 5, 31), date(2026, 5, 1))
    assert window(FIRSTS, date(2026, 6, 3)) == Window(date(2026, 5, 31), date(2026, 5, 1))
    # on the last of January: December (the month before the occasion's)
    assert window(LASTS, date(2027, 1, 31)) == Window(date(2026, 12, 31), date(2026, 12, 1))
    # weekly on Monday 2027-01-04: 2026-W53, Monday Dec 28 to Sunday Jan 3
    assert window(MONDAYS, date(2027, 1, 4)) == Window(date(2027, 1, 3), date(2026, 12, 28))
    # weekly on Wednesdays, sent Friday 2026-12-11: the week before, Nov 30 to Dec 6
    wednesdays = every_parse("weekly:wed")
    assert window(wednesdays, date(2026, 12, 11)) == Window(date(2026, 12, 6), date(2026, 11, 30))
    # daily: the day before
    assert window(DAILY, date(2026, 12, 1)) == Window(date(2026, 11, 30), date(2026, 11, 30))


def test_the_next_occasion() -> None:
    made = date(2026, 5, 20)
    assert next_occasion(FIRSTS, date(2026, 5, 20), since=made) == date(2026, 6, 1)
    assert next_occasion(FIRSTS, period_after(FIRSTS, date(2026, 6, 1)), since=made) == date(
        2026, 7, 1
    )
    assert next_occasion(MONDAYS, date(2026, 12, 29), since=made) == date(2027, 1, 4)
    assert next_occasion(LASTS, date(2027, 2, 1), since=made) == date(2027, 2, 28)
    assert period_after(DAILY, date(2026, 12, 31)) == date(2027, 1, 1)
