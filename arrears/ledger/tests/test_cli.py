"""The `arrears` command on the spec's worked example: the JSON shape and figures of the spec."""

import json
import shutil

import pytest

from arrears.cli import main

pytestmark = pytest.mark.django_db


@pytest.fixture
def example_book(fixtures_dir, tmp_path):
    folder = tmp_path / "book"
    shutil.copytree(fixtures_dir / "spec_example", folder)
    assert main(["import", str(folder)]) == 0
    return folder


def test_aging_json_is_the_spec_object_with_amounts_as_strings(example_book, capsys):
    capsys.readouterr()
    # when
    assert main(["aging", "--as-of", "2026-03-10", "--format", "json"]) == 0
    # then: the figures of the spec's worked example, to the cent
    doc = json.loads(capsys.readouterr().out)
    assert doc == {
        "as_of": "2026-03-10",
        "currency": "USD",
        "buckets": ["current", "1-30", "31-60", "61-90", "91+"],
        "accounts": [
            {
                "account_id": "A1",
                "property_id": "P1",
                "current": "0.00",
                "1-30": "2000.00",
                "31-60": "2050.00",
                "61-90": "500.00",
                "91+": "0.00",
                "credit": "0.00",
                "balance": "4550.00",
            }
        ],
        "totals": {
            "current": "0.00",
            "1-30": "2000.00",
            "31-60": "2050.00",
            "61-90": "500.00",
            "91+": "0.00",
            "credit": "0.00",
            "balance": "4550.00",
        },
    }


def test_the_day_after_the_overpayment_the_tenant_has_50_credit(example_book, capsys):
    capsys.readouterr()
    assert main(["aging", "--as-of", "2026-02-16", "--format", "json"]) == 0
    (account,) = json.loads(capsys.readouterr().out)["accounts"]
    assert account["credit"] == "50.00"
    assert account["balance"] == "-50.00"


def test_custom_buckets_and_by_property(example_book, capsys):
    capsys.readouterr()
    assert (
        main(
            [
                "aging",
                "--as-of",
                "2026-03-10",
                "--by",
                "property",
                "--buckets",
                "0,45",
                "--format",
                "json",
            ]
        )
        == 0
    )
    doc = json.loads(capsys.readouterr().out)
    assert doc["buckets"] == ["current", "1-45", "46+"]
    # t7 9 days, t3 37, t4 32 → 1-45; t1 68 → 46+
    expected = {
        "property_id": "P1",
        "current": "0.00",
        "1-45": "4050.00",
        "46+": "500.00",
        "credit": "0.00",
        "balance": "4550.00",
    }
    assert doc["properties"] == [expected]


def test_ledger_shows_the_running_balance_and_what_paid_each_charge(example_book, capsys):
    capsys.readouterr()
    assert main(["ledger", "A1", "--as-of", "2026-02-16", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    balances = [(e["txn_id"], e["balance"]) for e in doc["entries"]]
    assert balances == [
        ("t1", "2000.00"),
        ("t2", "500.00"),
        ("t3", "2500.00"),
        ("t4", "2550.00"),
        ("t5", "-50.00"),
    ]
    t1 = doc["entries"][0]
    assert [(p["txn_id"], p["amount"]) for p in t1["paid_by"]] == [
        ("t2", "1500.00"),
        ("t5", "500.00"),
    ]
    assert doc["entries"][4]["unapplied"] == "50.00"


def test_ledger_after_the_return_shows_the_payment_reversed(example_book, capsys):
    capsys.readouterr()
    assert main(["ledger", "A1", "--as-of", "2026-03-10", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    t5 = next(e for e in doc["entries"] if e["txn_id"] == "t5")
    assert t5["reversed_on"] == "2026-02-20"
    assert t5["paid"] == []
    assert doc["balance"] == "4550.00"


def test_an_unknown_account_is_a_clear_error(example_book, capsys):
    assert main(["ledger", "NOPE"]) == 2
    assert "no account 'NOPE'" in capsys.readouterr().err


def test_aging_table_prints_totals(example_book, capsys):
    capsys.readouterr()
    assert main(["aging", "--as-of", "2026-03-10"]) == 0
    out = capsys.readouterr().out
    assert "TOTAL" in out
    assert "4,550.00" in out


def test_aging_json_of_a_book_with_nothing_open_is_one_empty_object(example_book, capsys):
    # given: the spec's book on the day before its first charge, when nothing is open
    capsys.readouterr()
    # when
    assert main(["aging", "--as-of", "2025-12-31", "--format", "json"]) == 0
    # then: the spec's one object, empty, in the book's currency (not `[]`)
    doc = json.loads(capsys.readouterr().out)
    zero = {
        "current": "0.00",
        "1-30": "0.00",
        "31-60": "0.00",
        "61-90": "0.00",
        "91+": "0.00",
        "credit": "0.00",
        "balance": "0.00",
    }
    assert doc == {
        "as_of": "2025-12-31",
        "currency": "USD",
        "buckets": ["current", "1-30", "31-60", "61-90", "91+"],
        "accounts": [],
        "totals": zero,
    }


def test_aging_json_of_a_book_in_two_currencies_is_a_list_even_when_one_is_all_paid(
    example_book, tmp_path, capsys
):
    # given: a second account, in euros, with nothing open
    folder = tmp_path / "euros"
    folder.mkdir()
    (folder / "accounts.csv").write_text(
        "account_id,property_id,kind,opened,currency\nE1,P1,residential_lease,2026-01-01,EUR\n"
    )
    assert main(["import", str(folder)]) == 0
    capsys.readouterr()
    # when
    assert main(["aging", "--as-of", "2026-03-10", "--format", "json"]) == 0
    # then: one object per currency of the book, the euro one empty
    docs = json.loads(capsys.readouterr().out)
    assert [d["currency"] for d in docs] == ["EUR", "USD"]
    assert docs[0]["accounts"] == []
    assert docs[0]["totals"]["balance"] == "0.00"
    assert docs[1]["totals"]["balance"] == "4550.00"
    # and --currency picks one object
    assert main(["aging", "--as-of", "2026-03-10", "--format", "json", "--currency", "EUR"]) == 0
    assert json.loads(capsys.readouterr().out)["currency"] == "EUR"
