"""A report's document as the bytes of a file: what `--output`, the page's download links, the
API and a subscription's attachment carry. JSON and CSV (`reports.render`), XLSX (openpyxl) and
PDF (WeasyPrint, from templates/reports/report.html) draw the same tables and charts.

Invariants:
- XLSX: a sheet per table, its header in bold, its total last in bold; amounts, rates, percents,
  days and counts are numbers (exact decimals, equal to the JSON's strings) with a number format,
  dates the JSON's ISO text; every text cell a spreadsheet could run as a formula is neutralized
  (`core.cells.safe_workbook`). A last sheet holds the title, the subtitle and the notes.
- PDF: the title, the subtitle, the notes, each chart (`reports.charts`, inline SVG) and each
  table; landscape when a table is wide. It loads nothing but what Arrears ships
  (`core.pdf.render_pdf`).
"""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO, StringIO
from typing import Any

from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from arrears.core.errors import ValidationError
from arrears.reports import render
from arrears.reports.charts import charts_svg
from arrears.reports.document import Column, Document, Table

FILE_FORMATS = ("csv", "json", "xlsx", "pdf")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def to_bytes(doc: Document, fmt: str) -> bytes:
    """The document as a file of format `fmt` (one of FILE_FORMATS)."""
    if fmt in ("csv", "json"):
        out = StringIO()
        (render.write_csv if fmt == "csv" else render.write_json)(doc, out)
        return out.getvalue().encode("utf-8")
    if fmt == "xlsx":
        return to_xlsx(doc)
    if fmt == "pdf":
        return to_pdf(doc)
    raise ValidationError(
        _("a report cannot be written as {format} (formats: {formats})"),
        code="report_format",
        format=fmt,
        formats=", ".join(FILE_FORMATS),
        field="format",
    )


def file_name(doc: Document, fmt: str, day: str) -> str:
    """`over-60-2026-05-15.pdf`: the report's name, its day, the format's extension."""
    return f"{doc.name}-{day}.{fmt}"


# How a column's numbers show in a workbook; the value itself is the JSON's decimal, exact.
NUMBER_FORMATS = {
    "money": "#,##0.00",
    "rate": "0.0000",
    "percent": "0.00",
    "days": "#,##0.00",
    "int": "#,##0",
}
WIDE = 7  # a table of more columns than this prints in landscape


def xlsx_value(column: Column, value: Any) -> Any:
    """A cell's value: a number for a numeric column (None stays empty), else the text."""
    if value is None or value == "":
        return None
    if column.kind in NUMBER_FORMATS:
        try:
            return Decimal(str(value))
        except ArithmeticError:
            return str(value)  # a column's total label ("Total") under a numeric heading
    return str(value)


def _sheet_title(title: str, taken: set[str]) -> str:
    """A sheet's name: at most 31 characters, none of the seven Excel refuses, unique."""
    clean = "".join("-" if c in "[]:*?/\\" else c for c in str(title)).strip("' ") or "Sheet"
    name, n = clean[:31], 2
    while name.lower() in taken:
        suffix = f" ({n})"
        name, n = clean[: 31 - len(suffix)] + suffix, n + 1
    taken.add(name.lower())
    return name


def to_xlsx(doc: Document) -> bytes:
    """The workbook (module docstring)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from arrears.core.cells import safe_workbook

    book = Workbook()
    book.remove(book.active)
    taken: set[str] = set()
    bold = Font(bold=True)
    for table in doc.tables or (Table(doc.title, (), []),):
        sheet = book.create_sheet(_sheet_title(table.title or doc.title, taken))
        sheet.append([str(c.label) for c in table.columns])
        for cell in sheet[1]:
            cell.font = bold
        rows = [*table.rows, *([table.total] if table.total else [])]
        for row in rows:
            sheet.append([xlsx_value(c, row.get(c.key)) for c in table.columns])
        for n, column in enumerate(table.columns, 1):
            number = NUMBER_FORMATS.get(column.kind)
            letter = sheet.cell(row=1, column=n).column_letter
            width = max(
                [len(str(column.label)), *(len(str(r.get(column.key) or "")) for r in rows)]
            )
            sheet.column_dimensions[letter].width = min(max(width + 2, 8), 50)
            if number:
                for (cell,) in sheet.iter_rows(min_row=2, min_col=n, max_col=n):
                    cell.number_format = number
        if table.total:
            for cell in sheet[sheet.max_row]:
                cell.font = bold
        if table.note:
            sheet.append([])
            sheet.append([table.note])
        sheet.freeze_panes = "A2"
    about = book.create_sheet(_sheet_title(_t("About"), taken))
    about.append([doc.title])
    about["A1"].font = Font(bold=True, size=13)
    about.append([doc.subtitle])
    for note in doc.notes:
        about.append([note])
    safe_workbook(book)
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def report_html(doc: Document) -> str:
    """The report as the HTML its PDF prints (templates/reports/report.html)."""
    from django.template.loader import render_to_string
    from django.utils.safestring import mark_safe

    wide = any(len(t.columns) > WIDE for t in doc.tables)
    tables = [render.table_view(t) for t in doc.tables]
    return render_to_string(
        "reports/report.html",
        {
            "doc": doc,
            # every text in a chart is escaped by reports.charts
            "charts": [
                (chart, mark_safe(svg))  # noqa: S308
                for chart, svg in charts_svg(doc.charts, prefix="pdf-chart")
            ],
            "tables": tables,
            "wide": wide,
        },
    )


def to_pdf(doc: Document) -> bytes:
    """The PDF (module docstring)."""
    from arrears.core.pdf import render_pdf

    return render_pdf(report_html(doc))
