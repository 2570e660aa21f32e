"""Bad input to `book_import` (the spec's "Bad input"): every case names its file, line and column.

Each test starts from a small valid book (alice's and bob's leases at Elm Court), imports a bad
file set into it, and checks the problem reported and that the book is exactly as it was: same
rows in every table and the same aging as of several dates. The header is line 1 of a file.
"""

import csv
from datetime import date
from pathlib import Path

import pytest

from arrears.cli import main
from arrears.ledger.export import book_export
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


@pytest.fixture
def elm_court(tmp_path):
    """alice's and bob's book, imported; returns its state before anything else happens."""
    book_import(write_book(tmp_path / "elm_court", ELM_COURT))
    return book_state()


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
        "x1,alice-1A,2026-03-05,refund,10.00,,,,\n",
        "type",
        ("'refund'", "charge, payment, credit, reversal"),
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


@pytest.mark.parametrize(
    ("name", "content", "line", "column", "words"),
    [
        pytest.param(
            "accounts.csv",
            "account_id,property_id,unit,kind,opened\n"
            "carol-3C,elm,3C,residential_lease,2026-01-01\n"
            "dave-4D,oak,4D,residential_lease,2026-01-01\n",
            3,
            "property_id",
            ("unknown property", "oak"),
            id="unknown property in accounts",
        ),
        pytest.param(
            "accounts.csv",
            "account_id,property_id,unit,kind,opened\n"
            "carol-3C,elm,3C,residential_lease,2026-01-01\n"
            "dave-4D,elm,4D,apartment,2026-01-01\n",
            3,
            "kind",
            ("'apartment'", "residential_lease"),
            id="unknown account kind",
        ),
        pytest.param(
            "accounts.csv",
            "account_id,property_id,unit,kind,opened,closed\n"
            "carol-3C,elm,3C,residential_lease,2026-01-01,\n"
            "dave-4D,elm,4D,residential_lease,2026-01-01,2025-12-31\n",
            3,
            "closed",
            ("before opened",),
            id="account closed before it opened",
        ),
        pytest.param(
            "accounts.csv",
            "account_id,property_id,unit,kind,opened\n"
            "carol-3C,elm,3C,residential_lease,2026-01-01\n"
            "carol-3C,elm,3D,residential_lease,2026-01-01\n",
            3,
            "account_id",
            ("'carol-3C'", "already on line 2"),
            id="same account twice",
        ),
        pytest.param(
            "accounts.csv",
            "account_id,property_id,unit,kind,opened,currency\n"
            "carol-3C,elm,3C,residential_lease,2026-01-01,USD\n"
            "alice-1A,elm,1A,residential_lease,2025-12-01,EUR\n",
            3,
            "currency",
            ("has transactions in USD", "cannot change"),
            id="currency of an account with transactions changed",
        ),
        pytest.param(
            "accounts.csv",
            "account_id,property_id,unit,kind,opened,currency\n"
            "carol-3C,elm,3C,residential_lease,2026-01-01,usd\n",
            2,
            "currency",
            ("ISO 4217", "usd"),
            id="currency in lower case",
        ),
        pytest.param(
            "account_parties.csv",
            "account_id,party_id,role\nalice-1A,alice,primary\nalice-1A,mallory,co_obligor\n",
            3,
            "party_id",
            ("unknown party", "mallory"),
            id="unknown party in account_parties",
        ),
        pytest.param(
            "account_parties.csv",
            "account_id,party_id,role\nalice-1A,alice,primary\nzed-9,alice,primary\n",
            3,
            "account_id",
            ("unknown account", "zed-9"),
            id="unknown account in account_parties",
        ),
        pytest.param(
            "account_parties.csv",
            "account_id,party_id,role\nalice-1A,alice,primary\nalice-1A,bob,landlord\n",
            3,
            "role",
            ("'landlord'", "primary, co_obligor, guarantor"),
            id="bad role",
        ),
        pytest.param(
            "account_parties.csv",
            "account_id,party_id,role,guarantee_limit\nalice-1A,alice,primary,\n"
            "alice-1A,bob,guarantor,5000.001\n",
            3,
            "guarantee_limit",
            ("2 decimal places",),
            id="guarantee limit with three decimals",
        ),
        pytest.param(
            "properties.csv",
            "property_id,name,state,country\nelm,Elm Court,NY,US\noak,Oak Row,NY,USA\n",
            3,
            "country",
            ("ISO 3166-1 alpha-2", "USA"),
            id="three-letter country",
        ),
        pytest.param(
            "properties.csv",
            "property_id,name,state,country\nelm,Elm Court,NY,US\noak,Oak Row,NY,us\n",
            3,
            "country",
            ("ISO 3166-1 alpha-2", "us"),
            id="lower-case country",
        ),
        pytest.param(
            "properties.csv",
            "property_id,name,state,country\nelm,Elm Court,NY,US\noak,Oak Row,XX,US\n",
            3,
            "state",
            ("unknown US state", "XX"),
            id="unknown US state without a time zone",
        ),
        pytest.param(
            "properties.csv",
            "property_id,name,state,country,timezone\nelm,Elm Court,NY,US,\n"
            "oak,Oak Row,NY,US,Eastern\n",
            3,
            "timezone",
            ("IANA", "Eastern"),
            id="time zone that is not IANA",
        ),
        pytest.param(
            "parties.csv",
            "party_id,name,country\nalice,Alice Archer,\ncarol,Carol Chen,Canada\n",
            3,
            "country",
            ("ISO 3166-1 alpha-2", "Canada"),
            id="party country spelled out",
        ),
        pytest.param(
            "parties.csv",
            "party_id,name,kind\nalice,Alice Archer,person\nacme,Acme Corp,company\n",
            3,
            "kind",
            ("'company'", "person, organization"),
            id="bad party kind",
        ),
        pytest.param(
            "parties.csv",
            "party_id,name,phone\nalice,Alice Archer,\ncarol,Carol Chen,(212) 555-0100\n",
            3,
            "phone",
            ("E.164",),
            id="phone not in E.164",
        ),
        pytest.param(
            "parties.csv",
            "party_id,name,email\nalice,Alice Archer,alice@example.com\ncarol,Carol Chen,carol\n",
            3,
            "email",
            ("email address", "carol"),
            id="email without an at sign",
        ),
    ],
)
def test_a_bad_row_in_another_file_is_refused_and_the_book_is_unchanged(
    elm_court, tmp_path, name, content, line, column, words
):
    # given
    bad = write_book(tmp_path / "bad", {name: content})
    # when
    problems = import_problems(bad)
    # then
    assert len(problems) == 1, problems
    assert_problem(problems[0], name, line, column, *words)
    assert book_state() == elm_court


