"""Two decisions on accounts at once, each holding the book (`book_lock`) and then posting a fee:
what two chunks of the daily run do on two workers. On PostgreSQL each holds the transactions
table in ROW EXCLUSIVE mode from its start; posting must not then ask for a lock that the other's
excludes (SHARE ROW EXCLUSIVE: each would wait for the other, and PostgreSQL would end one of
them as a deadlock). The appenders go one at a time, in book order, the second after the first
commits."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connections, transaction

from arrears.ledger.models import Account, Transaction
from arrears.ledger.services import NewCharge, book_import, book_lock, charges_post
from arrears.ledger.tests.test_book_properties import write_book

pytestmark = pytest.mark.django_db(transaction=True)

ON = date(2026, 9, 10)


def _two_accounts(folder: Path) -> list[int]:
    rows = [
        {
            "txn_id": f"RENT-{k}",
            "account_id": f"A{k}",
            "posted": "2026-09-01",
            "type": "charge",
            "amount": "1200.00",
            "code": "RENT",
            "due": "2026-09-01",
        }
        for k in range(2)
    ]
    book_import(write_book(folder, [[], []], rows))
    return list(Account.objects.order_by("pk").values_list("pk", flat=True))


# SQLite has one writer at a time from BEGIN IMMEDIATE: nothing to overlap (left out there).
@pytest.mark.postgres
def test_two_decisions_holding_the_book_post_their_fees_one_after_the_other(tmp_path):
    # given two accounts, and two decisions, each on its own connection, both holding the book
    pks = _two_accounts(tmp_path)
    both_hold = threading.Barrier(2, timeout=30)
    errors: list[BaseException] = []

    def decide(pk: int) -> None:
        try:
            with transaction.atomic():
                book_lock(lo=pk, hi=pk)
                both_hold.wait()
                # when each posts its late fee
                charges_post([NewCharge(f"FEE-{pk}", pk, ON, ON, "LATE", Decimal("50.00"))])
        except BaseException as exc:  # the thread's failure, for the test's own thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=decide, args=(pk,)) for pk in pks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # then neither failed (no deadlock), and both fees are in the book once, after the rent
    assert errors == []
    fees = Transaction.objects.filter(code="LATE").order_by("id")
    assert sorted(fees.values_list("txn_id", flat=True)) == [f"FEE-{pk}" for pk in pks]
    rent_ids = Transaction.objects.filter(code="RENT").values_list("id", flat=True)
    assert min(fees.values_list("id", flat=True)) > max(rent_ids)
