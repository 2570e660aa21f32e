"""Bank files (arrears.banking, issue 19 items 1-3) through the command: a statement's credits
matched and posted or queued, the review queue's decisions, returns reversed.

The cast's book (arrears.access.tests.people), today 2026-03-26: A-TINA (Tina Ortiz, unit 3B
at ELM, New York) owes March's rent, 1,200.00 (T-TINA-03, due March 1); A-OSCAR (Oscar Diaz,
unit 12 at OAK, California) February's, 950.00.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from arrears.access.models import AuditEntry
from arrears.access.tests.people import TODAY, cli
from arrears.banking.models import BankLine
from arrears.banking.tests.make import ach, ach_entry
from arrears.banking.tests.make import bai2 as _bai2
from arrears.ledger.models import TimelineEvent, Transaction
from arrears.ledger.payments import txn_id_of
from arrears.ledger.selectors import account_ledger

pytestmark = pytest.mark.django_db


def _import(capsys: Any, tmp_path: Path, data: bytes, name: str = "bank.bai2") -> dict[str, Any]:
    path = tmp_path / name
    path.write_bytes(data)
    code, out, err = cli(capsys, "--as", "alice", "bank", "import", str(path), "--format", "json")
    assert code == 0, err
    return dict(json.loads(out))


def _balance(account_id: str) -> Decimal:
    return account_ledger(account_id=account_id, as_of=TODAY).balance


STATEMENT = _bai2(
    # the account number in the remittance text: posted
    "16,165,50000,,BR-1,,RENT A-TINA MARCH/",
    # a unit number no other account has: a suggestion, not sure enough to post
    "16,165,95000,,BR-2,,UNIT 12 FEB/",
    # nothing that names an account: to review
    "16,165,1234,,BR-3,,INTEREST/",
    # a debit that is no return: not a line
    "16,475,2500,,BR-4,,CHEQUE 101/",
)


def test_a_statement_posts_what_its_rules_match_and_queues_the_rest(
    people: Any, capsys: Any, tmp_path: Path
) -> None:
    # when
    result = _import(capsys, tmp_path, STATEMENT)
    # then
    assert result == {
        "file": str(tmp_path / "bank.bai2"),
        "lines": 3,
        "posted": 1,
        "review": 2,
        "returns": 0,
        "already_imported": 0,
    }
    assert _balance("A-TINA") == Decimal("700.00")  # 1,200.00 - 500.00
    assert _balance("A-OSCAR") == Decimal("950.00")  # nothing posted
    tina = Transaction.objects.get(txn_id=txn_id_of("BR-1"))
    assert (tina.type, tina.amount, tina.reference) == ("payment", Decimal("500.00"), "BR-1")
    lines = {line.reference: line for line in BankLine.objects.all()}
    assert (lines["BR-1"].status, lines["BR-1"].rule) == ("auto", "account_number")
    oscar = lines["BR-2"]
    assert (oscar.status, oscar.rule, oscar.account.account_id) == (
        "review",
        "unit_number",
        "A-OSCAR",
    )
    assert lines["BR-3"].status == "review"
    event = TimelineEvent.objects.get(account__account_id="A-TINA", kind="bank.payment")
    assert "BR-1" in event.summary
    assert AuditEntry.objects.filter(verb="bank.import").count() == 1


def test_the_same_file_twice_adds_nothing(people: Any, capsys: Any, tmp_path: Path) -> None:
    # given
    _import(capsys, tmp_path, STATEMENT)
    # when
    again = _import(capsys, tmp_path, STATEMENT)
    # then
    assert (again["lines"], again["posted"], again["returns"], again["already_imported"]) == (
        3,
        0,
        0,
        3,
    )
    assert Transaction.objects.filter(type="payment").count() == 1
    # another file with a line seen before (same bank account and reference) adds that one not
    more = _import(
        capsys,
        tmp_path,
        _bai2("16,165,50000,,BR-1,,RENT A-TINA MARCH/", "16,165,100,,BR-9,,A-TINA/"),
        "more.bai2",
    )
    assert (more["lines"], more["posted"], more["already_imported"]) == (2, 1, 1)
    assert _balance("A-TINA") == Decimal("699.00")


def test_an_ach_debit_names_its_payer_and_the_name_posts_it(
    people: Any, capsys: Any, tmp_path: Path
) -> None:
    # given an ACH file whose entry says no account number, only the name, in capitals and
    # surname first (the book says "Oscar Diaz")
    data = ach(
        ach_entry(code="27", cents=95000, individual="", name="DIAZ, OSCAR", trace="1"),
        effective=TODAY,
    )
    # when
    result = _import(capsys, tmp_path, data, "rent.ach")
    # then
    assert (result["posted"], result["review"]) == (1, 0)
    line = BankLine.objects.get()
    assert (line.rule, line.account.account_id) == ("payer_name", "A-OSCAR")
    assert _balance("A-OSCAR") == Decimal("0.00")
