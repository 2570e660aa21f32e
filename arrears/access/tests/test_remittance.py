"""Insurance remittances (issue 19 item 5): Riverside Clinic's patient Paula Parker (A-PAULA)
had an office visit on March 5 (V-PAULA-0305, 200.00) and lab work on March 10 (V-PAULA-0310,
500.00), both claimed from Acme Health Plan; the coordinator held the account for each claim,
as the `patient` policy says. Acme's 835 of March 20 (EFT7731, 150.00) pays the visit (150.00,
a contractual CO-45 of 30.00, the patient's coinsurance PR-2 of 20.00), denies the lab work
(CO-50, not medically necessary), and names a claim of no one of ours and Tina's rent (not a
patient account). Its 835 of March 25 (EFT7800, 10.00) reverses the visit's payment and pays
it again, corrected (160.00, CO-45 30.00, PR-2 10.00).

The cast's book (arrears.access.tests.people), today 2026-03-26; the files are written by hand
in arrears/banking/tests/files/.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from arrears.access.models import AuditEntry
from arrears.access.tests.people import TODAY, cli, write_book
from arrears.dunning.models import Hold
from arrears.dunning.services import hold_place
from arrears.ledger.models import TimelineEvent, Transaction
from arrears.ledger.selectors import account_ledger
from arrears.ledger.services import book_import

pytestmark = pytest.mark.django_db

FILES = Path(__file__).resolve().parents[2] / "banking" / "tests" / "files"
FIRST = FILES / "acme-2026-03-20.835"
SECOND = FILES / "acme-2026-03-25.835"

PATIENTS: dict[str, list[dict[str, str]]] = {
    "parties": [{"party_id": "P-PAULA", "name": "Paula Parker", "email": "paula@example.org"}],
    "accounts": [
        {"account_id": "A-PAULA", "kind": "patient", "opened": "2026-03-05"},
    ],
    "account_parties": [{"account_id": "A-PAULA", "party_id": "P-PAULA", "role": "primary"}],
    "transactions": [
        {
            "txn_id": "V-PAULA-0305",
            "account_id": "A-PAULA",
            "posted": "2026-03-05",
            "type": "charge",
            "code": "VISIT",
            "amount": "200.00",
            "due": "2026-03-05",
        },
        {
            "txn_id": "V-PAULA-0310",
            "account_id": "A-PAULA",
            "posted": "2026-03-10",
            "type": "charge",
            "code": "LAB",
            "amount": "500.00",
            "due": "2026-03-10",
        },
    ],
}


@pytest.fixture
def paula(people: dict[str, Any], tmp_path: Path) -> dict[str, int]:
    book_import(write_book(tmp_path / "patients", PATIENTS))
    holds = {}
    for claim in ("V-PAULA-0305", "V-PAULA-0310"):
        holds[claim] = hold_place(
            account_id="A-PAULA",
            reason="manual",
            on=TODAY,
            actor="alice",
            until=TODAY.replace(month=5, day=31),
            note=f"claim {claim} pending with the insurer",
        ).pk
    return holds


def _import(capsys: Any, path: Path, who: str = "alice") -> tuple[int, Any, str]:
    code, out, err = cli(capsys, "--as", who, "remittance", "import", str(path), "--format", "json")
    return code, (json.loads(out) if code == 0 else None), err


def _open(txn_id: str) -> Decimal:
    ledger = account_ledger(account_id="A-PAULA", as_of=TODAY)
    (line,) = [line for line in ledger.lines if line.txn_id == txn_id]
    return Decimal(line.open_amount)


def _balance() -> Decimal:
    return account_ledger(account_id="A-PAULA", as_of=TODAY).balance


def _active_holds() -> list[int]:
    return list(
        Hold.objects.filter(account__account_id="A-PAULA", released_at__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def test_an_835_posts_the_payment_and_the_contractual_adjustment_and_lists_the_denial(
    paula: dict[str, int], capsys: Any
) -> None:
    # given Paula owes 200.00 + 500.00, held for both claims
    assert _balance() == Decimal("700.00")
    # when Alice imports Acme's 835 of March 20
    code, done, err = _import(capsys, FIRST)
    assert code == 0, err
    # then the visit is paid 150.00 and adjusted 30.00: Paula owes her coinsurance, 20.00
    assert {k: done[k] for k in ("claims", "posted", "paid", "adjusted")} == {
        "claims": 4,
        "posted": 1,
        "paid": "150.00",
        "adjusted": "30.00",
    }
    assert done["patient_responsibility"] == "20.00"
    assert done["already_imported"] == 0
    assert _open("V-PAULA-0305") == Decimal("20.00")
    # the lab work is untouched: 500.00 open, 200 + 500 - 150 - 30 = 520.00 owed
    assert _open("V-PAULA-0310") == Decimal("500.00")
    assert _balance() == Decimal("520.00")
    entries = list(
        Transaction.objects.filter(account__account_id="A-PAULA")
        .exclude(type="charge")
        .order_by("pk")
        .values_list("type", "code", "amount", "posted_on", "reference")
    )
    key = "EFT7731:V-PAULA-0305:PCN900001"
    assert entries == [
        ("payment", "", Decimal("150.00"), TODAY.replace(day=20), key),
        ("credit", "ADJ", Decimal("30.00"), TODAY.replace(day=20), key),
    ]
    # the denial is listed for follow-up, with its reason, and on Paula's timeline
    assert done["denials"] == [
        {
            "claim": "V-PAULA-0310",
            "payer_claim": "PCN900002",
            "account_id": "A-PAULA",
            "charge": "V-PAULA-0310",
            "amount": "500.00",
            "reasons": ["CO-50"],
            "payer": "ACME HEALTH PLAN",
            "segment": 19,
        }
    ]
    kinds = list(
        TimelineEvent.objects.filter(account__account_id="A-PAULA", kind__startswith="remit")
        .order_by("pk")
        .values_list("kind", flat=True)
    )
    assert kinds == ["remittance.paid", "remittance.denied"]
    # the claim of no one's and Tina's rent are listed, nothing posted for them
    assert [(f["claim"], f["reason"]) for f in done["follow_up"]] == [
        ("X-UNKNOWN-9", "no charge or account 'X-UNKNOWN-9'"),
        ("T-TINA-03", "A-TINA is not a patient account (residential_lease)"),
    ]
    assert not Transaction.objects.filter(account__account_id="A-TINA").exclude(type="charge")
    # the visit's insurance hold is released; the denied lab work's stays
    assert _active_holds() == [paula["V-PAULA-0310"]]
    assert done["holds_released"] == 1
    audited = AuditEntry.objects.get(verb="remittance.import")
    assert audited.detail["file"] == str(FIRST)


def test_the_same_835_again_posts_nothing(paula: dict[str, int], capsys: Any) -> None:
    code, _first, err = _import(capsys, FIRST)
    assert code == 0, err
    rows = (Transaction.objects.count(), TimelineEvent.objects.count())
    code, again, err = _import(capsys, FIRST)
    assert code == 0, err
    # the paid claim and the denial are known; the two others are listed again
    assert (again["posted"], again["already_imported"], again["paid"]) == (0, 2, "0.00")
    assert again["denials"] == []
    assert len(again["follow_up"]) == 2
    assert (Transaction.objects.count(), TimelineEvent.objects.count()) == rows
    assert _balance() == Decimal("520.00")


def test_a_reversal_undoes_the_payment_and_its_adjustment_and_the_correction_posts(
    paula: dict[str, int], capsys: Any
) -> None:
    assert _import(capsys, FIRST)[0] == 0
    # when Acme's 835 of March 25 reverses the visit (150.00 and 30.00) and pays it again
    code, done, err = _import(capsys, SECOND)
    assert code == 0, err
    assert (done["posted"], done["reversed"], done["paid"], done["adjusted"]) == (
        2,
        "150.00",
        "160.00",
        "30.00",
    )
    # then the visit's open amount is 200 - 160 - 30 = 10.00, Paula owes 10 + 500 = 510.00
    assert _open("V-PAULA-0305") == Decimal("10.00")
    assert _balance() == Decimal("510.00")
    reversed_ = Transaction.objects.filter(account__account_id="A-PAULA", type="reversal")
    assert sorted(r.reverses.type for r in reversed_) == ["credit", "payment"]


def test_a_file_that_does_not_balance_is_refused_whole_naming_the_segment(
    paula: dict[str, int], capsys: Any, tmp_path: Path
) -> None:
    # the visit's payment typed 155 instead of 150: the claim and the payment do not balance
    bad = tmp_path / "bad.835"
    bad.write_bytes(FIRST.read_bytes().replace(b"*200*150*20*", b"*200*155*20*"))
    code, _, err = _import(capsys, bad)
    assert code != 0
    assert "segment 13" in err or "line 13" in err
    assert "does not balance" in err
    assert "Nothing was imported" in err
    assert not Transaction.objects.filter(account__account_id="A-PAULA").exclude(type="charge")
    assert len(_active_holds()) == 2
    # and a file that is not X12 at all
    other = tmp_path / "notes.835"
    other.write_text("hello\n")
    code, _, err = _import(capsys, other)
    assert code != 0
    assert "not an X12 file" in err


def test_a_manager_or_an_attorney_may_not_import_a_remittance(
    paula: dict[str, int], capsys: Any
) -> None:
    for who in ("bob", "carol"):
        code, _, _err = _import(capsys, FIRST, who)
        assert code != 0
    assert not Transaction.objects.filter(account__account_id="A-PAULA").exclude(type="charge")
