"""California court holidays, for notices whose days are court days, and New York's public
holidays and business days, for periods carried over by General Construction Law §25-a. Pure.

California

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

New York
A period of days "computed from a certain day" (a grace period from a due date, a deadline from
service) that ends on a Saturday, Sunday or public holiday runs to the next business day (N.Y.
General Construction Law §25-a(1); §25 governs periods set by contract alone). A business day is
any day but a Saturday, a Sunday or a public holiday (GCL §19). The public holidays are those of
GCL §24 (as amended by L. 2020, ch. 249, which added Juneteenth).

What comes from where:
- from `holidays` (US, subdivision NY), the days of the names in `NY_FROM_PACKAGE`, general
  election day included (§24: "each general election day", the Tuesday after the first Monday in
  November, N.Y. Election Law §8-100(1)(c));
- added here: Flag Day, the second Sunday in June (§24), which the package does not list; it
  is always a Sunday and is not moved ("if any of such days except Flag day is Sunday");
- left out, although the package lists it: Susan B. Anthony Day (Feb 15), a commemoration and not
  a §24 public holiday, and any other name the package may add;
- the observed days are computed here: a §24 holiday on a Sunday is also observed on the Monday
  after ("the next day thereafter"); one on a Saturday is not moved: §24 has no Friday before,
  so the package's Friday "(observed)" days (Independence Day 2026 on Fri Jul 3, Christmas 2027
  on Fri Dec 24, ...) are business days here.

Invariants: as for California, a year is cached once computed; years before 2021 (the first
Juneteenth under §24) have the package's days of the same names, so that a charge of 2019 still
open is counted too; a day the President or the Governor appoints (§24: days of
general thanksgiving, fasting and prayer) is not known in advance and is not included.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, timedelta
from functools import cache
from types import MappingProxyType

import holidays

from arrears.dunning.planning import add_days

FIRST_YEAR = 2022  # AB 855 (Stats. 2021, ch. 283): §135 in its present shape from 2022
JUNETEENTH_FROM = 2023  # AB 1655 (Stats. 2022, ch. 753)
OBSERVED = " (observed)"

# Names as the `holidays` package spells them (en_US); each is a judicial holiday under §135.
FROM_PACKAGE = frozenset(
    {
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
    }
)


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
    return MappingProxyType(
        {day: "; ".join(names) for day, names in sorted(found.items()) if day.year == year}
    )


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


NY_FIRST_YEAR = 2021  # L. 2020, ch. 249: Juneteenth a §24 public holiday from June 19, 2021

# Names as the `holidays` package spells them (en_US) for US-NY; each is a GCL §24 public holiday.
NY_FROM_PACKAGE = frozenset(
    {
        "New Year's Day",
        "Martin Luther King Jr. Day",
        "Lincoln's Birthday",
        "Washington's Birthday",
        "Memorial Day",
        "Juneteenth National Independence Day",
        "Independence Day",
        "Labor Day",
        "Columbus Day",
        "Election Day",
        "Veterans Day",
        "Thanksgiving Day",
        "Christmas Day",
    }
)


def new_york_public_holidays(year: int) -> dict[date, str]:
    """The New York public holidays (GCL §24) that fall in `year`, by date: each on its own day
    and, when that is a Sunday (Flag Day excepted), on the Monday after ("… (observed)").

    Saturdays and Sundays are not business days either but are not listed. Before 2021 the list
    is the package's of those names for that year (no Juneteenth). Raises RuntimeError if the
    `holidays` package no longer names, for 2021 or later, a holiday this module takes from it."""
    return dict(_ny_holidays(year))


def is_new_york_business_day(day: date) -> bool:
    """Whether `day` is a business day in New York: not a Saturday, a Sunday or a public holiday
    (GCL §§19, 24)."""
    return day.weekday() < 5 and day not in _ny_holidays(day.year)


# The calendar of each non-empty `business_day_rule` of arrears/dunning/policy.py.
BUSINESS_DAYS: Mapping[str, Callable[[date], bool]] = MappingProxyType(
    {"US-NY": is_new_york_business_day}
)


def carry_to_business_day(day: date, rule: str) -> date:
    """The day a period ending on `day` runs to under the policy's `business_day_rule`: `day`
    itself when the rule is "" or `day` is a business day, else the next business day
    (GCL §25-a(1) for "US-NY"). Raises ValueError for a rule no calendar knows."""
    if not rule:
        return day
    try:
        is_business_day = BUSINESS_DAYS[rule]
    except KeyError:
        raise ValueError(f"no business-day calendar for the rule {rule!r}") from None
    while not is_business_day(day):
        day += timedelta(days=1)
    return day


@cache
def _ny_holidays(year: int) -> Mapping[date, str]:
    package = holidays.country_holidays("US", subdiv="NY", years=year, language="en_US")
    found: dict[date, list[str]] = {}
    named: set[str] = set()
    for day in sorted(package):
        for name in package.get_list(day):
            if name.endswith(OBSERVED):
                continue  # §24 moves a Sunday holiday only; computed below
            named.add(name)
            if name in NY_FROM_PACKAGE:
                found.setdefault(day, []).append(name)
    # Before 2021 the same §24 list stood without Juneteenth (and the package lists each holiday
    # from the year it began, such as Martin Luther King Jr. Day): a charge of those years, still
    # open, has its dates counted by the holidays of its own year.
    missing = NY_FROM_PACKAGE - named if year >= NY_FIRST_YEAR else set()
    if missing:
        raise RuntimeError(
            f"the holidays package no longer names {sorted(missing)} for New York in {year}; "
            "update NY_FROM_PACKAGE in arrears/dunning/calendar.py"
        )
    for day, names in list(found.items()):
        # GCL §24: "if any of such days except Flag day is Sunday, the next day thereafter".
        if day.weekday() == 6:
            monday = day + timedelta(days=1)
            found.setdefault(monday, []).extend(name + OBSERVED for name in names)
    # GCL §24: "the second Sunday in June, known as Flag day"; never moved to the Monday.
    found.setdefault(_second_sunday_of_june(year), []).append("Flag Day")
    return MappingProxyType({day: "; ".join(names) for day, names in sorted(found.items())})


def _second_sunday_of_june(year: int) -> date:
    first = date(year, 6, 1)
    first_sunday = first + timedelta(days=(6 - first.weekday()) % 7)
    return first_sunday + timedelta(weeks=1)
