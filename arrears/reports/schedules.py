"""When a subscription sends (`Subscription.every`) and what its report covers: pure, no Django,
no clock (the day is given).

A schedule is `daily`, `weekly:mon` … `weekly:sun`, `monthly:1` … `monthly:28` or
`monthly:last`. Each divides the calendar into periods (a day, an ISO week, a month); a
subscription sends once per period, on the period's *occasion* (its weekday, its day of the
month) or, when the scheduler did not run that day, on a later day of the same period (a catch
up, sending what the occasion would have sent). Invariants:
- `period_key` names the period a day is in ("2026-12-06", "2026-W49", "2026-12"): the key of
  the one send per recipient; ISO 8601 weeks (Monday to Sunday, the week with the year's first
  Thursday is week 1), so 2026-12-31 is in 2026-W53 and 2027-01-01 too;
- a subscription made after its period's occasion starts with the next period (nothing is sent
  for an occasion that came before it existed);
- the report is as of the day before the occasion (the last whole day) and a period report
  covers the last whole period before the occasion: the day before (daily), the ISO week before
  the occasion's (weekly), the calendar month before the occasion's (monthly); so a send caught
  up later the same period reads the same days.
Days of the month stop at 28 (every month has one) or `last`.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
KINDS = ("daily", "weekly", "monthly")


class ScheduleError(ValueError):
    """A schedule that is none of the forms above (the text, for the message)."""


@dataclass(frozen=True)
class Every:
    kind: str  # daily | weekly | monthly
    day: int = 0  # weekly: 0 (Monday) … 6; monthly: 1 … 28, or 0 for the last day

    def __str__(self) -> str:
        if self.kind == "weekly":
            return f"weekly:{WEEKDAYS[self.day]}"
        if self.kind == "monthly":
            return f"monthly:{self.day or 'last'}"
        return "daily"


def every_parse(text: str) -> Every:
    """The schedule `text` names; ScheduleError when it is none."""
    kind, _, day = text.strip().lower().partition(":")
    if kind == "daily" and not day:
        return Every("daily")
    if kind == "weekly" and day in WEEKDAYS:
        return Every("weekly", WEEKDAYS.index(day))
    if kind == "monthly":
        if day == "last":
            return Every("monthly", 0)
        if day.isdigit() and 1 <= int(day) <= 28:
            return Every("monthly", int(day))
    raise ScheduleError(text)


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def period_key(every: Every, on: date) -> str:
    """The period `on` is in, by the schedule's kind."""
    if every.kind == "weekly":
        year, week, _ = on.isocalendar()
        return f"{year}-W{week:02d}"
    if every.kind == "monthly":
        return f"{on:%Y-%m}"
    return on.isoformat()


def occasion(every: Every, on: date) -> date:
    """The day the period of `on` sends on."""
    if every.kind == "weekly":
        return on - timedelta(days=on.weekday()) + timedelta(days=every.day)
    if every.kind == "monthly":
        if every.day == 0:
            return _month_end(on.year, on.month)
        return on.replace(day=every.day)
    return on


def is_due(every: Every, on: date, *, since: date) -> bool:
    """Whether a subscription made on `since` sends on `on` (unless it did already this
    period): the period's occasion has come, and came no earlier than the subscription."""
    day = occasion(every, on)
    return since <= day <= on


@dataclass(frozen=True)
class Window:
    as_of: date  # the report's day (a period's last day)
    date_from: date  # a period report's first day


def window(every: Every, on: date) -> Window:
    """What the send of `on`'s period reports on (see the module docstring)."""
    day = occasion(every, on)
    last = day - timedelta(days=1)
    if every.kind == "weekly":
        monday = day - timedelta(days=day.weekday())
        return Window(monday - timedelta(days=1), monday - timedelta(days=7))
    if every.kind == "monthly":
        end = day.replace(day=1) - timedelta(days=1)
        return Window(end, end.replace(day=1))
    return Window(last, last)


def next_occasion(every: Every, on: date, *, since: date) -> date:
    """The first occasion on or after `on` (and `since`): what the list shows as the next send;
    a period already sent is the caller's to skip (`on` the day after it)."""
    day = max(on, since)
    for _ in range(3):  # this period's occasion, else the next one's
        found = occasion(every, day)
        if found >= day:
            return found
        day = period_after(every, day)
    raise AssertionError(f"no occasion of {every} after {on}")  # pragma: no cover


def period_after(every: Every, on: date) -> date:
    """The first day of the period after `on`'s (the next send's, once this one is sent)."""
    if every.kind == "weekly":
        return on - timedelta(days=on.weekday()) + timedelta(days=7)
    if every.kind == "monthly":
        return _month_end(on.year, on.month) + timedelta(days=1)
    return on + timedelta(days=1)
