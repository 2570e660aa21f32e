"""Reading an insurer's electronic remittance advice: an ASC X12 835 file (Health Care Claim
Payment/Advice, implementation guide 005010X221A1), into frozen records. Pure: no database,
no clock, no book.

The file is parsed and validated by pyx12 (PyPI `pyx12`, the HIPAA X12 validator, with the
835 5010 map); its errors and the checks below are problems naming the file, the segment's
number (X12 files often have no line breaks: pyx12 counts segments, and so do we) and the
element. Any problem refuses the whole file.

What is read (the guide's meaning):
- `BPR` the payment: BPR02 the total paid, BPR16 the check's issue or EFT's effective date;
- `TRN` the reassociation trace: TRN02 the check or EFT trace number, the payment's reference;
- `N1*PR` the payer's name;
- `CLP` one claim (loop 2100): CLP01 the provider's patient control number (what the claim was
  sent with), CLP02 its status (1, 2, 3 processed as primary, secondary, tertiary; 4 denied;
  19, 20, 21 processed and forwarded to another payer; 22 the reversal of an earlier payment;
  23 not our claim, forwarded; 25 a predetermination, no payment), CLP03 the claim's total
  charge, CLP04 what the payer pays, CLP05 the patient's responsibility, CLP07 the payer's
  claim control number;
- `CAS` adjustments, on the claim (loop 2100) or a service line (loop 2110): CAS01 the group
  (CO contractual obligation, PR patient responsibility, OA other, PI payer initiated), then up
  to six triples of reason code (CARC), amount and quantity;
- `NM1*QC` the patient's name;
- `PLB` provider-level adjustments (not of a claim): PLB03/05/… an adjustment reason and its
  identifier, PLB04/06/… its amount, which BPR02 already accounts for.

Invariants checked (a file that breaks one is refused): each transaction set has one payment
and a trace, and ends with SE; the interchange ends with IEA; each claim balances (CLP03 less
every CAS amount of the claim and its service lines is CLP04, the guide's claim balancing);
each payment balances (BPR02 is the sum of CLP04 less the sum of the PLB amounts); a claim's
payer claim control number and patient control number appear once per payment.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import pyx12.error_handler
import pyx12.errors
import pyx12.params
import pyx12.x12context

from arrears.ledger.interchange.errors import BookImportError, Problem

# The groups of a CAS segment (005010X221A1, element 1033) this reader knows.
GROUPS = ("CO", "PR", "OA", "PI")
PROCESSED = ("1", "2", "3", "19", "20", "21")
FORWARDED = ("19", "20", "21")  # processed, and sent on to a secondary or tertiary payer
DENIED = "4"
REVERSAL = "22"


@dataclass(frozen=True)
class Adjustment:
    group: str  # CO, PR, OA, PI
    reason: str  # the claim adjustment reason code (CARC): 45, 2, 50, …
    amount: Decimal  # positive: taken off the charge; negative: added back

    @property
    def code(self) -> str:
        return f"{self.group}-{self.reason}"


@dataclass(frozen=True)
class Claim:
    segment: int  # the CLP segment's number in the file
    patient_control: str  # CLP01
    status: str  # CLP02
    charge: Decimal  # CLP03
    paid: Decimal  # CLP04
    patient_responsibility: Decimal  # CLP05 (0 when not sent)
    payer_claim: str  # CLP07
    patient_name: str  # NM1*QC, "LAST, FIRST"
    adjustments: tuple[Adjustment, ...]  # the claim's and its service lines', in file order

    def adjusted(self, *groups: str) -> Decimal:
        """The sum of the adjustments of these groups."""
        return sum((a.amount for a in self.adjustments if a.group in groups), Decimal("0.00"))


@dataclass(frozen=True)
class ProviderAdjustment:
    segment: int
    reason: str  # PLB03-1: WO overpayment recovery, L6 interest, FB forwarding balance, …
    reference: str  # PLB03-2
    amount: Decimal


@dataclass(frozen=True)
class Payment:
    """One transaction set (ST…SE): one check or EFT and the claims it pays."""

    segment: int
    total: Decimal  # BPR02
    paid_on: date  # BPR16
    trace: str  # TRN02
    payer: str  # N1*PR
    claims: tuple[Claim, ...]
    provider_adjustments: tuple[ProviderAdjustment, ...]


@dataclass(frozen=True)
class Remittance:
    file: str
    payments: tuple[Payment, ...]


class _Problems(pyx12.error_handler.errh_list):  # type: ignore[misc]
    """pyx12's list of errors, each kept with the segment it was found at."""

    def __init__(self, file: str) -> None:
        super().__init__()
        self.file = file
        self.segment = 0
        self.seen: list[Problem] = []
        self.reader: Any = None  # pyx12's X12Reader, once open

    def add_seg(self, map_node: Any, seg: Any, seg_count: int, cur_line: int, ls_id: Any) -> None:
        self.segment = cur_line

    def _add(self, reason: str, element: str = "", segment: int | None = None) -> None:
        # the reader's own errors (an envelope's counts at SE, GE, IEA) come before the segment
        # is walked: the reader says where it is
        at = self.reader.get_cur_line() if self.reader is not None else self.segment
        self.seen.append(Problem(self.file, segment or at, element, reason))

    def isa_error(self, err_cde: str, err_str: str) -> None:
        self._add(err_str, "ISA")

    def gs_error(self, err_cde: str, err_str: str) -> None:
        self._add(err_str, "GS")

    def st_error(self, err_cde: str, err_str: str) -> None:
        self._add(err_str, "ST")

    def seg_error(
        self, err_cde: str, err_str: str, err_value: Any = None, src_line: int | None = None
    ) -> None:
        self._add(err_str, "", src_line)

    def ele_error(self, err_cde: str, err_str: str, bad_value: Any, refdes: Any = None) -> None:
        self._add(err_str, refdes or "")


