"""Property-management exports through their mappings (docs/ledger-interchange.md, "Property-
management exports"): each builtin mapping imports the small export of docs/mappings/ written by
hand, and the book's balances and aging are the figures worked out by hand here.

The Yardi ledger is the spec's worked example as Maria Lopez's resident ledger at Elm Court,
with James Okafor's February next door; Buildium's is a lease whose February check came back.
"""

import csv
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from arrears.cli import main
from arrears.ledger.export import book_export
from arrears.ledger.interchange import BookImportError
from arrears.ledger.interchange.mapping import builtin_names, parse_amount
from arrears.ledger.models import Account, AccountParty, BookImport, Party, Transaction
from arrears.ledger.selectors import aging_report
from arrears.ledger.services import book_import
from arrears.ledger.tests.elm_court import assert_problem, book_state

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).resolve().parents[3] / "docs" / "mappings"
BUCKETS = ("current", "1-30", "31-60", "61-90", "91+", "credit", "balance")


def aging(as_of: date) -> dict[str, str]:
    """Each account's aging line as of a day: "current 1-30 31-60 61-90 91+ credit balance"."""
    (report,) = aging_report(as_of=as_of)
    return {
        row["account_id"]: " ".join(row[b] for b in BUCKETS) for row in report.as_json()["accounts"]
    }


def sample(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    shutil.copy(SAMPLES / name, path)
    return path


def test_the_builtin_mappings_are_the_six_exports():
    assert builtin_names() == [
        "appfolio-aging",
        "appfolio-ledger",
        "buildium-aging",
        "buildium-ledger",
        "yardi-aging",
        "yardi-ledger",
    ]


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("$1,234.50", "1234.50"),
        ("(1,234.50)", "-1234.50"),
        ("-12", "-12.00"),
        ("12.5-", "-12.50"),
        ("", "0.00"),
        ("$(75.00)", "-75.00"),
    ],
)
def test_source_amounts_with_symbols_and_parentheses(text, amount):
    assert parse_amount(text, "Charge") == Decimal(amount)


def test_yardi_ledger_is_the_spec_example_as_a_resident_ledger(tmp_path):
    # when
    summary = book_import(sample(tmp_path, "yardi-ledger.csv"), mapping="yardi-ledger")
    # then: the spec's figures for Maria (4550: 2000 in 1-30, 2050 in 31-60, 500 in 61-90);
    # James owes 500 of February's rent, 37 days past due
    lines = aging(date(2026, 3, 10))
    assert lines["YV-elm-1A-t0001234"] == "0.00 2000.00 2050.00 500.00 0.00 0.00 4550.00"
    assert lines["YV-elm-2B-t0001240"] == "0.00 0.00 500.00 0.00 0.00 0.00 500.00"
    assert summary.created["transactions"] == 9
    # the negative receipt is the reversal of the 2600.00 check it returned
    nsf = Transaction.objects.get(txn_id="YV-elm-2003")
    assert (nsf.type, nsf.amount, nsf.reverses.txn_id) == (
        "reversal",
        Decimal("2600.00"),
        "YV-elm-2002",
    )
    # the source's ids are kept in x_ columns
    assert nsf.extra == {"x_yardi_ctrl": "2003"}
    rent = Transaction.objects.get(txn_id="YV-elm-1001")
    assert (rent.code, rent.extra["x_yardi_chg_code"]) == ("RENT", "rent")
    account = Account.objects.get(account_id="YV-elm-1A-t0001234")
    assert (account.unit, account.opened_on) == ("1A", date(2026, 1, 1))
    assert account.extra == {
        "x_yardi_property": "elm",
        "x_yardi_unit": "1A",
        "x_yardi_resident": "t0001234",
    }
    party = Party.objects.get(party_id="YV-t0001234")
    assert (party.name, party.extra) == ("Maria Lopez", {"x_yardi_resident": "t0001234"})
    assert AccountParty.objects.get(party=party).role == "primary"


def test_the_same_export_imported_again_changes_nothing(tmp_path):
    path = sample(tmp_path, "yardi-ledger.csv")
    book_import(path, mapping="yardi-ledger")
    before = book_state()
    # when
    summary = book_import(path, mapping="yardi-ledger")
    # then
    assert not summary.changed
    assert book_state() == before


