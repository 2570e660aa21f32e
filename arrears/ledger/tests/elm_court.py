"""The small valid book the import's bad-input tests start from (alice's and bob's leases at Elm
Court) and the helpers they share: write a file set, read the book's whole state, the problems of
an import that must fail."""

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import pytest
from django.db import transaction

from arrears.ledger.importing import ImportSummary
from arrears.ledger.interchange import BookImportError, Problem
from arrears.ledger.models import (
    Account,
    AccountParty,
    Allocation,
    BookImport,
    CustomColumn,
    OpenItem,
    OpenItemDelta,
    Party,
    Property,
    Transaction,
)
from arrears.ledger.selectors import aging_report
from arrears.ledger.services import book_import

T = TypeVar("T")

pytestmark = pytest.mark.django_db
TXN_HEADER = "txn_id,account_id,posted,type,amount,code,due,applies_to,reverses\n"

# alice-1A holds the spec's worked example (t5 returned by t6); bob-2B pays as he should, nearly.
ELM_COURT = {
    "properties.csv": "property_id,name,state,country\nelm,Elm Court,NY,US\n",
    "parties.csv": (
        "party_id,name,kind,email\n"
        "alice,Alice Archer,person,alice@example.com\n"
        "bob,Bob Baker,person,\n"
    ),
    "accounts.csv": (
        "account_id,property_id,unit,kind,opened,rent,currency\n"
        "alice-1A,elm,1A,residential_lease,2025-12-01,2000.00,USD\n"
        "bob-2B,elm,2B,residential_lease,2025-12-01,1500.00,USD\n"
    ),
    "account_parties.csv": (
        "account_id,party_id,role,guarantee_limit\n"
        "alice-1A,alice,primary,\n"
        "alice-1A,bob,guarantor,5000.00\n"
        "bob-2B,bob,primary,\n"
    ),
    "transactions.csv": TXN_HEADER
    + (
        "t1,alice-1A,2026-01-01,charge,2000.00,RENT,2026-01-01,,\n"
        "t2,alice-1A,2026-01-10,payment,1500.00,,,,\n"
        "t3,alice-1A,2026-02-01,charge,2000.00,RENT,2026-02-01,,\n"
        "t4,alice-1A,2026-02-06,charge,50.00,LATE,2026-02-06,,\n"
        "t5,alice-1A,2026-02-15,payment,2600.00,,,,\n"
        "t6,alice-1A,2026-02-20,reversal,2600.00,,,,t5\n"
        "t7,alice-1A,2026-03-01,charge,2000.00,RENT,2026-03-01,,\n"
        "b1,bob-2B,2026-01-01,charge,1500.00,RENT,2026-01-01,,\n"
        "b2,bob-2B,2026-01-05,payment,1500.00,,,b1,\n"
        "b3,bob-2B,2026-02-01,charge,1500.00,RENT,2026-02-01,,\n"
        "b4,bob-2B,2026-02-03,payment,1000.00,,,,\n"
    ),
}

# A good new row that comes before the bad one in each bad file: it must not be imported either.
GOOD_LATE_FEE = "c1,alice-1A,2026-03-05,charge,75.00,LATE,2026-03-05,,\n"

# Before, between and after the last posted date: both ways the aging is computed.
AGING_DATES = (date(2026, 1, 15), date(2026, 2, 16), date(2026, 3, 10))


def write_book(folder: Path, files: dict[str, str | bytes]) -> Path:
    """Write each file name → content (text is written as UTF-8) into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        if isinstance(content, bytes):
            (folder / name).write_bytes(content)
        else:
            (folder / name).write_text(content, encoding="utf-8", newline="")
    return folder


def book_state() -> dict[str, object]:
    """Row counts, every row of every table the import writes, and the aging as JSON."""
    models = (
        Property,
        Party,
        Account,
        AccountParty,
        Transaction,
        Allocation,
        OpenItemDelta,
        OpenItem,
        CustomColumn,
        BookImport,
    )
    return {
        "counts": {m.__name__: m.objects.count() for m in models},
        "rows": {m.__name__: list(m.objects.order_by("pk").values()) for m in models},
        "aging": [r.as_json() for d in AGING_DATES for r in aging_report(as_of=d)],
    }


def import_problems(folder: Path) -> list[Problem]:
    """The problems of an import that must fail."""
    with pytest.raises(BookImportError) as raised:
        book_import(folder)
    return raised.value.problems


def assert_problem(problem: Problem, file: str, line: int, column: str, *words: str) -> None:
    assert (problem.file, problem.line, problem.column) == (file, line, column), problem
    for word in words:
        assert word.lower() in problem.reason.lower(), (word, problem.reason)


def elm_court_imported(tmp_path: Path) -> dict[str, object]:
    """alice's and bob's book, imported; returns its state before anything else happens."""
    book_import(write_book(tmp_path / "elm_court", ELM_COURT))
    return book_state()


def transaction_rows() -> list[dict[str, object]]:
    """The transactions by their ids, not primary keys (sequences do not roll back)."""
    return list(
        Transaction.objects.order_by("pk").values(
            "txn_id",
            "account__account_id",
            "posted_on",
            "type",
            "amount",
            "code",
            "due_on",
            "applies_to__txn_id",
            "reverses__txn_id",
            "reference",
            "memo",
            "extra",
        )
    )


def derived_rows() -> dict[str, list[tuple[object, ...]]]:
    """Every row of cash application's derived tables, in the order of their serial keys, the
    keys themselves left out and the accounts named by their ids (a rolled-back import spends
    both)."""
    return {
        model.__name__: [
            tuple(row)
            for row in model.objects.order_by("pk").values_list(
                "account__account_id",
                *(
                    f.attname
                    for f in model._meta.concrete_fields
                    if f.attname not in ("id", "account_id")
                ),
            )
        ]
        for model in (Allocation, OpenItemDelta, OpenItem)
    }


class _UndoError(Exception):
    """Rolls an import back, carrying what was read of it."""


def imported_then_undone(
    folder: Path, read: Callable[[], T], **import_args: Any
) -> tuple[ImportSummary, T]:
    """The summary of importing `folder` and what `read()` finds after it, the import then
    rolled back."""
    try:
        with transaction.atomic():
            summary = book_import(folder, **import_args)
            raise _UndoError(summary, read())
    except _UndoError as undone:
        return undone.args[0], undone.args[1]
