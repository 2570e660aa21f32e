"""The letters page (the day's print batch, its print file and manifest, proof of mailing with
certified article numbers, returned mail) and the mail triage page (unmatched inbound email,
assigned to an account by hand).

Letters are listed through `access.selectors.letters_visible` (a property manager sees their
properties' letters, read only); the batch, the print files and the entries are the
coordinator's (`letters.manage`); triage is `mail.triage`. Every change goes through `act`.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from arrears.access import acts
from arrears.access.selectors import authorize, can, letters_visible
from arrears.access.services import act
from arrears.core.dates import today
from arrears.core.errors import DomainError, ValidationError
from arrears.correspondence.archive import archive_read
from arrears.correspondence.certified import (
    LENGTHS,
    article_number_problem,
    normalize_article_number,
    usps_check_digit,
)
from arrears.correspondence.mail_in import triage_assign, triage_list
from arrears.correspondence.models import Document
from arrears.dunning.reissue import letters_print
from arrears.web.selectors import backlog_get
from arrears.web.views import _ip, by, page

PRINT_KINDS = ("print", "manifest")


def _on(request: HttpRequest) -> date:
    text = request.GET.get("on", "") or request.POST.get("on", "")
    try:
        value = date.fromisoformat(text) if text else today()
    except ValueError:
        return today()
    return value if date(1900, 1, 1) <= value <= date(2200, 12, 31) else today()


def _print_files(on: date) -> list[Document]:
    return list(
        Document.objects.filter(
            kind__in=PRINT_KINDS, name__startswith=f"print/{on:%Y/%m/%d}/"
        ).order_by("-created_at", "id")
    )


def _letters_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    on = _on(request)
    letters = list(letters_visible(request.user, on=on))
    manage = can(request.user, "letters.manage")
    return {
        "on": on,
        "letters": letters,
        "queued": sum(1 for o in letters if o.status == "queued"),
        "can_manage": manage,
        "print_files": _print_files(on) if manage else [],
        "backlog": backlog_get(user=request.user),
        **extra,
    }


@require_GET
@page("letters.view")
def letters_page(request: HttpRequest) -> HttpResponse:
    return render(request, "web/letters.html", _letters_context(request))


def _answer(request: HttpRequest, error: str = "", message: str = "") -> HttpResponse:
    if not error and request.headers.get("HX-Request") != "true":
        if message:  # said on the page the redirect shows
            messages.success(request, message)
        return redirect(f"{reverse('web:letters')}?on={_on(request).isoformat()}")
    context = _letters_context(request, error=error, message=message)
    return render(request, "web/letters.html", context, status=422 if error else 200)


def _managed(request: HttpRequest, do: Callable[[], str]) -> HttpResponse:
    """A change to the letters (`letters.manage`: `do` makes it, audited): the page with what
    `do` said, or with why it was refused; a refusal of the role or of a sign-in is raised."""
    try:
        said = do()
    except DomainError as exc:
        if exc.kind in ("forbidden", "unauthenticated"):
            raise
        return _answer(request, exc.message)
    return _answer(request, message=said)


def _batch(*, on: date, actor: str) -> str:
    """Print the queued letters up to `on` (`letters_print`: the print file and manifest go to
    the archive); say what was printed and what was cancelled as no longer due."""
    with tempfile.TemporaryDirectory() as folder:
        result = letters_print(on=on, output=Path(folder), actor=actor, workers=1)
    said = (
        _("%(n)s letters printed.") % {"n": len(result.letters)}
        if result.letters
        else _("No letters to print for %(day)s.") % {"day": on.isoformat()}
    )
    if result.cancelled:
        said += " " + _("%(n)s cancelled as no longer due.") % {"n": len(result.cancelled)}
    return said


@require_POST
@page("letters.view")
def letters_batch_run(request: HttpRequest) -> HttpResponse:
    on = _on(request)
    actor = request.user.get_username()
    return _managed(
        request,
        lambda: act(
            user=request.user,
            verb="letters.manage",
            via="web",
            ip=_ip(request),
            detail={"batch": on.isoformat()},
            do=lambda _a: _batch(on=on, actor=actor),
        ),
    )


@require_GET
@page("letters.manage")
def letters_file(request: HttpRequest, document_id: int) -> HttpResponse:
    """A print file or manifest of a batch (they hold every account's letters: coordinators)."""
    document = Document.objects.filter(pk=document_id, kind__in=PRINT_KINDS).first()
    if document is None:
        raise Http404("no such print file")
    response = HttpResponse(archive_read(document), content_type=document.content_type)
    filename = document.name.rsplit("/", 1)[-1]
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _mailed(request: HttpRequest, *, lines: str, on: date) -> str:
    """Proof of mailing typed as lines `L12 9407 1118 9876 5400 0000 00`: checked (the article
    number's check digit), written as a manifest and recorded all or nothing
    (`acts.letters_mailed`)."""
    rows = []
    for n, line in enumerate(lines.splitlines(), start=1):
        parts = line.split(None, 1)
        if not parts:
            continue
        number = normalize_article_number(parts[1]) if len(parts) > 1 else ""
        if number:
            problem = article_number_problem(number)
            if problem:
                raise ValidationError(
                    _("Line %(n)s: %(problem)s") % {"n": n, "problem": problem},
                    code="article_number_invalid",
                    line=n,
                )
        rows.append({"letter_id": parts[0], "article_number": number})
    if not rows:
        raise ValidationError(
            _("Type one letter a line: its id, then its article number."), code="mailed_entry_empty"
        )
    with tempfile.TemporaryDirectory() as folder:
        manifest = Path(folder) / "entered.csv"
        with manifest.open("w", encoding="utf-8", newline="") as stream:
            writer = csv.DictWriter(stream, fieldnames=["letter_id", "article_number"])
            writer.writeheader()
            writer.writerows(rows)
        try:
            result = acts.letters_mailed(
                by=by(request), manifest=manifest, on=on, named={"mailed": lines[:1000]}
            )
        except ValidationError as exc:
            raise ValidationError(
                exc.message.replace(str(manifest), _("entry")), code=exc.code
            ) from None
    return _("%(n)s letters recorded mailed; %(u)s already recorded.") % {
        "n": result.mailed,
        "u": result.unchanged,
    }


def _article_problem(typed: str) -> str:
    """Why a certified article number typed on a letter's row is not one, in the user's
    language ("" if it is one, or none was typed): the USPS Mod-10 check digit
    (`correspondence.certified`)."""
    number = normalize_article_number(typed)
    if not number:
        return ""
    if not number.isdigit():
        return _("An article number is digits only.")
    if len(number) not in LENGTHS:
        return _("An article number has 20 or 22 digits, not %(n)s.") % {"n": len(number)}
    expected = usps_check_digit(number[:-1])
    if int(number[-1]) != expected:
        return _("Wrong check digit: the last digit should be %(digit)s.") % {"digit": expected}
    return ""


@require_POST
@page("letters.view")
def letters_mailed_entry(request: HttpRequest) -> HttpResponse:
    """Proof of mailing: the lines typed, or one letter's row (`letter` and `article_number`,
    typed or scanned), which is answered beside that row's field when refused."""
    on = _on(request)
    authorize(request.user, "letters.manage")
    letter = request.POST.get("letter", "")[:40].strip()
    if not letter:
        lines = request.POST.get("lines", "")[:20000]
        return _managed(request, lambda: _mailed(request, lines=lines, on=on))
    typed = request.POST.get("article_number", "")[:40]
    try:
        problem = _article_problem(typed)
        if problem:
            raise ValidationError(problem, code="article_number_invalid")
        _mailed(request, lines=f"{letter} {typed}", on=on)
    except DomainError as exc:
        if exc.kind in ("forbidden", "unauthenticated"):
            raise
        refused = {
            "letter": letter.upper().removeprefix("L"),
            "value": typed,
            "message": exc.message,
        }
        context = _letters_context(request, mailed_error=refused)
        return render(request, "web/letters.html", context, status=422)
    return _answer(request)


@require_POST
@page("letters.view")
def letters_returned_entry(request: HttpRequest) -> HttpResponse:
    letter = request.POST.get("letter", "")[:40]

    def returned() -> str:
        acts.letter_returned(
            by=by(request), letter=letter, reason=request.POST.get("reason", "")[:200]
        )
        return _("Letter %(letter)s recorded returned.") % {"letter": letter}

    return _managed(request, returned)


@require_GET
@page("mail.triage")
def mail_triage(request: HttpRequest) -> HttpResponse:
    return render(request, "web/mail_triage.html", {"rows": triage_list()})


@require_POST
@page("mail.triage")
def mail_assign(request: HttpRequest, inbound_id: int) -> HttpResponse:
    account_id = request.POST.get("account_id", "").strip()[:64]
    actor = request.user.get_username()
    error = ""
    try:
        # the account must be one the user may see (authorize inside act), then the message
        act(
            user=request.user,
            verb="mail.triage",
            via="web",
            account_id=account_id or None,
            ip=_ip(request),
            detail={"inbound": inbound_id},
            do=lambda _a: triage_assign(inbound_id=inbound_id, account_id=account_id, actor=actor),
        )
    except DomainError as exc:
        if exc.kind in ("forbidden", "unauthenticated"):
            raise
        error = exc.message if account_id else _("Name the account to file it on.")
    if not error and request.headers.get("HX-Request") != "true":
        messages.success(
            request,
            _("Message %(id)s filed on %(account)s.") % {"id": inbound_id, "account": account_id},
        )
        return redirect("web:mail_triage")
    authorize(request.user, "mail.triage")
    return render(
        request,
        "web/mail_triage.html",
        {
            "rows": triage_list(),
            "error": error,
            "message": ""
            if error
            else _("Message %(id)s filed on %(account)s.")
            % {"id": inbound_id, "account": account_id},
        },
        status=422 if error else 200,
    )
