"""Route of posting one payment (arrears.ledger.payments, through
arrears.access.acts_payments): what a CRM or a payment processor's webhook calls.

Idempotent: the payment is known by its `reference`, or, without one, by the request's
`Idempotency-Key` header; the same key again (a retry after a lost answer, or two identical
requests at once) posts nothing and answers 200 with the payment posted first; a new payment
answers 201. The same key for another account or amount is a 409 `reference_reused`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Field, Router, Schema, Status

from arrears.access.acts_payments import payment_post
from arrears.api.common import ERRORS, by, day
from arrears.api.schemas import ErrorOut
from arrears.core.errors import ValidationError

router = Router(tags=["payments"])

HEADER = "Idempotency-Key"


class PaymentIn(Schema):
    amount: Decimal = Field(gt=0, max_digits=14, decimal_places=2)
    on: date
    reference: str = Field("", max_length=200)
    applies_to: str | None = Field(None, max_length=64)  # the txn_id of a charge it pays first
    memo: str = Field("", max_length=2000)


class PaymentOut(Schema):
    posted: bool  # false: this reference was posted before; nothing new
    txn_id: str
    account_id: str
    amount: str
    posted_on: str
    reference: str
    applies_to: str | None


@router.post(
    "/accounts/{account_id}/payments",
    response={200: PaymentOut, 201: PaymentOut, **ERRORS, 409: ErrorOut},
)
def account_payment_post(request: HttpRequest, account_id: str, body: PaymentIn) -> Any:
    """Post a payment once per reference (or Idempotency-Key): 201 posted now, 200 posted
    before (nothing new), 409 `reference_reused` for another account or amount."""
    reference = body.reference.strip() or request.headers.get(HEADER, "").strip()
    if not reference:
        raise ValidationError(
            _("a payment needs a reference, or an {header} header"),
            code="reference_missing",
            header=HEADER,
            field="reference",
        )
    posted = payment_post(
        by=by(request),
        account_id=account_id,
        amount=body.amount,
        on=day(body.on),
        reference=reference,
        applies_to=body.applies_to or None,
        memo=body.memo,
    )
    return Status(201 if posted.posted else 200, posted.as_json())
