"""Routes of a move-out and its deposit (arrears.moveout, through arrears.access.acts): the same
JSON as `arrears deposit show --format json`.

A disposition is posted from JSON, or from a multipart form when receipts go with it (the
`disposition` field holds the same JSON, each deduction naming its file among `receipts` by its
place): either way the one act, `acts.deposit_dispose`, with each receipt's bytes, archived and
checked as any document added to an account (`correspondence.uploads.document_add`: size, type)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import File, Form, Router, Schema, Status, UploadedFile
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import ValidationError as PydanticValidationError

from arrears.access import acts
from arrears.api.common import ERRORS, by, day
from arrears.api.schemas import ErrorOut
from arrears.core.errors import ValidationError
from arrears.correspondence.uploads import max_upload_bytes
from arrears.moveout.services import Deduct

router = Router(tags=["move-out"])
# 409: a refusal by the deposit's rules (deposit_deadline, deposit_receipt, deposit_late_fee; the
# rule in extra.rule; see api.STATUS).
CHANGE_ERRORS: dict[int, Any] = {**ERRORS, 409: ErrorOut}


class DeductionOut(Schema):
    code: str
    amount: str
    text: str
    receipt: str | None  # the archived receipt's name (as the account's documents list it)


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


class DeductionWithReceiptIn(DeductionIn):
    receipt: int | None = None  # its receipt's place among the files sent as `receipts`: 1, 2, …


class DispositionWithReceiptsIn(Schema):
    """The `disposition` field of the multipart route: `DispositionIn`, each deduction naming
    its receipt."""

    deductions: list[DeductionWithReceiptIn] = []
    on: date | None = None
    late_reason: str = ""
    correction_reason: str = ""


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


@router.post(
    "/accounts/{account_id}/deposit/disposition", response={201: DepositOut, **CHANGE_ERRORS}
)
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


def _disposition_form(text: str) -> DispositionWithReceiptsIn:
    """The `disposition` field's JSON, read as the JSON route reads its body (422 `invalid`,
    naming where, as any body the API cannot read)."""
    try:
        return DispositionWithReceiptsIn.model_validate_json(text)
    except PydanticValidationError as exc:
        raise NinjaValidationError(
            [{**e, "loc": ("form", "disposition", *e["loc"])} for e in exc.errors()]
        ) from None


def _with_receipts(
    deductions: list[DeductionWithReceiptIn], receipts: list[UploadedFile]
) -> list[Deduct]:
    """The deductions, each with the bytes of the receipt it names (at most the largest upload
    and a byte: `document_add` refuses a larger file, as the page's form does)."""
    read: dict[int, tuple[str, bytes]] = {}
    out = []
    for n, d in enumerate(deductions, start=1):
        if d.receipt is not None and not 1 <= d.receipt <= len(receipts):
            raise ValidationError(
                _("deduction {n}: no receipt {receipt} among the {count} files sent"),
                code="receipt_not_sent",
                field="receipts",
                n=n,
                receipt=d.receipt,
                count=len(receipts),
            )
        receipt = None
        if d.receipt is not None:
            if d.receipt not in read:
                upload = receipts[d.receipt - 1]
                read[d.receipt] = (upload.name or "receipt", upload.read(max_upload_bytes() + 1))
            receipt = read[d.receipt]
        out.append(Deduct(d.code, d.amount, d.text, receipt))
    unused = [str(n) for n in range(1, len(receipts) + 1) if n not in read]
    if unused:
        raise ValidationError(
            _("receipts {files}: sent with no deduction naming them (a deduction's “receipt”)"),
            code="receipt_unused",
            field="receipts",
            files=", ".join(unused),
        )
    return out


@router.post(
    "/accounts/{account_id}/deposit/disposition/receipts",
    response={201: DepositOut, **CHANGE_ERRORS},
)
def account_deposit_dispose_receipts(
    request: HttpRequest,
    account_id: str,
    disposition: Annotated[
        str,
        Form(
            description='the disposition as JSON, as the JSON route\'s body: {"deductions": '
            '[{"code", "amount", "text", "receipt"}], "on", "late_reason", '
            '"correction_reason"}; `receipt` is the place (1, 2, …) of the deduction\'s file '
            "among `receipts`"
        ),
    ],
    receipts: File[list[UploadedFile] | None] = None,
) -> Any:
    """Post the disposition with its receipts (multipart): `disposition`, the JSON of the JSON
    route, each deduction's `receipt` the place (1, 2, …) of its file among `receipts` (a PDF, a
    PNG or JPEG image or an email, as an account's documents; California asks one of each repair
    and cleaning when they come to $125 or more: Cal. Civ. Code §1950.5(g)(2)). Each receipt is
    archived with its deduction; the answer and the refusals are the JSON route's (409
    `deposit_receipt` with `extra.rule` deposit:receipt when one is missing)."""
    body = _disposition_form(disposition)
    view = acts.deposit_dispose(
        by=by(request),
        account_id=account_id,
        deductions=_with_receipts(body.deductions, list(receipts or [])),
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
