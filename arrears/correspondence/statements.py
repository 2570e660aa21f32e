"""Statements of account as PDF and XLSX: the ledger with its running balance, the open items by
aging bucket, and the payments with what each paid.

Both formats are built from one `account_ledger` as of a date, so they always agree; the PDF is
archived (stored once, with its SHA-256) and written on the account's timeline.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import transaction
from django.template import engines
from django.utils import timezone as dj_timezone

from arrears.core.cells import safe_workbook
from arrears.correspondence.addresses import mailing_address
from arrears.correspondence.archive import archive_store
from arrears.correspondence.catalog import CODE_LABELS
from arrears.correspondence.context import premises_line
from arrears.correspondence.models import Document
from arrears.ledger.allocation import DEBITS, RECEIPTS
from arrears.ledger.models import TimelineEvent
from arrears.ledger.selectors import AccountLedger, account_ledger

MONEY_FORMAT = "#,##0.00"


@dataclass(frozen=True)
class Statement:
    account_id: str
    as_of: date
    data: bytes
    content_type: str
    document: Document | None  # the archived PDF (an XLSX is not archived)


def _rows(ledger: AccountLedger) -> dict[str, Any]:
    labels = CODE_LABELS["en"]
    lines = []
    for line in ledger.lines:
        charge = line.amount if line.type in DEBITS else None
        paid = line.amount if line.type in RECEIPTS else None
        lines.append(
            {
                "posted_on": line.posted_on,
                "type": line.type,
                "code": line.code,
                "label": labels.get(line.code, line.code),
                "txn_id": line.txn_id,
                "memo": line.memo,
                "due_on": line.due_on,
                "charge": charge,
                "paid": paid,
                "balance": line.balance,
            }
        )
    open_items = []
    for line in ledger.lines:
        if line.type == "charge" and line.open_amount and line.due_on is not None:
            index = ledger.buckets.index(ledger.as_of, line.due_on)
            open_items.append(
                {
                    "txn_id": line.txn_id,
                    "code": line.code,
                    "due_on": line.due_on,
                    "amount": line.open_amount,
                    "bucket": ledger.buckets.labels[index],
                }
            )
    payments = [
        {
            "txn_id": line.txn_id,
            "posted_on": line.posted_on,
            "type": line.type,
            "amount": line.amount,
            "reference": line.reference,
            "reversed_on": line.reversed_on,
            "unapplied": line.unapplied,
            "paid": [{"txn_id": p.txn_id, "amount": p.amount, "on": p.on} for p in line.paid],
        }
        for line in ledger.lines
        if line.type in RECEIPTS
    ]
    buckets = list(zip(ledger.buckets.labels, ledger.aged.buckets, strict=True))
    return {
        "lines": lines,
        "open_items": open_items,
        "payments": payments,
        "buckets": buckets,
        "credit": ledger.aged.credit,
        "balance": ledger.balance,
    }


def statement_html(ledger: AccountLedger) -> str:
    from django.conf import settings

    account = ledger.account
    parties = [{"name": ap.party.name, "role": ap.role} for ap in ledger.parties]
    context = {
        "company": dict(settings.ARREARS_COMPANY),
        "account": account,
        "premises": premises_line(account),
        "as_of": ledger.as_of,
        "parties": parties,
        "language": "en",
        "addressee": _addressee(ledger),
        "owner": account.property.owner_name if account.property else "",
        **_rows(ledger),
    }
    return str(engines["django"].get_template("correspondence/statement.html").render(context))


def _addressee(ledger: AccountLedger) -> dict[str, Any] | None:
    """The statement's addressee block (for a #10 window envelope): the primary party at their
    mailing address, as a letter to them is addressed."""
    link = next((ap for ap in ledger.parties if ap.role == "primary"), None)
    if link is None:
        return None
    party, prop = link.party, ledger.account.property
    address = mailing_address(
        role=link.role,
        party=(party.address, party.city, party.state, party.postal_code, party.country),
        premises=(
            (
                prop.address,
                prop.city,
                prop.state,
                prop.postal_code,
                prop.country,
                ledger.account.unit,
            )
            if prop is not None
            else None
        ),
    )
    return {"name": party.name, "lines": address.lines() if address else []}


@transaction.atomic
def statement_pdf(*, account_id: str, as_of: date, actor: str) -> Statement:
    """The statement of an account as of a date as PDF, archived and on the timeline."""
    from arrears.correspondence.pdfs import letter_pdf

    ledger = account_ledger(account_id=account_id, as_of=as_of)
    return statement_archived(ledger=ledger, data=letter_pdf(statement_html(ledger)), actor=actor)


@transaction.atomic
def statement_archived(*, ledger: AccountLedger, data: bytes, actor: str) -> Statement:
    """Archive a statement's PDF (rendered from `statement_html(ledger)`, e.g. by the letters
    batch's worker processes) and write it on the timeline."""
    account_id, as_of = ledger.account.account_id, ledger.as_of
    name = f"statements/{as_of:%Y/%m/%d}/{account_id}-{as_of.isoformat()}.pdf"
    existing = Document.objects.filter(name=name).first()
    if existing is not None and existing.sha256 != _sha(data):
        # The book changed since (a back-dated entry): the new statement gets its own name.
        name = name.replace(".pdf", f"-{_sha(data)[:10]}.pdf")
    document = archive_store(data=data, name=name, kind="statement", content_type="application/pdf")
    TimelineEvent.objects.create(
        account=ledger.account,
        at=dj_timezone.now(),
        on=as_of,
        kind="statement.rendered",
        actor=actor,
        summary=f"statement of account as of {as_of.isoformat()}: {document.name}",
        detail={
            "document": document.name,
            "sha256": document.sha256,
            "balance": f"{ledger.balance:.2f}",
        },
    )
    return Statement(account_id, as_of, data, "application/pdf", document)


