"""Routes of the monthly collection goals (docs/metrics.md, "Forecast vs actual"), through
arrears.access.acts_goals: list a month's goals, set one, import a CSV of them, propose them (and
set the proposals). A goal's JSON is what `arrears goal list --format json` prints for it; a
proposal's what `arrears goal propose --format json` prints."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import File, Query, Router, Schema
from ninja.files import UploadedFile

from arrears.access import acts_goals
from arrears.api.common import ERRORS, by
from arrears.api.schemas import ErrorOut
from arrears.core.errors import ValidationError

router = Router(tags=["goals"])
# 400: a CSV refused whole, code import_invalid, its problems in `extra` (as the book's import).
IMPORT_ERRORS: dict[int, Any] = {**ERRORS, 400: ErrorOut}

Scope = Literal["property", "portfolio", "book"]
UPLOAD_LIMIT = 1_000_000  # bytes: a goals CSV is a few hundred lines


class GoalOut(Schema):
    month: str
    scope: str
    key: str
    currency: str
    amount: str
    source: str
    set_by: str
    set_at: str


class ProposalOut(Schema):
    month: str
    scope: str
    key: str
    currency: str
    window: list[str]
    due_window: str
    collected_window: str
    rate: str | None
    due_month: str
    base: str
    amount: str


class GoalsQuery(Schema):
    month: str  # YYYY-MM
    scope: Scope | None = None


class GoalIn(Schema):
    month: str  # YYYY-MM
    scope: Scope
    key: str = ""
    amount: str
    currency: str | None = None


class ProposeIn(Schema):
    month: str
    scope: Scope = "property"
    apply: bool = False


def _month(text: str) -> date:
    from arrears.core.dates import parse_month

    try:
        return parse_month(text)
    except ValueError:
        raise ValidationError(
            _("not a month (YYYY-MM): {month}"),
            code="month_invalid",
            month=text[:20],
            field="month",
        ) from None


@router.get("/goals", response={200: list[GoalOut], **ERRORS})
def goals_list(request: HttpRequest, filters: Query[GoalsQuery]) -> Any:
    """The goals of the month the caller may read (a manager: their properties')."""
    found = acts_goals.goal_list(by=by(request), month=_month(filters.month), kind=filters.scope)
    return [acts_goals.goal_json(g) for g in found]


@router.post("/goals", response={200: GoalOut, **ERRORS})
def goal_set(request: HttpRequest, body: GoalIn) -> Any:
    """Set a month's goal (a changed goal's earlier amount is on the audit log)."""
    goal = acts_goals.goal_set(
        by=by(request),
        month=_month(body.month),
        kind=body.scope,
        key=body.key,
        amount=body.amount,
        currency=body.currency,
    )
    return acts_goals.goal_json(goal)


@router.post("/goals/import", response={200: list[GoalOut], **IMPORT_ERRORS})
def goals_import(request: HttpRequest, file: UploadedFile = File(...)) -> Any:  # noqa: B008
    """Set the goals of a CSV (month,scope,key,amount[,currency]), all or none: 400
    `import_invalid` (as the book's import) lists each problem (file, line, column, reason)."""
    name = (file.name or "goals.csv")[:200]
    raw = file.read(UPLOAD_LIMIT + 1)
    if len(raw) > UPLOAD_LIMIT:
        raise ValidationError(
            _("the file is larger than 1 MB"), code="file_too_large", field="file"
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(
            "the file is not UTF-8 text", code="file_not_text", field="file"
        ) from None
    done = acts_goals.goal_import(by=by(request), text=text, name=name)
    return [acts_goals.goal_json(g) for g in done]


@router.post("/goals/proposals", response={200: list[ProposalOut], **ERRORS})
def goals_propose(request: HttpRequest, body: ProposeIn) -> Any:
    """The month's goals proposed from the last 12 full months' collection rate; with `apply`,
    set (source proposed)."""
    made = acts_goals.goal_propose(
        by=by(request), month=_month(body.month), kind=body.scope, apply=body.apply
    )
    return [p.as_json() for p in made]
