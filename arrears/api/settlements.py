"""Routes of a case's settlements and an account's write-offs (arrears.legal.settlements,
through arrears.access.acts_legal): a settlement offered, approved or rejected, shown; a balance
written off, the write-offs and their recoveries shown. A settlement's JSON is what `arrears
settlement show --format json` prints, a write-off's what `arrears writeoff show` prints."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from arrears.access import acts_legal
from arrears.access.selectors import authorize
from arrears.api.common import ERRORS, by, day
from arrears.core.dates import today
from arrears.legal.selectors import settlement_json, writeoffs_summary

router = Router(tags=["legal"])


class InstallmentIn(Schema):
    due_on: date
    amount: Decimal = Field(gt=0, max_digits=14, decimal_places=2)


class SettlementIn(Schema):
    amount: Decimal = Field(gt=0, max_digits=14, decimal_places=2)
    installments: list[InstallmentIn] = Field(min_length=1, max_length=36)
    note: str = Field("", max_length=500)


class RejectIn(Schema):
    reason: str = Field(max_length=500)


class SettlementOut(Schema):
    settlement_id: int
    case_id: int
    account_id: str
    amount: str
    balance: str
    status: str
    status_on: str
    offered_on: str
    offered_by: str
    needs_approval: bool
    decided_by: str | None
    decided_at: str | None
    reason: str | None
    note: str
    paid: str
    forgiven: str | None
    installments: list[dict[str, Any]]


class WriteOffIn(Schema):
    amount: Decimal = Field(gt=0, max_digits=14, decimal_places=2)
    reason: str = Field(max_length=500)
    on: date | None = None  # default today


class WriteOffsOut(Schema):
    account_id: str
    written_off: str
    recovered: str
    outstanding: str
    writeoffs: list[dict[str, Any]]


@router.get("/cases/{case_id}/settlements", response={200: list[SettlementOut], **ERRORS})
def settlement_list(request: HttpRequest, case_id: int) -> Any:
    """The case's settlements, newest first, each tracked as of today."""
    authorize(request.user, "case.view")
    return acts_legal.case_settlements_show(actor=request.user, case_id=case_id)


@router.post("/cases/{case_id}/settlements", response={201: SettlementOut, **ERRORS})
def settlement_offer(request: HttpRequest, case_id: int, body: SettlementIn) -> Any:
    """Offer a settlement of the case's balance, paid in installments that sum to it."""
    made = acts_legal.settlement_offer(
        by=by(request),
        case_id=case_id,
        amount=body.amount,
        installments=[(day(i.due_on), i.amount) for i in body.installments],
        note=body.note,
    )
    return Status(201, settlement_json(made, on=today()))


@router.get("/cases/{case_id}/settlements/{settlement_id}", response={200: SettlementOut, **ERRORS})
def settlement_show(request: HttpRequest, case_id: int, settlement_id: int) -> Any:
    """One settlement of the case, tracked as of today."""
    authorize(request.user, "case.view")
    return acts_legal.settlement_show(
        actor=request.user, settlement_id=settlement_id, case_id=case_id
    )


@router.post(
    "/cases/{case_id}/settlements/{settlement_id}/approve",
    response={200: SettlementOut, **ERRORS},
)
def settlement_approve(request: HttpRequest, case_id: int, settlement_id: int) -> Any:
    """Approve a settlement offered (a manager of the property, a controller, an admin)."""
    decided = acts_legal.settlement_decide(
        by=by(request), settlement_id=settlement_id, approve=True, case_id=case_id
    )
    return settlement_json(decided, on=today())


@router.post(
    "/cases/{case_id}/settlements/{settlement_id}/reject",
    response={200: SettlementOut, **ERRORS},
)
def settlement_reject(
    request: HttpRequest, case_id: int, settlement_id: int, body: RejectIn
) -> Any:
    """Reject a settlement offered, saying why."""
    decided = acts_legal.settlement_decide(
        by=by(request),
        settlement_id=settlement_id,
        approve=False,
        reason=body.reason,
        case_id=case_id,
    )
    return settlement_json(decided, on=today())


@router.get("/accounts/{account_id}/writeoffs", response={200: WriteOffsOut, **ERRORS})
def writeoff_show(request: HttpRequest, account_id: str) -> Any:
    """The account's write-offs, what was recovered after them and what is still written off."""
    return acts_legal.writeoff_show(actor=request.user, account_id=account_id)


@router.post("/accounts/{account_id}/writeoffs", response={201: WriteOffsOut, **ERRORS})
def writeoff_post(request: HttpRequest, account_id: str, body: WriteOffIn) -> Any:
    """Write the account's balance off to bad debt (a controller or an admin)."""
    made = acts_legal.writeoff_post(
        by=by(request),
        account_id=account_id,
        amount=body.amount,
        reason=body.reason,
        on=day(body.on) if body.on else None,
    )
    return Status(201, writeoffs_summary(made.account))