def _amount(text: str | None) -> Decimal:
    # pyx12 has checked the element is a decimal (type R); the money is read to the cent
    try:
        return Decimal(text or "0").quantize(Decimal("0.01"))
    except InvalidOperation:
        return Decimal("0.00")


def _day(text: str | None) -> date | None:
    if not text or len(text) != 8 or not text.isdigit():
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def _adjustments(node: Any) -> Iterator[Adjustment]:
    """The CAS segments directly in `node` (a claim or a service line), each triple."""
    for cas in node.select("CAS"):
        group = cas.get_value("CAS01") or ""
        for first in (2, 5, 8, 11, 14, 17):
            reason = cas.get_value(f"CAS{first:02d}")
            if not reason:
                continue
            yield Adjustment(group, reason, _amount(cas.get_value(f"CAS{first + 1:02d}")))


def _claim(node: Any) -> Claim:
    adjustments = list(_adjustments(node))
    for line in node.select("2110"):
        adjustments.extend(_adjustments(line))
    last = node.get_value("NM1[QC]03") or ""
    first = node.get_value("NM1[QC]04") or ""
    return Claim(
        segment=int(node.cur_line_number or 0),
        patient_control=node.get_value("CLP01") or "",
        status=node.get_value("CLP02") or "",
        charge=_amount(node.get_value("CLP03")),
        paid=_amount(node.get_value("CLP04")),
        patient_responsibility=_amount(node.get_value("CLP05")),
        payer_claim=node.get_value("CLP07") or "",
        patient_name=", ".join(n for n in (last, first) if n),
        adjustments=tuple(adjustments),
    )


class _Set:
    """A transaction set being read."""

    def __init__(self, segment: int) -> None:
        self.segment = segment
        self.total = Decimal("0.00")
        self.paid_on: date | None = None
        self.trace = ""
        self.payer = ""
        self.claims: list[Claim] = []
        self.plb: list[ProviderAdjustment] = []


def _provider_adjustments(node: Any, segment: int) -> Iterator[ProviderAdjustment]:
    for first in (3, 5, 7, 9, 11, 13):
        composite = node.get_value(f"PLB{first:02d}-1")
        if not composite:
            continue
        yield ProviderAdjustment(
            segment,
            composite,
            node.get_value(f"PLB{first:02d}-2") or "",
            _amount(node.get_value(f"PLB{first + 1:02d}")),
        )


