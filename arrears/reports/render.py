"""A report's document in each format: JSON (its `data`), CSV and a plain-text table (its
tables). XLSX, PDF and the page's HTML draw the same tables and charts (`reports.formats`).

Invariant: every format shows the document's values as they are (the strings of its JSON); a
cell a spreadsheet could run as a formula is neutralized (`core.cells.safe_row`)."""

from __future__ import annotations

import csv
import json
from decimal import Decimal, InvalidOperation
from typing import Any, TextIO

from arrears.core.cells import safe_row
from arrears.reports.document import Column, Document, Table

NUMERIC = ("money", "rate", "percent", "days", "int")


def write_json(doc: Document, out: TextIO) -> None:
    json.dump(doc.data, out, indent=1)
    out.write("\n")


def cell(value: Any) -> str:
    return "" if value is None else str(value)


def write_csv(doc: Document, out: TextIO) -> None:
    """Each table under a line naming it (a blank line between), its total last."""
    writer = csv.writer(out, lineterminator="\n")
    for n, table in enumerate(doc.tables):
        if len(doc.tables) > 1:
            if n:
                writer.writerow([])
            writer.writerow(safe_row([table.title]))
        writer.writerow([c.label for c in table.columns])
        for row in _rows(table):
            writer.writerow(safe_row(cell(row.get(c.key)) for c in table.columns))


def _rows(table: Table) -> list[dict[str, Any]]:
    return [*table.rows, *([table.total] if table.total else [])]


def write_table(doc: Document, out: TextIO) -> None:
    """The title, the subtitle, then each table padded to its widest cell."""
    out.write(f"{doc.title}, {doc.subtitle}\n")
    for note in doc.notes:
        out.write(f"{note}\n")
    for table in doc.tables:
        out.write(f"\n{table.title}\n")
        headers = [str(c.label) for c in table.columns]
        rows = [[cell(r.get(c.key)) or "-" for c in table.columns] for r in _rows(table)]
        widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
        right = {i for i, c in enumerate(table.columns) if c.kind in NUMERIC}

        out.write(_line(headers, widths, right) + "\n")
        out.write("  ".join("-" * w for w in widths) + "\n")
        for r in rows:
            out.write(_line(r, widths, right) + "\n")
        if table.note:
            out.write(f"{table.note}\n")


def _line(cells: list[str], widths: list[int], right: set[int]) -> str:
    return "  ".join(
        c.rjust(w) if i in right else c.ljust(w)
        for i, (c, w) in enumerate(zip(cells, widths, strict=True))
    ).rstrip()


def shown(column: Column, value: Any) -> str:
    """A cell as a person reads it on a page or a PDF: an amount with thousands grouped
    ("12,345.60"); anything else as its JSON text."""
    text = cell(value)
    if column.kind == "money" and text:
        try:
            return f"{Decimal(text):,.2f}"
        except InvalidOperation:
            return text  # a total's label ("Total") under an amount's heading
    return text


def table_view(table: Table) -> dict[str, Any]:
    """A table as the page and the PDF draw it: its headings, rows and total as (text, is it a
    number) pairs, a number right-aligned; an empty cell is a dash."""

    def line(row: dict[str, Any], blank: str) -> list[tuple[str, bool]]:
        return [(shown(c, row.get(c.key)) or blank, c.kind in NUMERIC) for c in table.columns]

    return {
        "table": table,
        "heads": [(c.label, c.kind in NUMERIC) for c in table.columns],
        "rows": [line(r, "–") for r in table.rows],
        "total": line(table.total, "") if table.total else None,
    }
