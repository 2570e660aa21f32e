"""Bad input to `book_import`: ids and control characters, a payment already in the book, dates
outside the calendar, NUL bytes and broken workbooks; each refused where it stands, the book
unchanged."""

import pytest

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
