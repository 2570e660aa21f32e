"""Spreadsheet cells never run as formulas (OWASP's CSV injection rule; issue 13, item 2)."""

from decimal import Decimal

import pytest
from openpyxl import Workbook

from arrears.core.cells import safe_cell, safe_row, safe_workbook


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("=1+2", "'=1+2"),
        (
            '=HYPERLINK("http://x.example","pay here")',
            '\'=HYPERLINK("http://x.example","pay here")',
        ),
        ("+1 555 0100", "'+1 555 0100"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1+2", "'\t=1+2"),
        ("\r=1+2", "'\r=1+2"),
        ("Tina Ortiz", "Tina Ortiz"),
        ("-50.00", "-50.00"),
        ("+12", "+12"),
        ("", ""),
    ],
)
def test_text_that_would_run_as_a_formula_is_written_as_text(text, written):
    assert safe_cell(text) == written


def test_numbers_stay_numbers():
    assert safe_row([Decimal("-50.00"), -3, None, "x"]) == [Decimal("-50.00"), -3, None, "x"]


def test_a_workbooks_formula_text_becomes_text_and_its_numbers_stay():
    book = Workbook()
    sheet = book.active
    sheet.append(["=1+2", Decimal("-50.00"), "@cmd", "Rent"])
    assert sheet["A1"].data_type == "f"  # what openpyxl would have saved: a formula
    safe_workbook(book)
    assert (sheet["A1"].value, sheet["A1"].data_type) == ("'=1+2", "s")
    assert sheet["B1"].value == Decimal("-50.00")
    assert sheet["C1"].value == "'@cmd"
    assert sheet["D1"].value == "Rent"
