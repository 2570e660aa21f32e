"""Closed periods (issue 13, item 8): once September is closed, nothing dated in it is written,
and the aging as of any day of September stays what it was.

The story: Elm Court's September is reported (rent charged on the 1st, Alice's payment of the
5th, Bob's rent unpaid). In November the bank returns Alice's September check: its export
dates the reversal September 20, which, imported as it stands, changed September's aging total
with no warning. Dave, the controller, closed September on October 10.
"""

import dataclasses
from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from arrears.core.errors import ValidationError
from arrears.ledger import periods
from arrears.ledger.export import book_export
from arrears.ledger.interchange import ORIGINAL_POSTED, BookImportError
from arrears.ledger.models import Account, BookImport, PeriodEvent, Transaction
from arrears.ledger.periods import PeriodClosedError, closed_through, period_close, period_reopen
from arrears.ledger.selectors import aging_report
from arrears.ledger.services import NewCharge, NewCredit, book_import, charges_post, credits_post
from arrears.ledger.tests.elm_court import book_state, write_book

pytestmark = pytest.mark.django_db

HEADER = "txn_id,account_id,posted,type,amount,code,due,applies_to,reverses\n"
SEPTEMBER_BOOK = {
    "properties.csv": "property_id,name,state,country\nelm,Elm Court,NY,US\n",
    "accounts.csv": (
        "account_id,property_id,unit,kind,opened,rent\n"
        "alice-1A,elm,1A,residential_lease,2025-12-01,2000.00\n"
        "bob-2B,elm,2B,residential_lease,2025-12-01,1500.00\n"
    ),
    "transactions.csv": HEADER
    + (
        "r9a,alice-1A,2026-09-01,charge,2000.00,RENT,2026-09-01,,\n"
        "p9a,alice-1A,2026-09-05,payment,2000.00,,,,\n"
        "r9b,bob-2B,2026-09-01,charge,1500.00,RENT,2026-09-01,,\n"
        "r10a,alice-1A,2026-10-01,charge,2000.00,RENT,2026-10-01,,\n"
    ),
}
# The bank's returned check, dated in September by its export.
RETURNED = HEADER + "x9a,alice-1A,2026-09-20,reversal,2000.00,,,,p9a\n"
OCTOBER_10, NOVEMBER_20 = date(2026, 10, 10), date(2026, 11, 20)
SEPTEMBER = date(2026, 9, 1)


@pytest.fixture(autouse=True)
def november(monkeypatch):
    monkeypatch.setenv("ARREARS_TODAY", NOVEMBER_20.isoformat())


@pytest.fixture
def september_closed(tmp_path):
    """The book, with September closed by Dave on October 10."""
    book_import(write_book(tmp_path / "book", SEPTEMBER_BOOK))
    period_close(month=SEPTEMBER, actor="dave", on=OCTOBER_10)
    return tmp_path


def total(as_of: date) -> str:
    (report,) = aging_report(as_of=as_of)
    return str(report.as_json()["totals"]["balance"])


def test_a_reversal_dated_in_a_closed_september_is_refused_and_septembers_aging_stays(
    september_closed, tmp_path
):
    # given: September's aging as reported
    reported = {day: total(day) for day in (date(2026, 9, 20), date(2026, 9, 30))}
    before = book_state()
    # when: the bank's export of the returned check is imported as it stands
    with pytest.raises(BookImportError) as refused:
        book_import(write_book(tmp_path / "bank", {"transactions.csv": RETURNED}))
    # then: refused where it stands, saying the month is closed and what to do
    (problem,) = refused.value.problems
    assert (problem.file, problem.line, problem.column) == ("transactions.csv", 2, "posted")
    assert "2026-09 is closed" in problem.reason
    assert "imported into the open period, posted on 2026-10-01" in problem.reason
    assert "x_original_posted" in problem.reason
    assert "--" not in problem.reason
    assert book_state() == before
    assert (
        {day: total(day) for day in reported}
        == reported
        == {
            date(2026, 9, 20): "1500.00",
            date(2026, 9, 30): "1500.00",
        }
    )