def test_a_country_code_that_does_not_exist_is_refused(elm_court, tmp_path):
    # given: XY has the shape of a country code, but no country has it
    bad = write_book(
        tmp_path / "bad",
        {
            "properties.csv": "property_id,name,state,country,timezone\n"
            "oak,Oak Row,Nowhere,XY,Europe/Paris\n"
        },
    )
    # when
    problems = import_problems(bad)
    # then
    assert_problem(problems[0], "properties.csv", 2, "country", "ISO 3166-1 alpha-2")
    assert book_state() == elm_court


def test_a_good_accounts_file_is_rolled_back_with_a_bad_transactions_file(elm_court, tmp_path):
    # given: carol moves in and alice's rent goes up, but one of the new rows is bad
    bad = write_book(
        tmp_path / "bad",
        {
            "parties.csv": "party_id,name\ncarol,Carol Chen\n",
            "accounts.csv": "account_id,property_id,unit,kind,opened,rent\n"
            "alice-1A,elm,1A,residential_lease,2025-12-01,2100.00\n"
            "carol-3C,elm,3C,residential_lease,2026-03-01,1800.00\n",
            "account_parties.csv": "account_id,party_id,role\ncarol-3C,carol,primary\n",
            "transactions.csv": TXN_HEADER
            + "c1,carol-3C,2026-03-01,charge,1800.00,RENT,2026-03-01,,\n"
            + "c2,carol-3C,2026-03-02,payment,1800.005,,,,\n",
        },
    )
    # when
    problems = import_problems(bad)
    # then: the error is in transactions.csv, and nothing of the other files is left
    assert len(problems) == 1
    assert_problem(problems[0], "transactions.csv", 3, "amount", "2 decimal places")
    assert book_state() == elm_court
    assert not Account.objects.filter(account_id="carol-3C").exists()
    assert not Party.objects.filter(party_id="carol").exists()
    assert Account.objects.get(account_id="alice-1A").rent == 2000


