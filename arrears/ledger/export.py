"""Export of the book in the interchange format: the rows an import would take back unchanged."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from arrears.core.money import fmt
from arrears.ledger.interchange import EXPORT_COLUMNS
from arrears.ledger.models import Account, AccountParty, CustomColumn, Party, Property, Transaction


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    if hasattr(value, "as_tuple"):
        return fmt(value)
    return str(value)


def _write(folder: Path, kind: str, columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> int:
    custom = list(
        CustomColumn.objects.filter(file_kind=kind).order_by("name").values_list("name", flat=True)
    )
    count = 0
    with (folder / f"{kind}.csv").open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow([*columns, *custom])
        for row in rows:
            extra = row.get("extra") or {}
            writer.writerow(
                [_cell(row.get(c)) for c in columns] + [extra.get(c, "") for c in custom]
            )
            count += 1
    return count


def book_export(folder: Path) -> dict[str, int]:
    """Write the whole book as interchange CSV files into `folder`; returns rows per file."""
    folder.mkdir(parents=True, exist_ok=True)
    props = EXPORT_COLUMNS["properties"]
    has_portfolio = Property.objects.exclude(portfolio="").exists()
    has_owner = Property.objects.exclude(owner_name="").exists()
    return {
        "properties": _write(
            folder,
            "properties",
            (
                *props,
                *(["portfolio"] if has_portfolio else []),
                *(["owner_name"] if has_owner else []),
            ),
            Property.objects.order_by("id").values(*props, "portfolio", "owner_name", "extra"),
        ),
        "parties": _write(
            folder,
            "parties",
            EXPORT_COLUMNS["parties"],
            Party.objects.order_by("id").values(*EXPORT_COLUMNS["parties"], "extra"),
        ),
        "accounts": _write(folder, "accounts", EXPORT_COLUMNS["accounts"], _account_rows()),
        "account_parties": _write(
            folder, "account_parties", EXPORT_COLUMNS["account_parties"], _account_party_rows()
        ),
        "transactions": _write(
            folder, "transactions", EXPORT_COLUMNS["transactions"], _transaction_rows()
        ),
    }


def _account_rows() -> Iterator[dict[str, Any]]:
    """The accounts file's rows, by the columns of the interchange format."""
    for r in (
        Account.objects.order_by("id")
        .values(
            "account_id",
            "property__property_id",
            "unit",
            "kind",
            "opened_on",
            "closed_on",
            "rent",
            "deposit_held",
            "currency",
            "extra",
        )
        .iterator(chunk_size=5000)
    ):
        yield {
            **r,
            "property_id": r["property__property_id"],
            "opened": r["opened_on"],
            "closed": r["closed_on"],
        }


def _account_party_rows() -> Iterator[dict[str, Any]]:
    """The account_parties file's rows: each account's parties with their roles."""
    for r in (
        AccountParty.objects.order_by("id")
        .values("account__account_id", "party__party_id", "role", "guarantee_limit", "extra")
        .iterator(chunk_size=5000)
    ):
        yield {
            "account_id": r["account__account_id"],
            "party_id": r["party__party_id"],
            "role": r["role"],
            "guarantee_limit": r["guarantee_limit"],
            "extra": r["extra"],
        }


_TRANSACTION_FIELDS = {
    "txn_id": "txn_id",
    "account_id": "account__account_id",
    "posted": "posted_on",
    "type": "type",
    "amount": "amount",
    "code": "code",
    "due": "due_on",
    "applies_to": "applies_to__txn_id",
    "reverses": "reverses__txn_id",
    "reference": "reference",
    "memo": "memo",
    "extra": "extra",
}


def _transaction_rows() -> Iterator[dict[str, Any]]:
    """The transactions file's rows, in the book's order (the order they were written)."""
    rows = Transaction.objects.order_by("id").values(*_TRANSACTION_FIELDS.values())
    for r in rows.iterator(chunk_size=10000):
        yield {column: r[field] for column, field in _TRANSACTION_FIELDS.items()}
