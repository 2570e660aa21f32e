"""Posting one payment, by a person at the desk or by a system (a CRM, a payment processor's
webhook): a `payment` entry appended to the book and cash applied, the same entry an import of
the interchange format would make.

Invariants:
- Once per reference. A payment is known by its reference (the processor's or the bank's id, or
  the API's Idempotency-Key): its txn_id is derived from the reference (`txn_id_of`), the book's
  txn_id is unique, and the look-up and the insert are made under the book's write lock, so two
  identical requests at once post one payment. The same reference again posts nothing and says
  so; the same reference with another account or amount is refused (`reference_reused`): it is a
  mistake, not a retry. A payment imported with that reference on that account counts as posted.
- Never in the future, never in a closed month (`periods.ensure_open`), never a fraction of a
  cent; `applies_to` names a charge of the same account (it is paid first, spec:
  ledger-interchange), or nothing (the oldest charges are paid first).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from arrears.core.errors import DomainError, ValidationError
from arrears.core.fields import to_cents
from arrears.ledger import bulk
from arrears.ledger.models import Account, Transaction
from arrears.ledger.posting import NewPayment, payments_post
from arrears.ledger.replay import TXN

REFERENCE_MAX = 200  # Transaction.reference
# The largest amount one payment may carry: a typing slip (an amount pasted twice) is refused
# rather than posted; 10 million in the book's currency is more than any rent, invoice or balance.
AMOUNT_MAX = Decimal("10000000.00")


class ReferenceReusedError(DomainError):
    """The reference names a payment already posted to another account or for another amount:
    a refusal by the state of the book (the API's 409), not a retry."""

    code = "reference_reused"


@dataclass(frozen=True)
class PaymentPosted:
    posted: bool  # False: the reference was posted before, nothing new was written
    txn_id: str
    account_id: str
    amount: Decimal
    posted_on: date
    reference: str
    applies_to: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "posted": self.posted,
            "txn_id": self.txn_id,
            "account_id": self.account_id,
            "amount": f"{self.amount:.2f}",
            "posted_on": self.posted_on.isoformat(),
            "reference": self.reference,
            "applies_to": self.applies_to,
        }


def txn_id_of(reference: str) -> str:
    """The payment's txn_id: the same for the same reference, whatever its characters or
    length (the book's txn_id holds 64)."""
    return "PAY-" + hashlib.sha256(reference.encode("utf-8")).hexdigest()[:32]


def _checked(amount: Decimal, on: date, reference: str, today: date) -> str:
    reference = reference.strip()
    if not reference:
        raise ValidationError(_("a payment needs a reference"), code="reference_missing")
    if len(reference) > REFERENCE_MAX:
        raise ValidationError(
            _("a reference has at most {most} characters"),
            code="reference_too_long",
            most=REFERENCE_MAX,
            field="reference",
        )
    if not amount.is_finite() or amount <= 0 or amount > AMOUNT_MAX:
        raise ValidationError(
            _("a payment's amount is more than 0 and at most {most}"),
            code="amount_invalid",
            most=f"{AMOUNT_MAX:,.2f}",
            field="amount",
        )
    try:
        to_cents(amount)
    except ValueError:
        raise ValidationError(
            _("an amount has at most two decimals: {amount}"),
            code="amount_invalid",
            amount=str(amount),
            field="amount",
        ) from None
    if on > today:
        raise ValidationError(
            _("a payment cannot be dated after today ({today}): {on}"),
            code="payment_in_future",
            today=today.isoformat(),
            on=on.isoformat(),
            field="on",
        )
    return reference


def _charge_pk(account: Account, applies_to: str | None) -> int | None:
    if not applies_to:
        return None
    found = (
        Transaction.objects.filter(account=account, txn_id=applies_to, type="charge")
        .values_list("pk", flat=True)
        .first()
    )
    if found is None:
        raise ValidationError(
            _("{txn_id!r} is not a charge of account {account_id}"),
            code="applies_to_not_a_charge",
            txn_id=applies_to,
            account_id=account.account_id,
            field="applies_to",
        )
    return int(found)


def payment_post(
    *,
    account: Account,
    amount: Decimal,
    on: date,
    reference: str,
    today: date,
    applies_to: str | None = None,
    memo: str = "",
) -> PaymentPosted:
    """Post a payment of `amount` on `on` to `account` once per `reference` (module
    docstring); cash is applied to the account in the same transaction."""
    reference = _checked(amount, on, reference, today)
    txn_id = txn_id_of(reference)
    result = PaymentPosted(True, txn_id, account.account_id, amount, on, reference, applies_to)
    with transaction.atomic():
        bulk.write_lock(TXN)  # the look-up below and the insert, one writer at a time
        before = (
            Transaction.objects.filter(txn_id=txn_id)
            .values_list("account__account_id", "amount", "posted_on", "txn_id")
            .first()
        ) or (
            Transaction.objects.filter(account=account, type="payment", reference=reference)
            .values_list("account__account_id", "amount", "posted_on", "txn_id")
            .first()
        )
        if before is not None:
            account_id, posted_amount, posted_on, posted_txn = before
            if account_id != account.account_id or posted_amount != amount:
                raise ReferenceReusedError(
                    _(
                        "the reference {reference!r} is a payment of {amount} to {account_id}"
                        " already: a new payment needs a new reference"
                    ),
                    reference=reference,
                    amount=f"{posted_amount:.2f}",
                    account_id=account_id,
                    field="reference",
                )
            return PaymentPosted(
                False, posted_txn, account_id, posted_amount, posted_on, reference, applies_to
            )
        payments_post(
            [
                NewPayment(
                    txn_id=txn_id,
                    account_pk=account.pk,
                    posted_on=on,
                    amount=amount,
                    applies_to_pk=_charge_pk(account, applies_to),
                    memo=memo,
                    reference=reference,
                )
            ]
        )
    return result
