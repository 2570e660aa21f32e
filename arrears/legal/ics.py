"""A firm's hearing dates as an iCalendar file (RFC 5545), made with the `icalendar` library
(pure: no Django, no clock; the hearings are read by `selectors.hearing_dates`).

Invariants:
- one all-day VEVENT per case and hearing day (DTSTART a DATE, DTEND the next day: RFC 5545
  §3.6.1, an all-day event's end is exclusive), whose UID is made of the case and the day only,
  so that a calendar that subscribes to the file updates the same event when its court or index
  number changes, and a hearing moved to another day is a new event;
- a hearing still ahead that is no longer its case's (moved, or the case ended) stays in the file
  with STATUS:CANCELLED (§3.8.1.11), so that a subscribed calendar takes it off;
- the same hearings give the same bytes: DTSTAMP is when the hearing was recorded, not now.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from icalendar import Calendar, Event

PRODUCT = "-//Arrears//Hearings//EN"


@dataclass(frozen=True)
class HearingDate:
    """A hearing of a case, as a calendar shows it (`ics.hearings_ics`)."""

    case_id: int
    account_id: str
    firm: str
    on: date
    court: str
    index_number: str
    recorded_at: datetime  # when it was set (the last time): the calendar event's DTSTAMP
    current: bool  # the case's next hearing still, or one that has passed


def hearing_uid(hearing: HearingDate, domain: str) -> str:
    """The event's UID: stable per case and hearing day (RFC 5545 §3.8.4.7)."""
    return f"case-{hearing.case_id}-hearing-{hearing.on:%Y%m%d}@{domain}"


def hearings_ics(hearings: Sequence[HearingDate], *, name: str, domain: str) -> bytes:
    """The calendar of `hearings`, named `name` (X-WR-CALNAME, which calendar programs show)."""
    calendar = Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    for h in hearings:
        event = Event()
        event.add("uid", hearing_uid(h, domain))
        event.add("dtstamp", h.recorded_at)
        event.add("dtstart", h.on)
        event.add("dtend", h.on + timedelta(days=1))
        index = h.index_number or "no index number yet"
        event.add("summary", f"Hearing: {h.account_id}, index {index}")
        if h.court:
            event.add("location", h.court)
        event.add("description", f"Case {h.case_id} ({h.firm}), account {h.account_id}")
        event.add("transp", "TRANSPARENT")
        event.add("status", "CONFIRMED" if h.current else "CANCELLED")
        calendar.add_component(event)
    return bytes(calendar.to_ical())
