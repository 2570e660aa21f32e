"""A report's document as the bytes of a file: what `--output`, the page's download links, the
API and a subscription's attachment carry. JSON and CSV here; XLSX and PDF draw the same tables
and charts (`reports.render` for the text forms)."""

from __future__ import annotations

from io import StringIO

from django.utils.translation import gettext_lazy as _

from arrears.core.errors import ValidationError
from arrears.reports import render
from arrears.reports.document import Document

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
