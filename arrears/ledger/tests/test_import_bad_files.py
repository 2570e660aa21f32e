"""Bad input to `book_import`, file by file: rows of the other files, encodings, quoting, lengths
and empty or unknown files; every case names its file, line and column and leaves the book as it
was."""

from datetime import date

import pytest

from arrears.cli import main
from arrears.ledger.interchange import BookImportError
from arrears.ledger.models import (
    Account,
    Party,
    Transaction,
)
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
            "party_id,name,phone\nalice,Alice Archer,\ncarol,Carol Chen,+1２１２５５５０１００\n",
            3,
            "phone",
            ("E.164",),
            id="phone in full-width digits",
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
