"""The containers of a book (folder, .zip, .xlsx), re-import, export round trip and aging outputs.

The worked example is written here from the spec's table, and its expected aging from the spec's
text (as of 2026-03-10: 1-30 2000.00, 31-60 2050.00, 61-90 500.00, credit 0.00, balance 4550.00),
not from what the code prints.
"""

import csv
import json
import zipfile
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.db import transaction

from arrears.cli import main
from arrears.ledger.export import book_export
from arrears.ledger.interchange import BookImportError
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
from arrears.ledger.tests.elm_court import transaction_rows

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 3, 10)

# The spec's worked example: one lease, its rent, a partial payment, a returned check.
EXAMPLE = {
    "properties.csv": "property_id,name,state,country\nP1,Elm Court,NY,US\n",
    "accounts.csv": (
        "account_id,property_id,unit,kind,opened,rent\n"
        "A1,P1,1A,residential_lease,2025-12-01,2000.00\n"
    ),
    "transactions.csv": (
        "txn_id,account_id,posted,type,code,amount,due,reverses\n"
        "t1,A1,2026-01-01,charge,RENT,2000.00,2026-01-01,\n"
        "t2,A1,2026-01-10,payment,,1500.00,,\n"
        "t3,A1,2026-02-01,charge,RENT,2000.00,2026-02-01,\n"
        "t4,A1,2026-02-06,charge,LATE,50.00,2026-02-06,\n"
        "t5,A1,2026-02-15,payment,,2600.00,,\n"
        "t6,A1,2026-02-20,reversal,,2600.00,,t5\n"
        "t7,A1,2026-03-01,charge,RENT,2000.00,2026-03-01,\n"
    ),
}

# The spec's aging of the worked example as of 2026-03-10, to the cent.
SPEC_AMOUNTS = {
    "current": "0.00",
    "1-30": "2000.00",
    "31-60": "2050.00",
    "61-90": "500.00",
    "91+": "0.00",
    "credit": "0.00",
    "balance": "4550.00",
}
SPEC_AGING = {
    "as_of": "2026-03-10",
    "currency": "USD",
    "buckets": ["current", "1-30", "31-60", "61-90", "91+"],
    "accounts": [{"account_id": "A1", "property_id": "P1", **SPEC_AMOUNTS}],
    "totals": SPEC_AMOUNTS,
}

