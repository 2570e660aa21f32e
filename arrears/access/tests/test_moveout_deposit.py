"""A move-out and its deposit's disposition (arrears.moveout), as a coordinator does them from
the command line (the contract's JSON), on both databases: the clock by jurisdiction, the figures
the book ends with, refusals by rule, corrections, and bad input that changes nothing."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfWriter

from arrears.access.services import user_add
from arrears.access.tests.people import OPERATOR, write_book
from arrears.cli import main
from arrears.ledger.models import Party, TimelineEvent, Transaction
from arrears.ledger.selectors import account_ledger
from arrears.ledger.services import book_import
from arrears.moveout.models import Disposition

pytestmark = pytest.mark.django_db

BOOK: dict[str, list[dict[str, str]]] = {
    "properties": [
        {"property_id": "HUD", "name": "Hudson Rows", "state": "NY", "country": "US"},
        {"property_id": "BAY", "name": "Bay View", "state": "CA", "country": "US"},
    ],
    "parties": [
        {"party_id": "P-NINA", "name": "Nina Ortiz", "address": "4 Hudson Row, Apt 2"},
        {"party_id": "P-CARL", "name": "Carl Baker"},
        {"party_id": "P-RUTH", "name": "Ruth Lee"},
    ],
    "accounts": [
        # owes February's and March's rent, 2,450.00, and leaves a deposit of 1,800.00
        {
            "account_id": "A-NY",
            "property_id": "HUD",
            "unit": "2",
            "kind": "residential_lease",
            "opened": "2025-01-01",
            "rent": "1225.00",
            "deposit_held": "1800.00",
        },
        {
            "account_id": "A-CA",
            "property_id": "BAY",
            "unit": "7",
            "kind": "residential_lease",
            "opened": "2025-01-01",
            "rent": "1000.00",
            "deposit_held": "1000.00",
        },
        # owes 800.00 and leaves 1,500.00: 700.00 to refund
        {
            "account_id": "A-OWED",
            "property_id": "HUD",
            "unit": "5",
            "kind": "residential_lease",
            "opened": "2025-01-01",
            "rent": "800.00",
            "deposit_held": "1500.00",
        },
    ],
    "account_parties": [
        {"account_id": "A-NY", "party_id": "P-NINA", "role": "primary"},
        {"account_id": "A-CA", "party_id": "P-CARL", "role": "primary"},
        {"account_id": "A-OWED", "party_id": "P-RUTH", "role": "primary"},
    ],
    "transactions": [
        *(
            {
                "txn_id": f"T-NY-{m}",
                "account_id": "A-NY",
                "posted": f"2026-0{m}-01",
                "type": "charge",
                "code": "RENT",
                "amount": "1225.00",
                "due": f"2026-0{m}-01",
            }
            for m in (2, 3)
        ),
        {
            "txn_id": "T-OWED-3",
            "account_id": "A-OWED",
            "posted": "2026-03-01",
            "type": "charge",
            "code": "RENT",
            "amount": "800.00",
            "due": "2026-03-01",
        },
    ],
}


@pytest.fixture
def book(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Any) -> Path:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    monkeypatch.setenv("ARREARS_TODAY", "2026-03-10")
    book_import(write_book(tmp_path / "book", BOOK))
    for name, role in (("cora", "coordinator"), ("bob", "controller")):
        user_add(
            username=name,
            password="a-long-test-password",
            role=role,
            actor=OPERATOR,
            via="system",
        )
    return tmp_path


def arrears(capsys: pytest.CaptureFixture[str], *words: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["--as", "cora", *words])
    out, err = capsys.readouterr()
    return code, out, err


def balance(account_id: str, on: str = "2026-03-31") -> Decimal:
    from datetime import date

    return account_ledger(account_id=account_id, as_of=date.fromisoformat(on)).balance


def test_a_new_york_tenant_moves_out_owing_rent_and_damage(book, capsys):
    # given Nina, who owes 2,450.00, vacating on March 3rd and leaving a forwarding address
    code, out, _err = arrears(
        capsys,
        "moveout",
        "A-NY",
        "--on",
        "2026-03-03",
        "--forwarding-address",
        "77 Elm Street, Apt 4, Albany, ny 12203",
    )
    assert code == 0
    assert "2026-03-17" in out
    # then the statement is due 14 days later (GOL §7-108(1-a)(e)) and nothing is disposed yet
    code, out, _err = arrears(capsys, "deposit", "show", "A-NY", "--format", "json")
    assert code == 0
    assert json.loads(out) == {
        "account_id": "A-NY",
        "deposit_held": "1800.00",
        "vacated": "2026-03-03",
        "statement_due": "2026-03-17",
        "jurisdiction": "US-NY",
        "disposition": None,
    }
    # and the forwarding address is her mailing address from now on
    nina = Party.objects.get(party_id="P-NINA")
    assert (nina.address, nina.city, nina.state, nina.postal_code) == (
        "77 Elm Street, Apt 4",
        "Albany",
        "NY",
        "12203",
    )
    # when the coordinator keeps 300.00 for a broken door on the 10th
    code, out, err = arrears(
        capsys,
        "deposit",
        "dispose",
        "A-NY",
        "--deduct",
        "damage:300.00:bedroom door replaced: split frame",
        "--on",
        "2026-03-10",
        "--format",
        "json",
    )
    assert (code, err) == (0, "")
    # then the deposit pays the damage first and 1,500.00 of the rent; 950.00 is still owed
    assert json.loads(out)["disposition"] == {
        "deductions": [
            {
                "code": "damage",
                "amount": "300.00",
                "text": "bedroom door replaced: split frame",
                "receipt": None,
            }
        ],
        "applied": "1800.00",
        "refund_due": "0.00",
        "balance_owed": "950.00",
        "posted_on": "2026-03-10",
    }
    entries = {
        (t.type, t.code, t.amount, t.applies_to.txn_id if t.applies_to else "")
        for t in Transaction.objects.filter(account__account_id="A-NY", txn_id__startswith="MO-")
    }
    damage = Transaction.objects.get(account__account_id="A-NY", code="DMG").txn_id
    assert entries == {
        ("charge", "DMG", Decimal("300.00"), ""),
        ("credit", "DEP", Decimal("300.00"), damage),
        ("credit", "DEP", Decimal("1500.00"), ""),
    }
    assert balance("A-NY") == Decimal("950.00")
    assert TimelineEvent.objects.filter(account__account_id="A-NY", kind="deposit.disposed")
    # and the same command again posts nothing twice: a second disposition needs a correction
    code, _out, err = arrears(
        capsys, "deposit", "dispose", "A-NY", "--deduct", "damage:300:door", "--on", "2026-03-10"
    )
    assert code == 2
    assert "--correct" in err
    assert balance("A-NY") == Decimal("950.00")


def test_a_correction_supersedes_the_disposition_and_keeps_both(book, capsys):
    arrears(capsys, "moveout", "A-NY", "--on", "2026-03-03")
    arrears(
        capsys, "deposit", "dispose", "A-NY", "--deduct", "damage:300:door", "--on", "2026-03-10"
    )
    # when the door turns out to cost 200.00
    code, out, err = arrears(
        capsys,
        "deposit",
        "dispose",
        "A-NY",
        "--deduct",
        "damage:200:door, contractor's invoice",
        "--on",
        "2026-03-10",
        "--correct",
        "the contractor billed 200.00, not 300.00",
        "--format",
        "json",
    )
    assert (code, err) == (0, "")
    assert json.loads(out)["disposition"]["balance_owed"] == "850.00"
    assert balance("A-NY") == Decimal("850.00")
    # and the first version's deposit credits are reversed, not charged back: no DEP line is left
    # open in the book, and the rent is what stays owed
    from arrears.ledger.models import OpenItem

    open_codes = set(
        OpenItem.objects.filter(account__account_id="A-NY", is_credit=False).values_list(
            "item__code", flat=True
        )
    )
    assert open_codes == {"RENT"}
    first, second = Disposition.objects.order_by("version")
    assert first.superseded_by == second
    assert second.correction_reason == "the contractor billed 200.00, not 300.00"
    assert first.balance_owed == Decimal("950.00")  # kept as it was


def test_after_the_deadline_the_statement_is_refused_unless_a_reason_is_given(
    book, capsys, monkeypatch
):
    monkeypatch.setenv("ARREARS_TODAY", "2026-03-18")
    arrears(capsys, "moveout", "A-NY", "--on", "2026-03-03")
    # when the coordinator disposes of it on the 18th, a day after the deadline
    code, out, err = arrears(
        capsys, "deposit", "dispose", "A-NY", "--deduct", "damage:300:door", "--format", "json"
    )
    # then it is refused with its rule and the forfeiture, and nothing is posted
    assert code == 2
    assert out == ""
    assert "deposit:deadline" in err
    assert "2026-03-17" in err
    assert "forfeits" in err
    assert not Transaction.objects.filter(txn_id__startswith="MO-").exists()
    assert not Disposition.objects.exists()
    # when she gives the reason
    code, out, err = arrears(
        capsys,
        "deposit",
        "dispose",
        "A-NY",
        "--deduct",
        "damage:300:door",
        "--override",
        "the tenant asked for the statement to wait for the inspection",
        "--format",
        "json",
    )
    assert (code, err) == (0, "")
    assert Disposition.objects.get().late_reason.startswith("the tenant asked")
    event = TimelineEvent.objects.get(kind="deposit.disposed")
    assert "after the deadline of 2026-03-17" in event.summary


def test_california_asks_receipts_for_work_of_125_or_more(book, capsys, tmp_path):
    arrears(capsys, "moveout", "A-CA", "--on", "2026-03-01")
    # a deduction of 500.00 for cleaning with no receipt is refused, naming the rule
    code, _out, err = arrears(
        capsys, "deposit", "dispose", "A-CA", "--deduct", "cleaning:500:carpets"
    )
    assert code == 2
    assert "deposit:receipt" in err
    assert "1950.5" in err
    assert not Disposition.objects.exists()
    # with the invoice attached it is posted, the invoice archived with it
    invoice = tmp_path / "invoice.pdf"
    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    with invoice.open("wb") as stream:
        writer.write(stream)
    code, out, err = arrears(
        capsys,
        "deposit",
        "dispose",
        "A-CA",
        "--deduct",
        "cleaning:500:carpets",
        "--receipt",
        "1:" + str(invoice),
        "--format",
        "json",
    )
    assert (code, err) == (0, "")
    assert json.loads(out)["disposition"]["refund_due"] == "500.00"
    assert Disposition.objects.get().deductions.get().document is not None


def test_a_tenant_owed_money_back_has_a_refund_due(book, capsys):
    arrears(capsys, "moveout", "A-OWED", "--on", "2026-03-05")
    code, out, _err = arrears(capsys, "deposit", "dispose", "A-OWED", "--format", "json")
    assert code == 0
    assert json.loads(out)["disposition"] == {
        "deductions": [],
        "applied": "1500.00",
        "refund_due": "700.00",
        "balance_owed": "0.00",
        "posted_on": "2026-03-10",
    }
    assert balance("A-OWED") == Decimal("-700.00")


@pytest.mark.parametrize(
    ("deduct", "said"),
    [
        ("damage:-50:door", "positive"),
        ("damage:0:door", "positive"),
        ("paint:50:walls", "no deduction code 'paint'"),
        ("damage:5000:everything", "more than the deposit and the balance"),
        ("rent:3000:rent", "more than the 2,450.00 the account owes"),
        ("late_fee:50:late", "deposit:late_fee"),
    ],
)
def test_bad_deductions_are_refused_and_change_nothing(book, capsys, deduct, said):
    arrears(capsys, "moveout", "A-NY", "--on", "2026-03-03")
    before = Transaction.objects.count()
    code, _out, err = arrears(capsys, "deposit", "dispose", "A-NY", "--deduct", deduct)
    assert code == 2
    assert said in err
    assert Transaction.objects.count() == before
    assert not Disposition.objects.exists()


def test_bad_dates_are_refused(book, capsys):
    code, _out, err = arrears(capsys, "moveout", "A-NY", "--on", "2024-12-31")
    assert code == 2
    assert "before the lease opened" in err
    code, _out, err = arrears(capsys, "deposit", "dispose", "A-NY")
    assert code == 2
    assert "no move-out" in err
    arrears(capsys, "moveout", "A-NY", "--on", "2026-03-03")
    code, _out, err = arrears(capsys, "deposit", "dispose", "A-NY", "--on", "2026-03-02")
    assert code == 2
    assert "comes after the move-out" in err


def test_a_controller_cannot_dispose_of_a_deposit(book, capsys):
    arrears(capsys, "moveout", "A-NY", "--on", "2026-03-03")
    capsys.readouterr()
    code = main(["--as", "bob", "deposit", "dispose", "A-NY", "--deduct", "damage:10:x"])
    assert code == 2
    assert "controller" in capsys.readouterr().err
    assert not Disposition.objects.exists()


def test_the_statement_is_on_the_worklist_from_five_days_before_its_deadline(book, capsys):
    from datetime import date

    from arrears.dunning.worklist import worklist

    arrears(capsys, "moveout", "A-NY", "--on", "2026-03-03")

    def deposit_lines(on: str) -> list[Any]:
        return [w for w in worklist(on=date.fromisoformat(on)) if w.kind == "deposit_due"]

    # not six days before the deadline of the 17th; from five days before, saying what is at stake
    assert deposit_lines("2026-03-11") == []
    (line,) = deposit_lines("2026-03-12")
    assert line.account_id == "A-NY"
    assert "due by 2026-03-17" in line.reason
    assert "forfeited" in line.reason
    # after the deadline, as forfeited
    (line,) = deposit_lines("2026-03-18")
    assert "overdue since 2026-03-17" in line.reason
    # and it leaves once the deposit is disposed of
    arrears(capsys, "deposit", "dispose", "A-NY", "--on", "2026-03-12")
    assert deposit_lines("2026-03-12") == []


def test_the_account_page_shows_the_deposit_its_clock_and_its_disposition(book, capsys):
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username="cora"))
    arrears(capsys, "moveout", "A-NY", "--on", "2026-03-03")
    page = client.get("/accounts/A-NY/").content.decode()
    assert "Security deposit" in page
    assert "1,800.00" in page
    assert "2026-03-17" in page
    assert "Not disposed of yet." in page
    arrears(capsys, "deposit", "dispose", "A-NY", "--deduct", "damage:300:bedroom door")
    page = client.get("/accounts/A-NY/").content.decode()
    assert "bedroom door" in page
    assert "Balance owed" in page
    assert "950.00" in page
    # an account still lived in has no deposit section
    assert "Security deposit" not in client.get("/accounts/A-CA/").content.decode()


def test_the_api_does_the_same_acts_with_the_same_answer(book, capsys, monkeypatch):
    from django.test import Client

    from arrears.access.services import token_issue

    token = token_issue(username="cora", actor=OPERATOR, via="system")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    client = Client()

    def post(path: str, body: dict[str, Any]) -> Any:
        return client.post(path, body, content_type="application/json", **auth)

    # a move-out and a disposition through the API
    answer = post("/api/accounts/A-NY/moveout", {"on": "2026-03-03"})
    assert answer.status_code == 201
    assert answer.json()["statement_due"] == "2026-03-17"
    answer = post(
        "/api/accounts/A-NY/deposit/disposition",
        {"deductions": [{"code": "damage", "amount": "300.00", "text": "bedroom door"}]},
    )
    assert answer.status_code == 201
    # is what the command line shows, to the character
    code, out, _err = arrears(capsys, "deposit", "show", "A-NY", "--format", "json")
    assert code == 0
    assert answer.json() == json.loads(out)
    assert client.get("/api/accounts/A-NY/deposit", **auth).json() == json.loads(out)
    # and a refusal by rule is a 409 naming it, with nothing posted
    monkeypatch.setenv("ARREARS_TODAY", "2026-03-25")
    post("/api/accounts/A-OWED/moveout", {"on": "2026-03-05"})
    answer = post("/api/accounts/A-OWED/deposit/disposition", {})
    assert answer.status_code == 409
    assert answer.json()["code"] == "deposit_deadline"
    assert answer.json()["extra"]["rule"] == "deposit:deadline"
    assert Disposition.objects.filter(account__account_id="A-OWED").count() == 0


def _invoice() -> bytes:
    import io

    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    stream = io.BytesIO()
    writer.write(stream)
    return stream.getvalue()


def test_the_api_posts_a_california_disposition_with_its_receipt(book, capsys, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    from arrears.access.services import token_issue
    from arrears.correspondence.archive import archive_read

    token = token_issue(username="cora", actor=OPERATOR, via="system")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    client = Client()
    url = "/api/accounts/A-CA/deposit/disposition/receipts"
    arrears(capsys, "moveout", "A-CA", "--on", "2026-03-01")
    cleaning = {"code": "cleaning", "amount": "500.00", "text": "carpets"}
    # given Carl's carpets cleaned for 500.00 in California (Cal. Civ. Code §1950.5(g)(2))
    # when the coordinator posts it without its receipt, by JSON or by the form
    for answer in (
        client.post(
            "/api/accounts/A-CA/deposit/disposition",
            {"deductions": [cleaning]},
            content_type="application/json",
            **auth,
        ),
        client.post(url, {"disposition": json.dumps({"deductions": [cleaning]})}, **auth),
    ):
        # then it is refused by the rule, in the API's error shape, and nothing is posted
        assert answer.status_code == 409, answer.content
        assert answer.json()["code"] == "deposit_receipt"
        assert answer.json()["extra"]["rule"] == "deposit:receipt"
        assert not Disposition.objects.exists()
        assert not Transaction.objects.filter(account__account_id="A-CA").exists()
    # when a receipt is sent that no deduction names, or a deduction names one not sent
    invoice = _invoice()
    for deductions, code in (
        ([cleaning], "receipt_unused"),
        ([{**cleaning, "receipt": 2}], "receipt_not_sent"),
    ):
        answer = client.post(
            url,
            {
                "disposition": json.dumps({"deductions": deductions}),
                "receipts": [SimpleUploadedFile("invoice.pdf", invoice)],
            },
            **auth,
        )
        # then it is a mistake said as one (422), nothing posted
        assert (answer.status_code, answer.json()["code"]) == (422, code), answer.content
        assert not Disposition.objects.exists()
    # when the form's JSON is not the disposition's, or the receipt is not a document
    answer = client.post(url, {"disposition": '{"deductions": [{"code": "cleaning"}]}'}, **auth)
    assert (answer.status_code, answer.json()["code"]) == (422, "invalid")
    assert answer.json()["message"].startswith("form.disposition.deductions.0.amount")
    answer = client.post(
        url,
        {
            "disposition": json.dumps({"deductions": [{**cleaning, "receipt": 1}]}),
            "receipts": [SimpleUploadedFile("invoice.pdf", b"#!/bin/sh\nrm -rf /\n")],
        },
        **auth,
    )
    assert answer.status_code == 422, answer.content
    assert answer.json()["code"].startswith("document_")
    # and one larger than the page accepts is refused as the page refuses it
    settings.ARREARS_UPLOAD_MAX_BYTES = len(invoice) - 1
    answer = client.post(
        url,
        {
            "disposition": json.dumps({"deductions": [{**cleaning, "receipt": 1}]}),
            "receipts": [SimpleUploadedFile("invoice.pdf", invoice)],
        },
        **auth,
    )
    assert (answer.status_code, answer.json()["code"]) == (422, "document_size")
    assert not Disposition.objects.exists()
    del settings.ARREARS_UPLOAD_MAX_BYTES
    # when it is posted with the invoice
    answer = client.post(
        url,
        {
            "disposition": json.dumps({"deductions": [{**cleaning, "receipt": 1}]}),
            "receipts": [SimpleUploadedFile("invoice.pdf", invoice)],
        },
        **auth,
    )
    # then it is accepted: the deposit pays the cleaning, the rest is owed back
    assert answer.status_code == 201, answer.content
    disposition = answer.json()["disposition"]
    assert disposition["refund_due"] == "500.00"
    receipt = Disposition.objects.get().deductions.get().document
    assert receipt is not None
    assert disposition["deductions"] == [{**cleaning, "receipt": receipt.name}]
    # and the invoice is in the archive, as sent, and on the account's documents
    assert archive_read(receipt) == invoice
    documents = client.get("/api/accounts/A-CA/documents", **auth).json()
    assert receipt.name in {d["name"] for d in documents}
    # and `deposit show` lists it with its deduction, the JSON as the API answered
    code, out, _err = arrears(capsys, "deposit", "show", "A-CA", "--format", "json")
    assert code == 0
    assert json.loads(out) == answer.json()
    code, out, _err = arrears(capsys, "deposit", "show", "A-CA")
    assert f"receipt: {receipt.name}" in out
    # and the audit row is the JSON route's and the command's
    from arrears.access.models import AuditEntry

    audit = AuditEntry.objects.filter(verb="deposit.dispose").latest("id")
    assert (audit.via, audit.detail["deductions"]) == ("api", [cleaning])


def test_the_account_pages_forms_record_the_move_out_and_the_disposition(book, tmp_path):
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username="cora"))
    # the Move-out button is there while the tenant lives there
    assert "act-moveout" in client.get("/accounts/A-CA/").content.decode()
    answer = client.post(
        "/accounts/A-CA/moveout/", {"on": "2026-03-01", "party_id": ""}, follow=True
    )
    page = answer.content.decode()
    assert "Move-out recorded: vacated on 2026-03-01." in page
    assert "act-deposit" in page
    # a deduction of 500.00 for cleaning without its receipt is refused in plain words
    answer = client.post(
        "/accounts/A-CA/deposit/",
        {"code_1": "cleaning", "amount_1": "500", "text_1": "carpets"},
    )
    assert answer.status_code == 422
    assert "go with their receipts" in answer.content.decode()
    assert not Disposition.objects.exists()
    # with the receipt attached, the same form posts it and says what is owed back
    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    invoice = tmp_path / "invoice.pdf"
    with invoice.open("wb") as stream:
        writer.write(stream)
    answer = client.post(
        "/accounts/A-CA/deposit/",
        {
            "code_1": "cleaning",
            "amount_1": "500",
            "text_1": "carpets",
            "receipt_1": SimpleUploadedFile("invoice.pdf", invoice.read_bytes()),
        },
        follow=True,
    )
    page = answer.content.decode()
    assert "Deposit disposed of: refund due 500.00." in page
    receipt = Disposition.objects.get().deductions.get().document
    assert receipt is not None
    # and the receipt is on the page, opened as it was archived
    assert f"?name={receipt.name}" in page.replace("%2F", "/")
    opened = client.get(f"/accounts/A-CA/documents/?name={receipt.name}")
    assert opened.status_code == 200
    assert opened.content == invoice.read_bytes()


def test_collection_after_a_move_out_waits_for_the_deposit_statement(book, capsys, monkeypatch):
    from datetime import date

    from arrears.dunning.models import Action
    from arrears.dunning.services import cycle_run

    arrears(capsys, "moveout", "A-NY", "--on", "2026-03-03")

    def steps(on: str) -> set[tuple[str, str]]:
        cycle_run(on=date.fromisoformat(on), actor="cycle")
        return set(
            Action.objects.filter(account__account_id="A-NY", run_on=on).values_list(
                "status", "rule"
            )
        )

    # while the statement is still to come, every step of the account waits for it
    waiting = steps("2026-03-04")
    assert waiting
    assert {rule for _status, rule in waiting} == {"deposit"}
    # once the deposit is disposed of, what is owed after it is collected
    arrears(
        capsys, "deposit", "dispose", "A-NY", "--deduct", "damage:300:door", "--on", "2026-03-10"
    )
    after = steps("2026-03-11")
    assert after
    assert "deposit" not in {rule for _status, rule in after}