def test_a_later_months_export_starts_where_the_book_stands(tmp_path):
    # given: the Yardi ledger up to Maria's 2600.00 check of February 15
    lines = (SAMPLES / "yardi-ledger.csv").read_text().splitlines(keepends=True)
    book_import(write(tmp_path, "to-feb-15.csv", "".join(lines[:6])), mapping="yardi-ledger")
    # when: the rest, which opens on the check's return (balance 2,550.00: -50.00 before it)
    book_import(write(tmp_path, "rest.csv", lines[0] + "".join(lines[6:])), mapping="yardi-ledger")
    # then: the return reverses the check of the first file, and the figures are the whole
    # ledger's; Maria's lease still opened on January 1
    assert Transaction.objects.get(txn_id="YV-elm-2003").reverses.txn_id == "YV-elm-2002"
    assert aging(date(2026, 3, 10))["YV-elm-1A-t0001234"] == (
        "0.00 2000.00 2050.00 500.00 0.00 0.00 4550.00"
    )
    assert Account.objects.get(account_id="YV-elm-1A-t0001234").opened_on == date(2026, 1, 1)


def test_a_later_months_export_is_refused_for_a_book_without_the_earlier_part(tmp_path):
    lines = (SAMPLES / "yardi-ledger.csv").read_text().splitlines(keepends=True)
    path = write(tmp_path, "rest.csv", lines[0] + "".join(lines[6:]))
    with pytest.raises(BookImportError) as raised:
        book_import(path, mapping="yardi-ledger")
    # then: its opening balance is not the book's, nor is the check it returns in the book
    problems = {p.column: p for p in raised.value.problems}
    assert_problem(problems["Balance"], "rest.csv", 2, "Balance", "owed -50.00 before", "has 0.00")
    assert_problem(problems["Payment"], "rest.csv", 2, "Payment", "no earlier payment of 2600.00")
    assert not Transaction.objects.exists()


def test_yardi_aging_becomes_opening_balances_that_age_the_same_way(tmp_path):
    # when: the aged receivables of 2026-03-10
    book_import(sample(tmp_path, "yardi-aging.csv"), mapping="yardi-aging", as_of=date(2026, 3, 10))
    # then: 0-30 is due on the day (current), 31-60 31 days before, 61-90 61, over 90 91
    lines = aging(date(2026, 3, 10))
    assert lines["YV-elm-1A-t0001234"] == "2000.00 0.00 2050.00 500.00 0.00 0.00 4550.00"
    assert lines["YV-elm-3C-t0001251"] == "0.00 0.00 0.00 0.00 0.00 75.00 -75.00"
    assert lines["YV-oak-101-t0002001"] == "1200.00 0.00 0.00 0.00 350.00 0.00 1550.00"
    # and they age on: 30 days later the 0-30 amount is 30 days past due, the 31-60 is 61
    later = aging(date(2026, 4, 9))
    assert later["YV-elm-1A-t0001234"] == "0.00 2000.00 0.00 2050.00 500.00 0.00 4550.00"
    opening = Transaction.objects.get(txn_id="YV-elm-1A-t0001234:OPEN:2026-03-10:31")
    assert (opening.posted_on, opening.due_on, opening.code) == (
        date(2026, 2, 7),
        date(2026, 2, 7),
        "OPENING",
    )
    assert opening.extra == {"x_bucket": "31-60"}


def test_an_aging_export_is_refused_for_an_account_that_has_entries(tmp_path):
    book_import(sample(tmp_path, "yardi-aging.csv"), mapping="yardi-aging", as_of=date(2026, 3, 10))
    before = book_state()
    # when: next month's aging, as if it were an opening balance again
    with pytest.raises(BookImportError) as raised:
        book_import(tmp_path / "yardi-aging.csv", mapping="yardi-aging", as_of=date(2026, 4, 10))
    # then
    assert_problem(raised.value.problems[0], "yardi-aging.csv", 2, "", "already holds entries")
    assert book_state() == before


def test_appfolio_ledger_with_rows_that_have_no_ids(tmp_path):
    book_import(sample(tmp_path, "appfolio-ledger.csv"), mapping="appfolio-ledger")
    # then: Grace owes April's rent and March's water (1650 + 42.18), Tom has 100 of credit
    lines = aging(date(2026, 4, 10))
    assert lines["AF-Maple-Court-4-Grace-Chen"] == "0.00 1692.18 0.00 0.00 0.00 0.00 1692.18"
    assert lines["AF-Maple-Court-7-Tom-Reyes"] == "0.00 0.00 0.00 0.00 0.00 100.00 -100.00"
    water = Transaction.objects.get(account__account_id="AF-Maple-Court-4-Grace-Chen", code="UTIL")
    assert water.amount == Decimal("42.18")
    assert water.extra["x_appfolio_gl_account"] == "4200: Utility Reimbursement"
    payment = Transaction.objects.get(reference="ACH-5531")
    assert (payment.code, payment.extra["x_appfolio_payer"]) == ("", "Tom Reyes")


