"""A case's settlements and write-offs (arrears.legal.settlements), through the command line and
the API, on the workspace's cast (`people`): Tina Ortiz's Brooklyn lease (A-TINA, 1,200.00 of
March rent unpaid) referred to Hale & Co (a 25% contingency), a judgment, then a settlement of
70% paid in two parts; Oscar Diaz's Oakland lease (A-OSCAR, 950.00, with Hale & Co) written off
by Dave, the controller, and a payment after it recovered apart."""

from __future__ import annotations

import json
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from arrears.access.models import AuditEntry
from arrears.access.services import user_add
from arrears.access.tests.people import FIRM, OPERATOR, PASSWORD, TODAY, write_book
from arrears.cli import main
from arrears.dunning.services import cycle_run
from arrears.ledger.models import Account, TimelineEvent, Transaction
from arrears.ledger.selectors import account_ledger
from arrears.ledger.services import book_import
from arrears.legal.models import CaseEvent, Firm, Referral, Settlement, WriteOff

pytestmark = pytest.mark.django_db

CENT = Decimal("0.01")


def _cli(capsys: Any, *words: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(words))
    out, err = capsys.readouterr()
    return code, out, err


def _api(token: str, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    if method == "get":
        return client.get(url)
    return client.post(url, json.dumps(body or {}), content_type="application/json")


def _pay(folder: Path, account_id: str, txn_id: str, on: date, amount: Decimal) -> None:
    """A payment arrives in the book, as the bank's file is imported."""
    row = {
        "txn_id": txn_id,
        "account_id": account_id,
        "posted": on.isoformat(),
        "type": "payment",
        "amount": f"{amount:.2f}",
    }
    book_import(write_book(folder / txn_id, {"transactions": [row]}))


def _balance(account_id: str, on: date) -> Decimal:
    return account_ledger(account_id=account_id, as_of=on).balance


def _tina_case(capsys: Any) -> Referral:
    code, out, err = _cli(
        capsys,
        "--as",
        "alice",
        "refer",
        "A-TINA",
        "--firm",
        FIRM,
        "--format",
        "json",
        "--override",
        "the papers go by courier",
    )
    assert code == 0, err
    return Referral.objects.get(pk=json.loads(out)["case_id"])


def test_a_settlement_of_70_percent_paid_in_two_parts_closes_the_balance_net_of_the_fee(
    people: Any, capsys: Any, tokens: Any, book_clock: Any, tmp_path: Path
) -> None:
    book_clock(TODAY)
    # given Tina's case at Hale & Co, with a judgment for what she owes
    case = _tina_case(capsys)
    owed = _balance("A-TINA", TODAY)
    assert owed == Decimal("1200.00")
    code, _out, err = _cli(
        capsys,
        *("--as", "carol", "case", "update", str(case.pk), "--status", "judgment"),
        *("--amount", f"{owed:.2f}", "--on", TODAY.isoformat()),
    )
    assert code == 0, err
    # when the attorney offers a settlement of 70% in two parts
    settled = (owed * Decimal("0.70")).quantize(CENT)
    first = (settled / 2).quantize(CENT)
    second = settled - first
    code, out, err = _cli(
        capsys,
        *("--as", "carol", "settlement", "offer", str(case.pk), "--amount", f"{settled:.2f}"),
        *("--due", f"2026-04-10:{first:.2f}", "--due", f"2026-05-10:{second:.2f}"),
        *("--format", "json"),
    )
    assert code == 0, err
    offered = json.loads(out)
    assert (offered["status"], offered["needs_approval"]) == ("offered", True)
    assert offered["balance"] == f"{owed:.2f}"
    sid = offered["settlement_id"]
    # then the coordinator may not approve it (every settlement needs a manager, a controller
    # or an admin by default), nor may the firm's attorney
    code, _out, err = _cli(capsys, "--as", "alice", "settlement", "approve", str(sid))
    assert code == 2
    assert "coordinator may not" in err
    answer = _api(tokens["carol"], "post", f"/api/cases/{case.pk}/settlements/{sid}/approve")
    assert answer.status_code == 403
    assert Settlement.objects.get(pk=sid).status == "offered"
    # and the manager of another company's building does not even see it
    answer = _api(tokens["mallory"], "post", f"/api/cases/{case.pk}/settlements/{sid}/approve")
    assert answer.status_code == 404
    assert _api(tokens["mallory"], "get", f"/api/cases/{case.pk}/settlements").status_code == 404
    # when Bob, the manager of Elm Court, approves it
    answer = _api(tokens["bob"], "post", f"/api/cases/{case.pk}/settlements/{sid}/approve")
    assert answer.status_code == 200, answer.content
    assert (answer.json()["status"], answer.json()["decided_by"]) == ("approved", "bob")
    # and Tina pays the first part on April 8
    _pay(tmp_path, "A-TINA", "PAY-TINA-1", date(2026, 4, 8), first)
    book_clock(date(2026, 4, 8))
    code, out, err = _cli(capsys, "--as", "alice", "settlement", "check", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["settlements_paid"] == 0
    code, out, err = _cli(capsys, "settlement", "show", str(sid), "--format", "json")
    shown = json.loads(out)
    assert (shown["status"], shown["paid"]) == ("approved", f"{first:.2f}")
    assert [i["status"] for i in shown["installments"]] == ["paid", "ahead"]
    # and the second on May 6, and the daily run runs that day
    _pay(tmp_path, "A-TINA", "PAY-TINA-2", date(2026, 5, 6), second)
    book_clock(date(2026, 5, 6))
    cycle_run(on=date(2026, 5, 6))
    # then the balance is zero, the forgiven part one SETTLE credit
    assert _balance("A-TINA", date(2026, 5, 6)) == Decimal("0.00")
    credits = Transaction.objects.filter(account__account_id="A-TINA", code="SETTLE")
    assert [(c.type, c.amount, c.txn_id) for c in credits] == [
        ("credit", owed - settled, f"SET-{case.pk}-{sid}")
    ]
    s = Settlement.objects.get(pk=sid)
    assert (s.status, s.paid, s.forgiven) == ("paid", settled, owed - settled)
    # and a second check, and a second run, change nothing
    code, _out, err = _cli(capsys, "--as", "alice", "settlement", "check")
    assert code == 0, err
    cycle_run(on=date(2026, 5, 6))
    assert Transaction.objects.filter(account__account_id="A-TINA", code="SETTLE").count() == 1
    assert (
        TimelineEvent.objects.filter(account__account_id="A-TINA", kind="settlement.paid").count()
        == 1
    )
    # and the case is satisfied
    case.refresh_from_db()
    assert case.status == "satisfied"
    assert CaseEvent.objects.filter(case=case, status="satisfied").count() == 1
    # and the case's net recovery after the firm's 25% is right to the cent
    firm = Firm.objects.get(name=FIRM)
    fee = (settled * firm.contingency_percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    fee += firm.flat_fee
    code, out, err = _cli(capsys, "case", "show", str(case.pk), "--format", "json")
    assert code == 0, err
    recovery = json.loads(out)["recovery"]
    assert (recovery["recovered"], recovery["fees"], recovery["net"]) == (
        f"{settled:.2f}",
        f"{fee:.2f}",
        f"{settled - fee:.2f}",
    )
    assert (recovery["recovered"], recovery["fees"], recovery["net"]) == (
        "840.00",
        "210.00",
        "630.00",
    )
    # and the API says the same of the case
    answer = _api(tokens["carol"], "get", f"/api/cases/{case.pk}")
    assert answer.json()["recovery"] == recovery


def test_a_settlement_at_or_below_the_threshold_needs_no_approval_and_one_above_does(
    people: Any, capsys: Any, tokens: Any, book_clock: Any, settings: Any
) -> None:
    book_clock(TODAY)
    settings.ARREARS_SETTLEMENT_APPROVAL_ABOVE = Decimal("900.00")
    case = _tina_case(capsys)
    # when a settlement of 900.00 is offered (at the threshold)
    answer = _api(
        tokens["alice"],
        "post",
        f"/api/cases/{case.pk}/settlements",
        {"amount": "900.00", "installments": [{"due_on": "2026-04-30", "amount": "900.00"}]},
    )
    assert answer.status_code == 201, answer.content
    # then it is approved as offered, by no one
    assert (answer.json()["status"], answer.json()["needs_approval"]) == ("approved", False)
    assert answer.json()["decided_by"] is None
    # and it is rejected no more: it is not waiting for a decision
    sid = answer.json()["settlement_id"]
    answer = _api(
        tokens["dave"],
        "post",
        f"/api/cases/{case.pk}/settlements/{sid}/reject",
        {"reason": "too low"},
    )
    assert (answer.status_code, answer.json()["code"]) == (422, "settlement_decided")
    # and a second one on the case is refused while this one is in force
    code, _out, err = _cli(
        capsys,
        *("--as", "alice", "settlement", "offer", str(case.pk), "--amount", "950.00"),
        *("--due", "2026-04-30:950.00"),
    )
    assert code == 2
    assert f"settlement {sid} in force" in err
    # when the first is missed past its grace (April 30 + 5 days), it is broken
    book_clock(date(2026, 5, 6))
    code, out, err = _cli(capsys, "--as", "alice", "settlement", "check", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["settlements_broken"] == 1
    assert Settlement.objects.get(pk=sid).status == "broken"
    assert _balance("A-TINA", date(2026, 5, 6)) == Decimal("1200.00")
    # and a settlement above the threshold waits for a controller, who rejects it saying why
    code, out, err = _cli(
        capsys,
        *("--as", "alice", "settlement", "offer", str(case.pk), "--amount", "950.00"),
        *("--due", "2026-05-20:950.00", "--format", "json"),
    )
    assert code == 0, err
    later = json.loads(out)
    assert (later["status"], later["needs_approval"]) == ("offered", True)
    code, out, err = _cli(
        capsys,
        *("--as", "dave", "settlement", "reject", str(later["settlement_id"])),
        *("--reason", "the judgment is for the whole", "--format", "json"),
    )
    assert code == 0, err
    assert (json.loads(out)["status"], json.loads(out)["reason"]) == (
        "rejected",
        "the judgment is for the whole",
    )


def test_bad_settlements_are_refused_clearly_and_nothing_is_written(
    people: Any, capsys: Any, tokens: Any, book_clock: Any
) -> None:
    book_clock(TODAY)
    case = _tina_case(capsys)
    audit = AuditEntry.objects.count()
    timeline = TimelineEvent.objects.count()
    cases = [
        (["--amount", "1500.00", "--due", "2026-04-30:1500.00"], "above the balance owed"),
        (
            ["--amount", "840.00", "--due", "2026-04-30:400.00", "--due", "2026-05-30:400.00"],
            "the installments sum to 800.00, not to the settlement's 840.00",
        ),
        (["--amount", "840.00", "--due", "2026-03-20:840.00"], "before today (2026-03-26)"),
        (["--amount", "0", "--due", "2026-04-30:840.00"], "amount is positive"),
    ]
    for words, said in cases:
        code, _out, err = _cli(capsys, "--as", "alice", "settlement", "offer", str(case.pk), *words)
        assert code == 2, words
        assert said in err, err
    # and through the API: the same refusal, with its code
    answer = _api(
        tokens["alice"],
        "post",
        f"/api/cases/{case.pk}/settlements",
        {"amount": "840.00", "installments": [{"due_on": "2026-04-30", "amount": "800.00"}]},
    )
    assert (answer.status_code, answer.json()["code"]) == (422, "settlement_installments_sum")
    # and a paralegal of the firm may not offer one (money)
    user_add(
        username="paula",
        password=PASSWORD,
        role="paralegal",
        firm=FIRM,
        actor=OPERATOR,
        via="system",
    )
    code, _out, err = _cli(
        capsys,
        *("--as", "paula", "settlement", "offer", str(case.pk), "--amount", "840.00"),
        *("--due", "2026-04-30:840.00"),
    )
    assert code == 2
    assert "paralegal may not" in err
    audit += 1  # (paula added)
    assert not Settlement.objects.exists()
    assert AuditEntry.objects.count() == audit
    assert TimelineEvent.objects.count() == timeline


def test_a_write_off_needs_a_controller_and_a_recovery_after_it_is_reported_apart(
    people: Any, capsys: Any, tokens: Any, book_clock: Any, tmp_path: Path
) -> None:
    book_clock(TODAY)
    owed = _balance("A-OSCAR", TODAY)
    assert owed == Decimal("950.00")
    # when the coordinator tries to write Oscar's balance off, she is refused
    words = ("writeoff", "A-OSCAR", "--amount", f"{owed:.2f}", "--reason", "tenant gone")
    code, _out, err = _cli(capsys, "--as", "alice", *words)
    assert code == 2
    assert "coordinator may not" in err
    # and a write-off above the balance is refused, naming it
    code, _out, err = _cli(
        capsys, "--as", "dave", "writeoff", "A-OSCAR", "--amount", "1000.00", "--reason", "gone"
    )
    assert (code, err) == (
        2,
        "arrears writeoff: a write-off of 1,000.00 is above the balance owed (950.00)\n",
    )
    assert not WriteOff.objects.exists()
    # when Dave, the controller, writes it off
    code, out, err = _cli(capsys, "--as", "dave", *words, "--format", "json")
    assert code == 0, err
    # then one WO credit zeroes the balance
    assert _balance("A-OSCAR", TODAY) == Decimal("0.00")
    wo = Transaction.objects.get(account__account_id="A-OSCAR", code="WO")
    assert (wo.type, wo.amount, wo.txn_id) == ("credit", owed, "WO-A-OSCAR-1")
    assert json.loads(out)["outstanding"] == f"{owed:.2f}"
    # when Oscar pays 200.00 on April 2, after the write-off
    paid = Decimal("200.00")
    _pay(tmp_path, "A-OSCAR", "PAY-OSCAR-1", date(2026, 4, 2), paid)
    assert _balance("A-OSCAR", date(2026, 4, 2)) == -paid
    book_clock(date(2026, 4, 2))
    cycle_run(on=date(2026, 4, 2))
    # then the payment is a recovery: a WOR charge it pays, the balance zero again
    assert _balance("A-OSCAR", date(2026, 4, 2)) == Decimal("0.00")
    wor = Transaction.objects.get(account__account_id="A-OSCAR", code="WOR")
    assert (wor.type, wor.amount, wor.txn_id, wor.posted_on) == (
        "charge",
        paid,
        "WO-A-OSCAR-1-r1",
        date(2026, 4, 2),
    )
    # and it is reported apart: written off, recovered after, still written off
    code, out, err = _cli(capsys, "writeoff", "show", "A-OSCAR", "--format", "json")
    assert code == 0, err
    shown = json.loads(out)
    assert (shown["written_off"], shown["recovered"], shown["outstanding"]) == (
        f"{owed:.2f}",
        f"{paid:.2f}",
        f"{owed - paid:.2f}",
    )
    assert [r["amount"] for r in shown["writeoffs"][0]["recoveries"]] == [f"{paid:.2f}"]
    # and the API says the same, to the controller; nothing to another company's manager
    answer = _api(tokens["dave"], "get", "/api/accounts/A-OSCAR/writeoffs")
    assert answer.json() == shown
    assert _api(tokens["mallory"], "get", "/api/accounts/A-OSCAR/writeoffs").status_code == 404
    # and checking again recovers nothing twice
    code, out, err = _cli(capsys, "--as", "dave", "settlement", "check", "--format", "json")
    assert json.loads(out)["writeoff_recoveries"] == 0
    assert Transaction.objects.filter(account__account_id="A-OSCAR", code="WOR").count() == 1
    # and the case's recovery counts the payment
    case = Referral.objects.get(account__account_id="A-OSCAR")
    code, out, err = _cli(capsys, "case", "show", str(case.pk), "--format", "json")
    assert json.loads(out)["recovery"]["recovered"] == f"{paid:.2f}"
    # and the write-off is on the timeline, with its recovery
    kinds = set(
        TimelineEvent.objects.filter(account__account_id="A-OSCAR").values_list("kind", flat=True)
    )
    assert {"writeoff.posted", "writeoff.recovered"} <= kinds
    assert Account.objects.get(account_id="A-OSCAR").writeoffs.get().recovered == paid
