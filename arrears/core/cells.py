"""Spreadsheet cells that cannot run as formulas (OWASP, "CSV Injection").

A spreadsheet program runs a cell that starts with `=`, `+`, `-` or `@` as a formula, and a tab
or a carriage return at the start can hide one: a party named `=HYPERLINK(…)` in a mailing
manifest, or a memo `=1+2` in a statement, reached the print vendor's and the controller's
spreadsheets as live formulas. Every export a person opens in a spreadsheet writes its text
cells through `safe_cell` (CSV) or `safe_workbook` (XLSX): such a text gets a leading
apostrophe, which spreadsheet programs read as "this is text". Numbers stay numbers: a Decimal
is not text, and neither is an amount written as text ("-50.00").

The interchange export (`ledger.export`) is data for Arrears and other systems, not a sheet for
people, and must give back the rows imported: it is written as it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def safe_cell(value: Any) -> Any:
    """`value`, with a leading apostrophe if it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(TRIGGERS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    """`safe_cell` of each value of a CSV row."""
    return [safe_cell(v) for v in values]


def safe_workbook(book: Any) -> None:
    """Make every text cell of an openpyxl workbook safe (in place), before it is saved."""
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    safe = safe_cell(cell.value)
                    if safe != cell.value:
                        cell.value = safe
                        cell.data_type = "s"
