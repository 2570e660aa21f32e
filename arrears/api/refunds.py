"""Routes of refunds of credit balances (arrears.moveout.refunds, through arrears.access.acts):
the list (which proposes a refund of every credit balance found, as `arrears refund list` does),
approve, reject and the payables export. A refund's JSON is what `arrears refund list --format
json` prints for it.

The export answers with the batch, its refunds (each as the list shows it) and the payables
file's text (`csv`, the columns of docs/moveout.md): the file the command line writes, for a
client that has no disk of the server's to read. With nothing to export, the batch is "", the
refunds are none and the text is the header alone (a scheduled transfer always finds a file).
`{"batch": "RB-…"}` answers an exported batch again, changing nothing (`refund export --batch`).
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema

from arrears.access import acts
from arrears.api.common import ERRORS, by, day
from arrears.api.schemas import ErrorOut
from arrears.core.dates import today
from arrears.moveout.refunds import Export, refund_json

router = Router(tags=["refunds"])
# 409: a refusal by the state of the book (a refund larger than the credit left, code
# refund_above_credit; see api.STATUS).
CHANGE_ERRORS: dict[int, Any] = {**ERRORS, 409: ErrorOut}


class RefundOut(Schema):
    refund_id: str
    account_id: str
    kind: str
    amount: str
    currency: str
    origin: str
    arose_on: str
    due_on: str
    status: str
    late: str | None  # "late", "at_risk" (due within 3 days) or null
    decided_by: str | None
    decided_on: str | None
    reason: str | None
    txn_id: str | None
    exported_batch: str | None
    exported_at: str | None


class RefundsQuery(Schema):
    status: Literal["", "proposed", "approved", "rejected", "exported"] = ""
    late: bool = False


class ApproveIn(Schema):
    on: date | None = None  # the day it is paid out (default today)


class RejectIn(Schema):
    reason: str


class ExportIn(Schema):
    batch: str = ""  # an exported batch, to answer again


class ExportOut(Schema):
    batch: str
    refunds: list[RefundOut]
    csv: str


@router.get("/refunds", response={200: list[RefundOut], **ERRORS})
def refunds_list(request: HttpRequest, filters: Query[RefundsQuery]) -> Any:
    """The refunds the caller may see, by due date, after proposing a refund of every credit
    balance found (idempotent); `late`: those still to pay that are late or due within 3 days."""
    listed, _made = acts.refund_list(by=by(request), late=filters.late, status=filters.status)
    on = today()
    return [refund_json(r, on) for r in listed]


@router.post("/refunds/{refund_id}/approve", response={200: RefundOut, **CHANGE_ERRORS})
def refund_approve(request: HttpRequest, refund_id: str, body: ApproveIn) -> Any:
    """Approve a refund (a controller or an admin): its `refund` entry (txn_id the refund's id)
    is posted; 409 `refund_above_credit` when the credit left is smaller (nothing changes)."""
    on = day(body.on) if body.on else None
    refund = acts.refund_approve(by=by(request), refund_id=refund_id, on=on)
    return refund_json(refund, today())


@router.post("/refunds/{refund_id}/reject", response={200: RefundOut, **CHANGE_ERRORS})
def refund_reject(request: HttpRequest, refund_id: str, body: RejectIn) -> Any:
    """Reject a refund, saying why (a controller or an admin)."""
    refund = acts.refund_reject(by=by(request), refund_id=refund_id, reason=body.reason)
    return refund_json(refund, today())


@router.post("/refunds/export", response={200: ExportOut, **CHANGE_ERRORS})
def refunds_export(request: HttpRequest, body: ExportIn) -> Any:
    """Export the approved refunds not yet exported as one batch (each once), answering the
    batch, its refunds and the payables file's text; `batch`: an exported batch's again."""
    with tempfile.TemporaryDirectory(prefix="arrears-payables-") as folder:
        output = Path(folder) / "payables.csv"
        done: Export
        if body.batch:
            done = acts.refund_batch(by=by(request), batch=body.batch, output=output, to="api")
        else:
            done = acts.refunds_export(by=by(request), output=output, to="api")
        text = output.read_text(encoding="utf-8")
    on = today()
    return {"batch": done.batch, "refunds": [refund_json(r, on) for r in done.refunds], "csv": text}
