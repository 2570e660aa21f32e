"""The monthly agenda as documents: PDF (WeasyPrint, from templates/reports/agenda.html) and
XLSX (openpyxl). Both print the agenda's JSON form, so the three say the same."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from django.template.loader import render_to_string
from openpyxl import Workbook
from openpyxl.styles import Font

from arrears.core.cells import safe_workbook
from arrears.core.pdf import render_pdf

MONEY_FORMAT = "#,##0.00"


def agenda_html(doc: dict[str, Any]) -> str:
    return render_to_string("reports/agenda.html", {"a": doc})


def agenda_pdf(doc: dict[str, Any]) -> bytes:
    return render_pdf(agenda_html(doc))


def _money(text: str | None) -> Decimal | str:
    return Decimal(text) if text is not None else ""


def agenda_xlsx(doc: dict[str, Any], path: Path) -> None:
    """Sheets: the cases (a row each, with what changed), the hearings ahead, the accounts
    recommended and not referred. Amounts are numbers (exact decimals)."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Cases"
    sheet.append([f"{doc['firm']}: meeting of {doc['month']}, changes since {doc['since']}"])
    header = [
        *("case", "account", "debtor", "property", "status", "since", "index no.", "court"),
        *("hearing", "referred", "balance", "missing", "changes"),
    ]
    sheet.append(header)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for c in doc["cases"]:
        changes = "; ".join(
            f"{e['on']} {e['status_label']}" + (f" ({e['note']})" if e["note"] else "")
            for e in c["changes"]
        )
        sheet.append(
            [
                *(c["case_id"], c["account_id"], c["debtor"], c["property"], c["status_label"]),
                *(c["status_on"], c["index_number"] or "", c["court"] or ""),
                *(c["hearing_on"] or "", _money(c["balance_referred"]), _money(c["balance"])),
                ", ".join(c["missing"]),
                changes,
            ]
        )
    for row in sheet.iter_rows(min_row=3, min_col=10, max_col=11):
        for cell in row:
            cell.number_format = MONEY_FORMAT
    hearings = book.create_sheet("Hearings")
    hearings.append(["case", "account", "hearing", "court", "index no."])
    for h in doc["hearings"]:
        hearings.append(
            [
                h["case_id"],
                h["account_id"],
                h["hearing_on"],
                h["court"] or "",
                h["index_number"] or "",
            ]
        )
    waiting = book.create_sheet("Recommended")
    waiting.append(["account", "property", "state", "balance", "recommended", "why"])
    for r in doc["recommended_not_sent"]:
        waiting.append(
            [
                *(r["account_id"], r["property"], r["state"], _money(r["balance"])),
                *(r["recommended_on"], r["why"]),
            ]
        )
    for row in waiting.iter_rows(min_row=2, min_col=4, max_col=4):
        for cell in row:
            cell.number_format = MONEY_FORMAT
    money = book.create_sheet("Recoveries")
    money.append(["case", "account", "recovered", "fees", "net"])
    for r in doc["recoveries"]["cases"]:
        money.append(
            [r["case_id"], r["account_id"], *(_money(r[k]) for k in ("recovered", "fees", "net"))]
        )
    totals = doc["recoveries"]
    money.append(["Total", "", *(_money(totals[k]) for k in ("recovered", "fees", "net"))])
    settle = book.create_sheet("Settlements")
    settle.append(["settlement", "case", "account", "amount", "balance", "offered", "by"])
    for s in doc["settlements_to_approve"]:
        settle.append(
            [
                *(s["settlement_id"], s["case_id"], s["account_id"]),
                *(_money(s["amount"]), _money(s["balance"]), s["offered_on"], s["offered_by"]),
            ]
        )
    for sheet_ in (money, settle):
        for row in sheet_.iter_rows(min_row=2, min_col=3, max_col=5):
            for cell in row:
                cell.number_format = MONEY_FORMAT
    safe_workbook(book)
    book.save(path)
