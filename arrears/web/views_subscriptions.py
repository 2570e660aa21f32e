"""The subscriptions page (`/reports/subscriptions/`): the reports sent by email on a schedule,
each with its next send and last sends; the form to add one and the buttons to pause, resume
and remove one (`access.acts_subscriptions`, as `arrears subscription` and the API do).

Everyone who may read reports sees the page (`report.view`): an admin or a controller every
subscription and a form for anyone, anyone else theirs and a form for themselves. A refused or
failed change writes nothing; its error is shown beside its field (422) or above the form (403).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from arrears.access import acts, permissions
from arrears.access.acts_subscriptions import (
    subscription_add,
    subscription_change,
    subscription_remove,
    subscriptions_list,
)
from arrears.access.selectors import role_of
from arrears.core.errors import DomainError
from arrears.reports import registry
from arrears.reports.models import SUBSCRIPTION_FORMATS
from arrears.reports.schedules import WEEKDAYS
from arrears.web.views import _ip, page

FIELDS = ("report", "to", "every", "format", "by")


def _by(request: HttpRequest) -> acts.By:
    return acts.By(request.user, "web", _ip(request))


def _schedules() -> list[tuple[str, list[str]]]:
    """The schedules the form offers, grouped: daily, each weekday, each day of the month."""
    return [
        ("daily", ["daily"]),
        ("weekly", [f"weekly:{d}" for d in WEEKDAYS]),
        ("monthly", [f"monthly:{n}" for n in range(1, 29)] + ["monthly:last"]),
    ]


def _page(request: HttpRequest, *, status: int = 200, **context: Any) -> HttpResponse:
    me = request.user.get_username()
    values = {
        "listed": subscriptions_list(actor=request.user),
        "reports": sorted(registry.load().values(), key=lambda s: s.name),
        "schedules": _schedules(),
        "formats": SUBSCRIPTION_FORMATS,
        "bys": registry.BYS,
        "others": permissions.allowed(role_of(request.user), "subscription.others"),
        "me": me,
        "form": {"to": me, "every": "monthly:1", "format": "pdf"},
        "errors": {},
        **context,
    }
    return render(request, "web/subscriptions.html", values, status=status)


def _refused(request: HttpRequest, exc: DomainError, default: str, **context: Any) -> HttpResponse:
    if exc.kind == "unauthenticated":
        raise exc
    if exc.kind in ("forbidden", "not_found"):
        errors = {"form": exc.message}
        status = 403 if exc.kind == "forbidden" else 404
    else:
        errors = {str(exc.extra.get("field") or default): exc.message}
        status = 422
    return _page(request, errors=errors, status=status, **context)


@never_cache
@require_http_methods(["GET", "POST"])
@page("report.view")
def subscriptions_page(request: HttpRequest) -> HttpResponse:
    """The subscriptions; POST: add one."""
    if request.method == "GET":
        return _page(request)
    form = {f: request.POST.get(f, "")[: 2000 if f == "to" else 60].strip() for f in FIELDS}
    try:
        made = subscription_add(
            by=_by(request),
            report=form["report"],
            recipients=form["to"].replace(";", ",").split(","),
            every=form["every"],
            format=form["format"],
            report_by=form["by"] or None,
        )
    except DomainError as exc:
        return _refused(request, exc, "report", form=form)
    messages.success(
        request,
        _("Subscription %(id)s: %(report)s, %(every)s, to %(to)s.")
        % {
            "id": made.pk,
            "report": made.report,
            "every": made.every,
            "to": ", ".join(made.recipients),
        },
    )
    return redirect("web:subscriptions")


def _change(request: HttpRequest, subscription_id: int, *, active: bool) -> HttpResponse:
    try:
        s = subscription_change(by=_by(request), subscription_id=subscription_id, active=active)
    except DomainError as exc:
        return _refused(request, exc, "form")
    text = _("Subscription %(id)s resumed.") if active else _("Subscription %(id)s paused.")
    messages.success(request, text % {"id": s.pk})
    return redirect("web:subscriptions")


@require_POST
@page("report.view")
def subscription_pause(request: HttpRequest, subscription_id: int) -> HttpResponse:
    """Pause a subscription (its row's button)."""
    return _change(request, subscription_id, active=False)


@require_POST
@page("report.view")
def subscription_resume(request: HttpRequest, subscription_id: int) -> HttpResponse:
    """Resume a paused subscription (its row's button)."""
    return _change(request, subscription_id, active=True)


@require_POST
@page("report.view")
def subscription_recipients(request: HttpRequest, subscription_id: int) -> HttpResponse:
    """Change who gets a subscription (its row's form)."""
    to = request.POST.get("to", "")[:2000]
    try:
        s = subscription_change(
            by=_by(request),
            subscription_id=subscription_id,
            recipients=to.replace(";", ",").split(","),
        )
    except DomainError as exc:
        return _refused(request, exc, "form")
    messages.success(
        request,
        _("Subscription %(id)s now goes to %(to)s.") % {"id": s.pk, "to": ", ".join(s.recipients)},
    )
    return redirect("web:subscriptions")


@require_POST
@page("report.view")
def subscription_remove_view(request: HttpRequest, subscription_id: int) -> HttpResponse:
    """Remove a subscription (its row's button): it sends no more, its sends are kept."""
    try:
        s = subscription_remove(by=_by(request), subscription_id=subscription_id)
    except DomainError as exc:
        return _refused(request, exc, "form")
    messages.success(request, _("Subscription %(id)s removed.") % {"id": s.pk})
    return redirect("web:subscriptions")
