"""The assignments page (`/assignments/`): who works which property, portfolio or account,
and who covers for whom while they are out; the forms to assign, unassign, add a coverage and
end one (`access.acts.assign`, `unassign`, `coverage_add`, `coverage_end`, as `arrears assign`
and the API do).

Everyone who may see assignments sees the page (`assignment.view`); the acts say who may do
what (a coordinator for herself only, a manager within his properties, an admin for anyone). A
refused or failed change writes nothing; its error is shown beside its field, status 422. A
change that succeeds redirects back with a line saying what was done.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from arrears.access import acts, permissions
from arrears.access.assigned import coverage_list, target_of, workers
from arrears.access.assignments import TARGETS, target_from
from arrears.access.selectors import assignments_visible, properties_visible, role_of
from arrears.core.dates import today
from arrears.core.errors import DomainError
from arrears.web.views import _ip, page

FIELDS = {"account": "account_id", "property": "property_id", "portfolio": "portfolio"}


def _by(request: HttpRequest) -> acts.By:
    return acts.By(request.user, "web", _ip(request))


def _errors(exc: DomainError, default: str) -> dict[str, str]:
    """The error keyed by the field it is about; a refusal shows above the form."""
    if exc.kind == "unauthenticated":
        raise exc
    if exc.kind == "forbidden":
        return {"form": exc.message}
    field = str(exc.extra.get("field") or default)
    return {field: exc.message}


def _page(request: HttpRequest, *, status: int = 200, **context: Any) -> HttpResponse:
    on = today()
    visible = properties_visible(request.user).order_by("property_id")
    rows = []
    for a in assignments_visible(request.user, on=on):
        kind, code = target_of(a)
        rows.append({"a": a, "kind": kind, "code": code})
    values = {
        "on": on,
        "rows": rows,
        "coverages": list(coverage_list(since=on)),
        "workers": workers(),
        "properties": list(visible.values_list("property_id", "name")),
        "portfolios": sorted(
            set(visible.exclude(portfolio="").values_list("portfolio", flat=True))
        ),
        "targets": TARGETS,
        "others": permissions.allowed(role_of(request.user), "assignment.others"),
        "can_cover": permissions.allowed(role_of(request.user), "coverage.add"),
        "me": request.user.get_username(),
        "form": {},
        "cover": {},
        "errors": {},
        **context,
    }
    return render(request, "web/assignments.html", values, status=status)


def _refused(request: HttpRequest, exc: DomainError, default: str, **context: Any) -> HttpResponse:
    """The page again with the error beside its field (a refusal above the forms): 403 for a
    refusal, 422 for a mistake."""
    status = 403 if exc.kind == "forbidden" else 422
    return _page(request, errors=_errors(exc, default), status=status, **context)


def _target(request: HttpRequest) -> Any:
    kind = request.POST.get("kind", "")
    code = request.POST.get("code", "")[:64]
    return target_from(**({FIELDS[kind]: code} if kind in FIELDS else {}))


@never_cache
@require_http_methods(["GET", "POST"])
@page("assignment.view")
def assignments_page(request: HttpRequest) -> HttpResponse:
    """The assignments in force and the coverages not over; POST: assign a target to a user."""
    if request.method == "GET":
        return _page(request)
    form = {f: request.POST.get(f, "")[:150] for f in ("user", "kind", "code")}
    try:
        made = acts.assign(by=_by(request), username=form["user"], target=_target(request))
    except DomainError as exc:
        return _refused(request, exc, "code", form=form)
    kind, code = target_of(made)
    messages.success(
        request,
        _("%(target)s assigned to %(user)s.")
        % {"target": capfirst(f"{_(kind)} {code}"), "user": form["user"]},
    )
    return redirect("web:assignments")


@require_POST
@page("assignment.view")
def assignment_remove(request: HttpRequest) -> HttpResponse:
    """End the assignment of a target (the row's button)."""
    try:
        ended = acts.unassign(by=_by(request), target=_target(request))
    except DomainError as exc:
        return _refused(request, exc, "form")
    kind, code = target_of(ended)
    messages.success(
        request,
        _("%(target)s is no longer %(user)s's.")
        % {"target": capfirst(f"{_(kind)} {code}"), "user": ended.user.get_username()},
    )
    return redirect("web:assignments")


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


@require_POST
@page("assignment.view")
def coverage_add(request: HttpRequest) -> HttpResponse:
    """Add a coverage: a backup works the accounts of someone out, those days."""
    cover = {f: request.POST.get(f, "")[:300] for f in ("out", "backup", "from", "to", "note")}
    starts_on, ends_on = _day(cover["from"]), _day(cover["to"])
    if starts_on is None or ends_on is None:
        field = "from" if starts_on is None else "to"
        errors = {field: _("A date, please (YYYY-MM-DD).")}
        return _page(request, cover=cover, errors=errors, status=422)
    try:
        made = acts.coverage_add(
            by=_by(request),
            out=cover["out"],
            backup=cover["backup"],
            starts_on=starts_on,
            ends_on=ends_on,
            note=cover["note"],
        )
    except DomainError as exc:
        return _refused(request, exc, "out", cover=cover)
    messages.success(
        request,
        _("%(backup)s covers for %(out)s from %(from)s to %(to)s.")
        % {
            "backup": cover["backup"],
            "out": cover["out"],
            "from": made.starts_on,
            "to": made.ends_on,
        },
    )
    return redirect("web:assignments")


@require_POST
@page("assignment.view")
def coverage_end(request: HttpRequest, coverage_id: int) -> HttpResponse:
    """End a coverage from today: the one out is back."""
    try:
        ended = acts.coverage_end(by=_by(request), coverage_id=coverage_id)
    except DomainError as exc:
        return _refused(request, exc, "form")
    messages.success(
        request,
        _("%(out)s is back: %(backup)s no longer covers from %(on)s.")
        % {
            "out": ended.user_out.get_username(),
            "backup": ended.backup.get_username(),
            "on": ended.ended_on,
        },
    )
    return redirect("web:assignments")