def test_appfolio_aging(tmp_path):
    book_import(
        sample(tmp_path, "appfolio-aging.csv"), mapping="appfolio-aging", as_of=date(2026, 4, 30)
    )
    lines = aging(date(2026, 4, 30))
    assert lines["AF-Maple-Court-9-Leo-Brandt"] == "975.00 0.00 975.00 1075.00 0.00 0.00 3025.00"


def test_buildium_ledger_with_a_returned_check_and_a_concession(tmp_path):
    book_import(sample(tmp_path, "buildium-ledger.csv"), mapping="buildium-ledger")
    # then: February's rent reopened by the returned check, less the 100 concession, is 1150
    # 37 days past due; the 35 fee (29 days) and March's rent (9 days) are 1-30
    lines = aging(date(2026, 3, 10))
    assert lines["BD-L50211"] == "0.00 1285.00 1150.00 0.00 0.00 0.00 2435.00"
    reversal = Transaction.objects.get(txn_id="BD-T880105")
    assert reversal.reverses.txn_id == "BD-T880104"
    assert reversal.extra["x_buildium_type"] == "ReversePayment"
    assert Transaction.objects.get(txn_id="BD-T880106").code == "NSF"


def test_buildium_aging_of_the_same_lease_matches_its_ledger_bucket_for_bucket(tmp_path):
    book_import(
        sample(tmp_path, "buildium-aging.csv"), mapping="buildium-aging", as_of=date(2026, 3, 10)
    )
    lines = aging(date(2026, 3, 10))
    # the 0-30 amount sits in current on the day (never older than the export says)
    assert lines["BD-L50211"] == "1285.00 0.00 1150.00 0.00 0.00 0.00 2435.00"
    assert lines["BD-L50217"] == "0.00 0.00 0.00 0.00 2100.00 0.00 2100.00"
    assert Account.objects.get(account_id="BD-L50217").extra["x_buildium_unit_id"] == "9015"


def test_the_book_exported_into_a_yardi_ledger_imports_with_the_same_balances(
    fixtures_dir, tmp_path
):
    # given: the spec's book (account A1), exported
    book_import(fixtures_dir / "spec_example")
    book_export(tmp_path / "out")
    # when: its transactions written in the Yardi layout and imported by the mapping
    export = tmp_path / "ledger.csv"
    _yardi_layout(tmp_path / "out" / "transactions.csv", export)
    book_import(export, mapping="yardi-ledger")
    # then: the same line, bucket for bucket, on every day of the story
    for day in (date(2026, 1, 31), date(2026, 2, 16), date(2026, 2, 21), date(2026, 3, 10)):
        lines = aging(day)
        assert lines["YV-P1-A1-A1"] == lines["A1"], day


def _yardi_layout(transactions: Path, out: Path) -> None:
    """The interchange transactions as a Yardi resident ledger (charges in Charge, receipts in
    Payment, a reversal a negative receipt), with its running balance."""
    with transactions.open() as f:
        rows = list(csv.DictReader(f))
    balance = Decimal("0.00")
    with out.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(YARDI_HEADER.strip().split(","))
        for row in rows:
            amount = Decimal(row["amount"])
            charge = payment = ""
            if row["type"] == "charge":
                balance += amount
                charge = f"{amount:,.2f}"
            elif row["type"] == "reversal":
                balance += amount
                payment = f"({amount:,.2f})"
            else:
                balance -= amount
                payment = f"{amount:,.2f}"
            y, m, d = row["posted"].split("-")
            shown = f"({-balance:,.2f})" if balance < 0 else f"{balance:,.2f}"
            date_shown = f"{m}/{d}/{y}"
            who = ("P1", "A1", "A1", "Tenant A1")
            what = (row["code"].lower(), row["memo"], charge, payment, shown, row["txn_id"])
            writer.writerow([*who, date_shown, *what])


# --- bad input: file, line, column, reason; and nothing written ------------------------------


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


YARDI_HEADER = (
    "Property,Unit,Resident,Name,Date,Chg Code,Description,Charge,Payment,Balance,Chg/Rec\n"
)


