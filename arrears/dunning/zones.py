"""The time zone a party is contacted in, for the contact-hours rule of the guard."""

from __future__ import annotations

from arrears.core.dates import book_zone
from arrears.ledger.interchange import STATE_TIME_ZONES


def contact_zone(
    party_tz: str | None,
    party_state: str | None,
    property_tz: str | None,
    property_state: str | None,
) -> str:
    """The time zone a party is contacted in: its own, else its state's, else its property's (the
    leased unit), else that property's state's, else the book's. Contact hours are counted in it
    (15 USC §1692c(a)(1))."""
    for zone in (
        party_tz,
        STATE_TIME_ZONES.get((party_state or "").upper()),
        property_tz,
        STATE_TIME_ZONES.get((property_state or "").upper()),
    ):
        if zone:
            return zone
    return str(book_zone())