def test_a_file_that_is_not_utf8_is_refused(elm_court, tmp_path):
    # given: a memo typed in Latin-1 on line 3
    text = "txn_id,account_id,posted,type,amount,code,memo\n" + (
        "c1,alice-1A,2026-03-05,charge,75.00,LATE,late fee\n"
        "c2,alice-1A,2026-03-06,charge,25.00,NSF,caf\xe9\n"
    )
    bad = write_book(tmp_path / "bad", {"transactions.csv": text.encode("latin-1")})
    # when
    problems = import_problems(bad)
    # then
    assert len(problems) == 1
    problem = problems[0]
    assert (problem.file, problem.column) == ("transactions.csv", "")
    assert "not UTF-8" in problem.reason
    assert book_state() == elm_court


def test_a_file_that_is_not_utf8_is_refused_on_the_line_of_the_bad_byte(elm_court, tmp_path):
    # given: a memo typed in Latin-1 on line 3
    text = "txn_id,account_id,posted,type,amount,code,memo\n" + (
        "c1,alice-1A,2026-03-05,charge,75.00,LATE,late fee\n"
        "c2,alice-1A,2026-03-06,charge,25.00,NSF,caf\xe9\n"
    )
    bad = write_book(tmp_path / "bad", {"transactions.csv": text.encode("latin-1")})
    # when
    (problem,) = import_problems(bad)
    # then
    assert problem.line == 3


@pytest.mark.parametrize(
    ("bad_row", "words"),
    [
        pytest.param(
            'x1,alice-1A,"2026-03-05"x,payment,10.00,,,,\n',
            ("quoting",),
            id="text after a closing quote",
        ),
        pytest.param(
            'x1,alice-1A,"2026-03-05,payment,10.00,,,,\n',
            ("quoting", "end of data"),
            id="quote never closed",
        ),
    ],
)
def test_bad_quoting_is_refused_on_its_line(elm_court, tmp_path, bad_row, words):
    # given
    bad = write_book(tmp_path / "bad", {"transactions.csv": TXN_HEADER + GOOD_LATE_FEE + bad_row})
    # when
    problems = import_problems(bad)
    # then
    assert len(problems) == 1
    assert_problem(problems[0], "transactions.csv", 3, "", *words)
    assert book_state() == elm_court


def test_a_transaction_id_longer_than_64_characters_is_refused(elm_court, tmp_path):
    # given
    long_id = "x" * 65
    bad = write_book(
        tmp_path / "bad",
        {
            "transactions.csv": TXN_HEADER
            + GOOD_LATE_FEE
            + f"{long_id},alice-1A,2026-03-05,payment,10.00,,,,\n"
        },
    )
    # when
    problems = import_problems(bad)
    # then
    assert_problem(problems[0], "transactions.csv", 3, "txn_id", "64")
    assert book_state() == elm_court


def test_a_party_name_longer_than_the_book_holds_is_refused(elm_court, tmp_path):
    # given
    bad = write_book(
        tmp_path / "bad",
        {"parties.csv": "party_id,name\ncarol,Carol Chen\ndave," + "D" * 201 + "\n"},
    )
    # when
    problems = import_problems(bad)
    # then
    assert_problem(problems[0], "parties.csv", 3, "name", "200")
    assert book_state() == elm_court


