"""The account analysis as documents: PDF (WeasyPrint, from templates/disputes/analysis.html) and
XLSX (openpyxl). Both print the analysis' JSON form, so the three outputs say the same figures."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from django.template.loader import render_to_string
from openpyxl import Workbook
from openpyxl.styles import Font

from arrears.core.cells import safe_workbook
from arrears.core.pdf import render_pdf
from arrears.disputes.selectors import Analysis

MONEY_FORMAT = "#,##0.00"


def analysis_html(analysis: Analysis) -> str:
    doc = analysis.as_json()
    buckets = list(doc["open_items"]["buckets"].items())
    return render_to_string(
        "disputes/analysis.html", {"a": analysis, "doc": doc, "buckets": buckets}
    )


def analysis_pdf(analysis: Analysis) -> bytes:
    return render_pdf(analysis_html(analysis))


def _money(text: str | None) -> Decimal | str:
    return Decimal(text) if text is not None else ""


def analysis_xlsx(analysis: Analysis, path: Path) -> None:
    """Three sheets: the entries with running balance, the open items, the check of the figures.
    Amounts are numbers (exact decimals), formatted with two places."""
    doc = analysis.as_json()
    book = Workbook()
    _entries_sheet(book, doc)
    _open_items_sheet(book, doc)
    _check_sheet(book, doc)
    safe_workbook(book)
    book.save(path)


def _entries_sheet(book: Workbook, doc: dict[str, Any]) -> None:
    """The entries with their running balance, between the opening and closing balances."""
    sheet = book.active
    sheet.title = "Entries"
    sheet.append(
        [f"Account analysis {doc['account_id']} from {doc['from'] or 'opening'} to {doc['to']}"]
    )
    sheet.append(["Opening balance", "", "", "", "", "", _money(doc["opening_balance"])])
    header = [
        "posted",
        "txn_id",
        "type",
        "code",
        "period",
        "due",
        "amount",
        "paid / paid by",
        "balance",
        "check",
    ]
    sheet.append(header)
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    for e in doc["entries"]:
        paid = "; ".join(f"{p['txn_id']} {p['amount']}" for p in e["paid"] + e["paid_by"])
        sheet.append(
            [
                e["posted_on"],
                e["txn_id"],
                e["type"],
                e["code"],
                e["period"],
                e["due_on"] or "",
                _money(e["amount"]),
                paid,
                _money(e["balance"]),
                ", ".join(e["flags"]),
            ]
        )
    sheet.append(["Closing balance", "", "", "", "", "", "", "", _money(doc["closing_balance"])])
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, Decimal):
                cell.number_format = MONEY_FORMAT


def _open_items_sheet(book: Workbook, doc: dict[str, Any]) -> None:
    items = book.create_sheet("Open items")
    items.append([f"Open items as of {doc['open_items']['as_of']}"])
    items.append([*doc["open_items"]["buckets"], "credit"])
    items.append(
        [
            *(_money(v) for v in doc["open_items"]["buckets"].values()),
            _money(doc["open_items"]["credit"]),
        ]
    )


def _check_sheet(book: Workbook, doc: dict[str, Any]) -> None:
    check = book.create_sheet("Check")
    rec = doc["check"]["recomputed"]
    check.append(
        [
            "recomputed",
            "charges",
            "payments",
            "credits",
            "reversals",
            "refunds",
            "balance",
            "book balance",
        ]
    )
    check.append(
        [
            "",
            *(
                _money(rec[k])
                for k in ("charges", "payments", "credits", "reversals", "refunds", "balance")
            ),
            _money(doc["check"]["book_balance"]),
        ]
    )
    check.append([])
    check.append(["check", "txn_id", "finding", "expected", "actual"])
    for f in doc["check"]["findings"]:
        check.append(
            [f["check"], f["txn_id"], f["message"], _money(f["expected"]), _money(f["actual"])]
        )
