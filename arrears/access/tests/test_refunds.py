"""Refunds of credit balances (arrears.moveout.refunds) from the command line, on both databases:
a deposit's rest owed back after a disposition becomes a refund to review, a controller (not a
coordinator) approves it, the ledger posts a `refund` entry and the payables file holds it once;
a student's Title IV credit balance is due in 14 days (34 CFR §668.164(h)(2)); a refund is never
larger than the credit it pays out; the interchange format's `refund` rows import, round-trip
through export, and are refused, with file, line and column, when larger than the credit."""

from __future__ import annotations

import csv
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from arrears.access.services import user_add
from arrears.access.tests.people import OPERATOR, write_book
from arrears.cli import main
from arrears.ledger.export import book_export
from arrears.ledger.interchange import BookImportError
from arrears.ledger.models import TimelineEvent, Transaction
from arrears.ledger.selectors import account_ledger
from arrears.ledger.services import book_import
from arrears.moveout.models import Refund

pytestmark = pytest.mark.django_db


def _rent(
    txn_id: str, account_id: str, day: str, amount: str, code: str = "RENT"
) -> dict[str, str]:
    return {
        "txn_id": txn_id,
        "account_id": account_id,
        "posted": day,
        "type": "charge",
        "code": code,
        "amount": amount,
        "due": day,
    }


BOOK: dict[str, list[dict[str, str]]] = {
    "properties": [{"property_id": "HUD", "name": "Hudson Rows", "state": "NY", "country": "US"}],
    "parties": [
        {"party_id": "P-RUTH", "name": "Ruth Lee", "address": "5 Hudson Row"},
        {"party_id": "P-SAM", "name": "Sam Reyes", "address": "12 College Ave"},
        {"party_id": "P-PAT", "name": "Pat Moss", "address": "9 Hudson Row"},
    ],
    "accounts": [
        # owes 800.00 and leaves 1,500.00: 700.00 to refund after the disposition
        {
            "account_id": "A-OWED",
            "property_id": "HUD",
            "unit": "5",
            "kind": "residential_lease",
            "opened": "2025-01-01",
            "rent": "800.00",
            "deposit_held": "1500.00",
        },
        # a student whose Title IV aid (6,000.00) exceeds the term's tuition (5,000.00) on the 2nd
        {"account_id": "S-SAM", "kind": "student", "opened": "2026-01-01"},
        # a tenant who paid 1,000.00 on a rent of 900.00: an overpayment of 100.00
        {
            "account_id": "A-PAT",
            "property_id": "HUD",
            "unit": "9",
            "kind": "residential_lease",
            "opened": "2025-01-01",
            "rent": "900.00",
        },
    ],
    "account_parties": [
        {"account_id": "A-OWED", "party_id": "P-RUTH", "role": "primary"},
        {"account_id": "S-SAM", "party_id": "P-SAM", "role": "primary"},
        {"account_id": "A-PAT", "party_id": "P-PAT", "role": "primary"},
    ],
    "transactions": [
        _rent("T-OWED-3", "A-OWED", "2026-03-01", "800.00"),
        _rent("T-SAM-1", "S-SAM", "2026-03-01", "5000.00", "TUITION"),
        {
            "txn_id": "T-SAM-AID",
            "account_id": "S-SAM",
            "posted": "2026-03-02",
            "type": "payment",
            "amount": "6000.00",
            "reference": "Title IV disbursement",
        },
    ],
}


@pytest.fixture
def book(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Any) -> Path:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.ARREARS_REFUND_DAYS = 30
    monkeypatch.setenv("ARREARS_TODAY", "2026-03-10")
    book_import(write_book(tmp_path / "book", BOOK))
    for name, role in (("cora", "coordinator"), ("dave", "controller")):
        user_add(
            username=name, password="a-long-test-password", role=role, actor=OPERATOR, via="system"
        )
    return tmp_path


def arrears(capsys: pytest.CaptureFixture[str], user: str, *words: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["--as", user, *words])
    out, err = capsys.readouterr()
    return code, out, err


def refunds(capsys: pytest.CaptureFixture[str], *more: str) -> dict[str, dict[str, Any]]:
    code, out, err = arrears(capsys, "cora", "refund", "list", "--format", "json", *more)
    assert code == 0, err
    return {r["account_id"]: r for r in json.loads(out)}


