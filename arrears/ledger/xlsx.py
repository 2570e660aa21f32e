"""Aging as an Excel workbook: one sheet per currency, amounts as numbers with two decimals."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

from arrears.core.cells import safe_workbook
from arrears.ledger.selectors import AgingReport

MONEY_FORMAT = "#,##0.00"


def aging_xlsx(reports: Sequence[AgingReport], path: Path) -> None:
    """Write the reports to `path`; cells hold the exact Decimal amounts."""
    workbook = Workbook(write_only=False)
    workbook.remove(workbook.active)
    if not reports:  # a workbook needs a sheet: say there is nothing (no account in scope)
        workbook.create_sheet(title="Aging").append(
            ["Nothing to show: no account is in this view."]
        )
    for report in reports:
        sheet = workbook.create_sheet(title=f"Aging {report.currency}"[:31])
        keys = report.key_columns
        labels = [*report.buckets.labels, "credit", "balance"]
        sheet.append([f"Aging as of {report.as_of.isoformat()} ({report.currency})"])
        sheet.append([*keys, *labels])
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        for row in report.rows:
            amounts = [*row.line.buckets, row.line.credit, row.line.balance]
            sheet.append([row.key.get(k, "") for k in keys] + amounts)
        totals = report.totals
        sheet.append(
            ["TOTAL", *[""] * (len(keys) - 1), *totals.buckets, totals.credit, totals.balance]
        )
        for row_cells in sheet.iter_rows(min_row=3, min_col=len(keys) + 1):
            for cell in row_cells:
                cell.number_format = MONEY_FORMAT
    safe_workbook(workbook)
    workbook.save(path)