def _checked(found: _Set, file: str) -> tuple[Payment, list[Problem]]:
    problems = []
    if found.paid_on is None:
        problems.append(Problem(file, found.segment, "BPR16", "the payment has no date (BPR16)"))
    if not found.trace:
        problems.append(Problem(file, found.segment, "TRN02", "the payment has no trace (TRN)"))
    keys: set[tuple[str, str]] = set()
    for claim in found.claims:
        left = claim.charge - claim.adjusted(*{a.group for a in claim.adjustments})
        if left != claim.paid:
            problems.append(
                Problem(
                    file,
                    claim.segment,
                    "CLP04",
                    f"claim {claim.patient_control} does not balance: the charge {claim.charge}"
                    f" less its adjustments is {left}, not the {claim.paid} paid",
                )
            )
        unknown = sorted({a.group for a in claim.adjustments} - set(GROUPS))
        if unknown:
            problems.append(
                Problem(
                    file,
                    claim.segment,
                    "CAS01",
                    f"claim {claim.patient_control}: unknown adjustment group {', '.join(unknown)}",
                )
            )
        key = (claim.patient_control, claim.payer_claim)
        if key in keys and claim.status != REVERSAL:
            problems.append(
                Problem(
                    file,
                    claim.segment,
                    "CLP01",
                    f"claim {claim.patient_control} ({claim.payer_claim}) is in the payment twice",
                )
            )
        keys.add(key)
    paid = sum((c.paid for c in found.claims), Decimal("0.00"))
    withheld = sum((p.amount for p in found.plb), Decimal("0.00"))
    if paid - withheld != found.total:
        problems.append(
            Problem(
                file,
                found.segment,
                "BPR02",
                f"the payment of {found.total} is not the claims' {paid}"
                f" less the provider adjustments' {withheld}",
            )
        )
    payment = Payment(
        segment=found.segment,
        total=found.total,
        paid_on=found.paid_on or date.min,
        trace=found.trace,
        payer=found.payer,
        claims=tuple(found.claims),
        provider_adjustments=tuple(found.plb),
    )
    return payment, problems


def remittance_read(data: bytes, *, file: str) -> Remittance:
    """The 835 file `data` (named `file` in problems) as a Remittance.

    Raises BookImportError (`import_invalid`) with every problem found: not X12, not an 835
    of 005010X221A1, pyx12's validation errors, a truncated file, a claim or a payment that does
    not balance."""
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError as exc:
        raise BookImportError(
            [Problem(file, 1, "", f"not an X12 file: a byte that is not ASCII at {exc.start}")]
        ) from None
    problems = _Problems(file)
    payments: list[Payment] = []
    found: _Set | None = None
    closed = False
    try:
        reader = pyx12.x12context.X12ContextReader(
            pyx12.params.params(), problems, io.StringIO(text)
        )
        problems.reader = reader.src
        for node in reader.iter_segments("2100"):
            segment = int(node.cur_line_number or 0)
            if node.id == "GS" and node.get_value("GS08") != "005010X221A1":
                problems._add(
                    f"not an 835 remittance of 005010X221A1: {node.get_value('GS08')}",
                    "GS08",
                    segment,
                )
            elif node.id == "ST":
                found = _Set(segment)
                closed = False
            elif node.id == "IEA":
                closed = True
            elif found is None:
                continue
            elif node.id == "BPR":
                found.total = _amount(node.get_value("BPR02"))
                found.paid_on = _day(node.get_value("BPR16"))
            elif node.id == "TRN":
                found.trace = node.get_value("TRN02") or ""
            elif node.id == "N1" and node.get_value("N101") == "PR":
                found.payer = node.get_value("N102") or ""
            elif node.id == "2100":
                found.claims.append(_claim(node))
            elif node.id == "PLB":
                found.plb.extend(_provider_adjustments(node, segment))
            elif node.id == "SE":
                payment, seen = _checked(found, file)
                problems.seen.extend(seen)
                payments.append(payment)
                found = None
    except pyx12.errors.X12Error as exc:
        problems._add(f"not an X12 file: {exc}", "", 1)
    except pyx12.errors.EngineError as exc:
        problems._add(f"not an 835 remittance: {exc}")
    if (found is not None or not closed) and not problems.seen:
        problems._add("the file ends before its SE or IEA segment: it is cut short")
    if not payments and not problems.seen:
        problems._add("the file holds no 835 transaction set", "ST", 1)
    if problems.seen:
        raise BookImportError(problems.seen)
    return Remittance(file=file, payments=tuple(payments))