def test_a_utf8_file_with_a_byte_order_mark_is_accepted(elm_court, tmp_path):
    # given: the file as Excel saves "CSV UTF-8"
    good = write_book(
        tmp_path / "good",
        {
            "transactions.csv": (
                TXN_HEADER + "c1,alice-1A,2026-03-05,charge,75.00,LATE,,,\n"
            ).encode("utf-8-sig")
        },
    )
    # when
    summary = book_import(good)
    # then
    assert summary.created["transactions"] == 1
    assert Transaction.objects.get(txn_id="c1").due_on == date(2026, 3, 5)


def test_an_empty_file_is_refused(elm_court, tmp_path):
    # given
    bad = write_book(tmp_path / "bad", {"accounts.csv": ""})
    # when
    problems = import_problems(bad)
    # then
    assert len(problems) == 1
    assert_problem(problems[0], "accounts.csv", 1, "", "empty")
    assert book_state() == elm_court


def test_an_unknown_file_in_the_folder_is_refused(elm_court, tmp_path):
    # given
    bad = write_book(tmp_path / "bad", {"tenants.csv": "party_id,name\ncarol,Carol Chen\n"})
    # when
    problems = import_problems(bad)
    # then
    assert len(problems) == 1
    assert (problems[0].file, problems[0].line) == ("tenants.csv", 0)
    assert "transactions.csv" in problems[0].reason
    assert book_state() == elm_court


def test_every_bad_row_of_a_file_is_reported_not_only_the_first(elm_court, tmp_path):
    # given: bad rows on lines 2, 4 and 5; a good one on line 3
    bad = write_book(
        tmp_path / "bad",
        {
            "transactions.csv": TXN_HEADER
            + "x1,alice-1A,2026-03-05,payment,10.005,,,,\n"
            + GOOD_LATE_FEE
            + "x2,zed-9,2026-03-05,payment,10.00,,,,\n"
            + "x3,bob-2B,2026-02-30,payment,10.00,,,,\n"
        },
    )
    # when
    problems = import_problems(bad)
    # then
    assert [(p.line, p.column) for p in problems] == [
        (2, "amount"),
        (4, "account_id"),
        (5, "posted"),
    ]
    assert all(p.file == "transactions.csv" for p in problems)
    assert book_state() == elm_court


def test_every_bad_reference_of_a_file_is_reported_not_only_the_first(elm_court, tmp_path):
    # given: two payments naming charges that are not there
    bad = write_book(
        tmp_path / "bad",
        {
            "transactions.csv": TXN_HEADER
            + "x1,alice-1A,2026-03-05,payment,10.00,,,t98,\n"
            + GOOD_LATE_FEE
            + "x2,bob-2B,2026-03-05,payment,10.00,,,t99,\n"
        },
    )
    # when
    problems = import_problems(bad)
    # then
    assert [(p.line, p.column) for p in problems] == [(2, "applies_to"), (4, "applies_to")]
    assert "t98" in problems[0].reason
    assert "t99" in problems[1].reason
    assert book_state() == elm_court


def test_the_error_message_says_nothing_was_imported(elm_court, tmp_path):
    # given
    bad = write_book(
        tmp_path / "bad",
        {
            "transactions.csv": TXN_HEADER
            + GOOD_LATE_FEE
            + "x1,zed-9,2026-03-05,payment,10.00,,,,\n"
        },
    )
    # when
    with pytest.raises(BookImportError) as raised:
        book_import(bad)
    # then
    assert raised.value.message.startswith("transactions.csv, line 3, column account_id: ")
    assert raised.value.message.endswith("Nothing was imported.")
    assert raised.value.extra["problems"][0]["line"] == 3


def test_the_import_command_exits_non_zero_and_names_file_line_and_column(
    elm_court, tmp_path, capsys
):
    # given
    bad = write_book(
        tmp_path / "bad",
        {
            "transactions.csv": TXN_HEADER
            + GOOD_LATE_FEE
            + "x1,bob-2B,2026-03-05,reversal,999.99,,,,b4\n"
        },
    )
    capsys.readouterr()
    # when
    status = main(["import", str(bad)])
    # then
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("arrears import: transactions.csv, line 3, column reverses: ")
    assert "differs" in err
    assert "Nothing was imported." in err
    assert book_state() == elm_court


