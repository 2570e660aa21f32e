"""The refunds page (`/refunds/`): the refunds of credit balances to review, most urgent first
(by due date), and for a controller or an admin the buttons to approve one, reject one (with a
reason) and export the approved ones to the payables file, a download (`access.acts.refund_list`,
`refund_approve`, `refund_reject`, `refunds_export`, `refund_batch`, as `arrears refund` and the
API do).

Listing proposes a refund of every credit balance found, as `arrears refund list` does (it is
idempotent). A refused or failed change writes nothing and the page says why in plain words
(403 for a refusal, 422 for a mistake, 409 when the book changed under the refund); a change
that succeeds redirects back with a line saying what was done.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from arrears.access import acts, permissions
from arrears.access.selectors import role_of
from arrears.core.dates import today
from arrears.core.errors import DomainError
from arrears.moveout.models import Refund
from arrears.moveout.refunds import OUTSTANDING, Export, lateness, payee_names
from arrears.web.templatetags.amounts import amount
from arrears.web.views import _ip, page
from arrears.web.views_actions import _day
from arrears.web.wording import error_words

# What the page shows: the refunds to review (proposed, or approved and not yet exported), those
# late or due within 3 days, one status, or all of them.
SHOWS = ("", "late", *Refund.Status.values, "all")
REASON_LIMIT = 500


def _by(request: HttpRequest) -> acts.By:
    return acts.By(request.user, "web", _ip(request))


def _show(request: HttpRequest) -> str:
    show = request.GET.get("show", "")
    return show if show in SHOWS else ""


def _page(request: HttpRequest, *, status: int = 200, **context: Any) -> HttpResponse:
    show = _show(request)
    listed, made = acts.refund_list(
        by=_by(request), late=show == "late", status=show if show in Refund.Status.values else ""
    )
    if not show:
        listed = [r for r in listed if r.status in OUTSTANDING]
    on = today()
    payees = payee_names(sorted({r.account_id for r in listed}))
    role = role_of(request.user)
    values = {
        "show": show,
        "rows": [
            {"r": r, "payee": payees.get(r.account_id, ""), "late": lateness(r, on)} for r in listed
        ],
        "made": len(made),
        "on": on,
        "can_decide": permissions.allowed(role, "refund.approve"),
        "can_export": permissions.allowed(role, "refund.export"),
        "error": "",
        **context,
    }
    return render(request, "web/refunds.html", values, status=status)


def _refused(request: HttpRequest, exc: DomainError, doing: str) -> HttpResponse:
    """The page again, saying why nothing was done."""
    if exc.kind == "unauthenticated":
        raise exc
    if exc.kind == "forbidden":
        said = _("Only a controller or an admin may approve, reject or export refunds.")
        return _page(request, error=said, status=403)
    status = {"not_found": 404, "refund_above_credit": 409}.get(exc.kind, 422)
    said = _("Can't %(doing)s: %(why)s.") % {"doing": doing, "why": error_words(exc, doing)}
    return _page(request, error=said, status=status)


@never_cache
@require_GET
@page("refund.list")
def refunds_page(request: HttpRequest) -> HttpResponse:
    """The refunds, by due date (`?show=`: late, a status, all)."""
    return _page(request)


@require_POST
@page("refund.list")
def refund_approve(request: HttpRequest, refund_id: str) -> HttpResponse:
    """Approve a refund: its refund entry is posted on the day given (`on`, today in the book's
    zone when none), neither before its credit arose nor still to come (the act refuses both)."""
    refund_id = refund_id[:40]
    doing = _("approve refund %(refund)s") % {"refund": refund_id}
    given = request.POST.get("on", "").strip()
    try:
        on = _day(given, _("The day paid")) if given else None
        refund = acts.refund_approve(by=_by(request), refund_id=refund_id, on=on)
    except DomainError as exc:
        return _refused(request, exc, doing)
    messages.success(
        request,
        _("Refund %(refund)s of %(amount)s to %(account)s approved: its entry is posted on %(on)s.")
        % {
            "refund": refund.refund_id,
            "amount": amount(refund.amount),
            "account": refund.account.account_id,
            "on": refund.decided_on,
        },
    )
    return redirect("web:refunds")


@require_POST
@page("refund.list")
def refund_reject(request: HttpRequest, refund_id: str) -> HttpResponse:
    """Reject a refund, saying why."""
    refund_id = refund_id[:40]
    doing = _("reject refund %(refund)s") % {"refund": refund_id}
    reason = request.POST.get("reason", "")[:REASON_LIMIT]
    try:
        refund = acts.refund_reject(by=_by(request), refund_id=refund_id, reason=reason)
    except DomainError as exc:
        if exc.code == "refund_reason_missing":
            said = _("Can't reject refund %(refund)s without a reason: say why.") % {
                "refund": refund_id
            }
            return _page(request, error=said, status=422)
        return _refused(request, exc, doing)
    messages.success(
        request,
        _("Refund %(refund)s rejected: %(reason)s.")
        % {"refund": refund.refund_id, "reason": refund.reason.rstrip(".")},
    )
    return redirect("web:refunds")


def _download(done: Export, text: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="payables-{done.batch}.csv"'
    return response


@require_POST
@page("refund.list")
def refunds_export(request: HttpRequest) -> HttpResponse:
    """Export the approved refunds not yet exported (each once) and download the payables file;
    with none, the page says so and nothing is downloaded."""
    doing = _("export the refunds")
    with tempfile.TemporaryDirectory(prefix="arrears-payables-") as folder:
        output = Path(folder) / "payables.csv"
        try:
            done = acts.refunds_export(by=_by(request), output=output, to="download")
        except DomainError as exc:
            return _refused(request, exc, doing)
        text = output.read_text(encoding="utf-8")
    if not done.refunds:
        messages.info(request, _("Nothing to export: no approved refund is waiting."))
        return redirect("web:refunds")
    # said on the next page shown: the browser stays on this one while it saves the file
    messages.success(
        request,
        ngettext(
            "Batch %(batch)s exported: %(count)s refund, %(total)s, in the payables file.",
            "Batch %(batch)s exported: %(count)s refunds, %(total)s in all, in the payables file.",
            len(done.refunds),
        )
        % {
            "batch": done.batch,
            "count": len(done.refunds),
            "total": amount(sum(r.amount for r in done.refunds)),
        },
    )
    return _download(done, text)


@require_GET
@page("refund.list")
def refund_batch_file(request: HttpRequest, batch: str) -> HttpResponse:
    """An exported batch's payables file again (nothing changes; audited as an export)."""
    doing = _("download batch %(batch)s") % {"batch": batch[:40]}
    with tempfile.TemporaryDirectory(prefix="arrears-payables-") as folder:
        output = Path(folder) / "payables.csv"
        try:
            done = acts.refund_batch(
                by=_by(request), batch=batch[:40], output=output, to="download"
            )
        except DomainError as exc:
            return _refused(request, exc, doing)
        text = output.read_text(encoding="utf-8")
    return _download(done, text)
