"""Reading an 835 (arrears.banking.era), no database: the files are written by hand in
files/ (Acme Health Plan's remittances to Riverside Clinic; see
arrears/access/tests/test_remittance.py for their story)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from arrears.banking.era import Adjustment, remittance_read
from arrears.ledger.interchange.errors import BookImportError

FILES = Path(__file__).resolve().parent / "files"
FIRST = (FILES / "acme-2026-03-20.835").read_bytes()


def _problems(data: bytes) -> list[dict[str, object]]:
    with pytest.raises(BookImportError) as refused:
        remittance_read(data, file="x.835")
    return list(refused.value.extra["problems"])


def test_a_remittance_reads_as_its_payment_and_claims() -> None:
    (payment,) = remittance_read(FIRST, file="acme.835").payments
    assert (payment.total, payment.paid_on, payment.trace, payment.payer) == (
        Decimal("150.00"),
        date(2026, 3, 20),
        "EFT7731",
        "ACME HEALTH PLAN",
    )
    visit, lab, unknown, rent = payment.claims
    # the visit: 200 charged = 150 paid + CO-45 30 (its service line) + PR-2 20
    assert (visit.patient_control, visit.status, visit.charge, visit.paid) == (
        "V-PAULA-0305",
        "1",
        Decimal("200.00"),
        Decimal("150.00"),
    )
    assert visit.adjustments == (
        Adjustment("CO", "45", Decimal("30.00")),
        Adjustment("PR", "2", Decimal("20.00")),
    )
    assert (visit.adjusted("CO", "OA", "PI"), visit.adjusted("PR")) == (
        Decimal("30.00"),
        Decimal("20.00"),
    )
    assert (visit.payer_claim, visit.patient_name, visit.segment) == (
        "PCN900001",
        "PARKER, PAULA",
        13,
    )
    # the lab work denied, its reason on the claim itself
    assert (lab.status, lab.adjustments) == ("4", (Adjustment("CO", "50", Decimal("500.00")),))
    assert (unknown.patient_control, rent.patient_control) == ("X-UNKNOWN-9", "T-TINA-03")
    assert payment.provider_adjustments == ()


def test_a_provider_adjustment_is_read_and_counted_in_the_payments_balance() -> None:
    # the payer withholds 10.00 of an earlier overpayment (PLB WO): it pays 140.00
    data = FIRST.replace(b"BPR*I*150.00*", b"BPR*I*140.00*").replace(
        b"SE*26*0001~",
        b"PLB*1234567893*20261231*WO:PCN800001*10~\nSE*27*0001~",
    )
    (payment,) = remittance_read(data, file="x.835").payments
    ((plb),) = payment.provider_adjustments
    assert (plb.reason, plb.reference, plb.amount) == ("WO", "PCN800001", Decimal("10.00"))
    # without the BPR lowered, the payment does not balance
    unbalanced = FIRST.replace(
        b"SE*26*0001~", b"PLB*1234567893*20261231*WO:PCN800001*10~\nSE*27*0001~"
    )
    (problem,) = _problems(unbalanced)
    assert (problem["line"], problem["column"]) == (3, "BPR02")


@pytest.mark.parametrize(
    ("change", "where", "said"),
    [
        # a claim paid 155 of 200 with 50 adjusted: 200 - 50 is 150
        ((b"*200*150*20*", b"*200*155*20*"), (13, "CLP04"), "does not balance"),
        # an amount that is not a number (pyx12's validation)
        ((b"CLP*V-PAULA-0305*1*200*", b"CLP*V-PAULA-0305*1*2x0*"), (13, "CLP03"), "invalid"),
        # a claim status the guide does not have
        ((b"CLP*V-PAULA-0305*1*", b"CLP*V-PAULA-0305*99*"), (13, "CLP02"), "not a valid code"),
        # the segment count of the transaction set is wrong
        ((b"SE*26*0001~", b"SE*25*0001~"), (28, "ST"), "SE count"),
        # not a remittance: a claim (837P) version
        ((b"005010X221A1", b"005010X222A1"), None, "not an 835"),
    ],
)
def test_a_bad_file_is_refused_naming_the_segment_and_element(
    change: tuple[bytes, bytes], where: tuple[int, str] | None, said: str
) -> None:
    problems = _problems(FIRST.replace(*change))
    assert any(said in str(p["reason"]) for p in problems), problems
    if where is not None:
        assert where in [(p["line"], p["column"]) for p in problems]


def test_a_file_cut_short_or_not_x12_is_refused() -> None:
    cut = FIRST[: FIRST.index(b"CLP*X-UNKNOWN-9")]
    assert "cut short" in str(_problems(cut)[0]["reason"])
    assert "not an X12 file" in str(_problems(b"hello\n")[0]["reason"])
    assert "not an X12 file" in str(_problems("ISA*é".encode())[0]["reason"])
