"""The book's records are insert-only in the database itself: on PostgreSQL an UPDATE or a
DELETE of a transaction, a timeline event, a period event or an audit entry is refused by a
trigger (django-pgtrigger), whoever sends it, while the import, a reversal and a period's
closing still write."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.db.utils import ProgrammingError

from arrears.access.models import AuditEntry
from arrears.ledger.models import Account, PeriodEvent, TimelineEvent, Transaction
from arrears.ledger.periods import period_close
from arrears.ledger.services import book_import
from arrears.ledger.tests.elm_court import write_book
from arrears.ledger.tests.test_periods import (
    NOVEMBER_20,
    OCTOBER_10,
    RETURNED,
    SEPTEMBER,
    SEPTEMBER_BOOK,
)

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

CHANGES = [
    (Transaction, "UPDATE {table} SET amount = 1 WHERE txn_id = 'p9a'"),
    (Transaction, "DELETE FROM {table} WHERE txn_id = 'x9a'"),
    (TimelineEvent, "UPDATE {table} SET summary = 'nothing happened'"),
    (TimelineEvent, "DELETE FROM {table}"),
    (PeriodEvent, "UPDATE {table} SET actor = 'mallory'"),
    (PeriodEvent, "DELETE FROM {table}"),
    (AuditEntry, "UPDATE {table} SET username = 'mallory'"),
    (AuditEntry, "DELETE FROM {table}"),
]


@pytest.fixture
def book(tmp_path, monkeypatch):
    """September's book imported, the bank's returned check imported after it, September closed
    by Dave, a note on the timeline and one audit entry."""
    monkeypatch.setenv("ARREARS_TODAY", NOVEMBER_20.isoformat())
    book_import(write_book(tmp_path / "book", SEPTEMBER_BOOK))
    book_import(write_book(tmp_path / "bank", {"transactions.csv": RETURNED}))
    period_close(month=SEPTEMBER, actor="dave", on=OCTOBER_10)
    at = PeriodEvent.objects.get().at
    TimelineEvent.objects.create(
        account=Account.objects.get(account_id="alice-1A"),
        at=at,
        on=OCTOBER_10,
        kind="note.added",
        actor="alice",
        summary="Alice says the returned check will be paid again",
    )
    AuditEntry.objects.create(at=at, username="dave", via="cli", verb="period.close")


@pytest.mark.parametrize(("model", "statement"), CHANGES)
def test_the_database_refuses_to_change_a_record_of_the_book(book, model, statement):
    # given the book, written by the import, a reversal and a period's closing
    assert model.objects.exists()
    before = sorted(map(repr, model.objects.values_list()))
    # when someone changes a record by hand, past the services
    table = model._meta.db_table
    with (
        pytest.raises(ProgrammingError, match=f"Cannot update or delete rows from {table}"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement.format(table=table))
    # then the database refused it, and the records are as they were
    assert sorted(map(repr, model.objects.values_list())) == before