def test_into_the_open_period_the_reversal_lands_on_october_first_with_its_own_date_kept(
    september_closed, tmp_path
):
    # given
    september = total(date(2026, 9, 30))
    bank = write_book(tmp_path / "bank", {"transactions.csv": RETURNED})
    # when: imported into the open period
    summary = book_import(bank, into_open_period=True)
    # then: posted on October 1, still reversing Alice's September payment, its date kept
    reversal = Transaction.objects.get(txn_id="x9a")
    assert reversal.posted_on == date(2026, 10, 1)
    assert reversal.reverses == Transaction.objects.get(txn_id="p9a")
    assert reversal.extra == {ORIGINAL_POSTED: "2026-09-20"}
    assert summary.into_open == 1
    assert "posted on 2026-10-01" in summary.line()
    assert BookImport.objects.latest("id").counts["into_open_period"] == 1
    # and September's aging is what was reported; October's has Alice's September rent open
    assert total(date(2026, 9, 30)) == september == "1500.00"
    assert total(date(2026, 10, 1)) == "5500.00"


def test_the_book_round_trips_with_the_reversal_posted_into_the_open_period(
    september_closed, tmp_path
):
    # given: the reversal posted into October
    bank = write_book(tmp_path / "bank", {"transactions.csv": RETURNED})
    book_import(bank, into_open_period=True)
    before = book_state()
    # when: the book is exported and imported back, and the bank's file imported again, with
    # and without the option
    book_export(tmp_path / "export")
    again = book_import(tmp_path / "export")
    same_file = book_import(bank)
    same_file_again = book_import(bank, into_open_period=True)
    # then: nothing changes; the export carries the date the bank gave
    assert [again.changed, same_file.changed, same_file_again.changed] == [False, False, False]
    assert book_state() == before
    exported = (tmp_path / "export" / "transactions.csv").read_text().splitlines()
    assert exported[0].endswith(f",{ORIGINAL_POSTED}")
    assert exported[-1] == "x9a,alice-1A,2026-10-01,reversal,2000.00,,,,p9a,,,2026-09-20"


def test_the_rows_the_book_already_holds_import_again_as_no_change(september_closed):
    # given: September closed, over rows the book holds
    before = book_state()
    # when: the same book comes again (a nightly export of the whole history)
    summary = book_import(september_closed / "book")
    # then
    assert not summary.changed
    assert summary.unchanged["transactions"] == 4
    assert book_state() == before


def test_a_closed_month_in_a_long_file_is_refused_on_its_line_and_nothing_is_written(
    september_closed, tmp_path
):
    # given: a hundred good October payments, then a September late fee (no reference: the
    # rows are copied straight in until it comes)
    rows = "".join(f"o{i},bob-2B,2026-10-{1 + i % 28:02d},payment,1.00,,,,\n" for i in range(100))
    late = "f9,bob-2B,2026-09-06,charge,50.00,LATE,2026-09-06,,\n"
    before = book_state()
    # when
    with pytest.raises(BookImportError) as refused:
        book_import(write_book(tmp_path / "late", {"transactions.csv": HEADER + rows + late}))
    # then
    (problem,) = refused.value.problems
    assert (problem.line, problem.column) == (102, "posted")
    assert book_state() == before
    # and into the open period it goes to October 1, after the hundred payments
    again = write_book(tmp_path / "late2", {"transactions.csv": HEADER + rows + late})
    book_import(again, into_open_period=True)
    fee = Transaction.objects.get(txn_id="f9")
    assert (fee.posted_on, fee.due_on) == (date(2026, 10, 1), date(2026, 9, 6))


def test_months_close_once_ended_in_order_and_reopen_from_the_latest_with_a_reason(
    september_closed,
):
    # when / then: November has not ended on November 20
    with pytest.raises(PeriodClosedError, match="2026-11 has not ended"):
        period_close(month=date(2026, 11, 1), actor="dave", on=NOVEMBER_20)
    # September is closed already, and August with it
    for month in (SEPTEMBER, date(2026, 8, 1)):
        with pytest.raises(PeriodClosedError, match="already closed"):
            period_close(month=month, actor="dave", on=NOVEMBER_20)
    # October closes next, in order
    october = period_close(month=date(2026, 10, 1), actor="dave", on=NOVEMBER_20)
    assert closed_through() == october.closed_through == date(2026, 10, 31)
    # September reopens only after October, and only with a reason
    with pytest.raises(PeriodClosedError, match="reopen 2026-10 first"):
        period_reopen(month=SEPTEMBER, actor="dave", reason="the bank's return")
    with pytest.raises(ValidationError):
        period_reopen(month=date(2026, 10, 1), actor="dave", reason=" ")
    period_reopen(month=date(2026, 10, 1), actor="dave", reason="the bank's return")
    assert closed_through() == date(2026, 9, 30)
    period_reopen(month=SEPTEMBER, actor="dave", reason="the bank's return")
    # then: nothing is closed, and every act is on record, the latest first
    assert closed_through() is None
    assert [(e.kind, e.month.month, e.closed_through, e.actor) for e in periods.period_list()] == [
        ("reopen", 9, None, "dave"),
        ("reopen", 10, date(2026, 9, 30), "dave"),
        ("close", 10, date(2026, 10, 31), "dave"),
        ("close", 9, date(2026, 9, 30), "dave"),
    ]