# A fuller book in two currencies: alice (the worked example, with a corporate guarantor), bob
# (moved out owing part of January), carol in Berlin (paid all but 50 euros). Every column the
# spec has, amounts written several ways, a custom x_ column, a memo that needs quoting.
ELM_AND_SPREE = {
    "properties.csv": (
        "property_id,name,address,city,state,postal_code,country,timezone,x_manager\n"
        "elm,Elm Court,12 Elm St,Albany,NY,12207,US,,bob\n"
        "spree,Spree Hof,Spreeweg 1,Berlin,BE,10557,DE,Europe/Berlin,\n"
    ),
    "parties.csv": (
        "party_id,name,kind,email,phone,address,city,state,postal_code,country,language,timezone\n"
        "alice,Alice Archer,person,alice@example.com,+15185550100,12 Elm St,Albany,NY,12207,US,"
        "en,America/New_York\n"
        "bob,Bob Baker,person,,,,,,,,en,\n"
        "carol,Carol Chen,person,carol@example.de,+4930555010,,Berlin,,,DE,de-DE,Europe/Berlin\n"
        "acme,Acme Guarantees,organization,claims@acme.example,,,,,,US,en,\n"
    ),
    "accounts.csv": (
        "account_id,property_id,unit,kind,opened,closed,rent,deposit_held,currency\n"
        "alice-1A,elm,1A,residential_lease,2025-12-01,,2000,4000.00,USD\n"
        "bob-2B,elm,2B,residential_lease,2025-12-01,2026-02-28,1500.5,,USD\n"
        "carol-3,spree,3,residential_lease,2026-01-01,,950.00,1900,EUR\n"
    ),
    "account_parties.csv": (
        "account_id,party_id,role,guarantee_limit\n"
        "alice-1A,alice,primary,\n"
        "alice-1A,acme,guarantor,6000\n"
        "bob-2B,bob,primary,\n"
        "carol-3,carol,primary,\n"
    ),
    "transactions.csv": (
        "txn_id,account_id,posted,type,amount,code,due,applies_to,reverses,reference,memo,x_batch\n"
        "t1,alice-1A,2026-01-01,charge,2000.00,RENT,2026-01-01,,,,,jan\n"
        "t2,alice-1A,2026-01-10,payment,1500,,,,,chk 1001,,jan\n"
        "b1,bob-2B,2026-01-01,charge,1500.50,RENT,2026-01-01,,,,,jan\n"
        "b2,bob-2B,2026-01-05,payment,1000.0,,,b1,,chk 77,,jan\n"
        'b3,bob-2B,2026-01-20,credit,100.25,,,b1,,,"goodwill, ""sorry"" for the boiler",\n'
        "c1,carol-3,2026-01-01,charge,950.00,RENT,2026-01-05,,,,,\n"
        "c2,carol-3,2026-01-04,payment,900.00,,,c1,,SEPA 4411,,\n"
        "t3,alice-1A,2026-02-01,charge,2000.00,RENT,2026-02-01,,,,,feb\n"
        "t4,alice-1A,2026-02-06,charge,50.00,LATE,2026-02-06,,,,late fee,feb\n"
        "t5,alice-1A,2026-02-15,payment,2600.00,,,,,chk 1002,,feb\n"
        "t6,alice-1A,2026-02-20,reversal,2600.00,NSF,,,t5,chk 1002,returned,feb\n"
        "t7,alice-1A,2026-03-01,charge,2000.00,RENT,2026-03-01,,,,,mar\n"
    ),
}
# As of 2026-03-10: alice as the spec; bob's b1 open 1500.50 − 1000 − 100.25 = 400.25, 68 days
# past due; carol's c1 open 50.00, due Jan 5, 64 days past due.
USD_AMOUNTS = {
    "current": "0.00",
    "1-30": "2000.00",
    "31-60": "2050.00",
    "61-90": "900.25",
    "91+": "0.00",
    "credit": "0.00",
    "balance": "4950.25",
}
EUR_AMOUNTS = {
    "current": "0.00",
    "1-30": "0.00",
    "31-60": "0.00",
    "61-90": "50.00",
    "91+": "0.00",
    "credit": "0.00",
    "balance": "50.00",
}