def _sha(data: bytes) -> str:
    from arrears.correspondence.archive import sha256_of

    return sha256_of(data)


def statement_xlsx(*, account_id: str, as_of: date) -> Statement:
    """The statement as an Excel workbook: sheets Ledger, Open items, Payments (exact amounts)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    ledger = account_ledger(account_id=account_id, as_of=as_of)
    rows = _rows(ledger)
    book = Workbook()
    sheet = book.active
    sheet.title = "Ledger"
    sheet.append([f"Statement of account {account_id} as of {as_of.isoformat()}"])
    sheet.append(
        ["posted", "type", "code", "transaction", "memo", "due", "charge", "payment", "balance"]
    )
    for line in rows["lines"]:
        sheet.append(
            [
                line["posted_on"],
                line["type"],
                line["code"],
                line["txn_id"],
                line["memo"],
                line["due_on"],
                line["charge"],
                line["paid"],
                line["balance"],
            ]
        )
    _money(sheet, (7, 8, 9))
    items = book.create_sheet("Open items")
    items.append(["transaction", "code", "due", "bucket", "open amount"])
    for item in rows["open_items"]:
        items.append([item["txn_id"], item["code"], item["due_on"], item["bucket"], item["amount"]])
    items.append([])
    for label, amount in rows["buckets"]:
        items.append(["", "", "", label, amount])
    items.append(["", "", "", "credit", -rows["credit"]])
    items.append(["", "", "", "balance", rows["balance"]])
    _money(items, (5,), header=1)
    payments = _payments_sheet(book, rows)
    for ws in (sheet, items, payments):
        header = 2 if ws is sheet else 1
        for cell in ws[header]:
            cell.font = Font(bold=True)
    safe_workbook(book)
    stream = io.BytesIO()
    book.save(stream)
    return Statement(account_id, as_of, stream.getvalue(), XLSX_TYPE, None)


def _payments_sheet(book: Any, rows: dict[str, Any]) -> Any:
    """The Payments sheet: each payment or credit, one line per charge it paid."""
    payments = book.create_sheet("Payments")
    payments.append(
        [
            "transaction",
            "type",
            "posted",
            "amount",
            "paid charge",
            "paid amount",
            "paid on",
            "unapplied",
            "reversed on",
        ]
    )
    for p in rows["payments"]:
        first = [p["txn_id"], p["type"], p["posted_on"], p["amount"]]
        if not p["paid"]:
            payments.append([*first, "", None, None, p["unapplied"], p["reversed_on"]])
        for n, paid in enumerate(p["paid"]):
            lead = first if n == 0 else ["", "", None, None]
            tail = [p["unapplied"], p["reversed_on"]] if n == 0 else [None, None]
            payments.append([*lead, paid["txn_id"], paid["amount"], paid["on"], *tail])
    _money(payments, (4, 6, 8), header=1)
    return payments


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _money(sheet: Any, columns: tuple[int, ...], header: int = 2) -> None:
    for row in sheet.iter_rows(min_row=header + 1):
        for cell in row:
            if cell.column in columns:
                cell.number_format = MONEY_FORMAT
            elif isinstance(cell.value, date):
                cell.number_format = "yyyy-mm-dd"
