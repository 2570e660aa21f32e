"""Bad input to `book_import` (the spec's "Bad input"): every case names its file, line and column.

Each test starts from a small valid book (alice's and bob's leases at Elm Court), imports a bad
file set into it, and checks the problem reported and that the book is exactly as it was: same
rows in every table and the same aging as of several dates. The header is line 1 of a file.
"""

import csv
from datetime import date

import pytest

from arrears.ledger.export import book_export
from arrears.ledger.models import (
    Transaction,
)
from arrears.ledger.selectors import aging_report
from arrears.ledger.services import book_import
from arrears.ledger.tests.elm_court import (
    GOOD_LATE_FEE,
    TXN_HEADER,
    assert_problem,
    book_state,
    import_problems,
    write_book,
)

pytestmark = pytest.mark.django_db


def test_the_starting_book_is_the_worked_example_for_alice(elm_court):
    # then: the spec's figures for alice, and bob owes 500 of February's rent since Feb 3
    (report,) = aging_report(as_of=date(2026, 3, 10))
    lines = {row["account_id"]: row for row in report.as_json()["accounts"]}
    assert lines["alice-1A"]["balance"] == "4550.00"
    assert (lines["alice-1A"]["1-30"], lines["alice-1A"]["31-60"]) == ("2000.00", "2050.00")
    assert lines["bob-2B"]["balance"] == "500.00"
    assert lines["bob-2B"]["31-60"] == "500.00"
    assert elm_court["counts"]["Transaction"] == 11


