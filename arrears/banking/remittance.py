"""Posting an insurer's remittance (an X12 835 file, read by `arrears.banking.era`) to patient
accounts: per claim, the payer's payment, the adjustments the provider may not bill (a `credit`
with code `ADJ`), the patient's responsibility left open on the charge; denials and what does
not match listed for follow-up. docs/banking.md, "Insurance remittances (X12 835)".

Which account a claim is: its CLP01, the patient control number the provider sent the claim
with, names the claim's charge (its `txn_id`, or failing that the `reference` of exactly one
charge) or the account itself (its `account_id`). The account must be a `patient` account, and
a charge named must be of the claim's amount (CLP03). Anything else is listed for follow-up,
with its reason, and nothing of that claim is posted.

Invariants:
- One file is one transaction (the caller's): a file refused posts nothing; the claims that
  post, post whole (payment, credit and timeline row together).
- Once per claim: a claim is known by its key, the payment's trace (TRN02), the patient control
  number and the payer's claim number (`EFT7731:C-1001:PCN900001`). The payment's reference is
  that key (`ledger.payments.payment_post` posts once per reference), the credit's txn_id is
  derived from it, and the claim's timeline row carries it: the same file again posts nothing
  and counts its claims as already imported.
- Money as the 835 says it balances: charge = paid + every CAS adjustment (checked by the
  reader). The CO, OA and PI adjustments come off the charge as one ADJ credit: the patient does
  not owe them. The PR adjustments (deductible, coinsurance, co-payment) stay on the charge,
  which is then what the patient owes.
- A claim processed as primary, secondary or tertiary (CLP02 1, 2, 3) is answered: the service
  says which accounts' insurance holds naming it the caller should release (this part is below
  `dunning`, which owns holds). A claim forwarded to another payer (19, 20, 21) keeps its hold:
  the next payer has not answered.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone as dj_timezone

from arrears.banking.era import (
    DENIED,
    FORWARDED,
    PROCESSED,
    REVERSAL,
    Claim,
    Payment,
    remittance_read,
)
from arrears.ledger.interchange.errors import BookImportError, Problem
from arrears.ledger.models import Account, TimelineEvent, Transaction
from arrears.ledger.payments import payment_post
from arrears.ledger.posting import NewCredit, NewReversal, credits_post, reversals_post

ADJ = "ADJ"  # the credit code of what the payer's adjustments take off a charge
WRITTEN_OFF = ("CO", "OA", "PI")  # adjustment groups the patient does not owe
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Release:
    """An account whose insurance hold for a claim may go: the claim's two numbers, which the
    hold's note names (docs/policies.md, `patient`)."""

    account_id: str
    claim: str  # CLP01
    payer_claim: str  # CLP07


@dataclass
class RemittanceImported:
    file: str
    claims: int = 0
    posted: int = 0  # claims posted now (paid, adjusted or reversed)
    paid: Decimal = ZERO
    adjusted: Decimal = ZERO
    patient_responsibility: Decimal = ZERO
    reversed: Decimal = ZERO
    already_imported: int = 0
    denials: list[dict[str, Any]] = field(default_factory=list)
    follow_up: list[dict[str, Any]] = field(default_factory=list)
    provider_adjustments: list[dict[str, Any]] = field(default_factory=list)
    releases: list[Release] = field(default_factory=list)
    released_holds: list[int] = field(default_factory=list)  # filled by the act

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "claims": self.claims,
            "posted": self.posted,
            "paid": f"{self.paid:.2f}",
            "adjusted": f"{self.adjusted:.2f}",
            "patient_responsibility": f"{self.patient_responsibility:.2f}",
            "reversed": f"{self.reversed:.2f}",
            "already_imported": self.already_imported,
            "denials": self.denials,
            "follow_up": self.follow_up,
            "provider_adjustments": self.provider_adjustments,
            "holds_released": len(self.released_holds),
        }


def _derived(prefix: str, key: str) -> str:
    return f"{prefix}-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def claim_key(payment: Payment, claim: Claim) -> str:
    """The key a claim of a payment is posted once by (module docstring)."""
    return f"{payment.trace}:{claim.patient_control}:{claim.payer_claim}"