BAD_ID_ROWS = [
    pytest.param(
        "transactions.csv",
        TXN_HEADER + GOOD_LATE_FEE + "x/1,alice-1A,2026-03-05,payment,10.00,,,,\n",
        3,
        "txn_id",
        "x/1",
        id="a slash in a transaction id",
    ),
    pytest.param(
        "transactions.csv",
        TXN_HEADER + GOOD_LATE_FEE + "x1,../../x,2026-03-05,payment,10.00,,,,\n",
        3,
        "account_id",
        "../../x",
        id="a path as an account id",
    ),
    pytest.param(
        "transactions.csv",
        TXN_HEADER + GOOD_LATE_FEE + "x1 ,alice-1A,2026-03-05,payment,10.00,,,,\n",
        3,
        "txn_id",
        "x1 ",
        id="a trailing space is refused, not trimmed",
    ),
    pytest.param(
        "transactions.csv",
        TXN_HEADER + GOOD_LATE_FEE + "x1,alice-1A,2026-03-05,payment,10.00,,,t 1,\n",
        3,
        "applies_to",
        "t 1",
        id="a space in the charge a payment applies to",
    ),
    pytest.param(
        "transactions.csv",
        "txn_id,account_id,posted,type,amount,memo\nx1,alice-1A,2026-03-05,payment,10.00,a\x00b\n",
        2,
        "memo",
        "control",
        id="a NUL in a memo",
    ),
    pytest.param(
        "transactions.csv",
        "txn_id,account_id,posted,type,amount,reference\n"
        '"x1",alice-1A,2026-03-05,payment,10.00,"chk\r\n12"\n',
        2,
        "reference",
        "control",
        id="a line break in a reference",
    ),
    pytest.param(
        "accounts.csv",
        "account_id,property_id,unit,kind,opened\nsub/dir,elm,3C,residential_lease,2026-01-01\n",
        2,
        "account_id",
        "sub/dir",
        id="a slash in an account id",
    ),
    pytest.param(
        "accounts.csv",
        "account_id,property_id,unit,kind,opened\n-a,elm,3C,residential_lease,2026-01-01\n",
        2,
        "account_id",
        "-a",
        id="an id starting with a dash",
    ),
    pytest.param(
        "accounts.csv",
        "account_id,property_id,unit,kind,opened\nabcé,elm,3C,residential_lease,2026-01-01\n",
        2,
        "account_id",
        "not an id",
        id="a letter outside the set",
    ),
    pytest.param(
        "parties.csv",
        'party_id,name\ncarol,"Carol\r\nChen"\n',
        2,
        "name",
        "control",
        id="CR LF in a name",
    ),
    pytest.param(
        "parties.csv",
        "party_id,name,address\ncarol,Carol Chen,12 Elm St\x0b\n",
        2,
        "address",
        "control",
        id="a vertical tab in an address",
    ),
    pytest.param(
        "properties.csv",
        "property_id,name,state,country\noak park,Oak Park,NY,US\n",
        2,
        "property_id",
        "oak park",
        id="a space in a property id",
    ),
    pytest.param(
        "account_parties.csv",
        "account_id,party_id,role\nalice-1A,bob\t,guarantor\n",
        2,
        "party_id",
        "not an id",
        id="a tab after a party id",
    ),
]


@pytest.mark.parametrize(("name", "content", "line", "column", "word"), BAD_ID_ROWS)
def test_a_bad_id_or_a_control_character_is_refused_and_nothing_changes(
    elm_court, tmp_path, name, content, line, column, word
):
    # given: the book, and a file with one bad row
    folder = write_book(tmp_path / "bad", {name: content})
    # when
    problems = import_problems(folder)
    # then
    assert len(problems) == 1
    assert_problem(problems[0], name, line, column, word)
    assert book_state() == elm_court


