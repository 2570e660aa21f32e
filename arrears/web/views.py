"""Pages: parse → one selector → render.

`/` is the portfolio aging by property, `/today/` the coordinator's day (the worklist and what the
day's run left to send or decide), `/accounts/<id>/` an account's ledger with its collection
activity.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from arrears.core.dates import today
from arrears.core.errors import NotFoundError
from arrears.ledger.aging import sum_lines
from arrears.ledger.selectors import AgingRow, aging_report
from arrears.ledger.selectors import account_ledger as ledger_of
from arrears.web.selectors import activity_get, day_get


def _as_of(request: HttpRequest) -> date:
    text = request.GET.get("as_of", "")
    try:
        return date.fromisoformat(text) if text else today()
    except ValueError:
        return today()


def portfolio(request: HttpRequest) -> HttpResponse:
    as_of = _as_of(request)
    sections = []
    # One aging by account; each property's line is the sum of its accounts' lines.
    for report in aging_report(as_of=as_of, by="account"):
        members: dict[str, list[AgingRow]] = defaultdict(list)
        for row in report.rows:
            members[row.key["property_id"]].append(row)
        width = len(report.buckets.boundaries) + 1
        rows = [
            {"key": {"property_id": property_id},
             "line": sum_lines([a.line for a in accounts], width), "accounts": accounts}
            for property_id, accounts in sorted(members.items())
        ]  # fmt: skip
        sections.append({"report": report, "rows": rows})
    return render(request, "web/portfolio.html", {"as_of": as_of, "sections": sections})


def account_ledger(request: HttpRequest, account_id: str) -> HttpResponse:
    try:
        ledger = ledger_of(account_id=account_id, as_of=_as_of(request))
        activity = activity_get(account_id=account_id)
    except NotFoundError as exc:
        raise Http404(exc.message) from None
    return render(request, "web/ledger.html",
                  {"ledger": ledger, "activity": activity, "today": today()})  # fmt: skip


def today_page(request: HttpRequest) -> HttpResponse:
    day = day_get(on=_as_of(request))
    return render(request, "web/today.html", {"day": day, "is_today": day.on == today()})
