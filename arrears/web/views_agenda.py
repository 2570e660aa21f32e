"""The monthly meeting with a firm on the pages: `/cases/agenda/` its agenda
(`access.acts_legal.agenda_read`, as `arrears legal agenda` and `GET /api/legal/agenda` read
it), with the PDF and the workbook to download and, for those who may (`minutes.record`), the
form that records the meeting's minutes, a note per case (`access.acts_legal.minutes_record`,
as `arrears legal minutes` does): each note goes to its case's timeline.

A firm's attorney or paralegal sees their own firm's agenda only; the company chooses a firm.
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from arrears.access import acts_legal, permissions
from arrears.access.selectors import can, profile_of
from arrears.core.dates import in_calendar, today
from arrears.core.errors import DomainError, ValidationError
from arrears.legal.selectors import firms
from arrears.reports.documents import agenda_pdf, agenda_xlsx
from arrears.web.views import by, page
from arrears.web.wording import error_words


def _firm_of(request: HttpRequest, asked: str) -> tuple[str, bool]:
    """The firm the agenda is of: a firm's user's own, or the one asked for; and whether the
    user is a firm's."""
    profile = profile_of(request.user)
    if profile is not None and profile.role in permissions.FIRM_ROLES:
        return profile.firm, True
    return asked[:100].strip(), False


def _month(text: str) -> str:
    text = text[:7].strip()
    return text or f"{today():%Y-%m}"


def _agenda_page(
    request: HttpRequest, *, firm: str, month: str, error: str = "", status: int = 200
) -> HttpResponse:
    firm, mine = _firm_of(request, firm)
    doc: dict[str, Any] | None = None
    if firm:
        try:
            doc = acts_legal.agenda_read(actor=request.user, firm=firm, month=month)
        except ValidationError as exc:
            error = error or _("Can't show the agenda: %(why)s.") % {
                "why": error_words(exc, _("show the agenda")).rstrip(".")
            }
            status = 422
    query = urlencode({"firm": firm, "month": month})
    return render(
        request,
        "web/agenda.html",
        {
            "a": doc,
            "firm": firm,
            "month": month,
            "mine": mine,
            "firms": [] if mine else [f.name for f in firms()],
            "query": query,
            "may_record": can(request.user, "minutes.record"),
            "today": today(),
            "error": error,
        },
        status=status,
    )


@never_cache
@require_GET
@page("agenda.view")
def agenda_page(request: HttpRequest) -> HttpResponse:
    """The agenda of a month's meeting with a firm (`?firm=`, `?month=YYYY-MM`)."""
    return _agenda_page(
        request, firm=request.GET.get("firm", ""), month=_month(request.GET.get("month", ""))
    )


@require_GET
@page("agenda.view")
def agenda_download(request: HttpRequest, kind: str) -> HttpResponse:
    """The agenda as the PDF or the workbook the command writes."""
    if kind not in ("pdf", "xlsx"):
        raise Http404(kind)
    firm, _mine = _firm_of(request, request.GET.get("firm", ""))
    doc = acts_legal.agenda_read(
        actor=request.user, firm=firm, month=_month(request.GET.get("month", ""))
    )
    name = f"agenda-{doc['month']}.{kind}"
    if kind == "pdf":
        data, content_type = agenda_pdf(doc), "application/pdf"
    else:
        with tempfile.TemporaryDirectory(prefix="arrears-agenda-") as folder:
            path = Path(folder) / name
            agenda_xlsx(doc, path)
            data = path.read_bytes()
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_POST
@page("minutes.record")
def agenda_minutes(request: HttpRequest) -> HttpResponse:
    """Record the meeting's minutes: a note per case (`minutes-<case id>`), held on a day."""
    firm, _mine = _firm_of(request, request.POST.get("firm", ""))
    month = _month(request.POST.get("month", ""))
    notes: dict[int, str] = {}
    for key in request.POST:
        case = key.removeprefix("minutes-")
        text = request.POST.get(key, "")[:500]
        if key.startswith("minutes-") and case.isdigit() and text.strip():
            notes[int(case)] = text
    doing = _("record the minutes")
    try:
        held = request.POST.get("held_on", "").strip()
        try:
            held_on = date.fromisoformat(held) if held else None
        except ValueError:
            held_on = None
        if (held and held_on is None) or (held_on is not None and not in_calendar(held_on)):
            raise ValidationError(
                _("%(text)s is not a date") % {"text": held[:20]}, code="minutes_date"
            )
        if not notes:
            raise ValidationError(_("write a note on at least one case"), code="minutes_none")
        meeting = acts_legal.minutes_record(
            by=by(request), firm=firm, month=month, notes=notes, held_on=held_on
        )
    except DomainError as exc:
        if exc.kind in ("unauthenticated", "not_found"):
            raise
        said = _("Can't %(doing)s: %(why)s.") % {
            "doing": doing,
            "why": error_words(exc, doing).rstrip("."),
        }
        return _agenda_page(
            request,
            firm=firm,
            month=month,
            error=said,
            status=403 if exc.kind == "forbidden" else 422,
        )
    messages.success(
        request,
        _("The minutes of %(count)s case(s) are on their timelines (meeting of %(day)s).")
        % {"count": len(notes), "day": meeting.held_on},
    )
    return redirect(f"{reverse('web:agenda')}?{urlencode({'firm': firm, 'month': month})}")
