"""California court holidays, for notices whose days are court days. Pure.

A 3-day notice to pay rent or quit counts out "Saturdays and Sundays and other judicial holidays"
(Cal. Code Civ. Proc. §1161(2)). The judicial holidays (Code Civ. Proc. §135) are every full-day
holiday of Gov. Code §6700, Thanksgiving included, except Admission Day (Sep 9), Columbus Day,
Lunar New Year, Genocide Remembrance Day, Diwali and days appointed by the President but not by
the Governor; and every Saturday and the day after Thanksgiving. A judicial holiday on a Saturday
is observed on the Friday before, on a Sunday on the Monday after (Cal. Rules of Court, rule 1.11,
made under §135). Time is counted excluding the first day and including the last, which must not
be a holiday (Code Civ. Proc. §§12, 12a).

What comes from where:
- from `holidays` (US, subdivision CA), the days of the names in `FROM_PACKAGE`;
- added here: Lincoln Day (Feb 12, Gov. Code §6700): the package drops it after 2009, when
  state employees lost it, but it is still a judicial holiday; Native American Day (the fourth
  Friday in September, Gov. Code §6700), a judicial holiday since AB 855 (Stats. 2021,
  ch. 283);
- left out, although the package lists them: Susan B. Anthony Day (Feb 15, a day of observance,
  not a §6700 holiday), Diwali (a §6700 holiday since AB 268, Stats. 2025, ch. 358, which also
  excluded it from §135), Juneteenth in 2022 (a federal holiday only; a state and judicial
  holiday from 2023, AB 1655, Stats. 2022, ch. 753), and any other name the package may add;
- the observed days are computed here by rule 1.11 for every holiday; the package's own observed
  days are not used (for Cesar Chavez Day it shifts a Sunday only, as Gov. Code §6700 does).

Invariants: the result for a year is fixed once computed (cached); years before 2022 are refused,
since §135 then differed (Columbus Day was a judicial holiday until AB 855) and is not modelled;
a day the Governor appoints as a holiday is not known in advance and is not included.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from functools import cache
from types import MappingProxyType

import holidays

from arrears.dunning.planning import add_days

FIRST_YEAR = 2022  # AB 855 (Stats. 2021, ch. 283): §135 in its present shape from 2022
JUNETEENTH_FROM = 2023  # AB 1655 (Stats. 2022, ch. 753)
OBSERVED = " (observed)"

# Names as the `holidays` package spells them (en_US); each is a judicial holiday under §135.
FROM_PACKAGE = frozenset({
    "New Year's Day",
    "Martin Luther King Jr. Day",
    "Presidents' Day",
    "Cesar Chavez Day",
    "Memorial Day",
    "Juneteenth National Independence Day",
    "Independence Day",
    "Labor Day",
    "Veterans Day",
    "Thanksgiving Day",
    "Day After Thanksgiving",
    "Christmas Day",
})  # fmt: skip


def california_court_holidays(year: int) -> dict[date, str]:
    """The California judicial holidays that fall in `year`, by date: each holiday on its own day
    and, when that is a weekend, on the weekday the courts observe it ("… (observed)").

    Saturdays and Sundays are judicial holidays too but are not listed. Raises ValueError for a
    year before 2022, and RuntimeError if the `holidays` package no longer names a holiday this
    module takes from it (a rename must not silently drop a court holiday)."""
    return dict(_court_holidays(year))


def is_california_court_holiday(day: date) -> bool:
    """Whether `day` is a judicial holiday in California: a Saturday or Sunday (Code Civ. Proc.
    §135, Gov. Code §6700(a)(1)) or a day of `california_court_holidays`."""
    return day.weekday() >= 5 or day in _court_holidays(day.year)


def court_days_after(start: date, n: int) -> date:
    """The `n`th California court day after `start` (a 3-day notice served on `start` expires at
    the end of `court_days_after(start, 3)`: Code Civ. Proc. §§12, 1161(2))."""
    return add_days(start, n, "court_days", is_california_court_holiday)


@cache
def _court_holidays(year: int) -> Mapping[date, str]:
    if year < FIRST_YEAR:
        raise ValueError(
            f"California court holidays before {FIRST_YEAR} are not modelled (asked for {year})"
        )
    actual: dict[date, list[str]] = {}
    # Next year's New Year's Day on a Saturday is observed on this year's Dec 31.
    for y in (year, year + 1):
        for day, name in _actual_holidays(y):
            actual.setdefault(day, []).append(name)
    found: dict[date, list[str]] = {}
    for day, names in sorted(actual.items()):
        for name in names:
            found.setdefault(day, []).append(name)
            shifted = _observed_on(day)
            if shifted != day:
                found.setdefault(shifted, []).append(name + OBSERVED)
    return MappingProxyType({
        day: "; ".join(names) for day, names in sorted(found.items()) if day.year == year
    })  # fmt: skip


def _actual_holidays(year: int) -> list[tuple[date, str]]:
    """The judicial holidays of `year` on their own days, before any shift to a weekday."""
    package = holidays.country_holidays("US", subdiv="CA", years=year, language="en_US")
    days: list[tuple[date, str]] = []
    named: set[str] = set()
    for day in sorted(package):
        for name in package.get_list(day):
            if name.endswith(OBSERVED):
                continue  # observed days are computed by rule 1.11 below
            named.add(name)
            if name not in FROM_PACKAGE:
                continue
            if name.startswith("Juneteenth") and year < JUNETEENTH_FROM:
                continue
            days.append((day, name))
    missing = FROM_PACKAGE - named
    if missing:
        raise RuntimeError(
            f"the holidays package no longer names {sorted(missing)} for California in {year}; "
            "update FROM_PACKAGE in arrears/dunning/calendar.py"
        )
    # Gov. Code §6700; still a judicial holiday under Code Civ. Proc. §135.
    days.append((date(year, 2, 12), "Lincoln Day"))
    # Gov. Code §6700; a judicial holiday under §135 since AB 855 (Stats. 2021, ch. 283).
    days.append((_fourth_friday_of_september(year), "Native American Day"))
    return days


def _observed_on(day: date) -> date:
    """Cal. Rules of Court, rule 1.11: Saturday → the Friday before, Sunday → the Monday after."""
    if day.weekday() == 5:
        return day - timedelta(days=1)
    if day.weekday() == 6:
        return day + timedelta(days=1)
    return day


def _fourth_friday_of_september(year: int) -> date:
    first = date(year, 9, 1)
    first_friday = first + timedelta(days=(4 - first.weekday()) % 7)
    return first_friday + timedelta(weeks=3)
