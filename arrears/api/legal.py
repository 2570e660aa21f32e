"""Routes of firms and the cases referred to them (arrears.legal, through
arrears.access.acts_legal): the firms and their terms, a firm added (an admin), the cases a user
may see (a firm's users: their firm's), one case with its history, and a case's step recorded
(`arrears case update`). A case's JSON is what `arrears case show --format json` prints."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status

from arrears.access import acts_cases, acts_legal
from arrears.access.selectors import authorize
from arrears.api.common import ERRORS, by, day
from arrears.legal.selectors import case_json, case_row, firm_json, firms
from arrears.legal.statuses import UPDATES

router = Router(tags=["legal"])


class FirmOut(Schema):
    name: str
    kind: str
    contingency_percent: str
    flat_fee: str
    advances_court_costs: bool
    jurisdictions: list[str]
    email: str


class FirmIn(Schema):
    name: str = Field(max_length=100)
    kind: Literal["law", "agency"] = "law"
    contingency_percent: Decimal = Field(Decimal("0"), ge=0, le=100, decimal_places=2)
    flat_fee: Decimal = Field(Decimal("0"), ge=0, max_digits=12, decimal_places=2)
    advances_court_costs: bool = False
    jurisdictions: list[str] = Field(default_factory=list, max_length=60)
    email: str = Field("", max_length=254)


class CaseRowOut(Schema):
    case_id: int
    account_id: str
    firm: str
    status: str
    status_on: str | None
    index_number: str | None
    hearing_on: str | None
    balance_referred: str | None
    ended_on: str | None


class CaseOut(CaseRowOut):
    referred_on: str
    referred_by: str
    court: str | None
    judgment_amount: str | None
    judgment_on: str | None
    packet: str | None
    recovery: dict[str, str]  # what the case recovered, the firm's fees, the net
    events: list[dict[str, Any]]


class CasesQuery(Schema):
    firm: str = ""
    all: bool = False  # the ended cases too


class CaseUpdateIn(Schema):
    status: Literal[UPDATES]  # type: ignore[valid-type]
    on: date | None = None  # the day (a hearing's day); default today
    index_number: str = Field("", max_length=60)
    court: str = Field("", max_length=200)
    amount: Decimal | None = Field(None, ge=0, max_digits=14, decimal_places=2)
    note: str = Field("", max_length=500)


@router.get("/firms", response={200: list[FirmOut], **ERRORS})
def firm_list(request: HttpRequest) -> Any:
    """The firms and agencies, with their fee terms."""
    authorize(request.user, "firm.view")
    return [firm_json(f) for f in firms()]


@router.post("/firms", response={201: FirmOut, **ERRORS})
def firm_add(request: HttpRequest, body: FirmIn) -> Any:
    """Add a law firm or a collection agency (an admin)."""
    firm = acts_legal.firm_add(
        by=by(request),
        name=body.name,
        kind=body.kind,
        contingency_percent=body.contingency_percent,
        flat_fee=body.flat_fee,
        advances_court_costs=body.advances_court_costs,
        jurisdictions=body.jurisdictions,
        email=body.email,
    )
    return Status(201, firm_json(firm))


@router.get("/cases", response={200: list[CaseRowOut], **ERRORS})
def case_list(request: HttpRequest, query: Query[CasesQuery]) -> Any:
    """The cases the user may see, newest first (open ones unless `all`)."""
    authorize(request.user, "case.view")
    cases = acts_legal.cases_visible(request.user, firm=query.firm, open_only=not query.all)
    return [case_row(c) for c in cases]


@router.get("/cases/{int:case_id}", response={200: CaseOut, **ERRORS})
def case_show(request: HttpRequest, case_id: int) -> Any:
    """One case with its history (404 for a case the user may not see)."""
    authorize(request.user, "case.view")
    return acts_legal.case_show(actor=request.user, case_id=case_id)


@router.post("/cases/{int:case_id}/updates", response={200: CaseOut, **ERRORS})
def case_update(request: HttpRequest, case_id: int, body: CaseUpdateIn) -> Any:
    """Record a case's step as the firm reports it: filed, a hearing, a judgment, …"""
    case = acts_legal.case_update(
        by=by(request),
        case_id=case_id,
        status=body.status,
        on=day(body.on) if body.on else None,
        index_number=body.index_number,
        court=body.court,
        amount=body.amount,
        note=body.note,
    )
    return case_json(case)


class CalendarQuery(Schema):
    firm: str = Field("", max_length=100)  # a firm's users: their own (the default)


@router.get("/cases/calendar.ics", response={200: None, **ERRORS})
def case_calendar(request: HttpRequest, query: Query[CalendarQuery]) -> Any:
    """The firm's hearings as an iCalendar file (RFC 5545): an all-day event per case and
    hearing, its UID stable, those moved or of an ended case cancelled. A firm's users get their
    own firm's only (another firm: 404)."""
    calendar = acts_cases.case_calendar(actor=request.user, firm=query.firm)
    response = HttpResponse(calendar.data, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{calendar.filename}"'
    return response


@router.get("/cases/{case_id}/packet", response={200: None, **ERRORS})
def case_packet(request: HttpRequest, case_id: int) -> Any:
    """The case file (ZIP) of a case the user may see (404 for another firm's case)."""
    authorize(request.user, "case.view")
    name, data = acts_legal.case_packet(actor=request.user, case_id=case_id)
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