BAD_TRANSACTION_ROWS = [
    pytest.param(
        "x1,zed-9,2026-03-05,payment,10.00,,,,\n",
        "account_id",
        ("unknown account", "zed-9"),
        id="unknown account",
    ),
    pytest.param(
        "x1,alice-1A,2026-03-05,payment,10.005,,,,\n",
        "amount",
        ("more than 2 decimal places", "10.005"),
        id="amount with three decimals",
    ),
    pytest.param(
        "x1,alice-1A,2026-03-05,payment,-10.00,,,,\n",
        "amount",
        ("must be positive", "-10.00"),
        id="negative amount",
    ),
    pytest.param(
        "x1,alice-1A,2026-03-05,payment,0.00,,,,\n",
        "amount",
        ("must be positive",),
        id="zero amount",
    ),
    pytest.param(
        "x1,alice-1A,2026-03-05,payment,$10.00,,,,\n",
        "amount",
        ("not an amount", "$10.00"),
        id="amount with a dollar sign",
    ),
    pytest.param(
        'x1,alice-1A,2026-03-05,payment,"1,000.00",,,,\n',
        "amount",
        ("not an amount", "1,000.00"),
        id="amount with a thousands separator",
    ),
    pytest.param(
        "x1,alice-1A,2026-03-05,payment,10,00,,,,\n",
        "",
        ("expected 9 fields, found 10",),
        id="decimal comma splits the row into one field too many",
    ),
    pytest.param(
        "x1,alice-1A,2026-03-05,payment,١٠.٠٠,,,,\n",
        "amount",
        ("not an amount", "١٠.٠٠"),
        id="amount in Arabic-Indic digits (export would write 10.00: no round trip)",
    ),
    pytest.param(
        "x1,alice-1A,2026-03-05,payment,１０.00,,,,\n",
        "amount",
        ("not an amount", "１０.00"),
        id="amount in full-width digits",
    ),
    pytest.param(
        "x1,alice-1A,2026-03-05,reversal,100.00,,,,nope\n",
        "reverses",
        ("unknown payment", "nope"),
        id="reversal of an unknown payment",
    ),
    pytest.param(
        "x1,bob-2B,2026-03-05,reversal,999.99,,,,b4\n",
        "reverses",
        ("differs", "999.99", "1000.00"),
        id="reversal amount differs from its payment",
    ),
    pytest.param(
        "x1,alice-1A,2026-03-05,reversal,2000.00,,,,t1\n",
        "reverses",
        ("charge", "only a payment or a credit"),
        id="reversal of a charge",
    ),
    pytest.param(
        "x1,alice-1A,2026-03-05,reversal,1000.00,,,,b4\n",
        "reverses",
        ("another account",),
        id="reversal of another account's payment",
    ),
    pytest.param(
        "x1,alice-1A,2026-03-05,reversal,2600.00,,,,t5\n",
        "reverses",
        ("already reversed", "t6"),
        id="reversal of a payment the book has already reversed",
    ),
    pytest.param(
        "x1,alice-1A,2026-03-05,reversal,100.00,,,,\n",
        "reverses",
        ("names the payment",),
        id="reversal naming nothing",
    ),
    pytest.param(
        "x1,alice-1A,2026-02-30,payment,10.00,,,,\n",
        "posted",
        ("not a date", "2026-02-30"),
        id="February 30th",
    ),
    pytest.param(
        "x1,alice-1A,02/01/2026,payment,10.00,,,,\n",
        "posted",
        ("not a date", "02/01/2026"),
        id="a US date",
    ),
    pytest.param(
        "x1,alice-1A,2026-03-05,charge,10.00,LATE,2026-13-01,,\n",
        "due",
        ("not a date", "2026-13-01"),
        id="due date in month 13",
    ),
    pytest.param(
        "t1,alice-1A,2026-01-01,charge,2100.00,RENT,2026-01-01,,\n",
        "amount",
        ("t1", "already in the book", "different content"),
        id="id already in the book with another amount",
    ),
    pytest.param(
        "t2,alice-1A,2026-01-11,payment,1500.00,,,,\n",
        "posted",
        ("t2", "already in the book", "different content", "2026-01-11"),
        id="id already in the book with another date",
    ),
    pytest.param(
        "x1,alice-1A,2026-03-05,charge,10.00,,2026-03-05,,\n",
        "code",
        ("required for a charge",),
        id="charge without a code",
    ),
    pytest.param(
        "x1,alice-1A,2026-03-05,charge,10.00,late,2026-03-05,,\n",
        "code",
        ("upper case", "late"),
        id="charge code in lower case",
    ),
    pytest.param(
        "x1,alice-1A,2026-03-05,payment,10.00,,2026-03-05,,\n",
        "due",
        ("only a charge has a due date",),
        id="due date on a payment",
    ),
    pytest.param(
        "x1,alice-1A,2026-03-05,rebate,10.00,,,,\n",
        "type",
        ("'rebate'", "charge, payment, credit, reversal, refund"),
        id="unknown type",
    ),
    pytest.param(
        "x1,alice-1A,2026-03-05,payment,10.00,,,t2,\n",
        "applies_to",
        ("t2", "payment", "not a charge"),
        id="applies_to names a payment",
    ),
    pytest.param(
        "x1,alice-1A,2026-03-05,payment,10.00,,,t99,\n",
        "applies_to",
        ("unknown charge", "t99"),
        id="applies_to names an unknown charge",
    ),
    pytest.param(
        "x1,alice-1A,2026-03-05,payment,10.00,,,b3,\n",
        "applies_to",
        ("b3", "another account"),
        id="applies_to names a charge of another account",
    ),
    pytest.param(
        "x1,alice-1A,2026-02-28,payment,10.00,,,t7,\n",
        "applies_to",
        ("t7", "posted after"),
        id="applies_to names a charge posted later",
    ),
    pytest.param(
        "x1,alice-1A,2026-03-05,charge,10.00,LATE,2026-03-05,t1,\n",
        "applies_to",
        ("only a payment or a credit",),
        id="applies_to on a charge",
    ),
    pytest.param(
        "x1,alice-1A,2026-03-05,payment,10.00,,,,,\n",
        "",
        ("expected 9 fields, found 10",),
        id="one field too many",
    ),
    pytest.param(
        "x1,alice-1A,2026-03-05,payment,10.00\n",
        "",
        ("expected 9 fields, found 5",),
        id="fields missing",
    ),
]


@pytest.mark.parametrize(("bad_row", "column", "words"), BAD_TRANSACTION_ROWS)
def test_a_bad_transaction_row_is_refused_where_it_stands_and_the_book_is_unchanged(
    elm_court, tmp_path, bad_row, column, words
):
    # given: a good late fee on line 2, the bad row on line 3
    bad = write_book(tmp_path / "bad", {"transactions.csv": TXN_HEADER + GOOD_LATE_FEE + bad_row})
    # when
    problems = import_problems(bad)
    # then
    assert len(problems) == 1, problems
    assert_problem(problems[0], "transactions.csv", 3, column, *words)
    assert book_state() == elm_court
    assert not Transaction.objects.filter(txn_id="c1").exists()


def test_a_changed_amount_is_shown_in_dollars_and_cents(elm_court, tmp_path):
    # given: alice's January rent sent again as 2100.00
    bad = write_book(
        tmp_path / "bad",
        {
            "transactions.csv": TXN_HEADER
            + "t1,alice-1A,2026-01-01,charge,2100.00,RENT,2026-01-01,,\n"
        },
    )
    # when
    (problem,) = import_problems(bad)
    # then
    assert "2000.00" in problem.reason
    assert "2100.00" in problem.reason