def _match(claim: Claim) -> tuple[Account | None, Transaction | None, str]:
    """The account and charge the claim's CLP01 names, or the reason there are none."""
    name = claim.patient_control
    charge = (
        Transaction.objects.select_related("account").filter(type="charge", txn_id=name).first()
    )
    if charge is None:
        named = list(
            Transaction.objects.select_related("account").filter(type="charge", reference=name)[:2]
        )
        charge = named[0] if len(named) == 1 else None
    account = charge.account if charge else Account.objects.filter(account_id=name).first()
    if account is None:
        return None, None, f"no charge or account {name!r}"
    if account.kind != "patient":
        return None, None, f"{account.account_id} is not a patient account ({account.kind})"
    if charge is not None and charge.amount != abs(claim.charge):  # a reversal's is negative
        return (
            None,
            None,
            f"the claim's charge {claim.charge} is not the charge {charge.txn_id}'s"
            f" {charge.amount:.2f}",
        )
    return account, charge, ""


def _seen(account: Account, key: str) -> bool:
    return TimelineEvent.objects.filter(
        account=account, kind__startswith="remittance.", detail__key=key
    ).exists()


def _codes(claim: Claim, *groups: str) -> str:
    return "; ".join(f"{a.code} {a.amount}" for a in claim.adjustments if a.group in groups)