def test_a_month_closed_after_another_is_closed_in_turn(september_closed):
    # given: September closed
    # when: November is asked for before October
    with pytest.raises(PeriodClosedError, match="close 2026-10 first"):
        period_close(month=date(2026, 11, 1), actor="dave", on=date(2026, 12, 5))
    # then
    assert closed_through() == date(2026, 9, 30)


def test_reopened_september_takes_the_reversal_on_its_own_date(september_closed, tmp_path):
    # given: Dave reopens September for the bank's return
    period_reopen(month=SEPTEMBER, actor="dave", reason="check 1001 returned by the bank")
    # when
    book_import(write_book(tmp_path / "bank", {"transactions.csv": RETURNED}))
    # then: dated as the bank said, and September's aging now says so
    assert Transaction.objects.get(txn_id="x9a").posted_on == date(2026, 9, 20)
    assert total(date(2026, 9, 30)) == "3500.00"
    # and closing it again holds it there
    period_close(month=SEPTEMBER, actor="dave", on=NOVEMBER_20)
    assert closed_through() == date(2026, 9, 30)


def test_fees_and_credits_dated_in_a_closed_month_are_refused_and_nothing_is_written(
    september_closed,
):
    # given
    bob = Account.objects.get(account_id="bob-2B")
    rent = Transaction.objects.get(txn_id="r9b")
    before = book_state()
    # when / then: a late fee dated September 6 (the daily run's service), and a credit dated
    # September 30 (a dispute's)
    fee = NewCharge(
        txn_id="FEE-9",
        account_pk=bob.pk,
        posted_on=date(2026, 9, 6),
        due_on=date(2026, 9, 6),
        code="LATE",
        amount=Decimal("50.00"),
    )
    with (
        pytest.raises(PeriodClosedError, match="2026-09 is closed") as refused,
        transaction.atomic(),
    ):
        charges_post([fee])
    assert refused.value.extra["month"] == "2026-09"
    credit = NewCredit(
        txn_id="CR-9",
        account_pk=bob.pk,
        posted_on=date(2026, 9, 30),
        amount=rent.amount,
        applies_to_pk=rent.pk,
    )
    with pytest.raises(PeriodClosedError, match="a credit dated 2026-09-30"), transaction.atomic():
        credits_post([credit])
    assert book_state() == before
    # and dated in October, a credit goes, September as it was
    with transaction.atomic():
        credits_post([dataclasses.replace(credit, posted_on=date(2026, 10, 2))])
    assert total(date(2026, 9, 30)) == "1500.00"
    assert total(date(2026, 10, 2)) == "2000.00"


def test_the_history_of_closes_is_held_by_the_database(september_closed):
    at = PeriodEvent.objects.get().at
    # when / then: a reopening that says not why, or a close that closes nothing, is refused by
    # the database itself, whoever writes it
    for row in (
        {"kind": "reopen", "reason": "", "closed_through": None},
        {"kind": "close", "reason": "", "closed_through": None},
        {"kind": "shut", "reason": "x", "closed_through": date(2026, 10, 31)},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            PeriodEvent.objects.create(month=date(2026, 10, 1), at=at, actor="mallory", **row)
    assert PeriodEvent.objects.count() == 1


def test_a_month_is_named_yyyy_mm(db):
    assert periods.parse_month("2026-09") == SEPTEMBER
    for text in ("2026-13", "2026-9", "September", "0001-01", "9999-12", "2026-09-01"):
        with pytest.raises(ValidationError):
            periods.parse_month(text)
