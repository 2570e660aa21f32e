"""The reports on the pages: `/reports/` the reports of the registry (arrears.reports.registry)
with their summaries, `/reports/<name>/` one of them (a GET form: the day, the period when it
takes one, the grouping; then its subtitle, notes, charts drawn as SVG on the server, tables and
links to download it), `/reports/<name>/download/<fmt>/` its CSV, XLSX or PDF
(`reports.formats`, the same bytes as `arrears report NAME --format F --output FILE` and the
API's `GET /api/reports/NAME?format=F`).

Every report is read through `access.acts_reports.report_read` only, within the reader's scope
(a property's manager sees the groups of their properties). A report is a read: nothing here
writes. A report that takes a period and is opened with none shows the month to date.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from arrears.access.acts_reports import report_read
from arrears.core.dates import in_calendar, today
from arrears.core.errors import DomainError, ValidationError
from arrears.reports import formats, registry
from arrears.reports.charts import charts_svg
from arrears.reports.render import table_view
from arrears.web.views import page
from arrears.web.wording import error_words

DOWNLOADS = ("csv", "xlsx", "pdf")


def _spec(name: str) -> registry.Spec:
    found = registry.load().get(name)
    if found is None:
        raise Http404(name)
    return found


def _day(request: HttpRequest, key: str, label: str) -> date | None:
    """The day the query names under `key` (None when blank); ValidationError if it is none."""
    text = request.GET.get(key, "").strip()[:20]
    if not text:
        return None
    try:
        value = date.fromisoformat(text)
    except ValueError:
        value = None
    if value is None or not in_calendar(value):
        raise ValidationError(
            _("%(what)s: %(text)s is not a date (YYYY-MM-DD)") % {"what": label, "text": text},
            code="report_date",
        )
    return value


def _ask(request: HttpRequest, spec: registry.Spec) -> dict[str, Any]:
    """The report's arguments from the query: as of (`to` for a period), from, by, currency."""
    as_of = _day(request, "to", _("To")) if spec.period else None
    as_of = as_of or _day(request, "as_of", _("As of")) or today()
    date_from = _day(request, "from", _("From")) if spec.period else None
    if spec.period and date_from is None:
        date_from = as_of.replace(day=1)
    by = request.GET.get("by", "").strip()[:20] or None
    currency = request.GET.get("currency", "").strip()[:3].upper() or None
    return {"as_of": as_of, "date_from": date_from, "by": by, "currency": currency}


@require_GET
@page("report.view")
def reports_page(request: HttpRequest) -> HttpResponse:
    """The reports the reader may read, with what each says."""
    specs = sorted(registry.load().values(), key=lambda s: str(s.title))
    return render(request, "web/reports.html", {"specs": specs})


@require_GET
@page("report.view")
def report_page(request: HttpRequest, name: str) -> HttpResponse:
    """The report NAME as of the day asked (its charts, its tables, its downloads)."""
    spec = _spec(name)
    error, status, doc = "", 200, None
    ask: dict[str, Any] = {"as_of": today(), "date_from": None, "by": None, "currency": None}
    try:
        ask = _ask(request, spec)
        doc = report_read(actor=request.user, name=name, **ask)
    except DomainError as exc:
        if exc.kind in ("unauthenticated", "forbidden", "not_found"):
            raise
        error = _("Can't show the report: %(why)s.") % {
            "why": error_words(exc, _("show the report")).rstrip(".")
        }
        status = 422
    query = {
        k: v
        for k, v in (
            ("to" if spec.period else "as_of", ask["as_of"].isoformat()),
            ("from", ask["date_from"].isoformat() if ask["date_from"] else ""),
            ("by", ask["by"] or ""),
            ("currency", ask["currency"] or ""),
        )
        if v
    }
    # every text in a chart is escaped by reports.charts
    charts = (
        [(c, mark_safe(svg)) for c, svg in charts_svg(doc.charts)]  # noqa: S308
        if doc
        else []
    )
    return render(
        request,
        "web/report.html",
        {
            "spec": spec,
            "doc": doc,
            "ask": ask,
            "charts": charts,
            "tables": [table_view(t) for t in doc.tables] if doc else [],
            "query": urlencode(query),
            "downloads": DOWNLOADS,
            "error": error,
        },
        status=status,
    )


@require_GET
@page("report.view")
def report_download(request: HttpRequest, name: str, fmt: str) -> HttpResponseBase:
    """The report NAME as a file (CSV, XLSX or PDF), the page's query its arguments."""
    spec = _spec(name)
    if fmt not in DOWNLOADS:
        raise Http404(fmt)
    try:
        ask = _ask(request, spec)
        doc = report_read(actor=request.user, name=name, **ask)
    except DomainError as exc:
        if exc.kind in ("unauthenticated", "forbidden", "not_found"):
            raise
        return report_page(request, name)  # the form, saying what is wrong (422)
    response = HttpResponse(formats.to_bytes(doc, fmt), content_type=formats.CONTENT_TYPES[fmt])
    filename = formats.file_name(doc, fmt, ask["as_of"].isoformat())
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
