"""The act of posting one payment (arrears.ledger.payments), offered by `arrears payment post`,
the account page's form and `POST /api/accounts/{id}/payments`: who may (a coordinator, a
controller, an admin, a property's manager on their properties' accounts), in one transaction
with its audit row. A repeated reference posts nothing and is still audited (who asked again)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from arrears.access.acting import By, money_text, run_act
from arrears.core.dates import today
from arrears.ledger.payments import PaymentPosted
from arrears.ledger.payments import payment_post as _payment_post


def payment_post(
    *,
    by: By,
    account_id: str,
    amount: Decimal,
    on: date,
    reference: str,
    applies_to: str | None = None,
    memo: str = "",
) -> PaymentPosted:
    """Post a payment to `account_id` once per `reference` (`ledger.payments.payment_post`)."""

    def do(account: Any) -> PaymentPosted:
        return _payment_post(
            account=account,
            amount=amount,
            on=on,
            reference=reference,
            applies_to=applies_to,
            memo=memo,
            today=today(),
        )

    return run_act(
        by,
        "payment.post",
        account_id=account_id,
        detail={
            "amount": money_text(amount) if amount.is_finite() else str(amount)[:20],
            "on": on.isoformat(),
            "reference": reference[:200],
            "applies_to": (applies_to or "")[:64],
        },
        do=do,
    )
