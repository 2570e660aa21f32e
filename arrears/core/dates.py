"""Business dates: "today" in the book's time zone, month arithmetic that clamps to month end."""

from __future__ import annotations

import calendar
import os
from datetime import date, datetime
from zoneinfo import ZoneInfo


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
