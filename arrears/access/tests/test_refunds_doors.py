"""Refunds of credit balances through their other doors (issue 16, items 4 and 6): the API's
routes answer what `arrears refund` answers, the Refunds page approves, rejects and exports with
its messages in plain words, the worklist shows a refund from 3 days before its due date and
when late (a student's with 34 CFR §668.164(h)(2)'s 14 days), and the account page says a
refund's state. A coordinator is refused approval everywhere; a refund above the credit left is
a 409 refund_above_credit. The book is test_refunds.py's: Ruth (A-OWED) owed 700.00 back after
her deposit's disposition, Sam (S-SAM) a student with a Title IV credit of 1,000.00 since March
2nd (due the 16th), Pat (A-PAT) owed nothing."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from arrears.access.models import AuditEntry
from arrears.access.services import token_issue
from arrears.access.tests.people import OPERATOR, write_book
from arrears.access.tests.test_refunds import (  # noqa: F401 - the fixture
    _rent,
    arrears,
    balance,
    book,
    dispose_owed,
    refunds,
)
from arrears.dunning.worklist import worklist
from arrears.ledger.models import TimelineEvent, Transaction
from arrears.ledger.services import book_import
from arrears.moveout.models import Refund
from arrears.moveout.selectors import refunds_due

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("book")]

# Ruth's account has a guarantor too (Pat): the refund is paid to her, the primary party.
GUARANTOR = {
    "account_parties": [{"account_id": "A-OWED", "party_id": "P-PAT", "role": "guarantor"}]
}


def api(user: str) -> tuple[Client, dict[str, str]]:
    token = token_issue(username=user, actor=OPERATOR, via="system")
    return Client(), {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def post(client: Client, auth: dict[str, str], path: str, body: dict[str, Any]) -> Any:
    return client.post(path, json.dumps(body), content_type="application/json", **auth)


def page(user: str, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(User.objects.get(username=user))
    return client


def test_the_api_answers_what_the_command_line_answers(capsys, tmp_path):
    # given Ruth's disposition (700.00 owed back) and her guarantor, and Sam's aid
    book_import(write_book(tmp_path / "guarantor", GUARANTOR))
    dispose_owed(capsys)
    client, cora = api("cora")
    # when the API lists the refunds (which proposes them) and the command line lists them
    listed = client.get("/api/refunds", **cora)
    code, out, err = arrears(capsys, "cora", "refund", "list", "--format", "json")
    # then both say the same, to the character
    assert listed.status_code == 200, listed.content
    assert code == 0, err
    assert listed.json() == json.loads(out)
    assert {r["account_id"] for r in listed.json()} == {"A-OWED", "S-SAM"}
    assert client.get("/api/refunds?status=approved", **cora).json() == []
    # and the filters are refused when they are not ones
    bad = client.get("/api/refunds?status=paid", **cora)
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid")
    ruth = refunds(capsys)["A-OWED"]
    # when the coordinator approves through the API: refused, in the API's error shape
    refused = post(client, cora, f"/api/refunds/{ruth['refund_id']}/approve", {})
    assert refused.status_code == 403
    assert set(refused.json()) == {"code", "message", "extra"}
    assert refused.json()["code"] == "forbidden"
    assert not Transaction.objects.filter(type="refund").exists()
    # when the controller approves it on the 10th
    client, dave = api("dave")
    approved = post(client, dave, f"/api/refunds/{ruth['refund_id']}/approve", {"on": "2026-03-10"})
    # then its entry is posted and the answer is the refund as the command line lists it
    assert approved.status_code == 200, approved.content
    assert approved.json() == refunds(capsys)["A-OWED"]
    assert approved.json()["status"] == "approved"
    assert approved.json()["txn_id"] == ruth["refund_id"]
    assert balance("A-OWED") == Decimal("0.00")
    # when Sam's is rejected without a reason, then with one
    sam = refunds(capsys)["S-SAM"]
    path = f"/api/refunds/{sam['refund_id']}/reject"
    missing = post(client, dave, path, {"reason": "  "})
    assert (missing.status_code, missing.json()["code"]) == (422, "refund_reason_missing")
    rejected = post(client, dave, path, {"reason": "aid returned to the lender"})
    assert rejected.status_code == 200
    assert rejected.json() == refunds(capsys)["S-SAM"]
    assert rejected.json()["reason"] == "aid returned to the lender"
    # when the controller exports
    exported = post(client, dave, "/api/refunds/export", {})
    # then the answer names the batch, its refunds and the payables file, paid to Ruth (not her
    # guarantor), and the audit says the file went to the API's caller
    assert exported.status_code == 200, exported.content
    batch = exported.json()["batch"]
    assert batch == "RB-20260310-1"
    assert [r["refund_id"] for r in exported.json()["refunds"]] == [ruth["refund_id"]]
    assert exported.json()["refunds"][0] == refunds(capsys)["A-OWED"]
    rows = list(csv.DictReader(io.StringIO(exported.json()["csv"])))
    assert [(r["refund_id"], r["payee_name"], r["amount"], r["batch"]) for r in rows] == [
        (ruth["refund_id"], "Ruth Lee", "700.00", batch)
    ]
    audit = AuditEntry.objects.filter(verb="refund.export").latest("id")
    assert (audit.via, audit.detail["output"]) == ("api", "api")
    # and a second export has nothing: no batch, the header alone
    again = post(client, dave, "/api/refunds/export", {}).json()
    assert (again["batch"], again["refunds"]) == ("", [])
    assert again["csv"].splitlines() == [exported.json()["csv"].splitlines()[0]]
    # and the batch can be asked for again, the same file, changing nothing
    same = post(client, dave, "/api/refunds/export", {"batch": batch}).json()
    assert same["csv"] == exported.json()["csv"]
    assert Refund.objects.get(account__account_id="A-OWED").exported_batch == batch
    # and the command line's file of the batch is the API's text
    output = tmp_path / "batch.csv"
    assert (
        arrears(capsys, "dave", "refund", "export", "--output", str(output), "--batch", batch)[0]
        == 0
    )
    assert output.read_text(encoding="utf-8") == exported.json()["csv"]


def test_a_refund_above_the_credit_left_is_a_409_and_nothing_changes(capsys, tmp_path):
    # given Ruth's refund of 700.00, and a utility bill of 100.00 after it was proposed
    dispose_owed(capsys)
    ruth = refunds(capsys)["A-OWED"]
    book_import(
        write_book(
            tmp_path / "bill",
            {"transactions": [_rent("T-UTIL", "A-OWED", "2026-03-10", "100.00", "UTIL")]},
        )
    )
    # when the controller approves it through the API
    client, dave = api("dave")
    answer = post(client, dave, f"/api/refunds/{ruth['refund_id']}/approve", {})
    # then it is a conflict with the book, naming the credit left, and nothing is posted
    assert answer.status_code == 409, answer.content
    assert answer.json()["code"] == "refund_above_credit"
    assert answer.json()["extra"]["credit"] == "600.00"
    assert not Transaction.objects.filter(type="refund").exists()
    assert Refund.objects.get(account__account_id="A-OWED").status == "proposed"
    # and the page says it in plain words, the list showing it revised to the credit left
    said = page("dave").post(f"/refunds/{ruth['refund_id']}/approve/")
    assert said.status_code == 409
    text = said.content.decode()
    assert "the account&#x27;s credit is 600.00 now, less than the refund&#x27;s 700.00" in text
    assert Refund.objects.get(account__account_id="A-OWED").amount == Decimal("600.00")


def test_the_refunds_page_approves_rejects_and_exports_saying_what_it_did(capsys):
    # given Ruth's refund and Sam's, proposed
    dispose_owed(capsys)
    found = refunds(capsys)
    ruth, sam = found["A-OWED"], found["S-SAM"]
    # when the coordinator opens the Refunds page (linked in the header)
    cora = page("cora")
    shown = cora.get("/refunds/")
    text = shown.content.decode()
    # then she sees both, Sam's first (due the 16th), each with its account, payee and amount,
    # and no button to approve or export
    assert shown.status_code == 200
    assert 'href="/refunds/"' in text
    assert text.index(sam["refund_id"]) < text.index(ruth["refund_id"])
    assert 'href="/accounts/A-OWED/"' in text
    assert "Ruth Lee" in text
    assert "Sam Reyes" in text
    assert "700.00" in text
    assert "1,000.00" in text
    assert 'class="table-scroll"' in text
    assert "Approve" not in text
    assert "Export" not in text
    # when she approves all the same: refused, said in words, nothing posted
    refused = cora.post(f"/refunds/{ruth['refund_id']}/approve/")
    assert refused.status_code == 403
    assert "Only a controller or an admin may approve" in refused.content.decode()
    assert not Transaction.objects.filter(type="refund").exists()
    # when the controller opens it
    dave = page("dave")
    text = dave.get("/refunds/").content.decode()
    assert "Approve" in text
    assert "Export the approved refunds" in text
    # and approves Ruth's
    done = dave.post(f"/refunds/{ruth['refund_id']}/approve/", follow=True)
    text = done.content.decode()
    assert done.redirect_chain[-1][0] == "/refunds/"
    assert f"Refund {ruth['refund_id']} of 700.00 to A-OWED approved" in text
    assert Refund.objects.get(account__account_id="A-OWED").status == "approved"
    # and rejects Sam's, first without a reason, then with one
    missing = dave.post(f"/refunds/{sam['refund_id']}/reject/", {"reason": " "})
    assert missing.status_code == 422
    assert "without a reason" in missing.content.decode()
    done = dave.post(
        f"/refunds/{sam['refund_id']}/reject/",
        {"reason": "aid returned to the lender"},
        follow=True,
    )
    assert f"Refund {sam['refund_id']} rejected: aid returned to the lender." in (
        done.content.decode()
    )
    # and approving Ruth's twice says it was approved already
    twice = dave.post(f"/refunds/{ruth['refund_id']}/approve/")
    assert twice.status_code == 422
    assert "approved already" in twice.content.decode()
    # when he exports: the payables file downloads, holding Ruth's refund
    export = dave.post("/refunds/export/")
    assert export.status_code == 200
    assert export["Content-Type"].startswith("text/csv")
    assert 'filename="payables-RB-20260310-1.csv"' in export["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(export.content.decode())))
    assert [(r["refund_id"], r["amount"]) for r in rows] == [(ruth["refund_id"], "700.00")]
    # and the next page says what was exported, the refund gone from those to pay
    text = dave.get("/refunds/").content.decode()
    assert "Batch RB-20260310-1 exported: 1 refund, 700.00, in the payables file." in text
    assert ruth["refund_id"] not in text
    # and with all shown, it is there, sent to payables, its batch's file a link away
    text = dave.get("/refunds/?show=all").content.decode()
    assert "sent to payables" in text
    again = dave.get("/refunds/batches/RB-20260310-1/")
    assert again.content == export.content
    # when he exports again: nothing, said, no file
    done = dave.post("/refunds/export/", follow=True)
    assert "Nothing to export" in done.content.decode()
    # and in Spanish, the page speaks Spanish
    text = page("dave", "es").get("/refunds/?show=all").content.decode()
    assert "Reembolsos" in text
    assert "enviado a cuentas por pagar" in text


def test_the_refunds_page_approves_on_the_day_given_never_before_the_credit_nor_to_come(capsys):
    # given Sam's Title IV credit of 1,000.00, arisen on March 2nd, proposed; today is the 10th
    sam = refunds(capsys)["S-SAM"]
    assert sam["arose_on"] == "2026-03-02"
    path = f"/refunds/{sam['refund_id']}/approve/"
    dave = page("dave")
    # when the controller opens the Refunds page
    text = dave.get("/refunds/").content.decode()
    # then each Approve asks the day it is paid, today by default, between the credit and today
    assert 'name="on" value="2026-03-10" min="2026-03-02" max="2026-03-10"' in text
    # when he approves it as of a day before the credit arose, a day to come, or no date at all
    for on, said in (
        ("2026-03-01", "before its credit arose (2026-03-02)"),
        ("2026-03-11", "that day is still to come (today is 2026-03-10)"),
        ("the 5th", "The day paid is not a date: the 5th"),
    ):
        refused = dave.post(path, {"on": on})
        # then the page says why, in words, and nothing is posted
        assert refused.status_code == 422, on
        assert said in refused.content.decode(), on
        assert f"Can&#x27;t approve refund {sam['refund_id']}" in refused.content.decode()
        assert not Transaction.objects.filter(type="refund").exists()
        assert Refund.objects.get(account__account_id="S-SAM").status == "proposed"
    # and in Spanish, in Spanish
    refused = page("dave", "es").post(path, {"on": "2026-03-11"})
    assert refused.status_code == 422
    assert "todavía está por venir" in refused.content.decode()
    # when he approves it as of the 5th
    done = dave.post(path, {"on": "2026-03-05"}, follow=True)
    # then its entry is posted on the 5th, said on the page, as the act's audit row says
    assert f"Refund {sam['refund_id']} of 1,000.00 to S-SAM approved: its entry is posted on " in (
        done.content.decode()
    )
    entry = Transaction.objects.get(type="refund")
    assert (entry.txn_id, entry.posted_on) == (sam["refund_id"], date(2026, 3, 5))
    assert Refund.objects.get(account__account_id="S-SAM").decided_on == date(2026, 3, 5)
    audit = AuditEntry.objects.filter(verb="refund.approve").latest("id")
    assert (audit.via, audit.detail["on"]) == ("web", "2026-03-05")


def test_a_refund_approved_as_of_a_day_to_come_is_refused_by_every_door(capsys):
    # given Sam's refund, proposed
    sam = refunds(capsys)["S-SAM"]
    # when the controller approves it as of tomorrow from the command line and the API
    code, _out, err = arrears(
        capsys, "dave", "refund", "approve", sam["refund_id"], "--on", "2026-03-11"
    )
    client, dave = api("dave")
    answer = post(client, dave, f"/api/refunds/{sam['refund_id']}/approve", {"on": "2026-03-11"})
    # then each refuses it, naming why, and nothing is posted
    assert code == 2
    assert "still to come" in err
    assert (answer.status_code, answer.json()["code"]) == (422, "refund_in_future")
    assert answer.json()["extra"]["today"] == "2026-03-10"
    assert not Transaction.objects.filter(type="refund").exists()


def test_a_refund_is_on_the_worklist_from_3_days_before_its_due_date(capsys, monkeypatch, tmp_path):
    # given Sam's Title IV credit of 1,000.00, due the 16th, proposed on the 10th
    sam = refunds(capsys)["S-SAM"]

    def lines(on: str) -> list[tuple[Any, str]]:
        with translation.override("en"):
            work = worklist(on=date.fromisoformat(on))
            return [(w, w.reason) for w in work if w.kind == "refund_due"]

    # then on the 12th it is not on the worklist; from the 13th it is, in the Refunds due tab,
    # saying when and that the law asks for 14 days
    assert lines("2026-03-12") == []
    ((line, reason),) = lines("2026-03-13")
    assert (line.account_id, line.tab) == ("S-SAM", "refunds")
    assert f"Refund {sam['refund_id']} of 1,000.00 due by 2026-03-16" in reason
    assert "34 CFR §668.164(h)(2)" in reason
    assert "14 days" in reason
    # and late, it says so
    ((line, reason),) = lines("2026-03-17")
    assert "overdue since 2026-03-16" in reason
    # and the Today page shows it under its tab, in words
    monkeypatch.setenv("ARREARS_TODAY", "2026-03-17")
    text = page("cora").get("/today/?tab=refunds").content.decode()
    assert "Refunds due" in text
    assert "overdue since 2026-03-16" in text
    # and approved, it stays until it goes to payables
    assert arrears(capsys, "dave", "refund", "approve", sam["refund_id"])[0] == 0
    assert len(lines("2026-03-17")) == 1
    payables = str(tmp_path / "payables.csv")
    assert arrears(capsys, "dave", "refund", "export", "--output", payables)[0] == 0
    assert lines("2026-03-17") == []


def test_the_worklist_reads_refunds_in_one_query_whatever_their_number(capsys, tmp_path):
    # given Sam's refund alone, then with Ruth's
    refunds(capsys)
    on = date(2026, 5, 1)  # both late by then
    with CaptureQueriesContext(connection) as one:
        assert len(refunds_due(on)) == 1
    dispose_owed(capsys)
    refunds(capsys)
    with CaptureQueriesContext(connection) as two:
        assert len(refunds_due(on)) == 2
    # then each read is one query
    assert len(one.captured_queries) == len(two.captured_queries) == 1


def test_the_account_page_says_the_refunds_state(capsys):
    # given Sam's refund proposed, and Ruth's after her move-out
    dispose_owed(capsys)
    found = refunds(capsys)
    client = page("cora")
    # then Sam's page says it is to approve, how much, and by when
    text = client.get("/accounts/S-SAM/").content.decode()
    assert "Refund of the credit balance" in text
    assert found["S-SAM"]["refund_id"] in text
    assert "1,000.00" in text
    assert "to approve" in text
    assert "due by 2026-03-16" in text
    # and Ruth's, in her deposit section
    text = client.get("/accounts/A-OWED/").content.decode()
    section = text[
        text.index('id="deposit"') : text.index("</section>", text.index('id="deposit"'))
    ]
    assert found["A-OWED"]["refund_id"] in section
    # when Sam's is approved his balance is 0.00, and his page says it is approved
    assert arrears(capsys, "dave", "refund", "approve", found["S-SAM"]["refund_id"])[0] == 0
    assert "approved, not yet paid" in client.get("/accounts/S-SAM/").content.decode()
    # and an account with no credit reads no refund at all
    with CaptureQueriesContext(connection) as queries:
        text = client.get("/accounts/A-PAT/").content.decode()
    assert "Refund of the credit balance" not in text
    assert not [q for q in queries.captured_queries if "moveout_refund" in q["sql"]]


def test_the_payables_file_pays_the_primary_party_not_a_guarantor(capsys, tmp_path):
    # given Ruth's refund approved, her account with a guarantor added after her
    book_import(write_book(tmp_path / "guarantor", GUARANTOR))
    dispose_owed(capsys)
    ruth = refunds(capsys)["A-OWED"]
    assert arrears(capsys, "dave", "refund", "approve", ruth["refund_id"])[0] == 0
    # when the file is written
    output: Path = tmp_path / "payables.csv"
    assert arrears(capsys, "dave", "refund", "export", "--output", str(output))[0] == 0
    # then its payee is Ruth, the tenant, not Pat, whose role's name sorts first
    with output.open(encoding="utf-8") as stream:
        (row,) = list(csv.DictReader(stream))
    assert row["payee_name"] == "Ruth Lee"


def test_a_managers_listing_proposes_nothing_on_the_book(capsys):
    from arrears.access.services import user_add

    # given a credit balance no one has listed yet, and a manager of the building
    dispose_owed(capsys)
    user_add(
        username="mona",
        password="a-long-test-password",
        role="manager",
        properties=["HUD"],
        actor=OPERATOR,
        via="system",
    )
    # when she opens the Refunds page
    assert page("mona").get("/refunds/").status_code == 200
    # then nothing was proposed in her name; a controller's listing proposes it
    assert not Refund.objects.exists()
    assert arrears(capsys, "dave", "refund", "list")[0] == 0
    assert Refund.objects.exists()
    assert not TimelineEvent.objects.filter(actor="mona").exists()


def test_an_open_leases_credit_is_rent_paid_ahead_not_a_refund(capsys, tmp_path):
    # given Pat, still in her lease, paying 2,000.00 ahead
    book_import(
        write_book(
            tmp_path / "ahead",
            {
                "transactions": [
                    {
                        "txn_id": "T-PAT-AHEAD",
                        "account_id": "A-PAT",
                        "posted": "2026-03-05",
                        "type": "payment",
                        "amount": "2000.00",
                    }
                ]
            },
        )
    )
    assert balance("A-PAT") < 0
    # when a controller lists the refunds
    assert arrears(capsys, "dave", "refund", "list")[0] == 0
    # then her credit is not proposed as a refund: the next rent uses it
    assert not Refund.objects.filter(account__account_id="A-PAT").exists()
