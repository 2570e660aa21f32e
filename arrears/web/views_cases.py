"""The cases pages: `/cases/` the cases the user may see (`access.acts_legal.cases_visible`: a
firm's attorney or paralegal their firm's, a manager their buildings', the company every one),
by firm and status, with the firm's hearings as a calendar file (`/cases/calendar.ics`); and
`/cases/<id>/` one case with its history and, for those who may record a case's steps
(`case.update`), the form that records one (`access.acts_legal.case_update`, as `arrears case
update` and the API do).

A case out of the user's scope is not found (404), as one that does not exist. A refused or
mistaken update writes nothing and the page says why beside its field (403 for a refusal, 422
for a mistake); an update that succeeds redirects back with a line saying what was recorded.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from arrears.access import acts_cases, acts_legal, permissions
from arrears.access.selectors import can, profile_of
from arrears.core.dates import in_calendar, today
from arrears.core.errors import DomainError, ValidationError
from arrears.legal.models import CASE_STATUSES
from arrears.legal.selectors import firms
from arrears.legal.statuses import MONEY_STATUSES, UPDATES
from arrears.web.settlements import settlement_context
from arrears.web.views import by, page
from arrears.web.wording import error_words

# What the list shows: the open cases (default), one status, or every case.
SHOWS = ("", *CASE_STATUSES, "all")


def _profile(request: HttpRequest) -> Any:
    return profile_of(request.user)


def _firm_user(request: HttpRequest) -> bool:
    profile = _profile(request)
    return profile is not None and profile.role in permissions.FIRM_ROLES


@never_cache
@require_GET
@page("case.view")
def cases_page(request: HttpRequest) -> HttpResponse:
    """The cases, newest referral first (`?firm=`, `?status=`: a status, or `all`)."""
    return _cases(request)


def _cases(request: HttpRequest, *, error: str = "", status_code: int = 200) -> HttpResponse:
    status = request.GET.get("status", "")
    status = status if status in SHOWS else ""
    mine = _firm_user(request)
    firm = "" if mine else request.GET.get("firm", "")[:100].strip()
    listed = acts_legal.cases_visible(request.user, firm=firm, open_only=status in ("", "open"))
    if status and status != "all":
        listed = [c for c in listed if c.status == status]
    names = [] if mine else [f.name for f in firms()]
    profile = _profile(request)
    return render(
        request,
        "web/cases.html",
        {
            "rows": [{"c": c, "status": CASE_STATUSES.get(c.status, c.status)} for c in listed],
            "status": status,
            "firm": profile.firm if mine else firm,
            "firms": names,
            "mine": mine,
            "statuses": list(CASE_STATUSES.items()),
            # the calendar of one firm: a firm's users theirs, the others the one they chose
            "calendar_firm": profile.firm if mine else firm,
            "may_agenda": can(request.user, "agenda.view"),
            "error": error,
        },
        status=status_code,
    )


@require_GET
@page("case.view")
def cases_calendar(request: HttpRequest) -> HttpResponse:
    """The firm's hearings as an iCalendar file (a download)."""
    try:
        calendar = acts_cases.case_calendar(
            actor=request.user, firm=request.GET.get("firm", "")[:100]
        )
    except ValidationError:  # no firm named: the list says to choose one
        said = _("Choose a firm for its hearings as a calendar file.")
        return _cases(request, error=said, status_code=422)
    response = HttpResponse(calendar.data, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{calendar.filename}"'
    return response


def _statuses(request: HttpRequest) -> list[tuple[str, Any]]:
    """The statuses the user may record: a paralegal none about money, a firm's user no
    recall (`acts_legal.case_update`)."""
    role = getattr(_profile(request), "role", None)
    out = []
    for code in UPDATES:
        if role == permissions.PARALEGAL and code in MONEY_STATUSES:
            continue
        if role in permissions.FIRM_ROLES and code == "recalled":
            continue
        out.append((code, CASE_STATUSES[code]))
    return out


def _case_page(
    request: HttpRequest,
    case_id: int,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    offer: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    case = acts_legal.case_visible(request.user, case_id)
    role = getattr(_profile(request), "role", None)
    may_update = can(request.user, "case.update") and case.is_open
    return render(
        request,
        "web/case.html",
        {
            "case": case,
            "status_words": CASE_STATUSES.get(case.status, case.status),
            "events": [
                {"e": e, "status": CASE_STATUSES.get(e.status, e.status)}
                for e in case.events.order_by("at", "pk")
            ],
            "may_update": may_update,
            "may_money": role != permissions.PARALEGAL,
            "update_statuses": _statuses(request) if may_update else [],
            "errors": errors or {},
            "form": form or {"on": today().isoformat()},
            "today": today(),
            # its settlements and net recovery, and their forms (web.settlements)
            **settlement_context(request, case, offer or {}),
        },
        status=status,
    )


@never_cache
@require_GET
@page("case.view")
def case_page(request: HttpRequest, case_id: int) -> HttpResponse:
    """One case: its facts, its history, the form that records its next step."""
    return _case_page(request, case_id)


FIELDS = ("status", "on", "index_number", "court", "amount", "note")


def _day(text: str) -> date | None:
    if not text.strip():
        return None
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        day = None
    if day is None or not in_calendar(day):
        raise ValidationError(
            _("%(text)s is not a date") % {"text": text[:20]}, code="case_date_bad", field="on"
        )
    return day


def _amount(text: str) -> Decimal | None:
    if not text.strip():
        return None
    try:
        value = Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValidationError(
            _("%(text)s is not an amount (like 1200.00)") % {"text": text[:20]},
            code="case_amount_bad",
            field="amount",
        )
    return value


@require_POST
@page("case.view")
def case_update(request: HttpRequest, case_id: int) -> HttpResponse:
    """Record a case's step: filed (with its index number), a hearing's day, a judgment, …"""
    form = {name: request.POST.get(name, "")[:500] for name in FIELDS}
    doing = _("update case %(case)s") % {"case": case_id}
    try:
        case = acts_legal.case_update(
            by=by(request),
            case_id=case_id,
            status=form["status"],
            on=_day(form["on"]),
            index_number=form["index_number"],
            court=form["court"],
            amount=_amount(form["amount"]),
            note=form["note"],
        )
    except DomainError as exc:
        if exc.kind in ("unauthenticated", "not_found"):
            raise
        field = exc.extra.get("field", "") if exc.kind != "forbidden" else ""
        said = _("Can't %(doing)s: %(why)s.") % {
            "doing": doing,
            "why": error_words(exc, doing).rstrip("."),
        }
        return _case_page(
            request,
            case_id,
            errors={field if field in FIELDS else "form": said},
            form=form,
            status=403 if exc.kind == "forbidden" else 422,
        )
    messages.success(
        request,
        _("Case %(case)s: %(status)s on %(on)s recorded.")
        % {
            "case": case.pk,
            "status": CASE_STATUSES.get(case.status, case.status),
            "on": case.status_on,
        },
    )
    return redirect("web:case", case_id=case.pk)
