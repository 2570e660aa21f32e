"""The consent columns of parties.csv: `x_consent_sms` and `x_consent_autodial`.

The interchange format rejects unknown columns unless they start with `x_`, which it keeps as
custom attributes (spec, "CSV"); consent comes in through that documented extension, not a new
column of the contract. A cell is empty, or `granted;YYYY-MM-DD;how;the words agreed to`, or
`withdrawn;YYYY-MM-DD;how[;what was said]`, where how is written, verbal, web (a withdrawal
also: reply). The importer checks the cells with the row (a bad one is refused with its file,
line and column); the import act records them as consent rows (`dunning.consent`).
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from arrears.ledger.interchange.errors import RowError

CONSENT_COLUMNS = {"x_consent_sms": "sms", "x_consent_autodial": "autodial"}
WAYS = {True: ("written", "verbal", "web"), False: ("written", "verbal", "web", "reply")}


class ConsentCell(NamedTuple):
    channel: str
    granted: bool
    on: date
    how: str
    words: str


def parse_consent(column: str, value: str) -> ConsentCell | None:
    """The consent a cell says, None for an empty cell; RowError naming the column otherwise."""
    value = value.strip()
    if not value:
        return None
    parts = [p.strip() for p in value.split(";", 3)]
    shape = "granted;YYYY-MM-DD;how;words or withdrawn;YYYY-MM-DD;how"
    if len(parts) < 3 or parts[0] not in ("granted", "withdrawn"):
        raise RowError(column, f"not a consent ({shape}): {value[:60]!r}")
    granted = parts[0] == "granted"
    try:
        on = date.fromisoformat(parts[1])
    except ValueError:
        raise RowError(column, f"not a date: {parts[1]!r}") from None
    if parts[2] not in WAYS[granted]:
        raise RowError(column, f"how is one of {', '.join(WAYS[granted])}, not {parts[2]!r}")
    words = parts[3] if len(parts) > 3 else ""
    if granted and not words:
        raise RowError(column, "a consent needs the words the party agreed to")
    return ConsentCell(CONSENT_COLUMNS[column], granted, on, parts[2], words[:2000])


def check_consent_cells(row: dict[str, str]) -> None:
    """Raise RowError for a consent cell of a parties.csv row that says none."""
    for column in CONSENT_COLUMNS:
        if row.get(column):
            parse_consent(column, row[column])