@pytest.mark.parametrize(
    ("row", "column", "words"),
    [
        pytest.param(
            "elm,1A,t1,Maria,13/01/2026,rent,Rent,100.00,,100.00,9001\n",
            "Date",
            ("not a date", "%m/%d/%Y", "13/01/2026"),
            id="a day-first date",
        ),
        pytest.param(
            "elm,1A,t1,Maria,01/01/2026,rent,Rent,1O0.00,,100.00,9001\n",
            "Charge",
            ("not an amount", "1O0.00"),
            id="a letter O in an amount",
        ),
        pytest.param(
            "elm,1A,t1,Maria,01/01/2026,rent,Rent,100.005,,100.00,9001\n",
            "Charge",
            ("fraction of a cent",),
            id="a fraction of a cent",
        ),
        pytest.param(
            "elm,1A,t1,Maria,01/01/2026,rent,Rent,100.00,100.00,0.00,9001\n",
            "Charge, Payment",
            ("not both",),
            id="a charge and a payment on one row",
        ),
        pytest.param(
            "elm,2B,t2,James,01/02/2026,rent,Rent,100.00,,-100.00,9001\n",
            "Balance",
            ("balance is -100.00", "add up to 150.00"),
            id="a running balance that disagrees",
        ),
        pytest.param(
            "elm,1A,t1,Maria,01/01/2026,,NSF,,(100.00),100.00,9001\n",
            "Payment",
            ("no earlier payment of 100.00",),
            id="a negative receipt with nothing to reverse",
        ),
        pytest.param(
            "elm" * 22 + ",1A,t1,Maria,01/01/2026,rent,Rent,100.00,,100.00,9001\n",
            "Property, Unit, Resident",
            ("account_id", "longer than 64"),
            id="an account id too long to be an id",
        ),
    ],
)
def test_a_bad_row_names_its_line_and_column_and_nothing_is_written(tmp_path, row, column, words):
    good = "elm,2B,t2,James,01/01/2026,rent,Rent,50.00,,50.00,9000\n"
    path = write(tmp_path, "ledger.csv", YARDI_HEADER + good + row)
    before = book_state()
    with pytest.raises(BookImportError) as raised:
        book_import(path, mapping="yardi-ledger")
    (problem,) = raised.value.problems
    assert (problem.file, problem.line) == ("ledger.csv", 3), problem
    assert problem.column == column, problem
    for word in words:
        assert word.lower() in problem.reason.lower(), (word, problem.reason)
    assert book_state() == before
    assert not BookImport.objects.exists()


def test_a_missing_column_names_the_mapping_key_that_reads_it(tmp_path):
    path = write(tmp_path, "ledger.csv", YARDI_HEADER.replace("Chg/Rec", "Ctrl"))
    with pytest.raises(BookImportError) as raised:
        book_import(path, mapping="yardi-ledger")
    (problem,) = raised.value.problems
    assert_problem(problem, "ledger.csv", 1, "Chg/Rec", "transaction.txn_id", "yardi-ledger")


def test_a_transaction_type_the_mapping_does_not_know(tmp_path):
    path = write(
        tmp_path,
        "tx.csv",
        "Id,Date,TransactionType,TotalAmount,CheckNumber,LeaseId,Journal.Memo\n"
        "1,2026-01-01,Charge,10.00,,7,rent\n"
        "2,2026-01-02,OwnerContribution,10.00,,7,x\n",
    )
    with pytest.raises(BookImportError) as raised:
        book_import(path, mapping="buildium-ledger")
    (problem,) = raised.value.problems
    assert_problem(
        problem, "tx.csv", 3, "TransactionType", "no interchange type", "OwnerContribution"
    )


def test_an_aging_line_whose_total_disagrees(tmp_path):
    path = write(
        tmp_path,
        "aging.csv",
        "LeaseId,PropertyId,UnitId,Balance0To30Days,Balance31To60Days,Balance61To90Days,"
        "BalanceOver90Days,TotalBalance\n1,2,3,10.00,20.00,0,0,31.00\n",
    )
    with pytest.raises(BookImportError) as raised:
        book_import(path, mapping="buildium-aging", as_of=date(2026, 3, 10))
    (problem,) = raised.value.problems
    assert_problem(problem, "aging.csv", 2, "TotalBalance", "31.00", "add up to 30.00")


def test_a_problem_the_importer_finds_names_the_source_column(tmp_path):
    # a charge dated more than a year ahead of the book's today passes the mapping, not the import
    path = write(
        tmp_path, "ledger.csv", YARDI_HEADER + "elm,1A,t1,Maria,01/01/2099,rent,Rent,1.00,,1.00,9\n"
    )
    with pytest.raises(BookImportError) as raised:
        book_import(path, mapping="yardi-ledger", on=date(2026, 3, 10))
    problem = raised.value.problems[0]
    assert (problem.file, problem.line) == ("ledger.csv", 2), problem
    assert problem.column == "Date", problem
    assert "2099-01-01" in problem.reason


