"""Date arithmetic in the reports' hand-written SQL, for SQLite (dates are ISO text there) and
PostgreSQL (dates are dates): one spelling of each, for every report.

The arguments are column expressions and the code's own constants, never input."""

from __future__ import annotations

from arrears.ledger import bulk


def plus_days(column: str, days: int) -> str:
    """A date column `days` days later (earlier when negative)."""
    if bulk.is_postgres():
        return f"({column} + {int(days)})"
    return f"date({column}, '{int(days):+d} days')"


def month_of(column: str) -> str:
    """A date column's calendar month as `YYYY-MM`."""
    if bulk.is_postgres():
        return f"to_char({column}, 'YYYY-MM')"
    return f"substr({column}, 1, 7)"


def days_between(later: str, earlier: str) -> str:
    """The whole days from one date column to another."""
    if bulk.is_postgres():
        return f"({later} - {earlier})"
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"
