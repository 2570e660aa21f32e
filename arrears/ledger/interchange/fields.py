"""The values of the interchange format, one field at a time: ids, dates, amounts, codes, choices
and text without control characters. Each check raises RowError naming its column and why."""

from __future__ import annotations

import functools
import re
from datetime import date
from decimal import Decimal

from arrears.core.dates import EARLIEST, LATEST, add_months
from arrears.ledger.interchange.errors import RowError
from arrears.ledger.interchange.formats import AHEAD_MONTHS, ID_COLUMNS, PLAIN_TEXT_COLUMNS
from arrears.ledger.interchange.places import COUNTRIES, zones

# Digits are ASCII: a str pattern's \d takes any script's digits, and Decimal("١٠.٠٠") is 10.00,
# which export writes back as "10.00" (spec: what the importer accepts must round-trip).
DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
AMOUNT_RE = re.compile(r"[0-9]{1,12}(\.[0-9]{1,2})?")
AMOUNT_LOOSE_RE = re.compile(r"[+-]?[0-9]*\.?[0-9]*")
CODE_RE = re.compile(r"[A-Z0-9][A-Z0-9_\-]{0,19}")
CURRENCY_RE = re.compile(r"[A-Z]{3}")
PHONE_RE = re.compile(r"\+[1-9][0-9]{1,14}")
LANGUAGE_RE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*")
EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# Spec 1.1: an id is 1 to 64 letters, digits, ".", "_", "-" and ":", starting with a letter or a
# digit. Ids name pages, archive folders and search links: "sub/dir" or "../../x" broke them all.
ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
# C0 and C1 control characters: a CR/LF in a name split the mailing manifest's addressee.
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# A memo may run over lines and hold tabs; no other control character, never a NUL.
CONTROL_IN_MEMO_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
NUL = "\x00"


def control_reason(value: str) -> str:
    if NUL in value:
        return f"holds a NUL byte (\\x00, a control character): {value!r}"
    return f"holds a control character: {value!r}"


def check_nul(row: dict[str, str]) -> None:
    """Raise RowError naming the first column that holds a NUL byte: no database stores one
    (PostgreSQL refuses it in text and JSON), and no book means one."""
    for column, value in row.items():
        if NUL in value:
            raise RowError(column, control_reason(value))


def check_ids_and_text(kind: str, row: dict[str, str]) -> None:
    """Raise RowError for an id outside spec 1.1's character set, or a control character in a
    name, an address or any other plain text (a memo may hold line breaks and tabs)."""
    for column in ID_COLUMNS[kind]:
        value = row.get(column, "")
        if value and not ID_RE.fullmatch(value):
            raise RowError(
                column,
                f"not an id (1 to 64 letters, digits, '.', '_', '-' or ':', "
                f"starting with a letter or a digit): {value!r}",
            )
    for column in PLAIN_TEXT_COLUMNS[kind]:
        if CONTROL_RE.search(row.get(column, "")):
            raise RowError(column, control_reason(row[column]))
    for column, value in row.items():
        if (column == "memo" or column.startswith("x_")) and CONTROL_IN_MEMO_RE.search(value):
            raise RowError(column, control_reason(value))


def required(row: dict[str, str], column: str) -> str:
    value = row.get(column, "")
    if not value.strip():
        raise RowError(column, "is required")
    return value


def parse_date(row: dict[str, str], column: str, *, optional: bool = False) -> date | None:
    value = row.get(column, "")
    if not value:
        if optional:
            return None
        raise RowError(column, "is required")
    if not DATE_RE.fullmatch(value):
        raise RowError(column, f"not a date (YYYY-MM-DD): {value!r}")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise RowError(column, f"not a date: {value!r}") from None
    if not EARLIEST <= day <= LATEST:
        raise RowError(column, _outside_calendar(day))
    return day


def _outside_calendar(day: date) -> str:
    return (
        f"{day.isoformat()} is outside the book's calendar ({EARLIEST.isoformat()} to "
        f"{LATEST.isoformat()}): a placeholder or a mistyped year?"
    )


@functools.lru_cache(maxsize=16)  # asked for every row of a file, with the same day
def latest_date(today: date) -> date:
    """The latest date a book file may hold: a year after `today` (the project notes of
    docs/ledger-interchange.md: a charge entered ahead of its month is common, an entry dated
    more than a year ahead is a mistyped year)."""
    return min(add_months(today, AHEAD_MONTHS), LATEST)


def parse_amount(
    row: dict[str, str], column: str, *, optional: bool = False, positive: bool = True
) -> Decimal | None:
    value = row.get(column, "")
    if not value:
        if optional:
            return None
        raise RowError(column, "is required")
    if not AMOUNT_RE.fullmatch(value):
        if AMOUNT_LOOSE_RE.fullmatch(value) and "." in value and len(value.split(".")[1]) > 2:
            raise RowError(column, f"amount has more than 2 decimal places: {value!r}")
        if value.startswith("-"):
            raise RowError(column, f"amount must be positive: {value!r}")
        raise RowError(
            column, f"not an amount (digits, '.' and at most 2 decimals, no symbols): {value!r}"
        )
    amount = Decimal(value)
    if positive and amount <= 0:
        raise RowError(column, f"amount must be positive: {value!r}")
    return amount


def parse_choice(row: dict[str, str], column: str, choices: tuple[str, ...], default: str) -> str:
    value = row.get(column, "") or default
    if value not in choices:
        raise RowError(column, f"{value!r} is not one of {', '.join(choices)}")
    return value


def parse_pattern(row: dict[str, str], column: str, pattern: re.Pattern[str], what: str) -> str:
    value = row.get(column, "")
    if value and not pattern.fullmatch(value):
        raise RowError(column, f"not {what}: {value!r}")
    return value


def parse_timezone(row: dict[str, str], column: str) -> str:
    value = row.get(column, "")
    if value and value not in zones():
        raise RowError(column, f"not an IANA time zone: {value!r}")
    return value


def parse_country(row: dict[str, str], column: str = "country") -> str:
    value = row.get(column, "")
    if value and value not in COUNTRIES:
        raise RowError(column, f"not an ISO 3166-1 alpha-2 country code: {value!r}")
    return value
