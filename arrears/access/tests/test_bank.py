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
from arrears.access.tests.people import TODAY, cli, signed_in
from arrears.banking.models import BankLine, CashOnly
from arrears.banking.tests.make import ach, ach_entry, camt053, camt_entry
from arrears.banking.tests.make import bai2 as _bai2
from arrears.ledger.models import OpenItem, TimelineEvent, Transaction
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
    assert (oscar.status, oscar.rule, str(oscar.account)) == (
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
    assert (line.rule, str(line.account)) == ("payer_name", "A-OSCAR")
    assert _balance("A-OSCAR") == Decimal("0.00")


def _rent_collected(capsys: Any, tmp_path: Path) -> None:
    """Tina's March rent collected by ACH debit on March 5 (trace 091400600000001: the line's
    reference 260305-091400600000001), posted by her account number in the entry's individual
    id."""
    data = ach(
        ach_entry(
            code="27", cents=120000, individual="A-TINA", name="TINA ORTIZ", trace="091400600000001"
        ),
        effective=TODAY.replace(day=5),
    )
    assert _import(capsys, tmp_path, data, "collected.ach")["posted"] == 1


def _returned(capsys: Any, tmp_path: Path, reason: str, trace: str, name: str) -> dict[str, Any]:
    data = ach(
        ach_entry(
            code="26",
            cents=120000,
            individual="A-TINA",
            name="TINA ORTIZ",
            trace=trace,
            returned=(reason, "091400600000001"),
        ),
        effective=TODAY,
    )
    return _import(capsys, tmp_path, data, name)


def test_an_nsf_return_reverses_its_payment_reopens_the_rent_and_charges_the_capped_fee(
    people: Any, capsys: Any, tmp_path: Path, settings: Any
) -> None:
    # given: the rent paid by ACH, and a fee of 35.00 configured
    settings.ARREARS_BANK_NSF_FEE = Decimal("35.00")
    _rent_collected(capsys, tmp_path)
    assert _balance("A-TINA") == Decimal("0.00")
    assert not OpenItem.objects.filter(account__account_id="A-TINA").exists()
    # when the bank returns it: R01, insufficient funds
    result = _returned(capsys, tmp_path, "R01", "21000020000001", "returns.ach")
    # then: the payment reversed, the rent open again in full, and a fee of 20.00, the cap of
    # N.Y. General Obligations Law § 5-328 (ELM is in New York), not the 35.00 configured
    assert (result["lines"], result["returns"], result["posted"]) == (1, 1, 0)
    payment = Transaction.objects.get(txn_id=txn_id_of("260305-091400600000001"))
    reversal = Transaction.objects.get(type="reversal")
    assert (reversal.reverses_id, reversal.amount) == (payment.pk, Decimal("1200.00"))
    open_items = dict(
        OpenItem.objects.filter(account__account_id="A-TINA").values_list("item__txn_id", "amount")
    )
    fee = Transaction.objects.get(type="charge", code="NSF")
    assert open_items == {"T-TINA-03": Decimal("1200.00"), fee.txn_id: Decimal("20.00")}
    assert _balance("A-TINA") == Decimal("1220.00")
    kinds = set(
        TimelineEvent.objects.filter(account__account_id="A-TINA").values_list("kind", flat=True)
    )
    assert {"bank.payment", "bank.returned", "bank.nsf_fee"} <= kinds
    # a second return of the same payment reverses nothing more: it waits for review
    again = _returned(capsys, tmp_path, "R01", "21000020000002", "returns-again.ach")
    assert (again["returns"], again["review"]) == (0, 1)
    assert Transaction.objects.filter(type="reversal").count() == 1


def test_a_return_for_a_closed_account_charges_no_fee(
    people: Any, capsys: Any, tmp_path: Path, settings: Any
) -> None:
    settings.ARREARS_BANK_NSF_FEE = Decimal("35.00")
    _rent_collected(capsys, tmp_path)
    # R03: no account: not insufficient funds
    assert _returned(capsys, tmp_path, "R03", "21000020000001", "r03.ach")["returns"] == 1
    assert not Transaction.objects.filter(code="NSF").exists()
    assert _balance("A-TINA") == Decimal("1200.00")


def test_two_returns_in_twelve_months_make_the_account_cash_only(
    people: Any, capsys: Any, tmp_path: Path, settings: Any
) -> None:
    # given: ARREARS_BANK_CASH_ONLY_AFTER 2 (the default); the rent collected, returned,
    # collected again (another trace), returned again
    settings.ARREARS_BANK_CASH_ONLY_AFTER = 2
    _rent_collected(capsys, tmp_path)
    _returned(capsys, tmp_path, "R01", "21000020000001", "r1.ach")
    assert not CashOnly.objects.exists()
    data = ach(
        ach_entry(
            code="27", cents=120000, individual="A-TINA", name="TINA ORTIZ", trace="091400600000009"
        ),
        effective=TODAY,
    )
    _import(capsys, tmp_path, data, "collected-again.ach")
    second = ach(
        ach_entry(
            code="26",
            cents=120000,
            individual="A-TINA",
            name="TINA ORTIZ",
            trace="21000020000003",
            returned=("R09", "091400600000009"),
        ),
        effective=TODAY,
    )
    # when
    assert _import(capsys, tmp_path, second, "r2.ach")["returns"] == 1
    # then
    flag = CashOnly.objects.get()
    assert (flag.account.account_id, flag.returns, flag.until) == ("A-TINA", 2, None)
    assert TimelineEvent.objects.filter(kind="bank.cash_only").count() == 1


def _queue(capsys: Any) -> list[dict[str, Any]]:
    code, out, err = cli(capsys, "--as", "alice", "bank", "review", "list", "--format", "json")
    assert code == 0, err
    return list(json.loads(out))


def _decide(capsys: Any, *words: str, who: str = "alice") -> tuple[int, Any, str]:
    code, out, err = cli(capsys, "--as", who, "bank", "review", *words, "--format", "json")
    return code, (json.loads(out) if code == 0 else None), err


def test_the_coordinator_assigns_a_line_of_the_queue_and_it_posts_once(
    people: Any, capsys: Any, tmp_path: Path
) -> None:
    # given: Oscar's 950.00 with only his unit in the text, suggested, not posted
    _import(capsys, tmp_path, STATEMENT)
    (oscar,) = [line for line in _queue(capsys) if line["reference"] == "BR-2"]
    assert (oscar["suggested_account"], oscar["rule"]) == ("A-OSCAR", "unit_number")
    # when
    code, decided, err = _decide(capsys, "assign", str(oscar["id"]), "A-OSCAR", "--note", "unit")
    # then
    assert code == 0, err
    assert decided["status"] == "assigned"
    assert decided["txn_ids"] == [txn_id_of("BR-2")]
    assert _balance("A-OSCAR") == Decimal("0.00")
    event = TimelineEvent.objects.get(account__account_id="A-OSCAR", kind="bank.assigned")
    assert (event.actor, event.detail["reference"]) == ("alice", "BR-2")
    assert [line["reference"] for line in _queue(capsys)] == ["BR-3"]
    # decided once: a second decision is refused and posts nothing
    code, _, err = _decide(capsys, "assign", str(oscar["id"]), "A-TINA")
    assert code != 0
    assert "decided already" in err
    assert Transaction.objects.filter(type="payment").count() == 2
    assert AuditEntry.objects.filter(verb="bank.review").count() == 1  # the refusal wrote nothing


def test_a_line_split_across_two_accounts_must_add_up_to_the_cent(
    people: Any, capsys: Any, tmp_path: Path
) -> None:
    # given: one cheque of 12.34 paying for two tenants
    _import(capsys, tmp_path, STATEMENT)
    (line,) = [line for line in _queue(capsys) if line["reference"] == "BR-3"]
    # when the parts add up to 12.33: refused, nothing posted
    code, _, err = _decide(capsys, "split", str(line["id"]), "A-TINA:10.00", "A-OSCAR:2.33")
    assert code != 0
    assert "12.34" in err
    # when they add up to 12.34
    code, decided, err = _decide(capsys, "split", str(line["id"]), "A-TINA:10.00", "A-OSCAR:2.34")
    # then
    assert code == 0, err
    assert decided["status"] == "split"
    assert decided["txn_ids"] == [txn_id_of("BR-3#1"), txn_id_of("BR-3#2")]
    assert _balance("A-TINA") == Decimal("690.00")  # 1,200.00 - 500.00 - 10.00
    assert _balance("A-OSCAR") == Decimal("947.66")  # 950.00 - 2.34
    assert TimelineEvent.objects.filter(kind="bank.split").count() == 2


def test_a_line_not_ours_posts_nothing_and_needs_a_reason(
    people: Any, capsys: Any, tmp_path: Path
) -> None:
    _import(capsys, tmp_path, STATEMENT)
    (line,) = [line for line in _queue(capsys) if line["reference"] == "BR-3"]
    code, decided, err = _decide(
        capsys, "not-ours", str(line["id"]), "--note", "the bank's interest"
    )
    assert code == 0, err
    assert (decided["status"], decided["note"]) == ("not_ours", "the bank's interest")
    assert Transaction.objects.filter(type="payment").count() == 1


def test_a_manager_of_another_building_cannot_assign_to_an_account_out_of_scope(
    people: Any, capsys: Any, tmp_path: Path
) -> None:
    _import(capsys, tmp_path, STATEMENT)
    (line,) = [line for line in _queue(capsys) if line["reference"] == "BR-3"]
    # a manager is no bank role; the controller is, within the whole book
    code, _, _err = _decide(capsys, "assign", str(line["id"]), "A-TINA", who="mallory")
    assert code != 0
    code, decided, err = _decide(capsys, "assign", str(line["id"]), "A-TINA", who="dave")
    assert code == 0, err
    assert decided["status"] == "assigned"


def test_cash_only_is_shown_on_the_account_page_and_in_letters(
    people: Any, capsys: Any, tmp_path: Path, settings: Any
) -> None:
    # given: one return is enough here
    settings.ARREARS_BANK_CASH_ONLY_AFTER = 1
    _rent_collected(capsys, tmp_path)
    _returned(capsys, tmp_path, "R01", "21000020000001", "r1.ach")
    # then the coordinator sees it on the account page
    page = signed_in(people["alice"]).get("/accounts/A-TINA/")
    assert page.status_code == 200
    assert "Cash only" in page.content.decode()
    # and a letter's merge fields carry it
    from arrears.correspondence.context import letter_context
    from arrears.ledger.models import Account

    tina = Account.objects.get(account_id="A-TINA")
    fields = letter_context(
        on=TODAY,
        language="en",
        template="ny-late-rent-notice",
        account=tina,
        party=None,
        role="primary",
        open_items=[],
    )
    assert fields["cash_only"] is True


def test_a_camt_reversal_names_its_credit_by_end_to_end_id_and_undoes_it(
    people: Any, capsys: Any, tmp_path: Path
) -> None:
    # given: Oscar pays February's rent by transfer, his name on it with its accent
    paid = camt053(
        camt_entry(
            amount="950.00",
            indicator="CRDT",
            ref="CT-1",
            end_to_end="E2E-OSCAR-1",
            name="Óscar Díaz",
        )
    )
    assert _import(capsys, tmp_path, paid, "paid.xml")["posted"] == 1
    assert _balance("A-OSCAR") == Decimal("0.00")
    # when the bank reverses it (AM04: insufficient funds), naming its end-to-end id
    back = camt053(
        camt_entry(
            amount="950.00",
            indicator="DBIT",
            ref="RT-1",
            end_to_end="E2E-OSCAR-1",
            on="2026-03-24",
            reversal=True,
            reason="AM04",
        )
    )
    result = _import(capsys, tmp_path, back, "back.xml")
    # then
    assert (result["returns"], result["review"]) == (1, 0)
    assert _balance("A-OSCAR") == Decimal("950.00")
    line = BankLine.objects.get(reference="RT-1")
    assert (line.status, line.return_code, str(line.account)) == ("returned", "AM04", "A-OSCAR")


def test_the_review_page_imports_a_bank_file_once_and_refuses_one_too_large(
    people: Any, settings: Any
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    alice = signed_in(people["alice"])

    def upload(data: bytes, name: str = "march.bai2") -> Any:
        return alice.post(
            "/bank/import/", {"file": SimpleUploadedFile(name, data), "file_format": "auto"}
        )

    # when Alice imports the statement on the review page
    response = upload(STATEMENT)
    # then she is back on the queue, told what it did, and its two uncertain lines wait there
    assert response.status_code == 302
    page = alice.get("/bank/review/").content.decode()
    assert "march.bai2: 3 lines, 1 posted, 2 to review, 0 returns, 0 already imported." in page
    assert BankLine.objects.filter(status="review").count() == 2
    # and the same file again adds nothing
    upload(STATEMENT)
    assert "march.bai2: 3 lines, 0 posted, 0 to review, 0 returns, 3 already imported." in (
        alice.get("/bank/review/").content.decode()
    )
    assert Transaction.objects.filter(type="payment", reference="BR-1").count() == 1
    # a file larger than the largest imported is refused unread, nothing written
    settings.ARREARS_BANK_FILE_MAX_BYTES = 100
    refused = upload(b"01," + b"x" * 200, "huge.bai2")
    assert refused.status_code == 422
    assert "the file is larger than 100 bytes" in refused.content.decode()
    # and an attorney may not import
    carol = signed_in(people["carol"])
    assert (
        carol.post("/bank/import/", {"file": SimpleUploadedFile("b.bai2", STATEMENT)}).status_code
        == 403
    )
    assert BankLine.objects.count() == 3
