"""Routes of bank files (arrears.banking, through arrears.access.acts_bank): a statement
uploaded, the review queue read, and its decisions. Answers as `arrears bank … --format json`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, File, Router, Schema, Status
from ninja.files import UploadedFile

from arrears.access import acts_bank
from arrears.access.selectors import authorize
from arrears.api.common import ERRORS, by
from arrears.api.schemas import ErrorOut

router = Router(tags=["bank"])


class BankImportOut(Schema):
    file: str
    lines: int
    posted: int
    review: int
    returns: int
    already_imported: int


class AssignIn(Schema):
    account_id: str = Field(max_length=64)
    note: str = Field("", max_length=500)


class SplitPartIn(Schema):
    account_id: str = Field(max_length=64)
    amount: Decimal = Field(gt=0, max_digits=14, decimal_places=2)


class SplitIn(Schema):
    parts: list[SplitPartIn] = Field(min_length=2, max_length=50)
    note: str = Field("", max_length=500)


class NotOursIn(Schema):
    note: str = Field(min_length=1, max_length=500)


@router.post("/bank/imports", response={201: BankImportOut, **ERRORS})
def bank_import_post(
    request: HttpRequest,
    file: UploadedFile = File(...),  # noqa: B008
    file_format: Literal["auto", "bai2", "camt", "ofx", "nacha"] = "auto",
) -> Any:
    """Import a bank statement (BAI2, camt.053/054, OFX, NACHA) whole: the counts of its lines
    posted, left for review, returned and already imported."""
    authorize(request.user, "bank.import")
    result = acts_bank.bank_import(
        by=by(request),
        data=acts_bank.bank_file_read(file),
        name=file.name or "",
        file_format=file_format,
    )
    return Status(201, result.as_json())


@router.get("/bank/review", response={200: list[dict[str, Any]], **ERRORS})
def bank_review_list(request: HttpRequest) -> Any:
    """The bank lines waiting for a decision, oldest first."""
    return [acts_bank.line_json(line) for line in acts_bank.review_queue(user=request.user)]


@router.post(
    "/bank/review/{line_id}/assign", response={200: dict[str, Any], **ERRORS, 409: ErrorOut}
)
def bank_review_assign(request: HttpRequest, line_id: int, body: AssignIn) -> Any:
    """Post the line as a payment to one account."""
    line = acts_bank.review_assign(
        by=by(request), line_id=line_id, account_id=body.account_id, note=body.note
    )
    return acts_bank.line_json(line)


@router.post(
    "/bank/review/{line_id}/split", response={200: dict[str, Any], **ERRORS, 409: ErrorOut}
)
def bank_review_split(request: HttpRequest, line_id: int, body: SplitIn) -> Any:
    """Post the line as payments to several accounts, adding up to its amount exactly."""
    line = acts_bank.review_split(
        by=by(request),
        line_id=line_id,
        parts=[(p.account_id, p.amount) for p in body.parts],
        note=body.note,
    )
    return acts_bank.line_json(line)


@router.post(
    "/bank/review/{line_id}/not-ours", response={200: dict[str, Any], **ERRORS, 409: ErrorOut}
)
def bank_review_not_ours(request: HttpRequest, line_id: int, body: NotOursIn) -> Any:
    """Mark the line as money that is not the book's."""
    line = acts_bank.review_not_ours(by=by(request), line_id=line_id, note=body.note)
    return acts_bank.line_json(line)
