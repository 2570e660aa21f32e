"""What the daily run's stories read back: dates of March 2026, the actions carried out, the
timeline, late fees and the book's row counts."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from arrears.dunning.models import Action
from arrears.ledger.models import TimelineEvent, Transaction

MARCH_2 = date(2026, 3, 2)
MARCH_3 = date(2026, 3, 3)
MARCH_5 = date(2026, 3, 5)
MARCH_6 = date(2026, 3, 6)
MARCH_7 = date(2026, 3, 7)
MARCH_9 = date(2026, 3, 9)
MARCH_10 = date(2026, 3, 10)
MARCH_11 = date(2026, 3, 11)
MARCH_25 = date(2026, 3, 25)
MARCH_26 = date(2026, 3, 26)
NEW_YORK = ZoneInfo("America/New_York")


def done(account_id: str, step: str) -> list[Action]:
    """The account's actions of one step that were carried out (not refused)."""
    return list(
        Action.objects.filter(account__account_id=account_id, step=step)
        .exclude(status="refused")
        .select_related("party")
        .order_by("id")
    )


def timeline(account_id: str, kind: str) -> list[TimelineEvent]:
    return list(
        TimelineEvent.objects.filter(account__account_id=account_id, kind=kind).order_by("id")
    )


def late_fees(account_id: str) -> list[Transaction]:
    return list(
        Transaction.objects.filter(account__account_id=account_id, code="LATE").order_by("id")
    )


def book_counts() -> tuple[int, int, int]:
    return (Action.objects.count(), TimelineEvent.objects.count(), Transaction.objects.count())
