"""Routes of a move-out and its deposit (arrears.moveout, through arrears.access.acts): the same
JSON as `arrears deposit show --format json`."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status

from arrears.access import acts
from arrears.api.common import ERRORS, by, day
from arrears.moveout.services import Deduct

router = Router(tags=["move-out"])


class DeductionOut(Schema):
    code: str
    amount: str
    text: str


class DispositionOut(Schema):
    deductions: list[DeductionOut]
    applied: str
    refund_due: str
    balance_owed: str
    posted_on: str


class DepositOut(Schema):
    account_id: str
    deposit_held: str
    vacated: str | None
    statement_due: str | None
    jurisdiction: str
    disposition: DispositionOut | None


class MoveOutIn(Schema):
    on: date
    forwarding_address: str = ""
    party_id: str = ""


class DeductionIn(Schema):
    code: str
    amount: Decimal
    text: str


class DispositionIn(Schema):
    deductions: list[DeductionIn] = []
    on: date | None = None
    late_reason: str = ""  # to post it after the statement's deadline (rule deposit:deadline)
    correction_reason: str = ""  # to supersede the disposition in force


@router.get("/accounts/{account_id}/deposit", response={200: DepositOut, **ERRORS})
def account_deposit(request: HttpRequest, account_id: str) -> Any:
    """The deposit held, the move-out, the statement's deadline and the disposition in force."""
    return acts.deposit_show(request.user, account_id=account_id).as_json()


@router.post("/accounts/{account_id}/moveout", response={201: DepositOut, **ERRORS})
def account_moveout(request: HttpRequest, account_id: str, body: MoveOutIn) -> Any:
    """Record the day the tenants vacated (the deposit's clock starts) and their forwarding
    address (the party's mailing address from then on)."""
    acts.moveout_record(
        by=by(request),
        account_id=account_id,
        on=day(body.on),
        forwarding_address=body.forwarding_address,
        party_id=body.party_id,
    )
    return Status(201, acts.deposit_show(request.user, account_id=account_id).as_json())


@router.post("/accounts/{account_id}/deposit/disposition", response={201: DepositOut, **ERRORS})
def account_deposit_dispose(request: HttpRequest, account_id: str, body: DispositionIn) -> Any:
    """Post what is kept from the deposit and why: the deductions as charges, the deposit as DEP
    credits; 409 `deposit_refused` with the rule (deposit:deadline, deposit:receipt,
    deposit:late_fee) when the deposit's rules refuse it."""
    view = acts.deposit_dispose(
        by=by(request),
        account_id=account_id,
        deductions=[Deduct(d.code, d.amount, d.text) for d in body.deductions],
        on=day(body.on) if body.on else None,
        late_reason=body.late_reason,
        correction_reason=body.correction_reason,
    )
    return Status(201, view.as_json())


class StatementIn(Schema):
    on: date | None = None
    late_reason: str = ""  # to send it after its deadline (rule deposit:deadline)


class StatementLetterOut(Schema):
    party_id: str
    role: str
    letter_id: int | None
    document: str | None
    language: str | None
    created: bool
    rule: str | None


class StatementOut(Schema):
    account_id: str
    version: int
    on: str
    late_reason: str | None
    letters: list[StatementLetterOut]


@router.post("/accounts/{account_id}/deposit/statement", response={201: StatementOut, **ERRORS})
def account_deposit_statement(request: HttpRequest, account_id: str, body: StatementIn) -> Any:
    """Mail the itemized statement of the disposition in force to the tenant and each guarantor,
    through the compliance guard, as certified letters for the next letters batch (the same JSON
    as `arrears deposit statement --format json`); an addressee the guard refuses has
    `letter_id` null and its `rule`; 409 `deposit_statement_late` after the deadline without a
    reason."""
    sent = acts.deposit_statement_send(
        by=by(request),
        account_id=account_id,
        on=day(body.on) if body.on else None,
        late_reason=body.late_reason,
    )
    return Status(201, sent.as_json())
