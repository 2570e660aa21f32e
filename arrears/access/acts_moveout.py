"""The acts of a move-out and a deposit's disposition (arrears.moveout.services), offered by
arrears.access.acts: who may, in one transaction with its audit row."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from arrears.access.acting import By, money_text, run_act
from arrears.access.selectors import authorize
from arrears.core.dates import today
from arrears.dunning.deposit_statement import StatementSent
from arrears.dunning.deposit_statement import deposit_statement_send as statement_send
from arrears.moveout import services as moveout
from arrears.moveout.models import MoveOut
from arrears.moveout.services import Deduct, DepositView


def moveout_record(
    *, by: By, account_id: str, on: date, forwarding_address: str = "", party_id: str = ""
) -> MoveOut:
    """The day the account's tenants vacated, and where to write to them after."""

    def do(_account: Any) -> MoveOut:
        return moveout.moveout_record(
            account_id=account_id,
            on=on,
            actor=by.name,
            forwarding_address=forwarding_address[:300],
            party_id=party_id[:64],
            today=today(),
        )

    return run_act(
        by,
        "moveout.record",
        account_id=account_id,
        detail={
            "on": on.isoformat(),
            "forwarding_address": forwarding_address[:300],
            "party_id": party_id[:64],
        },
        do=do,
    )


def deposit_dispose(
    *,
    by: By,
    account_id: str,
    deductions: Sequence[Deduct],
    on: date | None = None,
    late_reason: str = "",
    correction_reason: str = "",
) -> DepositView:
    """Post what is kept from the deposit and why (`moveout.services.disposition_post`)."""
    day = on or today()

    def do(_account: Any) -> DepositView:
        return moveout.disposition_post(
            account_id=account_id,
            deductions=deductions,
            on=day,
            actor=by.name,
            late_reason=late_reason,
            correction_reason=correction_reason,
        )

    return run_act(
        by,
        "deposit.dispose",
        account_id=account_id,
        detail={
            "on": day.isoformat(),
            "deductions": [
                {"code": d.code[:20], "amount": money_text(d.amount), "text": d.text[:300]}
                for d in deductions
            ],
            "late_reason": late_reason[:500],
            "correction_reason": correction_reason[:500],
        },
        do=do,
    )


def deposit_statement_send(
    *, by: By, account_id: str, on: date | None = None, late_reason: str = ""
) -> StatementSent:
    """Mail the itemized statement of the disposition in force to the tenant and each guarantor
    (`dunning.deposit_statement.deposit_statement_send`); after its deadline only with a reason."""
    day = on or today()

    def do(_account: Any) -> StatementSent:
        return statement_send(account_id=account_id, on=day, actor=by.name, late_reason=late_reason)

    return run_act(
        by,
        "deposit.statement",
        account_id=account_id,
        detail={"on": day.isoformat(), "late_reason": late_reason[:500]},
        do=do,
    )


def deposit_show(user: Any, *, account_id: str) -> DepositView:
    """The account's deposit, move-out, clock and disposition, for whoever may see the account."""
    authorize(user, "account.view", account_id)
    return moveout.deposit_show(account_id=account_id)


def deposit_statement_preview(user: Any, *, account_id: str, party_id: str = "") -> Any:
    """The itemized statement as it would print for a party, queuing nothing (a read, for whoever
    may send it)."""
    from arrears.moveout.statement import statement_preview

    authorize(user, "deposit.statement", account_id)
    return statement_preview(account_id=account_id, on=today(), party_id=party_id)