BAD_MAPPINGS = [
    pytest.param("[source]\nkind = ledger\n", 2, "", ("not TOML",), id="not TOML"),
    pytest.param(
        '[source]\nkind = "ledgers"\n', 2, "source.kind", ("'ledgers'",), id="an unknown kind"
    ),
    pytest.param(
        '[source]\nkind = "ledger"\n[account]\naccount_id = "{A}|slug"\n'
        '[transaction]\ntxn_id = "{T}"\nposted = "{D}|date"\n[amount]\ncolumn = "X"\n',
        4,
        "account.account_id",
        ("unknown filter 'slug'",),
        id="an unknown filter",
    ),
    pytest.param(
        '[source]\nkind = "ledger"\n[account]\naccount_id = "{A}"\n[amont]\ncolumn = "X"\n',
        5,
        "amont",
        ("unknown section",),
        id="a misspelt section",
    ),
    pytest.param(
        '[source]\nkind = "aging"\n[account]\naccount_id = "{A}"\n[aging]\n'
        'buckets = [{column = "0-30", days = -1}]\n',
        6,
        "aging.buckets",
        ("bucket 1",),
        id="a bucket of negative days",
    ),
    pytest.param(
        '[source]\nkind = "ledger"\n[account]\naccount_id = "{A}"\n[transaction]\n'
        'txn_id = "{T}"\nposted = "{D}|date"\n[amount]\ncolumn = "X"\n[type]\ncolumn = "K"\n'
        '[type.map]\nCharge = "invoice"\n',
        13,
        "type.map",
        ("'invoice' is not an interchange type",),
        id="a type that is not one",
    ),
]


@pytest.mark.parametrize(("text", "line", "key", "words"), BAD_MAPPINGS)
def test_a_bad_mapping_file_names_its_line_and_key(tmp_path, text, line, key, words):
    mapping = write(tmp_path, "mine.toml", text)
    export = write(tmp_path, "x.csv", "A,T,D,X,K\n1,2,2026-01-01,3.00,Charge\n")
    with pytest.raises(BookImportError) as raised:
        book_import(export, mapping=str(mapping))
    problem = raised.value.problems[0]
    assert_problem(problem, "mine.toml", line, key, *words)
    assert not Transaction.objects.exists()


def test_an_unknown_mapping_name_lists_the_builtins(tmp_path):
    export = write(tmp_path, "x.csv", "A\n1\n")
    with pytest.raises(BookImportError) as raised:
        book_import(export, mapping="yardi")
    assert "yardi-ledger" in raised.value.problems[0].reason


def test_the_documented_user_mapping_imports_its_example(tmp_path):
    # docs/mappings/my-ledger.toml: a mapping a user writes for a layout no vendor publishes
    book_import(sample(tmp_path, "my-ledger.csv"), mapping=str(SAMPLES / "my-ledger.toml"))
    lines = aging(date(2026, 3, 10))
    assert lines["RM-12-204"] == "0.00 1340.00 95.00 0.00 0.00 0.00 1435.00"
    assert Transaction.objects.get(txn_id="RM-55012").extra == {"x_rm_doc": "55012"}


def test_the_command_imports_an_export_by_its_mapping(tmp_path, capsys):
    path = sample(tmp_path, "buildium-aging.csv")
    assert main(["import", str(path), "--mapping", "buildium-aging", "--as-of", "2026-03-10"]) == 0
    assert "transactions 3 new" in capsys.readouterr().out
    assert Account.objects.count() == 2


def test_as_of_without_a_mapping_is_a_usage_error(fixtures_dir):
    with pytest.raises(SystemExit, match="goes with --mapping"):
        main(["import", str(fixtures_dir / "spec_example"), "--as-of", "2026-03-10"])


def test_a_download_named_with_parentheses_keeps_its_name_in_the_problems(tmp_path):
    path = write(
        tmp_path,
        "ledger (1).csv",
        YARDI_HEADER + "elm" * 22 + ",1A,t1,Maria,01/01/2026,rent,Rent,1.00,,1.00,9\n",
    )
    with pytest.raises(BookImportError) as raised:
        book_import(path, mapping="yardi-ledger", name="Downloads/ledger (1).csv")
    problem = raised.value.problems[0]
    assert (problem.file, problem.line, problem.column) == (
        "ledger (1).csv",
        2,
        "Property, Unit, Resident",
    )