def test_every_character_the_spec_allows_in_an_id_is_taken(elm_court, tmp_path):
    # given: an id of 64 characters, using each kind the spec allows
    account = "Z9" + "a.b_c-d:e" * 6 + "x" * 8
    assert len(account) == 64
    folder = write_book(
        tmp_path / "good",
        {
            "accounts.csv": "account_id,property_id,unit,kind,opened\n"
            f"{account},elm,3C,residential_lease,2026-01-01\n",
            "transactions.csv": TXN_HEADER
            + f"T:1.a_b-c,{account},2026-03-05,charge,10.00,RENT,,,\n",
            "parties.csv": 'party_id,name,address\ncarol,Carol García-Chen,"12 Elm St, Apt 3"\n',
        },
    )
    # when
    summary = book_import(folder)
    # then
    assert summary.created["accounts"] == 1
    assert summary.created["transactions"] == 1
    assert summary.created["parties"] == 1


PAYMENT_HEADER = "txn_id,account_id,posted,type,amount,reference\n"


def test_a_payment_already_in_the_book_under_another_id_is_refused_naming_both(elm_court, tmp_path):
    # given: Bob's check 1001 of 200.00 on March 2, imported
    book_import(
        write_book(
            tmp_path / "first",
            {
                "transactions.csv": PAYMENT_HEADER
                + "p1,bob-2B,2026-03-02,payment,200.00,CHK 1001\n",
            },
        )
    )
    before = book_state()
    # when: the bank's next export numbers the same check P1
    problems = import_problems(
        write_book(
            tmp_path / "again",
            {
                "transactions.csv": PAYMENT_HEADER
                + "P1,bob-2B,2026-03-02,payment,200.00,CHK 1001\n",
            },
        )
    )
    # then: refused, naming both, and nothing changes
    (problem,) = problems
    assert_problem(problem, "transactions.csv", 2, "reference", "'P1'", "'p1'", "in the book")
    assert book_state() == before


def test_the_same_payment_twice_in_one_file_is_refused_unless_it_says_it_is_distinct(
    elm_court, tmp_path
):
    rows = "q1,bob-2B,2026-03-02,payment,100.00,MO 77\nq2,bob-2B,2026-03-02,payment,100.00,MO 77\n"
    # when: two money orders of the same number, amount and day
    (problem,) = import_problems(
        write_book(tmp_path / "twice", {"transactions.csv": PAYMENT_HEADER + rows})
    )
    assert_problem(problem, "transactions.csv", 3, "reference", "'q2'", "'q1'", "line 2")
    # then: with x_distinct the second is taken as another payment
    distinct = PAYMENT_HEADER.rstrip("\n") + ",x_distinct\n" + rows.replace("\n", ",\n", 1)
    distinct = distinct.replace("MO 77\n", "MO 77,yes\n")
    summary = book_import(write_book(tmp_path / "distinct", {"transactions.csv": distinct}))
    assert summary.created["transactions"] == 2
    # and payments without a reference are never taken for one another
    plain = "r1,bob-2B,2026-03-03,payment,10.00,\nr2,bob-2B,2026-03-03,payment,10.00,\n"
    summary = book_import(
        write_book(tmp_path / "plain", {"transactions.csv": PAYMENT_HEADER + plain})
    )
    assert summary.created["transactions"] == 2


