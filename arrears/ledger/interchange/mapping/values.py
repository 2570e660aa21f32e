"""The values of a source export: its templates' columns and its amounts, as property-management
systems print them."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from arrears.ledger.interchange.errors import RowError

NOT_CODE_RE = re.compile(r"[^A-Z0-9_-]+")
NOT_ID_RE = re.compile(r"[^A-Za-z0-9._:-]+")
PLACEHOLDER_RE = re.compile(r"\{([^{}]+)\}")


def source_columns(template: str) -> list[str]:
    """The source columns a template reads (`{Column}`; `{Column?}` when it may be absent)."""
    body = template.split("|")[0]
    return [m.rstrip("?") for m in PLACEHOLDER_RE.findall(body) if not m.startswith("_")]


def parse_amount(text: str, column: str) -> Decimal:
    """A source amount as a signed Decimal: `$1,234.50`, `(1,234.50)` and `-1,234.50` (both
    negative), `1234.50-`; empty is 0. Raises RowError for anything else or a fraction of a cent."""
    value = text.strip().replace("$", "").replace(",", "").replace(" ", "")
    negative = False
    if value.startswith("(") and value.endswith(")"):
        value, negative = value[1:-1], True
    if value.endswith("-"):
        value, negative = value[:-1], True
    if value.startswith("-"):
        value, negative = value[1:], not negative
    if value == "":
        if negative:
            raise RowError(column, f"not an amount: {text!r}")
        return Decimal("0.00")
    if not re.fullmatch(r"[0-9]+(\.[0-9]*)?|\.[0-9]+", value):
        raise RowError(column, f"not an amount: {text!r}")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise RowError(column, f"not an amount: {text!r}") from None
    if amount != amount.quantize(Decimal("0.01")):
        raise RowError(column, f"amount has a fraction of a cent: {text!r}")
    amount = amount.quantize(Decimal("0.01"))
    return -amount if negative else amount


def fmt(amount: Decimal) -> str:
    return f"{amount:.2f}"
