"""Business dates: "today" in the book's time zone, month arithmetic that clamps to month end."""

from __future__ import annotations

import calendar
import os
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

# The book's calendar: the dates its arithmetic (aging buckets, deadlines, month ends, holidays)
# is defined over. A date outside it (0001-01-01, 9999-12-31: a placeholder or a mistyped year)
# is refused where it comes in: an import's row, the API, the pages, the command line.
EARLIEST = date(1900, 1, 1)
LATEST = date(2200, 12, 31)


def book_zone() -> ZoneInfo:
    from django.conf import settings

    return ZoneInfo(settings.TIME_ZONE)


def today() -> date:
    """The book's today. ARREARS_TODAY (YYYY-MM-DD) freezes it for demos and tests."""
    frozen = os.environ.get("ARREARS_TODAY")
    if frozen:
        return date.fromisoformat(frozen)
    return datetime.now(book_zone()).date()


def add_months(day: date, months: int) -> date:
    """`day` moved by whole months, clamped to the month's end (Jan 31 + 1 month = Feb 28)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def in_calendar(day: date) -> bool:
    """Whether `day` lies within the book's calendar (EARLIEST to LATEST)."""
    return EARLIEST <= day <= LATEST


def month_start(day: date) -> date:
    """The first day of `day`'s month."""
    return day.replace(day=1)


def month_end(day: date) -> date:
    """The last day of `day`'s month."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


_MONTH = re.compile(r"(\d{4})-(\d{2})")


def parse_month(text: str) -> date:
    """The first day of the month `YYYY-MM` within the book's calendar; ValueError otherwise."""
    found = _MONTH.fullmatch(text.strip())
    if found and 1 <= int(found[2]) <= 12:
        day = date(int(found[1]), int(found[2]), 1)
        if in_calendar(day):
            return day
    raise ValueError(f"not a month (YYYY-MM): {text[:20]!r}")


def now() -> datetime:
    """The book's present moment, aware: ARREARS_NOW (an ISO time with its offset) freezes it;
    with only ARREARS_TODAY frozen, today's date at the present time of day in the book's zone
    (a demo's "now" falls on its own today)."""
    frozen = os.environ.get("ARREARS_NOW")
    if frozen:
        return datetime.fromisoformat(frozen)
    moment = datetime.now(book_zone())
    return datetime.combine(today(), moment.timetz())
