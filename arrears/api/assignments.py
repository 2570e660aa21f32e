"""Routes of who works which account: the assignments and coverage, and their acts
(`access.acts.assign`, `unassign`, `coverage_add`, `coverage_end`), the same as `arrears assign`
and the admin's assignments page."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status

from arrears.access import acts
from arrears.access.assigned import coverage_list, target_of
from arrears.access.assignments import target_from
from arrears.access.models import Assignment, Coverage
from arrears.access.selectors import assignments_visible, authorize
from arrears.api.common import ERRORS, by, day
from arrears.core.dates import today

router = Router(tags=["assignments"])


class TargetIn(Schema):
    """One of an account, a property or a portfolio."""

    account_id: str = ""
    property_id: str = ""
    portfolio: str = ""


class AssignIn(TargetIn):
    user: str


class AssignmentOut(Schema):
    id: int
    user: str
    kind: str  # account, property, portfolio
    target: str
    since: date
    ended_on: date | None
    assigned_by: str


class CoverageIn(Schema):
    out: str
    backup: str
    starts_on: date
    ends_on: date
    note: str = ""


class CoverageOut(Schema):
    id: int
    out: str
    backup: str
    starts_on: date
    ends_on: date
    ended_on: date | None
    note: str
    made_by: str


def _assignment(a: Assignment) -> dict[str, Any]:
    kind, code = target_of(a)
    return {
        "id": a.pk,
        "user": a.user.username,
        "kind": kind,
        "target": code,
        "since": a.since,
        "ended_on": a.ended_on,
        "assigned_by": a.assigned_by,
    }


def _coverage(c: Coverage) -> dict[str, Any]:
    return {
        "id": c.pk,
        "out": c.user_out.username,
        "backup": c.backup.username,
        "starts_on": c.starts_on,
        "ends_on": c.ends_on,
        "ended_on": c.ended_on,
        "note": c.note,
        "made_by": c.made_by,
    }


def _target(body: TargetIn) -> Any:
    return target_from(
        account_id=body.account_id, property_id=body.property_id, portfolio=body.portfolio
    )


@router.get("/assignments", response={200: list[AssignmentOut], **ERRORS})
def assignments_get(
    request: HttpRequest,
    user: str = Query("", max_length=150),
    date: date | None = None,
    all: bool = False,
) -> Any:
    """The assignments in force on `date` (today), of `user` (everyone's); `all`: every one
    ever made, ended too."""
    rows = assignments_visible(request.user, username=user, on=None if all else day(date))
    return [_assignment(a) for a in rows]


@router.post("/assignments", response={201: AssignmentOut, **ERRORS})
def assignments_add(request: HttpRequest, body: AssignIn) -> Any:
    """Give an account, a property or a portfolio to a coordinator from today (the most specific
    assignment wins); a coordinator may take accounts for herself only."""
    made = acts.assign(by=by(request), username=body.user, target=_target(body))
    return Status(201, _assignment(made))


@router.post("/assignments/remove", response={200: AssignmentOut, **ERRORS})
def assignments_remove(request: HttpRequest, body: TargetIn) -> Any:
    """End the assignment of an account, a property or a portfolio from today."""
    return _assignment(acts.unassign(by=by(request), target=_target(body)))


@router.get("/coverage", response={200: list[CoverageOut], **ERRORS})
def coverage_get(request: HttpRequest, all: bool = False) -> Any:
    """The coverages not over yet (`all`: every one), the soonest first."""
    authorize(request.user, "assignment.view")
    return [_coverage(c) for c in coverage_list(since=None if all else today())]


@router.post("/coverage", response={201: CoverageOut, **ERRORS})
def coverage_add(request: HttpRequest, body: CoverageIn) -> Any:
    """`backup` works the accounts of `out` from `starts_on` to `ends_on`, both included."""
    made = acts.coverage_add(
        by=by(request),
        out=body.out,
        backup=body.backup,
        starts_on=day(body.starts_on),
        ends_on=day(body.ends_on),
        note=body.note,
    )
    return Status(201, _coverage(made))


@router.post("/coverage/{coverage_id}/end", response={200: CoverageOut, **ERRORS})
def coverage_end(request: HttpRequest, coverage_id: int) -> Any:
    """End a coverage from today: the one who was out is back."""
    return _coverage(acts.coverage_end(by=by(request), coverage_id=coverage_id))
