"""The bank review page (`/bank/review/`): the bank lines the matching rules left for a person,
oldest first, each with its suggestion, and the forms that decide one: assign it to an account,
split it across accounts, mark it not ours (`access.acts_bank`, as `arrears bank review` and
the API do). A refused decision writes nothing and the page says why (403 for a refusal, 404
for an unknown account, 409 for a line decided already, 422 for a mistake); one that succeeds
redirects back with a line saying what was done.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from arrears.access import acts_bank
from arrears.access.acting import By
from arrears.core.errors import DomainError, ValidationError
from arrears.web.views import _ip, page
from arrears.web.wording import error_words

NOTE_LIMIT = 500


def _by(request: HttpRequest) -> By:
    return By(request.user, "web", _ip(request))


def _page(request: HttpRequest, *, status: int = 200, error: str = "") -> HttpResponse:
    lines = acts_bank.review_queue(user=request.user)
    return render(request, "web/bank_review.html", {"lines": lines, "error": error}, status=status)


def _refused(request: HttpRequest, exc: DomainError, doing: str) -> HttpResponse:
    if exc.kind == "unauthenticated":
        raise exc
    if exc.kind == "forbidden":
        return _page(request, error=_("You may not decide this line."), status=403)
    status = {"not_found": 404}.get(exc.kind) or (
        409 if exc.code in ("bank_line_decided", "bank_line_is_return") else 422
    )
    said = _("Can't %(doing)s: %(why)s.") % {"doing": doing, "why": error_words(exc, doing)}
    return _page(request, error=said, status=status)


@never_cache
@require_GET
@page("bank.review")
def bank_review_page(request: HttpRequest) -> HttpResponse:
    """The review queue."""
    return _page(request)


def _decided(request: HttpRequest, line: Any) -> HttpResponse:
    messages.success(
        request,
        _("Bank line %(line)s: %(status)s.")
        % {"line": line.pk, "status": line.get_status_display()},
    )
    return redirect("web:bank_review")


FILE_FORMATS = ("auto", "bai2", "camt", "ofx", "nacha")


@require_POST
@page("bank.import")
def bank_import_upload(request: HttpRequest) -> HttpResponse:
    """Import the bank file uploaded, whole (as `arrears bank import` and the API do); back to
    the queue with its counts, or the queue saying why it was refused, nothing written."""
    upload = request.FILES.get("file")
    doing = _("import %(file)s") % {"file": (upload.name if upload else "") or _("the file")}
    file_format = request.POST.get("file_format", "auto")
    try:
        if upload is None:
            raise ValidationError(_("choose a bank file"), code="file_missing", field="file")
        if file_format not in FILE_FORMATS:
            raise ValidationError(_("unknown file format"), code="file_format", field="file")
        done = acts_bank.bank_import(
            by=_by(request),
            data=acts_bank.bank_file_read(upload),
            name=(upload.name or "upload")[:200],
            file_format=file_format,
        )
    except DomainError as exc:
        return _refused(request, exc, doing)
    messages.success(
        request,
        _(
            "%(file)s: %(lines)s lines, %(posted)s posted, %(review)s to review, "
            "%(returns)s returns, %(already)s already imported."
        )
        % {
            "file": done.file,
            "lines": done.lines,
            "posted": done.posted,
            "review": done.review,
            "returns": done.returns,
            "already": done.already_imported,
        },
    )
    return redirect("web:bank_review")


@require_POST
@page("bank.review")
def bank_review_assign(request: HttpRequest, line_id: int) -> HttpResponse:
    """Post the line as a payment to the account typed."""
    doing = _("assign bank line %(line)s") % {"line": line_id}
    post = request.POST
    try:
        line = acts_bank.review_assign(
            by=_by(request),
            line_id=line_id,
            account_id=post.get("account_id", "").strip()[:64],
            note=post.get("note", "")[:NOTE_LIMIT],
        )
    except DomainError as exc:
        return _refused(request, exc, doing)
    return _decided(request, line)


def _parts(text: str) -> list[tuple[str, Decimal]]:
    """The split typed, one `ACCOUNT AMOUNT` (or `ACCOUNT:AMOUNT`) a line."""
    parts = []
    for number, raw in enumerate(text.splitlines(), start=1):
        words = raw.replace(":", " ").split()
        if not words:
            continue
        try:
            if len(words) != 2:
                raise InvalidOperation
            parts.append((words[0][:64], Decimal(words[1])))
        except InvalidOperation:
            raise ValidationError(
                _("line %(n)s of the split is not an account and an amount: %(text)s")
                % {"n": number, "text": raw[:80]},
                code="split_line_invalid",
                field="parts",
            ) from None
    return parts


@require_POST
@page("bank.review")
def bank_review_split(request: HttpRequest, line_id: int) -> HttpResponse:
    """Post the line as payments to the accounts typed, one `ACCOUNT AMOUNT` a line."""
    doing = _("split bank line %(line)s") % {"line": line_id}
    post = request.POST
    try:
        line = acts_bank.review_split(
            by=_by(request),
            line_id=line_id,
            parts=_parts(post.get("parts", "")[:4000]),
            note=post.get("note", "")[:NOTE_LIMIT],
        )
    except DomainError as exc:
        return _refused(request, exc, doing)
    return _decided(request, line)


@require_POST
@page("bank.review")
def bank_review_not_ours(request: HttpRequest, line_id: int) -> HttpResponse:
    """Mark the line not ours, with the reason typed."""
    doing = _("mark bank line %(line)s not ours") % {"line": line_id}
    try:
        line = acts_bank.review_not_ours(
            by=_by(request), line_id=line_id, note=request.POST.get("note", "")[:NOTE_LIMIT]
        )
    except DomainError as exc:
        return _refused(request, exc, doing)
    return _decided(request, line)
