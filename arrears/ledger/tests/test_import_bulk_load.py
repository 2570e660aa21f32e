"""A large transactions file is a bulk load (`bulk.loading`): on PostgreSQL the book's indexes,
unique constraints and foreign key are dropped for the copy and made again after it. The book it
leaves, and every refusal, must be those of the row-by-row load; the table's indexes and keys must
be back as they were, whether the import succeeds, fails, or falls back to the staged path."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import IntegrityError, connection, transaction

from arrears.ledger import bulk, txn_import
from arrears.ledger.models import Account, Allocation, OpenItem, OpenItemDelta, Transaction
from arrears.ledger.selectors import aging_report
from arrears.ledger.services import book_import
from arrears.ledger.tests.elm_court import (
    ELM_COURT,
    GOOD_LATE_FEE,
    TXN_HEADER,
    assert_problem,
    book_state,
    import_problems,
    write_book,
)

pytestmark = pytest.mark.django_db

TXN = Transaction._meta.db_table


@pytest.fixture
def bulk_load(monkeypatch):
    """Every transactions file, however small, is loaded as a bulk load (into a book holding
    fewer rows than its bytes)."""
    monkeypatch.setattr(txn_import, "BULK_LOAD_BYTES", 0)
    monkeypatch.setattr(txn_import, "ROW_BYTES", 1)


def _catalog(table: str = TXN) -> list[tuple[str, ...]]:
    """A table's indexes and constraints, as PostgreSQL would make them again."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 'index', c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s::regclass "
            "UNION ALL SELECT 'constraint', conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE conrelid = %s::regclass ORDER BY 1, 2",
            (table, table),
        )
        return [tuple(row) for row in cursor.fetchall()]


DERIVED = [m._meta.db_table for m in (Allocation, OpenItemDelta, OpenItem)]


def test_a_bulk_load_gives_the_worked_example(tmp_path, bulk_load):
    # given / when: the Elm Court book, whose transactions.csv names earlier rows (t6 reverses
    # t5, b2 applies to b1), loaded in bulk
    summary = book_import(write_book(tmp_path / "bulk", ELM_COURT))
    # then: the spec's figures for alice (test_import_errors' first test, by hand), and bob owes
    # 500 of February's rent since Feb 3
    (report,) = aging_report(as_of=date(2026, 3, 10))
    lines = {row["account_id"]: row for row in report.as_json()["accounts"]}
    assert lines["alice-1A"]["balance"] == "4550.00"
    assert (lines["alice-1A"]["1-30"], lines["alice-1A"]["31-60"]) == ("2000.00", "2050.00")
    assert lines["bob-2B"]["balance"] == "500.00"
    assert lines["bob-2B"]["31-60"] == "500.00"
    # and the ids follow the file's lines, the rows naming others included
    order = ["t1", "t2", "t3", "t4", "t5", "t6", "t7", "b1", "b2", "b3", "b4"]
    ids = dict(Transaction.objects.values_list("txn_id", "id"))
    assert [ids[t] - ids["t1"] for t in order] == list(range(11))
    assert Transaction.objects.get(txn_id="t6").reverses_id == ids["t5"]
    assert summary.created["transactions"] == 11


@pytest.mark.postgres
def test_a_bulk_load_leaves_the_indexes_and_keys_as_they_were(tmp_path, bulk_load):
    # given
    before = [_catalog(table) for table in (TXN, *DERIVED)]
    # when: the transactions and the cash application's rows are bulk loaded
    book_import(write_book(tmp_path / "book", ELM_COURT))
    # then: the derived tables' primary keys too
    assert [_catalog(table) for table in (TXN, *DERIVED)] == before
    assert any(kind == "constraint" and "FOREIGN KEY" in text for kind, _, text in before[0])
    assert sum(1 for kind, _, _ in before[0] if kind == "index") >= 5
    assert any("PRIMARY KEY" in text for _, _, text in before[1])


@pytest.mark.postgres
def test_a_refused_bulk_load_leaves_the_book_and_its_indexes_as_they_were(
    elm_court, tmp_path, bulk_load
):
    # given: a good late fee, then the same id again with another amount
    before = _catalog()
    bad = write_book(
        tmp_path / "bad",
        {
            "transactions.csv": TXN_HEADER
            + GOOD_LATE_FEE
            + "c1,alice-1A,2026-03-05,charge,80.00,LATE,2026-03-05,,\n"
        },
    )
    # when: the copy itself passes; making txn_id unique again finds the duplicate, and the
    # import goes the staged way, which names it
    problems = import_problems(bad)
    # then
    assert len(problems) == 1
    assert_problem(problems[0], "transactions.csv", 3, "txn_id", "'c1'", "already on line 2")
    assert book_state() == elm_court
    assert _catalog() == before