def test_the_same_id_twice_in_one_file_is_refused_on_its_second_line(elm_court, tmp_path):
    # given
    bad = write_book(
        tmp_path / "bad",
        {
            "transactions.csv": TXN_HEADER
            + GOOD_LATE_FEE
            + "c1,alice-1A,2026-03-05,charge,80.00,LATE,2026-03-05,,\n"
        },
    )
    # when
    problems = import_problems(bad)
    # then
    assert len(problems) == 1
    assert_problem(problems[0], "transactions.csv", 3, "txn_id", "'c1'", "already on line 2")
    assert book_state() == elm_court


def test_the_same_payment_reversed_twice_in_one_file_is_refused(elm_court, tmp_path):
    # given: bob's check b4 bounces, and the bank's second notice is entered too
    bad = write_book(
        tmp_path / "bad",
        {
            "transactions.csv": TXN_HEADER
            + "r1,bob-2B,2026-03-05,reversal,1000.00,,,,b4\n"
            + "r2,bob-2B,2026-03-06,reversal,1000.00,,,,b4\n"
        },
    )
    # when
    problems = import_problems(bad)
    # then
    assert len(problems) == 1
    assert_problem(
        problems[0], "transactions.csv", 3, "reverses", "'b4'", "already reversed", "line 2"
    )
    assert book_state() == elm_court


def test_a_row_after_a_quoted_memo_on_two_lines_is_named_by_its_physical_line(elm_court, tmp_path):
    # given: line 2 holds a memo that runs on to line 3, the bad amount is on line 4
    bad = write_book(
        tmp_path / "bad",
        {
            "transactions.csv": "txn_id,account_id,posted,type,amount,code,memo\n"
            + 'c1,alice-1A,2026-03-05,charge,75.00,LATE,"late fee\nsecond notice"\n'
            + "x1,alice-1A,2026-03-06,payment,10.005,,\n"
        },
    )
    # when
    problems = import_problems(bad)
    # then
    assert len(problems) == 1
    assert_problem(problems[0], "transactions.csv", 4, "amount", "2 decimal places")
    assert book_state() == elm_court


def test_an_unknown_column_is_refused_on_the_header_line(elm_court, tmp_path):
    # given
    bad = write_book(
        tmp_path / "bad",
        {
            "transactions.csv": TXN_HEADER.replace("\n", ",note\n")
            + GOOD_LATE_FEE.replace("\n", ",second notice\n")
        },
    )
    # when
    problems = import_problems(bad)
    # then
    assert len(problems) == 1
    assert_problem(problems[0], "transactions.csv", 1, "note", "unknown column", "x_")
    assert book_state() == elm_court


def test_a_missing_required_column_is_refused_on_the_header_line(elm_court, tmp_path):
    # given: no posted column
    bad = write_book(
        tmp_path / "bad",
        {
            "transactions.csv": "txn_id,account_id,type,amount,code,due\n"
            + "c1,alice-1A,charge,75.00,LATE,2026-03-05\n"
        },
    )
    # when
    problems = import_problems(bad)
    # then
    assert len(problems) == 1
    assert_problem(problems[0], "transactions.csv", 1, "posted", "required column is missing")
    assert book_state() == elm_court


def test_a_column_named_twice_is_refused_on_the_header_line(elm_court, tmp_path):
    # given
    bad = write_book(
        tmp_path / "bad",
        {
            "transactions.csv": TXN_HEADER.replace("\n", ",amount\n")
            + GOOD_LATE_FEE.replace("\n", ",80.00\n")
        },
    )
    # when
    problems = import_problems(bad)
    # then
    assert len(problems) == 1
    assert_problem(problems[0], "transactions.csv", 1, "amount", "appears twice")
    assert book_state() == elm_court


def test_an_x_column_is_kept_and_exported_back(elm_court, tmp_path):
    # given: a note on alice's late fee
    good = write_book(
        tmp_path / "good",
        {
            "transactions.csv": TXN_HEADER.replace("\n", ",x_note\n")
            + GOOD_LATE_FEE.replace("\n", ",second notice sent\n")
        },
    )
    # when
    summary = book_import(good)
    book_export(tmp_path / "export")
    # then
    assert summary.created["transactions"] == 1
    assert Transaction.objects.get(txn_id="c1").extra == {"x_note": "second notice sent"}
    with (tmp_path / "export" / "transactions.csv").open(newline="", encoding="utf-8") as stream:
        rows = {row["txn_id"]: row for row in csv.DictReader(stream)}
    assert rows["c1"]["x_note"] == "second notice sent"
    assert rows["t1"]["x_note"] == ""
