"""Payments that came back (a NACHA return, a camt reversal, a BAI2 returned item): each finds
the payment it returns and posts its reversal (`ledger.posting.reversals_post`), which reopens
exactly the charges that payment paid; then the policy's NSF fee and "cash only" flag.

Invariants: a return reverses the payment(s) its original reference posted (the bank line's
reference or end-to-end id, or a payment posted by hand with that reference), all of them (a
split line posted several), once; a return that finds no payment, or one already reversed, or
one of another amount, waits in the review queue. The NSF fee is charged only for the reasons
that mean insufficient funds (NSF_CODES) and never above the cap of the account's state.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Q

from arrears.banking.models import BankLine, CashOnly
from arrears.ledger.models import Account, TimelineEvent, Transaction
from arrears.ledger.payments import txn_id_of
from arrears.ledger.posting import NewCharge, NewReversal, charges_post, reversals_post

# Insufficient funds: NACHA R01 (insufficient funds) and R09 (uncollected funds); ISO 20022
# external return reason AM04 (insufficient funds); a BAI2 returned item whose text says NSF.
NSF_CODES = frozenset({"R01", "R09", "AM04", "NSF"})
# The most a creditor may charge for a payment returned unpaid, by the account's state:
# N.Y. General Obligations Law § 5-328: a fee of at most $20 for a dishonoured cheque or
# electronic funds transfer; Cal. Civil Code § 1719(a)(1): a service charge of at most $25 for
# the first cheque passed on insufficient funds ($35 for each later one: the first is used).
NSF_FEE_CAPS: dict[str, Decimal] = {"NY": Decimal("20.00"), "CA": Decimal("25.00")}
CASH_ONLY_WINDOW = timedelta(days=365)  # "N returns in 12 months"


def _key(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).hexdigest()[:32]


def _payments_of(row: BankLine) -> list[Transaction]:
    original = row.original_reference
    if not original:
        return []
    line = (
        BankLine.objects.filter(kind=BankLine.Kind.CREDIT)
        .filter(Q(reference=original) | Q(end_to_end=original))
        .exclude(txn_ids=[])
        .order_by("-pk")  # a trace number comes back within days: the latest credit bearing it
        .first()
    )
    txn_ids = line.txn_ids if line is not None else [txn_id_of(original)]
    return list(
        Transaction.objects.filter(txn_id__in=txn_ids, type=Transaction.Type.PAYMENT).order_by("pk")
    )


def _nsf(row: BankLine) -> bool:
    code = row.return_code.upper() or ("NSF" if "NSF" in row.text.upper() else "")
    return code in NSF_CODES


def nsf_fee(state: str) -> Decimal:
    """The NSF fee for an account in `state`: the configured fee, at most the state's cap."""
    fee: Decimal = settings.ARREARS_BANK_NSF_FEE
    cap = NSF_FEE_CAPS.get(state.upper())
    return min(fee, cap) if cap is not None else fee


def returns_post(rows: list[BankLine], *, actor: str, today: date) -> int:
    """Reverse the payments the return lines `rows` (saved) return; returns how many lines were
    posted as returns. Lines that find nothing stay in review, with a note."""
    reversals: list[NewReversal] = []
    fees: list[NewCharge] = []
    events: list[TimelineEvent] = []
    done: list[BankLine] = []
    from arrears.banking.services import timeline_add

    reversed_pks = (
        set(
            Transaction.objects.filter(type=Transaction.Type.REVERSAL).values_list(
                "reverses_id", flat=True
            )
        )
        if rows
        else set()
    )
    for row in rows:
        payments = _payments_of(row)
        if not payments:
            row.note = "no payment found for the original reference"
        elif any(p.pk in reversed_pks for p in payments):
            row.note = "the payment was reversed already"
        elif sum(p.amount for p in payments) != row.amount:
            row.note = "the payment's amount is not the return's"
        if row.note:
            continue
        txn_ids = []
        for p in payments:
            reversed_pks.add(p.pk)
            txn_id = "REV-" + _key(row.bank_account, row.reference, p.txn_id)
            txn_ids.append(txn_id)
            reversals.append(
                NewReversal(
                    txn_id=txn_id,
                    account_pk=p.account_id,
                    posted_on=max(row.posted_on, p.posted_on),
                    amount=p.amount,
                    reverses_pk=p.pk,
                    reference=row.reference,
                    memo=f"returned by the bank {row.return_code}".strip(),
                )
            )
            events.append(
                timeline_add(
                    p.account_id,
                    row.posted_on,
                    "bank.returned",
                    actor,
                    f"Payment of {p.amount:,.2f} ({p.reference}) returned by the bank"
                    + (f" ({row.return_code})" if row.return_code else ""),
                    reference=row.reference,
                    return_code=row.return_code,
                    reverses=p.txn_id,
                    txn_id=txn_id,
                )
            )
        row.status = BankLine.Status.RETURNED
        row.account_id = payments[0].account_id
        row.txn_ids = txn_ids
        done.append(row)
        if _nsf(row):
            account = Account.objects.select_related("property").get(pk=payments[0].account_id)
            fee = nsf_fee(account.property.state if account.property else "")
            if fee > 0:
                fee_id = "NSF-" + _key(row.bank_account, row.reference)
                fees.append(
                    NewCharge(
                        txn_id=fee_id,
                        account_pk=account.pk,
                        posted_on=max(row.posted_on, today),
                        due_on=max(row.posted_on, today),
                        code="NSF",
                        amount=fee,
                        reference=row.reference,
                        memo="returned payment fee",
                    )
                )
                events.append(
                    timeline_add(
                        account.pk,
                        row.posted_on,
                        "bank.nsf_fee",
                        actor,
                        f"Returned payment fee of {fee:,.2f}",
                        txn_id=fee_id,
                    )
                )
    reversals_post(reversals)
    charges_post(fees)
    BankLine.objects.bulk_update(rows, ["status", "account", "txn_ids", "note"], batch_size=2000)
    events.extend(_cash_only(done, actor))
    TimelineEvent.objects.bulk_create(events)
    return len(done)


def _cash_only(done: list[BankLine], actor: str) -> list[TimelineEvent]:
    """Flag "cash only" the accounts with ARREARS_BANK_CASH_ONLY_AFTER returns or more in the 12
    months to their latest; returns their timeline rows."""
    from arrears.banking.services import timeline_add

    after = int(settings.ARREARS_BANK_CASH_ONLY_AFTER)
    if after <= 0 or not done:
        return []
    events = []
    latest: dict[int, date] = {}
    for row in done:
        assert row.account_id is not None
        latest[row.account_id] = max(latest.get(row.account_id, row.posted_on), row.posted_on)
    flagged = set(
        CashOnly.objects.filter(account_id__in=latest, until__isnull=True).values_list(
            "account_id", flat=True
        )
    )
    for account_pk, on in latest.items():
        if account_pk in flagged:
            continue
        count = BankLine.objects.filter(
            account_id=account_pk,
            status=BankLine.Status.RETURNED,
            posted_on__gt=on - CASH_ONLY_WINDOW,
            posted_on__lte=on,
        ).count()
        if count >= after:
            CashOnly.objects.create(account_id=account_pk, since=on, returns=count)
            events.append(
                timeline_add(
                    account_pk,
                    on,
                    "bank.cash_only",
                    actor,
                    f"Cash only: {count} payments returned in 12 months",
                    returns=count,
                )
            )
    return events
