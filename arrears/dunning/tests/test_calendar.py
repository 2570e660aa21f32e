"""California court holidays (Code Civ. Proc. §135, Gov. Code §6700, Cal. Rules of Court 1.11).

Pure: no database. The 2026 list is the one the California courts publish.
"""

from datetime import date

import pytest

from arrears.dunning import calendar
from arrears.dunning.calendar import (
    california_court_holidays,
    court_days_after,
    is_california_court_holiday,
)


def test_the_2026_court_holidays_are_the_ones_the_courts_publish():
    assert california_court_holidays(2026) == {
        date(2026, 1, 1): "New Year's Day",
        date(2026, 1, 19): "Martin Luther King Jr. Day",
        date(2026, 2, 12): "Lincoln Day",
        date(2026, 2, 16): "Presidents' Day",
        date(2026, 3, 31): "Cesar Chavez Day",
        date(2026, 5, 25): "Memorial Day",
        date(2026, 6, 19): "Juneteenth National Independence Day",
        date(2026, 7, 3): "Independence Day (observed)",
        date(2026, 7, 4): "Independence Day",
        date(2026, 9, 7): "Labor Day",
        date(2026, 9, 25): "Native American Day",
        date(2026, 11, 11): "Veterans Day",
        date(2026, 11, 26): "Thanksgiving Day",
        date(2026, 11, 27): "Day After Thanksgiving",
        date(2026, 12, 25): "Christmas Day",
    }


def test_the_2027_court_holidays_shift_weekend_days_to_the_nearest_weekday():
    assert california_court_holidays(2027) == {
        date(2027, 1, 1): "New Year's Day",
        date(2027, 1, 18): "Martin Luther King Jr. Day",
        date(2027, 2, 12): "Lincoln Day",
        date(2027, 2, 15): "Presidents' Day",
        date(2027, 3, 31): "Cesar Chavez Day",
        date(2027, 5, 31): "Memorial Day",
        date(2027, 6, 18): "Juneteenth National Independence Day (observed)",
        date(2027, 6, 19): "Juneteenth National Independence Day",
        date(2027, 7, 4): "Independence Day",
        date(2027, 7, 5): "Independence Day (observed)",
        date(2027, 9, 6): "Labor Day",
        date(2027, 9, 24): "Native American Day",
        date(2027, 11, 11): "Veterans Day",
        date(2027, 11, 25): "Thanksgiving Day",
        date(2027, 11, 26): "Day After Thanksgiving",
        date(2027, 12, 24): "Christmas Day (observed)",
        date(2027, 12, 25): "Christmas Day",
        # New Year's Day 2028 is a Saturday: the courts close on Friday, Dec 31, 2027.
        date(2027, 12, 31): "New Year's Day (observed)",
    }


@pytest.mark.parametrize(
    ("observed", "holiday"),
    [
        (date(2026, 7, 3), "Independence Day"),  # Saturday → Friday before
        (date(2027, 7, 5), "Independence Day"),  # Sunday → Monday after
        (date(2022, 2, 11), "Lincoln Day"),  # Saturday, added here, not by the package
        (date(2023, 2, 13), "Lincoln Day"),  # Sunday
        # The package moves a Sunday Cesar Chavez Day only; rule 1.11 moves a Saturday one too.
        (date(2029, 3, 30), "Cesar Chavez Day"),
        (date(2029, 11, 12), "Veterans Day"),
    ],
)
def test_a_weekend_holiday_is_observed_on_the_nearest_weekday(observed, holiday):
    assert california_court_holidays(observed.year)[observed] == f"{holiday} (observed)"
    assert is_california_court_holiday(observed)


@pytest.mark.parametrize(
    ("day", "what"),
    [
        (date(2028, 2, 15), "Susan B. Anthony Day: a day of observance, not a holiday"),
        (date(2027, 10, 29), "Diwali: a state holiday excluded from §135 by AB 268"),
        (date(2026, 10, 12), "Columbus Day: excluded from §135 by AB 855"),
        (date(2026, 9, 9), "Admission Day: excluded from §135"),
        (date(2026, 2, 17), "Lunar New Year: excluded from §135"),
        (date(2026, 4, 24), "Genocide Remembrance Day: excluded from §135"),
        (date(2026, 4, 3), "Good Friday: a half day only"),
        (date(2022, 6, 20), "Juneteenth 2022: a judicial holiday only from 2023"),
    ],
)
def test_commemorative_and_excluded_days_are_court_days(day, what):
    assert day not in california_court_holidays(day.year), what
    assert not is_california_court_holiday(day), what


def test_susan_b_anthony_day_is_dropped_even_when_it_shares_a_day_with_presidents_day():
    assert california_court_holidays(2027)[date(2027, 2, 15)] == "Presidents' Day"


def test_every_saturday_and_sunday_is_a_judicial_holiday():
    assert is_california_court_holiday(date(2026, 9, 5))  # Saturday
    assert is_california_court_holiday(date(2026, 9, 6))  # Sunday
    assert not is_california_court_holiday(date(2026, 9, 8))  # Tuesday


def test_three_court_days_from_the_friday_before_labor_day_end_on_thursday():
    assert court_days_after(date(2026, 9, 4), 3) == date(2026, 9, 10)


def test_three_court_days_from_the_wednesday_before_thanksgiving_end_the_next_wednesday():
    assert court_days_after(date(2026, 11, 25), 3) == date(2026, 12, 2)


def test_years_before_2022_are_refused():
    with pytest.raises(ValueError, match="2021"):
        california_court_holidays(2021)


def test_a_holiday_the_package_stops_naming_is_an_error_not_a_court_day(monkeypatch):
    real = calendar.holidays.country_holidays

    def without_labor_day(*args, **kwargs):
        found = real(*args, **kwargs)
        for day in [d for d in found if found.get(d) == "Labor Day"]:
            found.pop(day)
        return found

    monkeypatch.setattr(calendar.holidays, "country_holidays", without_labor_day)
    calendar._court_holidays.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="Labor Day"):
            california_court_holidays(2031)
    finally:
        monkeypatch.undo()
        calendar._court_holidays.cache_clear()