class _Posting:
    """One file's claims posted, and what it says."""

    def __init__(self, file: str, actor: str, today: date) -> None:
        self.out = RemittanceImported(file=file)
        self.actor = actor
        self.today = today

    def follow_up(self, payment: Payment, claim: Claim, reason: str, account_id: str = "") -> None:
        self.out.follow_up.append(
            {
                "claim": claim.patient_control,
                "payer_claim": claim.payer_claim,
                "status": claim.status,
                "account_id": account_id,
                "segment": claim.segment,
                "reason": reason,
                "trace": payment.trace,
            }
        )

    def event(
        self, account: Account, kind: str, on: date, summary: str, detail: dict[str, Any]
    ) -> None:
        TimelineEvent.objects.create(
            account=account,
            at=dj_timezone.now(),
            on=on,
            kind=kind,
            actor=self.actor,
            summary=summary[:500],
            detail={"file": self.out.file[:200], **detail},
        )

    def claim(self, payment: Payment, claim: Claim) -> None:
        self.out.claims += 1
        account, charge, why = _match(claim)
        if account is None:
            self.follow_up(payment, claim, why)
            return
        key = claim_key(payment, claim)
        if _seen(account, key):
            self.out.already_imported += 1
            return
        detail = {
            "key": key,
            "claim": claim.patient_control,
            "payer_claim": claim.payer_claim,
            "payer": payment.payer,
            "trace": payment.trace,
            "status": claim.status,
            "adjustments": [f"{a.code} {a.amount}" for a in claim.adjustments],
        }
        if claim.status in PROCESSED:
            self.processed(payment, claim, account, charge, key, detail)
        elif claim.status == DENIED:
            self.denied(payment, claim, account, charge, detail)
        elif claim.status == REVERSAL:
            self.reversal(payment, claim, account, key, detail)
        else:
            self.follow_up(
                payment,
                claim,
                f"claim status {claim.status}: nothing to post (not our claim, or a"
                " predetermination)",
                account.account_id,
            )

    def processed(
        self,
        payment: Payment,
        claim: Claim,
        account: Account,
        charge: Transaction | None,
        key: str,
        detail: dict[str, Any],
    ) -> None:
        written_off = claim.adjusted(*WRITTEN_OFF)
        if written_off < 0:
            self.follow_up(
                payment,
                claim,
                f"the payer's adjustments add {-written_off} to the charge: not posted",
                account.account_id,
            )
            return
        owed = claim.adjusted("PR")
        memo = f"{payment.payer} claim {claim.payer_claim} ({claim.patient_control})"
        if claim.paid > 0:
            payment_post(
                account=account,
                amount=claim.paid,
                on=payment.paid_on,
                reference=key,
                applies_to=charge.txn_id if charge else None,
                memo=memo,
                today=self.today,
            )
        if written_off > 0:
            credits_post(
                [
                    NewCredit(
                        txn_id=_derived(ADJ, key),
                        account_pk=account.pk,
                        posted_on=payment.paid_on,
                        amount=written_off,
                        applies_to_pk=charge.pk if charge else None,
                        code=ADJ,
                        memo=f"{memo}: {_codes(claim, *WRITTEN_OFF)}",
                        reference=key,
                    )
                ]
            )
        forwarded = claim.status in FORWARDED
        summary = (
            f"{payment.payer} paid {claim.paid:,.2f} on claim {claim.patient_control}"
            f" (charge {claim.charge:,.2f}), adjusted {written_off:,.2f}; the patient owes"
            f" {owed:,.2f}" + (", forwarded to another payer" if forwarded else "")
        )
        self.event(
            account,
            "remittance.paid",
            payment.paid_on,
            summary,
            {
                **detail,
                "paid": f"{claim.paid:.2f}",
                "adjusted": f"{written_off:.2f}",
                "patient_responsibility": f"{owed:.2f}",
            },
        )
        self.out.posted += 1
        self.out.paid += claim.paid
        self.out.adjusted += written_off
        self.out.patient_responsibility += owed
        if not forwarded:
            self.out.releases.append(
                Release(account.account_id, claim.patient_control, claim.payer_claim)
            )

    def denied(
        self,
        payment: Payment,
        claim: Claim,
        account: Account,
        charge: Transaction | None,
        detail: dict[str, Any],
    ) -> None:
        reasons = [a.code for a in claim.adjustments]
        self.out.denials.append(
            {
                "claim": claim.patient_control,
                "payer_claim": claim.payer_claim,
                "account_id": account.account_id,
                "charge": charge.txn_id if charge else None,
                "amount": f"{claim.charge:.2f}",
                "reasons": reasons,
                "payer": payment.payer,
                "segment": claim.segment,
            }
        )
        self.event(
            account,
            "remittance.denied",
            payment.paid_on,
            f"{payment.payer} denied claim {claim.patient_control} ({claim.charge:,.2f}):"
            f" {', '.join(reasons) or 'no reason given'}; to follow up (appeal, or bill the"
            " patient)",
            detail,
        )

    def reversal(
        self, payment: Payment, claim: Claim, account: Account, key: str, detail: dict[str, Any]
    ) -> None:
        # The payer takes back what an earlier remittance paid on this claim (CLP04 and the CAS
        # amounts negative): its payment and its ADJ credit, found by the claim's two numbers.
        suffix = f":{claim.patient_control}:{claim.payer_claim}"
        earlier = Transaction.objects.filter(
            account=account, reference__endswith=suffix, reversed_by__isnull=True
        )
        undo = []
        for kind, amount in (("payment", -claim.paid), ("credit", -claim.adjusted(*WRITTEN_OFF))):
            if amount == 0:
                continue
            found = earlier.filter(type=kind, amount=f"{amount:.2f}").order_by("pk").first()
            if found is None:
                self.follow_up(
                    payment,
                    claim,
                    f"a reversal of {amount} with no {kind} of that amount on this claim",
                    account.account_id,
                )
                return
            undo.append(found)
        reversals_post(
            [
                NewReversal(
                    txn_id=_derived(f"RV{n}", key),
                    account_pk=account.pk,
                    posted_on=payment.paid_on,
                    amount=original.amount,
                    reverses_pk=original.pk,
                    memo=f"{payment.payer} reversed claim {claim.payer_claim}",
                    reference=key,
                )
                for n, original in enumerate(undo)
            ]
        )
        self.event(
            account,
            "remittance.reversed",
            payment.paid_on,
            f"{payment.payer} reversed its payment of {-claim.paid:,.2f} on claim"
            f" {claim.patient_control}",
            {**detail, "paid": f"{claim.paid:.2f}"},
        )
        self.out.posted += 1
        self.out.reversed += -claim.paid


def remittance_import(*, data: bytes, file: str, actor: str, today: date) -> RemittanceImported:
    """Post the 835 file `data` (module docstring); returns what it did and what to follow up,
    and the insurance holds the caller should release (`releases`).

    Raises BookImportError (nothing posted) for a file that does not read (`era`) or a payment
    dated after `today`; PeriodClosedError for one in a closed month; ReferenceReusedError when
    a claim's key is a payment of another account or amount already."""
    remittance = remittance_read(data, file=file)
    late = [p for p in remittance.payments if p.paid_on > today]
    if late:
        raise BookImportError(
            [
                Problem(
                    file,
                    p.segment,
                    "BPR16",
                    f"the payment is dated {p.paid_on}, after today ({today}): import the"
                    " file on or after that day",
                )
                for p in late
            ]
        )
    posting = _Posting(file, actor, today)
    with transaction.atomic():
        for payment in remittance.payments:
            for claim in payment.claims:
                posting.claim(payment, claim)
            posting.out.provider_adjustments.extend(
                {
                    "trace": payment.trace,
                    "reason": p.reason,
                    "reference": p.reference,
                    "amount": f"{p.amount:.2f}",
                    "segment": p.segment,
                }
                for p in payment.provider_adjustments
            )
    return posting.out