# alice's and bob's leases opened on 2025-12-01; "today" is 2026-03-10 in these tests.
IMPLAUSIBLE_DATES = [
    pytest.param(
        "x1,alice-1A,0001-01-01,payment,10.00,,,,\n",
        "posted",
        ("0001-01-01", "outside the book's calendar"),
        id="year 1",
    ),
    pytest.param(
        "x1,alice-1A,9999-12-31,payment,10.00,,,,\n",
        "posted",
        ("9999-12-31", "outside the book's calendar"),
        id="year 9999",
    ),
    pytest.param(
        "x1,alice-1A,2026-03-05,charge,10.00,LATE,0001-01-01,,\n",
        "due",
        ("0001-01-01", "outside the book's calendar"),
        id="due in year 1",
    ),
    pytest.param(
        "x1,alice-1A,2026-03-05,charge,10.00,LATE,9999-12-31,,\n",
        "due",
        ("9999-12-31", "outside the book's calendar"),
        id="due in year 9999",
    ),
    pytest.param(
        "x1,alice-1A,2062-03-05,payment,10.00,,,,\n",
        "posted",
        ("2062-03-05", "more than a year after today (2026-03-10)"),
        id="2026 typed as 2062",
    ),
    pytest.param(
        "x1,alice-1A,2026-03-05,charge,10.00,LATE,2027-03-11,,\n",
        "due",
        ("2027-03-11", "more than a year after today"),
        id="due a year and a day ahead",
    ),
    pytest.param(
        "x1,alice-1A,2006-03-05,payment,10.00,,,,\n",
        "posted",
        ("2006-03-05", "more than a year before account 'alice-1A' opened (2025-12-01)"),
        id="posted two decades before the lease",
    ),
    pytest.param(
        "x1,alice-1A,2026-03-05,charge,10.00,LATE,1926-03-01,,\n",
        "due",
        ("1926-03-01", "before account 'alice-1A' opened"),
        id="due a century early",
    ),
]


@pytest.mark.parametrize(("bad_row", "column", "words"), IMPLAUSIBLE_DATES)
def test_an_implausible_date_is_refused_where_it_stands_and_the_book_is_unchanged(
    elm_court, tmp_path, monkeypatch, bad_row, column, words
):
    # given: today is March 10, 2026; a good late fee on line 2, the bad date on line 3
    monkeypatch.setenv("ARREARS_TODAY", "2026-03-10")
    bad = write_book(tmp_path / "bad", {"transactions.csv": TXN_HEADER + GOOD_LATE_FEE + bad_row})
    # when
    problems = import_problems(bad)
    # then: one problem, named, and nothing changed
    assert len(problems) == 1, problems
    assert_problem(problems[0], "transactions.csv", 3, column, *words)
    assert book_state() == elm_court


@pytest.mark.parametrize(
    ("row", "column", "words"),
    [
        pytest.param(
            "carol-3C,elm,3C,residential_lease,0001-01-01,\n",
            "opened",
            ("0001-01-01", "outside the book's calendar"),
            id="opened in year 1",
        ),
        pytest.param(
            "carol-3C,elm,3C,residential_lease,2026-03-01,9999-12-31\n",
            "closed",
            ("9999-12-31", "outside the book's calendar"),
            id="closed in year 9999",
        ),
        pytest.param(
            "carol-3C,elm,3C,residential_lease,2063-01-01,\n",
            "opened",
            ("2063-01-01", "more than a year after today"),
            id="opened in 2063",
        ),
    ],
)
def test_an_account_with_an_implausible_date_is_refused(
    elm_court, tmp_path, monkeypatch, row, column, words
):
    # given
    monkeypatch.setenv("ARREARS_TODAY", "2026-03-10")
    header = "account_id,property_id,unit,kind,opened,closed\n"
    bad = write_book(tmp_path / "bad", {"accounts.csv": header + row})
    # when
    (problem,) = import_problems(bad)
    # then
    assert_problem(problem, "accounts.csv", 2, column, *words)
    assert book_state() == elm_court


def test_dates_at_the_edges_of_the_rule_are_taken(elm_court, tmp_path, monkeypatch):
    # given: today is March 10, 2026; alice's lease opened on 2025-12-01
    monkeypatch.setenv("ARREARS_TODAY", "2026-03-10")
    rows = (
        "e1,alice-1A,2024-12-01,charge,500.00,DEP,2024-12-01,,\n"  # a year before she moved in
        "e2,alice-1A,2027-03-10,charge,2000.00,RENT,2027-03-10,,\n"  # a year ahead of today
    )
    # when
    summary = book_import(write_book(tmp_path / "edges", {"transactions.csv": TXN_HEADER + rows}))
    # then
    assert summary.created["transactions"] == 2


