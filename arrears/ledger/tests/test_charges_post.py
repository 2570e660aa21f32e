"""Charges posted by the system (late fees): applied in place exactly as a full replay would."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arrears.ledger.models import Account, Allocation, OpenItem, Transaction
from arrears.ledger.selectors import aging_report
from arrears.ledger.services import NewCharge, accounts_replay, book_import, charges_post
from arrears.ledger.tests.strategies import histories
from arrears.ledger.tests.test_book_properties import fresh_book, txn_rows, write_book

pytestmark = pytest.mark.django_db


def snapshot():
    allocations = sorted(
        Allocation.objects.values_list(
            "charge__txn_id", "source__txn_id", "amount", "made_on", "undone_on"
        )
    )
    open_items = sorted(OpenItem.objects.values_list("item__txn_id", "is_credit", "amount"))
    return allocations, open_items


def agings(days):
    return [
        [(r.key["account_id"], r.line) for r in rep.rows]
        for d in days
        for rep in aging_report(as_of=d)
    ]


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    histories(max_entries=20),
    st.lists(st.integers(1, 9000), min_size=1, max_size=3),
    st.integers(0, 5),
)
def test_a_fee_posted_after_the_last_entry_applies_as_a_full_replay_would(
    tmp_path, entries, fees, later
):
    with fresh_book():
        # given an account with any history (perhaps carrying unapplied credit)
        book_import(write_book(tmp_path / "book", [entries], txn_rows([entries])))
        last = Transaction.objects.order_by("-posted_on").first().posted_on
        pk = Account.objects.get(account_id="A0").pk
        on = date.fromordinal(last.toordinal() + later)
        # when fees are posted on or after its last entry
        charges_post(
            [
                NewCharge(f"F{i}", pk, on, on, "LATE", Decimal(cents) / 100)
                for i, cents in enumerate(fees)
            ]
        )
        applied = snapshot()
        days = [last, on, date.fromordinal(on.toordinal() + 30)]
        aged = agings(days)
        # then a full replay of the account finds exactly the same
        accounts_replay([pk])
        assert snapshot() == applied
        assert agings(days) == aged