AMOUNT_COLUMNS = {"amount", "rent", "deposit_held", "guarantee_limit"}
ID_COLUMNS = {
    "properties": ("property_id",),
    "parties": ("party_id",),
    "accounts": ("account_id",),
    "account_parties": ("account_id", "party_id", "role"),
    "transactions": ("txn_id",),
}
MODELS = (
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


def write_book(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8", newline="")
    return folder


def write_zip(path: Path, files: dict[str, str], prefix: str = "") -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(prefix + name, text)
    return path


def book_state() -> dict[str, object]:
    return {
        "rows": {m.__name__: list(m.objects.order_by("pk").values()) for m in MODELS},
        "aging": aging_json(),
    }


def aging_json(as_of: date = AS_OF) -> list[dict[str, object]]:
    return [r.as_json() for d in (date(2026, 1, 15), as_of) for r in aging_report(as_of=d)]


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as stream:
        reader = csv.DictReader(stream)
        return list(reader.fieldnames or []), list(reader)


class _RollbackError(Exception):
    pass


@contextmanager
def empty_book():
    """A book that starts empty and is thrown away at the end of the block."""
    assert not Transaction.objects.exists()
    try:
        with transaction.atomic():
            yield
            raise _RollbackError
    except _RollbackError:
        pass


@pytest.mark.parametrize(
    "prefix",
    ["", "book/", "exports/2026-03/elm-court/"],
    ids=["at the root", "in a subfolder", "three folders down"],
)
def test_the_worked_example_in_a_zip_ages_to_the_spec_figures(tmp_path, prefix):
    # given: the book zipped on a Mac, with the Finder's shadow files beside it
    archive = write_zip(tmp_path / "elm-court.zip", EXAMPLE, prefix)
    with zipfile.ZipFile(archive, "a") as more:
        more.writestr(f"__MACOSX/{prefix}._transactions.csv", b"\x00\x05\x16\x07 not csv")
        more.writestr(f"{prefix}.DS_Store", b"\x00\x00\x00\x01Bud1")
    # when
    summary = book_import(archive)
    # then
    assert summary.created == {"properties": 1, "accounts": 1, "transactions": 7}
    assert [r.as_json() for r in aging_report(as_of=AS_OF)] == [SPEC_AGING]


def test_a_bad_row_in_a_zip_is_named_by_the_zip_and_its_member(tmp_path):
    # given
    files = {**EXAMPLE, "transactions.csv": EXAMPLE["transactions.csv"].replace("50.00", "50.005")}
    archive = write_zip(tmp_path / "elm-court.zip", files, "book/")
    # when
    with pytest.raises(BookImportError) as raised:
        book_import(archive)
    # then: t4, the late fee, is line 5 of the transactions file
    (problem,) = raised.value.problems
    assert (problem.file, problem.line, problem.column) == (
        "elm-court.zip:book/transactions.csv",
        5,
        "amount",
    )
    assert not Account.objects.exists()


def _cell(column: str, text: str) -> object:
    """A cell as someone typing the book into Excel would enter it: dates, numbers, text."""
    if not text:
        return None
    if column in ("posted", "due", "opened", "closed"):
        return date.fromisoformat(text)
    if column in AMOUNT_COLUMNS:
        return Decimal(text)  # stored in the workbook as a number
    return text


def write_workbook(path: Path, files: dict[str, str], order: dict[str, list[str]]) -> Path:
    """One sheet per file kind, columns in the given order (default: as in the CSV)."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, text in files.items():
        kind = name.removesuffix(".csv")
        rows = list(csv.DictReader(text.splitlines()))
        columns = order.get(kind) or list(rows[0])
        sheet = workbook.create_sheet(kind)
        sheet.append(columns)
        for row in rows:
            sheet.append([_cell(c, row[c]) for c in columns])
    workbook.save(path)
    return path


# Every transaction row has an amount: with it last, no row ends in empty cells.
AMOUNT_LAST = {
    "transactions": ["txn_id", "account_id", "posted", "type", "code", "due", "reverses", "amount"]
}


def test_an_xlsx_workbook_gives_the_same_aging_as_the_csv_files(tmp_path):
    # given
    folder = write_book(tmp_path / "csv", EXAMPLE)
    workbook = write_workbook(tmp_path / "elm-court.xlsx", EXAMPLE, AMOUNT_LAST)
    # when
    with empty_book():
        book_import(folder)
        from_csv = [r.as_json() for r in aging_report(as_of=AS_OF)]
        csv_rows = transaction_rows()
    with empty_book():
        summary = book_import(workbook)
        from_xlsx = [r.as_json() for r in aging_report(as_of=AS_OF)]
        xlsx_rows = transaction_rows()
    # then
    assert summary.created["transactions"] == 7
    assert from_xlsx == from_csv == [SPEC_AGING]
    assert xlsx_rows == csv_rows


def test_the_workbook_cells_are_real_dates_and_numbers(tmp_path):
    # given
    path = write_workbook(tmp_path / "elm-court.xlsx", EXAMPLE, AMOUNT_LAST)
    # when
    sheet = openpyxl.load_workbook(path)["transactions"]
    # then: the test builds what Excel would hold, not text that looks like it
    assert sheet["C2"].is_date
    assert isinstance(sheet["H2"].value, float | int)


def test_an_xlsx_row_ending_in_empty_cells_is_read_as_empty_columns(tmp_path):
    # given: columns in the order of the CSV file; most rows leave `reverses` empty
    workbook = write_workbook(tmp_path / "elm-court.xlsx", EXAMPLE, {})
    # when
    book_import(workbook)
    # then
    assert [r.as_json() for r in aging_report(as_of=AS_OF)] == [SPEC_AGING]


def test_a_bad_cell_in_a_workbook_is_named_by_sheet_and_row(tmp_path):
    # given: the late fee typed as 50.005
    files = {**EXAMPLE, "transactions.csv": EXAMPLE["transactions.csv"].replace("50.00", "50.005")}
    workbook = write_workbook(tmp_path / "elm-court.xlsx", files, AMOUNT_LAST)
    # when
    with pytest.raises(BookImportError) as raised:
        book_import(workbook)
    # then
    (problem,) = raised.value.problems
    assert (problem.file, problem.line, problem.column) == (
        "elm-court.xlsx[transactions]",
        5,
        "amount",
    )
    assert "2 decimal places" in problem.reason
    assert not Account.objects.exists()


def test_importing_the_same_folder_again_changes_nothing(tmp_path):
    # given
    folder = write_book(tmp_path / "book", ELM_AND_SPREE)
    first = book_import(folder)
    before = book_state()
    # when
    again = book_import(folder)
    # then
    assert first.changed
    assert not again.changed
    assert again.created == {
        "properties": 0,
        "parties": 0,
        "accounts": 0,
        "account_parties": 0,
        "transactions": 0,
    }
    assert again.unchanged == {
        "properties": 2,
        "parties": 4,
        "accounts": 3,
        "account_parties": 4,
        "transactions": 12,
    }
    assert again.accounts_replayed == 0
    assert "12 unchanged" in again.line()
    assert book_state() == before
    assert BookImport.objects.count() == 1


def test_importing_the_same_book_as_a_zip_after_the_folder_changes_nothing(tmp_path):
    # given
    book_import(write_book(tmp_path / "book", ELM_AND_SPREE))
    before = book_state()
    # when
    summary = book_import(write_zip(tmp_path / "book.zip", ELM_AND_SPREE, "book/"))
    # then
    assert not summary.changed
    assert book_state() == before


def _same_cell(column: str, given: str, exported: str) -> bool:
    if column in AMOUNT_COLUMNS and given:
        return Decimal(given) == Decimal(exported)
    return given == exported


def test_export_gives_back_the_rows_that_were_imported(tmp_path):
    # given
    book_import(write_book(tmp_path / "book", ELM_AND_SPREE))
    # when
    counts = book_export(tmp_path / "export")
    # then: every file, every row in the same order, every given cell the same (amounts as Decimal)
    assert counts == {
        "properties": 2,
        "parties": 4,
        "accounts": 3,
        "account_parties": 4,
        "transactions": 12,
    }
    for name, text in ELM_AND_SPREE.items():
        kind = name.removesuffix(".csv")
        given = list(csv.DictReader(text.splitlines()))
        header, exported = read_csv(tmp_path / "export" / name)
        key = ID_COLUMNS[kind]
        assert [tuple(r[k] for k in key) for r in exported] == [
            tuple(r[k] for k in key) for r in given
        ]
        for want, got in zip(given, exported, strict=True):
            for column, value in want.items():
                assert column in header, (name, column)
                assert _same_cell(column, value, got[column]), (name, column, value, got[column])


def test_amounts_are_exported_with_two_decimals(tmp_path):
    # given: "1500", "1000.0" and "1500.5" in the files
    book_import(write_book(tmp_path / "book", ELM_AND_SPREE))
    # when
    book_export(tmp_path / "export")
    # then
    _, txns = read_csv(tmp_path / "export" / "transactions.csv")
    _, accounts = read_csv(tmp_path / "export" / "accounts.csv")
    amounts = {r["txn_id"]: r["amount"] for r in txns}
    assert (amounts["t2"], amounts["b2"], amounts["b1"]) == ("1500.00", "1000.00", "1500.50")
    assert {r["account_id"]: r["rent"] for r in accounts}["bob-2B"] == "1500.50"


def test_importing_the_export_into_the_same_book_changes_nothing(tmp_path):
    # given
    book_import(write_book(tmp_path / "book", ELM_AND_SPREE))
    book_export(tmp_path / "export")
    before = book_state()
    # when
    summary = book_import(tmp_path / "export")
    # then
    assert not summary.changed, summary
    assert book_state() == before


def test_the_export_imported_into_an_empty_book_is_the_same_book(tmp_path):
    # given
    with empty_book():
        book_import(write_book(tmp_path / "book", ELM_AND_SPREE))
        book_export(tmp_path / "first")
        aging = [aging_json(d) for d in (date(2026, 1, 31), date(2026, 2, 16), AS_OF)]
    # when
    with empty_book():
        book_import(tmp_path / "first")
        book_export(tmp_path / "second")
        again = [aging_json(d) for d in (date(2026, 1, 31), date(2026, 2, 16), AS_OF)]
    # then: the same aging on every date, and an export of it identical byte for byte
    assert again == aging
    for name in ELM_AND_SPREE:
        assert (tmp_path / "second" / name).read_bytes() == (tmp_path / "first" / name).read_bytes()


def test_aging_as_xlsx_holds_the_same_amounts_as_json(tmp_path, capsys):
    # given
    book_import(write_book(tmp_path / "book", ELM_AND_SPREE))
    output = tmp_path / "aging.xlsx"
    # when
    assert (
        main(["aging", "--as-of", "2026-03-10", "--format", "xlsx", "--output", str(output)]) == 0
    )
    assert main(["aging", "--as-of", "2026-03-10", "--format", "json"]) == 0
    # then: one sheet per currency; every amount cell reads back as the JSON's string
    docs = {doc["currency"]: doc for doc in json.loads(capsys.readouterr().out)}
    workbook = openpyxl.load_workbook(output)
    assert workbook.sheetnames == ["Aging EUR", "Aging USD"]
    for currency, doc in docs.items():
        title, header, *body = workbook[f"Aging {currency}"].iter_rows(values_only=True)
        labels = [*doc["buckets"], "credit", "balance"]
        assert title[0] == f"Aging as of 2026-03-10 ({currency})"
        assert list(header) == ["account_id", "property_id", *labels]
        lines = [*doc["accounts"], {"account_id": "TOTAL", **doc["totals"]}]
        assert [row[0] for row in body] == [line["account_id"] for line in lines]
        for row, line in zip(body, lines, strict=True):
            cells = dict(zip(header, row, strict=True))
            for label in labels:
                assert Decimal(str(cells[label])) == Decimal(line[label]), (currency, label)
    assert docs["USD"]["totals"] == USD_AMOUNTS
    assert docs["EUR"]["totals"] == EUR_AMOUNTS


def test_aging_as_xlsx_of_the_worked_example_gives_the_spec_figures(tmp_path):
    # given
    book_import(write_book(tmp_path / "book", EXAMPLE))
    output = tmp_path / "aging.xlsx"
    # when
    assert (
        main(["aging", "--as-of", "2026-03-10", "--format", "xlsx", "--output", str(output)]) == 0
    )
    # then
    rows = list(openpyxl.load_workbook(output)["Aging USD"].iter_rows(values_only=True))
    header = rows[1]
    a1 = dict(zip(header, rows[2], strict=True))
    assert (a1["account_id"], a1["property_id"]) == ("A1", "P1")
    for label, amount in SPEC_AMOUNTS.items():
        assert Decimal(str(a1[label])) == Decimal(amount), label


def test_aging_json_of_a_book_in_two_currencies_is_a_list_of_two_objects(tmp_path, capsys):
    # given
    book_import(write_book(tmp_path / "book", ELM_AND_SPREE))
    capsys.readouterr()
    # when
    assert main(["aging", "--as-of", "2026-03-10", "--format", "json"]) == 0
    # then
    docs = json.loads(capsys.readouterr().out)
    assert isinstance(docs, list)
    assert [d["currency"] for d in docs] == ["EUR", "USD"]
    eur, usd = docs
    assert eur["totals"] == EUR_AMOUNTS
    assert [a["account_id"] for a in eur["accounts"]] == ["carol-3"]
    assert usd["totals"] == USD_AMOUNTS
    assert [a["account_id"] for a in usd["accounts"]] == ["alice-1A", "bob-2B"]


def test_aging_json_for_one_currency_is_one_object(tmp_path, capsys):
    # given
    book_import(write_book(tmp_path / "book", ELM_AND_SPREE))
    capsys.readouterr()
    # when
    assert main(["aging", "--as-of", "2026-03-10", "--format", "json", "--currency", "EUR"]) == 0
    # then
    doc = json.loads(capsys.readouterr().out)
    assert doc == {
        "as_of": "2026-03-10",
        "currency": "EUR",
        "buckets": ["current", "1-30", "31-60", "61-90", "91+"],
        "accounts": [{"account_id": "carol-3", "property_id": "spree", **EUR_AMOUNTS}],
        "totals": EUR_AMOUNTS,
    }