def test_a_bulk_load_of_rows_the_book_holds_is_a_no_op(elm_court, tmp_path, bulk_load):
    # given: the book imported (row by row: the file is small and the fixture came first)
    # when: the same transactions again, plus one new late fee, in bulk
    again = write_book(
        tmp_path / "again",
        {"transactions.csv": ELM_COURT["transactions.csv"] + GOOD_LATE_FEE},
    )
    summary = book_import(again)
    # then: 11 rows unchanged, one new
    assert summary.unchanged["transactions"] == 11
    assert summary.created["transactions"] == 1
    assert Transaction.objects.count() == 12


def _index_oids() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexrelid::int FROM pg_index WHERE indrelid = %s::regclass", (TXN,))
        return sorted(row[0] for row in cursor.fetchall())


@pytest.mark.postgres
def test_a_large_file_is_a_bulk_load_into_a_small_book_only(elm_court, tmp_path, monkeypatch):
    # given: files counted large from 1 byte, each row counted 64 bytes, and the book's 11 rows
    monkeypatch.setattr(txn_import, "BULK_LOAD_BYTES", 1)
    late_fee = write_book(tmp_path / "one", {"transactions.csv": TXN_HEADER + GOOD_LATE_FEE})
    before = _index_oids()
    # when: a file of far fewer rows than the book holds is imported (the daily import)
    book_import(late_fee)
    # then: it was copied into the indexes as they are (none made again: the pages kept reading)
    assert _index_oids() == before
    # and: a file counted as many rows as its bytes, more than the book holds, is a bulk load
    monkeypatch.setattr(txn_import, "ROW_BYTES", 1)
    more = write_book(
        tmp_path / "more",
        {"transactions.csv": TXN_HEADER + "k2,carol-3C,2026-01-01,charge,900.00,RENT,,,\n"},
    )
    Account.objects.create(
        account_id="carol-3C", kind="residential_lease", opened_on=date(2026, 1, 1)
    )
    book_import(more)
    assert _index_oids() != before
    assert Transaction.objects.count() == 13


COLUMNS = ("id", "txn_id", "account_id", "posted_on", "type", "amount", "code", "reference", "memo")
ROW = (1, "x1", 999_999, date(2026, 1, 1), "payment", 100, "", "", "")


@pytest.mark.postgres
def test_a_row_naming_no_account_fails_when_the_foreign_key_is_made_again():
    # given: a row whose account is not in the book, copied in a bulk load
    # when / then: the key's one check over the table refuses it, as the row's own would have
    with pytest.raises(IntegrityError), transaction.atomic(), bulk.loading(TXN):
        bulk.insert_rows(TXN, COLUMNS, [ROW])
    assert not Transaction.objects.exists()


@pytest.mark.postgres
def test_rows_inserted_earlier_in_the_transaction_do_not_stop_a_bulk_load(tmp_path, bulk_load):
    # given: an account created in the same transaction as the import (its key's check pending)
    with transaction.atomic():
        book_import(write_book(tmp_path / "book", ELM_COURT))
        Account.objects.create(
            account_id="carol-3C", kind="residential_lease", opened_on=date(2026, 1, 1)
        )
        more = write_book(
            tmp_path / "more",
            {"transactions.csv": TXN_HEADER + "k1,carol-3C,2026-01-01,charge,900.00,RENT,,,\n"},
        )
        # when
        summary = book_import(more)
    # then
    assert summary.created["transactions"] == 1
    assert Transaction.objects.filter(account__account_id="carol-3C").count() == 1


@pytest.mark.postgres
@pytest.mark.parametrize("processes", [1, 2])
def test_a_refund_above_the_credit_is_named_by_its_line_from_any_process(
    tmp_path, monkeypatch, settings, processes
):
    # given: Elm Court with a refund of bob's that no credit of his pays (he owes), its
    # accounts' cash application replayed in this process or in two others (replay_processes)
    monkeypatch.setattr(txn_import, "REPLAY_PROCESSES_BYTES", 0)
    settings.ARREARS_IMPORT_PROCESSES = processes
    files = dict(ELM_COURT)
    files["transactions.csv"] += "r1,bob-2B,2026-02-10,refund,10.00,,,,\n"
    # when
    problems = import_problems(write_book(tmp_path / "book", files))
    # then: its line and column, and the credit it lacks, and nothing imported
    (problem,) = problems
    assert (problem.file, problem.line, problem.column) == ("transactions.csv", 13, "amount")
    assert "refund of 10.00 on 2026-02-10" in problem.reason
    assert "(0.00)" in problem.reason
    assert not Transaction.objects.exists()
