"""The periods page (controllers and admins): where the book is closed, every close and
reopening, and the forms to close the next month or reopen the latest one.

Each change goes through the audited service the CLI and the API call
(`access.services.period_close`, `period_reopen`), which authorizes its own verb; a refused or
failed change writes nothing and its error is shown beside its field, status 422. A change that
succeeds redirects (POST-redirect-GET) with a line saying what was done.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from arrears.access.services import period_close, period_reopen
from arrears.core.dates import add_months, month_start, today
from arrears.core.errors import DomainError
from arrears.ledger import periods
from arrears.web.views import _ip, page
from arrears.web.views_admin import _errors


@never_cache
@require_http_methods(["GET", "POST"])
@page("period.view")
def periods_page(request: HttpRequest) -> HttpResponse:
    """GET: the page. POST `act=close` with `month`, or `act=reopen` with `month` and `reason`."""
    errors: dict[str, str] = {}
    form: dict[str, str] = {}
    if request.method == "POST":
        act = request.POST.get("act", "")
        form = {
            "act": act,
            "month": request.POST.get("month", "")[:20],
            "reason": request.POST.get("reason", "")[: periods.REASON_LIMIT + 1],
        }
        try:
            month = periods.parse_month(form["month"])
            if act == "reopen":
                period_reopen(
                    month=month,
                    reason=form["reason"],
                    actor=request.user,
                    via="web",
                    ip=_ip(request),
                )
                said = _("%(month)s reopened.")
            else:
                period_close(
                    month=month, on=today(), actor=request.user, via="web", ip=_ip(request)
                )
                said = _("%(month)s closed.")
        except DomainError as exc:
            errors = _errors(exc, "month")
        else:
            messages.success(request, said % {"month": periods.label(month)})
            return redirect("web:periods")
    through = periods.closed_through()
    next_month = periods.first_open_day(through) or add_months(month_start(today()), -1)
    context: dict[str, Any] = {
        "through": through,
        "through_month": periods.label(through) if through else "",
        "first_open": periods.first_open_day(through),
        "next_month": periods.label(next_month),
        "events": periods.period_list(),
        "form": form,
        "errors": errors,
    }
    return render(request, "web/periods.html", context, status=422 if errors else 200)
