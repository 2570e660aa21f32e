"""Routes of closed periods: where the book is closed, a controller's close and reopening of a
month, through the same audited services as `arrears period` and the periods page
(`access.services.period_close`, `period_reopen`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status

from arrears.access.selectors import authorize
from arrears.access.services import period_close, period_reopen
from arrears.api.common import ERRORS, client_ip
from arrears.api.schemas import ErrorOut
from arrears.core.dates import today
from arrears.ledger import periods
from arrears.ledger.models import PeriodEvent

router = Router(tags=["periods"])
WRITES: dict[int, Any] = {**ERRORS, 409: ErrorOut}


class MonthIn(Schema):
    month: str  # YYYY-MM


class ReopenIn(Schema):
    month: str
    reason: str


class PeriodEventOut(Schema):
    month: str
    kind: str
    closed_through: date | None
    at: datetime
    actor: str
    reason: str


class PeriodsOut(Schema):
    closed_through: date | None
    first_open_day: date | None
    events: list[PeriodEventOut]


def _event(e: PeriodEvent) -> dict[str, Any]:
    return {
        "month": periods.label(e.month),
        "kind": e.kind,
        "closed_through": e.closed_through,
        "at": e.at,
        "actor": e.actor,
        "reason": e.reason,
    }


@router.get("/periods", response={200: PeriodsOut, **ERRORS})
def periods_get(request: HttpRequest) -> Any:
    """Where the book is closed (the last day of the last closed month, or null) and every close
    and reopening, the latest first."""
    authorize(request.user, "period.view")
    through = periods.closed_through()
    return {
        "closed_through": through,
        "first_open_day": periods.first_open_day(through),
        "events": [_event(e) for e in periods.period_list()],
    }


@router.post("/periods/close", response={201: PeriodEventOut, **WRITES})
def periods_close(request: HttpRequest, body: MonthIn) -> Any:
    """Close a month that has ended (`YYYY-MM`): the first close may name any, each later one
    the month after the last closed. 409 `period_closed` out of order."""
    month = periods.parse_month(body.month)
    event = period_close(
        month=month, on=today(), actor=request.user, via="api", ip=client_ip(request)
    )
    return Status(201, _event(event))


@router.post("/periods/reopen", response={201: PeriodEventOut, **WRITES})
def periods_reopen(request: HttpRequest, body: ReopenIn) -> Any:
    """Reopen the latest closed month, saying why (on the audit log)."""
    month = periods.parse_month(body.month)
    event = period_reopen(
        month=month, reason=body.reason, actor=request.user, via="api", ip=client_ip(request)
    )
    return Status(201, _event(event))
