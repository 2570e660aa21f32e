"""The rows of the interchange format, checked each on its own by the complete path: every check
in a fixed order, the first problem named (`check_row`). What needs the rest of the book (unknown
accounts, references between rows, duplicates) is checked by the importer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from arrears.ledger.interchange.consent import check_consent_cells
from arrears.ledger.interchange.errors import RowError
from arrears.ledger.interchange.fields import (
    CODE_RE,
    CURRENCY_RE,
    EMAIL_RE,
    LANGUAGE_RE,
    PHONE_RE,
    check_ids_and_text,
    check_nul,
    latest_date,
    parse_amount,
    parse_choice,
    parse_country,
    parse_date,
    parse_pattern,
    parse_timezone,
    required,
)
from arrears.ledger.interchange.formats import (
    ACCOUNT_KINDS,
    DATE_FIELDS,
    MAX_LENGTHS,
    PARTY_KINDS,
    ROLES,
    TXN_TYPES,
)
from arrears.ledger.interchange.places import STATE_TIME_ZONES


def dates_check(kind: str, parsed: Any, today: date) -> None:
    """Raise RowError for a date of a parsed row dated more than a year after `today`."""
    latest = latest_date(today)
    for column, attr in DATE_FIELDS.get(kind, ()):
        day = getattr(parsed, attr) if isinstance(parsed, TxnRow) else parsed.get(attr)
        if day is not None and day > latest:
            raise RowError(
                column,
                f"{day.isoformat()} is more than a year after today ({today.isoformat()}): "
                "a mistyped year?",
            )


def parse_property(row: dict[str, str]) -> dict[str, Any]:
    state = required(row, "state")
    country = required(row, "country")
    parse_country(row)
    timezone = parse_timezone(row, "timezone")
    if not timezone and country == "US" and state.upper() not in STATE_TIME_ZONES:
        raise RowError("state", f"unknown US state {state!r}, and no timezone given")
    return {
        "property_id": required(row, "property_id"),
        "name": required(row, "name"),
        "address": row.get("address", ""),
        "city": row.get("city", ""),
        "state": state,
        "postal_code": row.get("postal_code", ""),
        "country": country,
        "timezone": timezone,
        "portfolio": row.get("portfolio", ""),
        "owner_name": row.get("owner_name", ""),
    }


def parse_party(row: dict[str, str]) -> dict[str, Any]:
    check_consent_cells(row)
    return {
        "party_id": required(row, "party_id"),
        "name": required(row, "name"),
        "kind": parse_choice(row, "kind", PARTY_KINDS, "person"),
        "email": parse_pattern(row, "email", EMAIL_RE, "an email address"),
        "phone": parse_pattern(row, "phone", PHONE_RE, "an E.164 phone number (+15551234567)"),
        "address": row.get("address", ""),
        "city": row.get("city", ""),
        "state": row.get("state", ""),
        "postal_code": row.get("postal_code", ""),
        "country": parse_country(row),
        "language": parse_pattern(row, "language", LANGUAGE_RE, "a BCP 47 language tag") or "en",
        "timezone": parse_timezone(row, "timezone"),
    }


def parse_account(row: dict[str, str]) -> dict[str, Any]:
    opened = parse_date(row, "opened")
    closed = parse_date(row, "closed", optional=True)
    if closed is not None and opened is not None and closed < opened:
        raise RowError("closed", f"closed {closed} is before opened {opened}")
    return {
        "account_id": required(row, "account_id"),
        "property_id": row.get("property_id", ""),
        "unit": row.get("unit", ""),
        "kind": parse_choice(row, "kind", ACCOUNT_KINDS, ""),
        "opened_on": opened,
        "closed_on": closed,
        "rent": parse_amount(row, "rent", optional=True, positive=False),
        "deposit_held": parse_amount(row, "deposit_held", optional=True, positive=False),
        "currency": parse_pattern(row, "currency", CURRENCY_RE, "an ISO 4217 code") or "USD",
    }


def parse_account_party(row: dict[str, str]) -> dict[str, Any]:
    return {
        "account_id": required(row, "account_id"),
        "party_id": required(row, "party_id"),
        "role": parse_choice(row, "role", ROLES, ""),
        "guarantee_limit": parse_amount(row, "guarantee_limit", optional=True, positive=False),
    }


class TxnRow(NamedTuple):  # a tuple: built a million times an import, it must be cheap
    txn_id: str
    account_id: str
    posted_on: date
    type: str
    amount: Decimal
    code: str
    due_on: date | None
    applies_to: str
    reverses: str
    reference: str
    memo: str
    extra: dict[str, str]


def parse_transaction(row: dict[str, str]) -> TxnRow:
    txn_id = required(row, "txn_id")
    account_id = required(row, "account_id")
    posted = parse_date(row, "posted")
    assert posted is not None
    kind = parse_choice(row, "type", TXN_TYPES, "")
    amount = parse_amount(row, "amount")
    assert amount is not None
    code = row.get("code", "")
    if code and not CODE_RE.fullmatch(code):
        raise RowError("code", f"a code is upper case letters and digits: {code!r}")
    due = parse_date(row, "due", optional=True)
    applies_to = row.get("applies_to", "")
    reverses = row.get("reverses", "")
    if kind == "charge":
        if not code:
            raise RowError("code", "is required for a charge")
        due = due or posted
    elif due is not None:
        raise RowError("due", "only a charge has a due date")
    if applies_to and kind == "refund":
        raise RowError(
            "applies_to", "a refund names no row: it is paid out of the oldest unapplied credit"
        )
    if applies_to and kind not in ("payment", "credit"):
        raise RowError("applies_to", "only a payment or a credit applies to a charge")
    if kind == "reversal" and not reverses:
        raise RowError("reverses", "a reversal names the payment or credit it undoes")
    if reverses and kind != "reversal":
        raise RowError("reverses", "only a reversal reverses")
    if applies_to == txn_id or reverses == txn_id:
        raise RowError("applies_to" if applies_to == txn_id else "reverses", "names its own row")
    return TxnRow(
        txn_id,
        account_id,
        posted,
        kind,
        amount,
        code,
        due,
        applies_to,
        reverses,
        row.get("reference", ""),
        row.get("memo", ""),
        {},
    )


PARSERS: dict[str, Callable[[dict[str, str]], Any]] = {
    "properties": parse_property,
    "parties": parse_party,
    "accounts": parse_account,
    "account_parties": parse_account_party,
    "transactions": parse_transaction,
}


def check_row(kind: str, row: dict[str, str], today: date) -> Any:
    """A row of a file of `kind` parsed by the complete path: a TxnRow for a transaction, a dict
    of model fields otherwise (without `extra`). `today` is the book's, for the dates it may hold.

    Raises RowError naming the first problem, the checks in this order: a NUL byte anywhere, a
    value too long, an id or a text with characters it may not hold, the row's own parse, a
    date too far ahead.
    """
    check_nul(row)
    for column, limit in MAX_LENGTHS[kind].items():
        if len(row.get(column, "")) > limit:
            raise RowError(column, f"longer than {limit} characters")
    check_ids_and_text(kind, row)
    parsed = PARSERS[kind](row)
    dates_check(kind, parsed, today)
    return parsed
