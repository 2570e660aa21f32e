"""The bulk load of a generated book (on PostgreSQL a binary COPY of its rows, the book's indexes
and keys made again after it) writes exactly what the staged path writes: every transaction, id
and all, every row of the cash application's derived tables, and the same aging. Here, not
beside the other bulk-load tests, because the ledger's tests may not import the demo's generator
(the layer contracts)."""

from __future__ import annotations

from datetime import date

import pytest

from arrears.demo.generator import synthetic_book
from arrears.ledger import txn_import
from arrears.ledger.models import Allocation, OpenItem, OpenItemDelta, Transaction
from arrears.ledger.selectors import aging_report
from arrears.ledger.services import book_import
from arrears.ledger.tests.elm_court import derived_rows, imported_then_undone

pytestmark = pytest.mark.django_db


@pytest.fixture
def bulk_load(monkeypatch):
    """Every transactions file, however small, is loaded as a bulk load."""
    monkeypatch.setattr(txn_import, "BULK_LOAD_BYTES", 0)
    monkeypatch.setattr(txn_import, "ROW_BYTES", 1)


def _written() -> dict[str, object]:
    """Every transaction and derived row the import wrote (accounts by their ids, serial keys
    left out: a rolled-back import spends them), and the aging."""
    derived = {
        model.__name__: sorted(
            tuple(row)
            for row in model.objects.values_list(
                "account__account_id",
                *(
                    f.attname
                    for f in model._meta.concrete_fields
                    if f.attname not in ("id", "account_id")
                ),
            )
        )
        for model in (Transaction, Allocation, OpenItemDelta, OpenItem)
    }
    aging = [
        r.as_json() for d in (date(2026, 11, 1), date(2025, 11, 1)) for r in aging_report(as_of=d)
    ]
    return {"rows": derived, "aging": aging}


def test_the_bulk_load_writes_what_the_staged_path_writes(tmp_path, monkeypatch, bulk_load):
    # given: a generated book of 40 accounts (charges, payments, credits, reversals, refunds)
    synthetic_book(tmp_path / "book", 40, 3_000, 7, date(2026, 11, 1))
    # when: imported by the bulk load (a binary copy of the rows into the book, its indexes and
    # keys made again), then rolled back ...
    _, bulk_state = imported_then_undone(tmp_path / "book", _written, on=date(2026, 11, 1))
    assert not Transaction.objects.exists()
    # ... and imported by the staged path, every row staged, checked and inserted by SQL
    monkeypatch.setattr(txn_import, "_copy_rows", _always_staged)
    book_import(tmp_path / "book", on=date(2026, 11, 1))
    # then: the same rows, transaction ids and all, the same derived rows, the same aging
    assert _written() == bulk_state
    assert len(bulk_state["rows"]["OpenItemDelta"]) > 1_000  # type: ignore[index]


def _always_staged(*args, **kwargs):
    raise txn_import._NeedsStagingError


@pytest.mark.postgres
def test_a_replay_in_processes_writes_what_one_process_writes(
    tmp_path, monkeypatch, settings, bulk_load
):
    # given: a generated book of 40 accounts, whose import replays cash application in two
    # processes, 16 parts of 2 or 3 accounts (replay_processes), into derived tables bulk loaded
    # (their indexes and keys made again after) ...
    synthetic_book(tmp_path / "book", 40, 3_000, 7, date(2026, 11, 1))
    monkeypatch.setattr(txn_import, "REPLAY_PROCESSES_BYTES", 0)
    settings.ARREARS_IMPORT_PROCESSES = 2
    # when: imported, then rolled back ...
    summary, (in_order, written) = imported_then_undone(
        tmp_path / "book", lambda: (derived_rows(), _written()), on=date(2026, 11, 1)
    )
    # ... and imported with the replay in this process, row by row
    settings.ARREARS_IMPORT_PROCESSES = 1
    monkeypatch.setattr(txn_import, "BULK_LOAD_BYTES", 1 << 40)
    alone = book_import(tmp_path / "book", on=date(2026, 11, 1))
    # then: the same derived rows in the same order, and the same aging
    assert derived_rows() == in_order
    assert _written() == written
    assert summary.accounts_replayed == alone.accounts_replayed == 40