def balance(account_id: str, on: str = "2026-03-31") -> Decimal:
    return account_ledger(account_id=account_id, as_of=date.fromisoformat(on)).balance


def dispose_owed(capsys: pytest.CaptureFixture[str]) -> None:
    """Ruth vacates on March 3rd; on the 10th her deposit of 1,500.00 pays her 800.00 of rent."""
    assert arrears(capsys, "cora", "moveout", "A-OWED", "--on", "2026-03-03")[0] == 0
    code, out, err = arrears(capsys, "cora", "deposit", "dispose", "A-OWED", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["disposition"]["refund_due"] == "700.00"


def test_a_tenant_owed_700_back_is_refunded_once_by_a_controller(book, capsys, tmp_path):
    # given Ruth's disposition, which leaves 700.00 owed back to her
    dispose_owed(capsys)
    assert balance("A-OWED") == Decimal("-700.00")
    # when the refunds are listed (twice: proposing is idempotent)
    first = refunds(capsys)
    again = refunds(capsys)
    # then hers is a refund of 700.00 to review, from the deposit, due in 30 days
    assert first == again
    ruth = first["A-OWED"]
    assert ruth["amount"] == "700.00"
    assert ruth["origin"] == "deposit"
    assert ruth["arose_on"] == "2026-03-10"
    assert ruth["due_on"] == "2026-04-09"
    assert ruth["status"] == "proposed"
    assert Refund.objects.filter(account__account_id="A-OWED").count() == 1
    assert (
        TimelineEvent.objects.filter(account__account_id="A-OWED", kind="refund.proposed").count()
        == 1
    )
    # and Pat's overpayment is not there (he has none yet), Sam's aid is
    assert set(first) == {"A-OWED", "S-SAM"}
    # when a coordinator tries to approve it, she is refused and nothing is posted
    code, _out, err = arrears(capsys, "cora", "refund", "approve", ruth["refund_id"])
    assert code == 2
    assert "coordinator may not" in err
    assert not Transaction.objects.filter(type="refund").exists()
    # when the controller approves it
    code, out, err = arrears(capsys, "dave", "refund", "approve", ruth["refund_id"])
    assert code == 0, err
    # then a refund entry of 700.00 is posted (its id the refund's) and the balance is 0.00
    entry = Transaction.objects.get(type="refund")
    assert (entry.txn_id, entry.reference, entry.amount) == (
        ruth["refund_id"],
        ruth["refund_id"],
        Decimal("700.00"),
    )
    assert entry.posted_on == date(2026, 3, 10)
    assert balance("A-OWED") == Decimal("0.00")
    # and approving it again posts nothing more
    code, _out, err = arrears(capsys, "dave", "refund", "approve", ruth["refund_id"])
    assert code == 2
    assert "approved already" in err
    assert Transaction.objects.filter(type="refund").count() == 1
    # and a new listing proposes nothing for her (the credit is paid out)
    assert refunds(capsys)["A-OWED"]["status"] == "approved"
    assert Refund.objects.filter(account__account_id="A-OWED").count() == 1
    # when the controller exports the payables file, twice
    payables = tmp_path / "payables.csv"
    code, out, err = arrears(capsys, "dave", "refund", "export", "--output", str(payables))
    assert code == 0, err
    with payables.open(encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    second = tmp_path / "payables-2.csv"
    code, out, err = arrears(capsys, "dave", "refund", "export", "--output", str(second))
    assert code == 0, err
    # then the first holds Ruth's refund once, with her mailing address; the second nothing
    assert [(r["refund_id"], r["account_id"], r["payee_name"], r["amount"]) for r in rows] == [
        (ruth["refund_id"], "A-OWED", "Ruth Lee", "700.00")
    ]
    assert rows[0]["payee_address"] == "5 Hudson Row"
    assert rows[0]["currency"] == "USD"
    assert rows[0]["approved_on"] == "2026-03-10"
    assert rows[0]["batch"].startswith("RB-20260310-")
    assert "nothing to export" in out
    assert second.read_text(encoding="utf-8").splitlines() == [
        "refund_id,batch,account_id,payee_name,payee_address,payee_city,payee_state,"
        "payee_postal_code,payee_country,amount,currency,approved_on,txn_id,memo"
    ]
    assert refunds(capsys)["A-OWED"]["status"] == "exported"
    # and a coordinator cannot export either
    code, _out, err = arrears(capsys, "cora", "refund", "export", "--output", str(second))
    assert code == 2


def test_a_rejected_refund_says_why_and_is_not_proposed_again(book, capsys):
    # given Ruth's refund to review
    dispose_owed(capsys)
    ruth = refunds(capsys)["A-OWED"]
    # when the controller rejects it without a reason, then with one
    code, _out, err = arrears(
        capsys, "dave", "refund", "reject", ruth["refund_id"], "--reason", " "
    )
    assert code == 2
    code, _out, err = arrears(
        capsys, "dave", "refund", "reject", ruth["refund_id"], "--reason", "keys not returned"
    )
    assert code == 0, err
    # then it stays rejected, with its reason, and no new one is proposed for the same credit
    listed = refunds(capsys)["A-OWED"]
    assert (listed["status"], listed["reason"]) == ("rejected", "keys not returned")
    assert Refund.objects.filter(account__account_id="A-OWED").count() == 1
    assert not Transaction.objects.filter(type="refund").exists()


def test_a_students_title_iv_credit_is_due_in_14_days_and_late_on_the_17th(
    book, capsys, monkeypatch, tmp_path
):
    # given Sam's aid of 6,000.00 on March 2nd against tuition of 5,000.00
    # when the refunds are listed on the 10th
    sam = refunds(capsys)["S-SAM"]
    # then 1,000.00 is to be refunded by the 16th (34 CFR §668.164(h)(2)), not late yet
    assert (sam["amount"], sam["origin"], sam["arose_on"], sam["due_on"], sam["late"]) == (
        "1000.00",
        "overpayment",
        "2026-03-02",
        "2026-03-16",
        None,
    )
    assert "S-SAM" not in refunds(capsys, "--late")
    # when it is the 14th: at risk
    monkeypatch.setenv("ARREARS_TODAY", "2026-03-14")
    assert refunds(capsys, "--late")["S-SAM"]["late"] == "at_risk"
    # when it is the 17th: late, in the table too
    monkeypatch.setenv("ARREARS_TODAY", "2026-03-17")
    assert refunds(capsys, "--late")["S-SAM"]["late"] == "late"
    code, out, _err = arrears(capsys, "cora", "refund", "list", "--late")
    assert code == 0
    assert "S-SAM" in out
    assert "late" in out
    # and approved, it is still to be paid: late until it goes to payables
    assert arrears(capsys, "dave", "refund", "approve", sam["refund_id"])[0] == 0
    assert refunds(capsys, "--late")["S-SAM"]["status"] == "approved"
    payables = str(tmp_path / "payables.csv")
    assert arrears(capsys, "dave", "refund", "export", "--output", payables)[0] == 0
    assert "S-SAM" not in refunds(capsys, "--late")


def test_a_refund_larger_than_the_credit_is_refused_and_nothing_changes(
    book, capsys, tmp_path, monkeypatch
):
    # given Ruth's refund of 700.00 to review
    dispose_owed(capsys)
    ruth = refunds(capsys)["A-OWED"]
    # when a utility bill of 100.00 arrives before the controller approves it
    monkeypatch.setenv("ARREARS_TODAY", "2026-03-12")
    late_bill = {"transactions": [_rent("T-OWED-UTIL", "A-OWED", "2026-03-11", "100.00", "UTIL")]}
    book_import(write_book(tmp_path / "bill", late_bill))
    code, _out, err = arrears(capsys, "dave", "refund", "approve", ruth["refund_id"])
    # then 700.00 is more than the 600.00 of credit left: refused, nothing posted
    assert code == 2
    assert "larger than the unapplied credit" in err
    assert "600.00" in err
    assert not Transaction.objects.filter(type="refund").exists()
    assert Refund.objects.get(account__account_id="A-OWED").status == "proposed"
    # when the refunds are listed again, the proposal is revised to the credit left
    revised = refunds(capsys)["A-OWED"]
    assert (revised["refund_id"], revised["amount"]) == (ruth["refund_id"], "600.00")
    # and then it can be approved, leaving nothing owed either way
    code, _out, err = arrears(capsys, "dave", "refund", "approve", ruth["refund_id"])
    assert code == 0, err
    assert balance("A-OWED") == Decimal("0.00")


OVERPAID: dict[str, list[dict[str, str]]] = {
    "transactions": [
        _rent("T-PAT-3", "A-PAT", "2026-03-01", "900.00"),
        {
            "txn_id": "T-PAT-PAY",
            "account_id": "A-PAT",
            "posted": "2026-03-02",
            "type": "payment",
            "amount": "1000.00",
            "reference": "check 311",
        },
        {
            "txn_id": "T-PAT-REFUND",
            "account_id": "A-PAT",
            "posted": "2026-03-05",
            "type": "refund",
            "amount": "100.00",
            "memo": "overpayment returned",
        },
    ]
}


def test_an_imported_refund_row_round_trips_through_export(book, tmp_path):
    # given Pat's overpayment of 100.00, refunded on the 5th, in an interchange file
    # when it is imported
    book_import(write_book(tmp_path / "pat", OVERPAID))
    # then the refund pays out the credit: Pat owes nothing and is owed nothing
    ledger = account_ledger(account_id="A-PAT", as_of=date(2026, 3, 31))
    assert ledger.balance == Decimal("0.00")
    assert ledger.aged.credit == Decimal("0.00")
    refund = next(line for line in ledger.lines if line.type == "refund")
    assert [(p.txn_id, p.amount) for p in refund.paid_by] == [("T-PAT-PAY", Decimal("100.00"))]
    # and on the 4th, before it, the credit was there
    assert balance("A-PAT", "2026-03-04") == Decimal("-100.00")
    # and the account page's ledger shows it as a debit paid out of the payment
    client = Client()
    client.force_login(User.objects.get(username="dave"))
    page = client.get("/accounts/A-PAT/").content.decode()
    assert "T-PAT-REFUND" in page
    assert "paid out of T-PAT-PAY 100.00" in page
    # when the book is exported and imported again
    out = tmp_path / "out"
    book_export(out)
    with (out / "transactions.csv").open(encoding="utf-8") as stream:
        exported = [r for r in csv.DictReader(stream) if r["txn_id"] == "T-PAT-REFUND"]
    summary = book_import(out)
    # then the row comes back as it went in, and the import changes nothing
    assert exported == [
        {
            "txn_id": "T-PAT-REFUND",
            "account_id": "A-PAT",
            "posted": "2026-03-05",
            "type": "refund",
            "amount": "100.00",
            "code": "",
            "due": "",
            "applies_to": "",
            "reverses": "",
            "reference": "",
            "memo": "overpayment returned",
        }
    ]
    assert summary.created.get("transactions", 0) == 0
    assert Transaction.objects.filter(type="refund").count() == 1


def test_a_refund_row_larger_than_the_credit_is_refused_with_its_line(book, tmp_path):
    # given a file whose refund (150.00) is more than Pat's credit on its day (100.00)
    rows = [dict(r) for r in OVERPAID["transactions"]]
    rows[2]["amount"] = "150.00"
    # when it is imported
    with pytest.raises(BookImportError) as refused:
        book_import(write_book(tmp_path / "bad", {"transactions": rows}))
    # then it names the file, the line and the column, and nothing was imported
    (problem,) = refused.value.problems
    assert (problem.file, problem.line, problem.column) == ("transactions.csv", 4, "amount")
    assert "larger than the unapplied credit" in problem.reason
    assert "100.00" in problem.reason
    assert not Transaction.objects.filter(account__account_id="A-PAT").exists()
    # and a refund naming a charge is refused as such
    rows[2]["amount"] = "100.00"
    rows[2]["applies_to"] = "T-PAT-3"
    with pytest.raises(BookImportError) as refused:
        book_import(write_book(tmp_path / "bad2", {"transactions": rows}))
    assert refused.value.problems[0].column == "applies_to"


def test_a_reversed_payment_makes_its_refund_owed_again(book, tmp_path):
    # given Pat's overpayment refunded
    book_import(write_book(tmp_path / "pat", OVERPAID))
    # when his check bounces on the 8th
    bounced = {
        "transactions": [
            {
                "txn_id": "T-PAT-NSF",
                "account_id": "A-PAT",
                "posted": "2026-03-08",
                "type": "reversal",
                "amount": "1000.00",
                "reverses": "T-PAT-PAY",
            }
        ]
    }
    book_import(write_book(tmp_path / "nsf", bounced))
    # then he owes the rent and the 100.00 refunded out of it, and the aging says the same
    ledger = account_ledger(account_id="A-PAT", as_of=date(2026, 3, 31))
    assert ledger.balance == Decimal("1000.00")
    assert sum(ledger.aged.buckets) - ledger.aged.credit == Decimal("1000.00")
