"""The goals page (`/reports/goals/`): the month's collection goals with their progress (the
`forecast` report's figures: collected to date, pace, gap), a form to set one and a CSV upload
(`access.acts_goals.goal_set`, `goal_import`, as `arrears goal` and the API do).

A refused or failed change writes nothing and its error is shown beside its field (422; a
refusal is the 403 page); a change that succeeds redirects back to the month with a line saying
what was done.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from arrears.access import acts_goals
from arrears.access.acting import By
from arrears.access.acts_reports import report_read
from arrears.core.dates import month_end, month_start, parse_month, today
from arrears.core.errors import DomainError
from arrears.ledger.interchange.errors import BookImportError
from arrears.web.views import _ip, page
from arrears.web.views_admin import _errors

SCOPES = ("property", "portfolio", "book")
UPLOAD_LIMIT = 1_000_000  # bytes


def _month(text: str) -> date:
    try:
        return parse_month(text)
    except ValueError:
        return month_start(today())


def _progress(request: HttpRequest, month: date, scope: str) -> dict[tuple[str, str], Any]:
    """Each goal's figures from the forecast report, by (key, currency), as of the month's end
    (today, for this month; none for a month to come)."""
    on = min(today(), month_end(month))
    if on < month:
        return {}
    doc = report_read(
        actor=request.user, name="forecast", as_of=on, by=None if scope == "book" else scope
    )
    return {(g["key"], g["currency"]): g for g in doc.data["goals"]}


@never_cache
@require_http_methods(["GET", "POST"])
@page("goal.view")
def goals_page(request: HttpRequest) -> HttpResponse:
    """GET: the month's goals (`month`, `scope`). POST `act=set` (month, scope, key, amount,
    currency) or `act=import` with `file`."""
    month = _month(request.GET.get("month", ""))
    scope = request.GET.get("scope", "property")
    scope = scope if scope in SCOPES else "property"
    errors: dict[str, str] = {}
    problems: list[dict[str, Any]] = []
    form: dict[str, str] = {}
    if request.method == "POST":
        by = By(request.user, "web", _ip(request))
        act = request.POST.get("act", "")
        form = {k: request.POST.get(k, "")[:64] for k in ("month", "scope", "key", "amount")}
        form["currency"] = request.POST.get("currency", "")[:3]
        form["act"] = act
        try:
            if act == "import":
                upload = request.FILES.get("file")
                if upload is None or upload.size is None or upload.size > UPLOAD_LIMIT:
                    errors = {"file": _("Choose a CSV file of at most 1 MB.")}
                else:
                    text = upload.read().decode("utf-8-sig", errors="replace")
                    done = acts_goals.goal_import(by=by, text=text, name=upload.name or "")
                    messages.success(request, _("%(n)d goals set.") % {"n": len(done)})
            else:
                goal = acts_goals.goal_set(
                    by=by,
                    month=parse_month(form["month"]),
                    kind=form["scope"],
                    key=form["key"],
                    amount=form["amount"],
                    currency=form["currency"] or None,
                )
                month, scope = goal.month, goal.scope_kind
                messages.success(
                    request,
                    _("The goal of %(month)s for %(key)s is %(amount)s %(currency)s.")
                    % {
                        "month": f"{goal.month:%Y-%m}",
                        "key": goal.scope_key or _("the book"),
                        "amount": f"{goal.amount:,.2f}",
                        "currency": goal.currency,
                    },
                )
        except ValueError:
            errors = {"month": _("A month is YYYY-MM.")}
        except BookImportError as exc:
            errors = {"file": _("Nothing was imported.")}
            problems = exc.extra["problems"]
        except DomainError as exc:
            errors = _errors(exc, "amount")
        if not errors:
            url = reverse("web:goals") + f"?month={month:%Y-%m}&scope={scope}"
            return redirect(url)
    goals = acts_goals.goal_list(by=By(request.user, "web", _ip(request)), month=month, kind=scope)
    figures = _progress(request, month, scope)
    rows = [{"goal": g, "figures": figures.get((g.scope_key, g.currency), {})} for g in goals]
    context: dict[str, Any] = {
        "month": f"{month:%Y-%m}",
        "scope": scope,
        "scopes": SCOPES,
        "rows": rows,
        "form": form,
        "errors": errors,
        "problems": problems,
    }
    return render(request, "web/goals.html", context, status=422 if errors else 200)