# A NUL byte in each kind of field of each kind of file: refused, naming the field, never a
# database error (PostgreSQL stores no NUL in text or JSON).
NUL_ROWS = [
    pytest.param(
        "transactions.csv",
        "txn_id,account_id,posted,type,amount\nx\x001,alice-1A,2026-03-05,payment,10.00\n",
        2,
        "txn_id",
        id="in an id",
    ),
    pytest.param(
        "transactions.csv",
        "txn_id,account_id,posted,type,amount\nx1,alice-1A,2026-03-05,payment,10.0\x00\n",
        2,
        "amount",
        id="in an amount",
    ),
    pytest.param(
        "transactions.csv",
        "txn_id,account_id,posted,type,amount\nx1,alice-1A,2026-03-0\x005,payment,10.00\n",
        2,
        "posted",
        id="in a date",
    ),
    pytest.param(
        "transactions.csv",
        "txn_id,account_id,posted,type,amount\nx1,alice-1A,2026-03-05,pay\x00ment,10.00\n",
        2,
        "type",
        id="in the type",
    ),
    pytest.param(
        "transactions.csv",
        "txn_id,account_id,posted,type,amount,reference\n"
        "x1,alice-1A,2026-03-05,payment,10.00,CHK\x00\n",
        2,
        "reference",
        id="in a reference",
    ),
    pytest.param(
        "transactions.csv",
        "txn_id,account_id,posted,type,amount,x_note\n"
        "x1,alice-1A,2026-03-05,payment,10.00,ok\n"
        "x2,alice-1A,2026-03-06,payment,10.00,\x00\n",
        3,
        "x_note",
        id="in a custom column",
    ),
    pytest.param(
        "accounts.csv",
        "account_id,property_id,unit,kind,opened,currency\n"
        "carol-3C,elm,3C,residential_lease,2026-03-01,US\x00\n",
        2,
        "currency",
        id="in a currency",
    ),
    pytest.param(
        "accounts.csv",
        "account_id,property_id,unit,kind,opened\ncarol-3C,elm,3C,customer\x00,2026-03-01\n",
        2,
        "kind",
        id="in a kind",
    ),
    pytest.param(
        "parties.csv",
        "party_id,name,email\ncarol,Carol Chen,carol\x00@example.com\n",
        2,
        "email",
        id="in an email address",
    ),
    pytest.param(
        "properties.csv",
        "property_id,name,state,country\noak,Oak Row,NY,U\x00\n",
        2,
        "country",
        id="in a country",
    ),
    pytest.param(
        "account_parties.csv",
        "account_id,party_id,role\nalice-1A,bob,guarantor\x00\n",
        2,
        "role",
        id="in a role",
    ),
    pytest.param(
        "parties.csv",
        "party_id,name,x_\x00\ncarol,Carol Chen,1\n",
        1,
        "#3",
        id="in a column's name",
    ),
]


@pytest.mark.parametrize(("name", "content", "line", "column"), NUL_ROWS)
def test_a_nul_byte_anywhere_is_refused_with_its_file_line_and_column(
    elm_court, tmp_path, name, content, line, column
):
    # given
    bad = write_book(tmp_path / "bad", {name: content})
    # when
    problems = import_problems(bad)
    # then: the NUL is named, shown escaped, and nothing changed
    assert_problem(problems[0], name, line, column, "NUL byte", "\\x00")
    assert book_state() == elm_court


def test_a_workbook_whose_sheet_breaks_off_is_refused_not_a_crash(elm_court, tmp_path):
    import zipfile

    import openpyxl

    # given: a workbook whose parties sheet holds a NUL as an XML character reference, which
    # no spreadsheet writes and no XML parser reads
    good = tmp_path / "good.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "parties"
    sheet.append(["party_id", "name"])
    sheet.append(["carol", "Carol MARKER Chen"])
    workbook.save(good)
    bad = tmp_path / "bad.xlsx"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(bad, "w") as target:
        for info in source.infolist():
            target.writestr(info, source.read(info).replace(b"MARKER", b"&#0;"))
    # when
    (problem,) = import_problems(bad)
    # then
    assert problem.file == "bad.xlsx[parties]"
    assert "cannot be read" in problem.reason
    assert book_state() == elm_court
