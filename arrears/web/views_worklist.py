"""The worklist's own acts on the Today page: snooze a line until a day, dismiss it, each with a
reason (`acts.worklist_snooze`, `acts.worklist_dismiss`); and refer an account to a law firm
(`acts.referral_make`), which the line's Refer form posts (the account page may too).

The line's other forms (call, promise, hold) post to the account's own endpoints with `next`,
the Today page they came from (`views._after_change`). After a change the page is asked again:
the line has left, or says what changed. A refusal is shown on the Today page, in words.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from arrears.access import acts
from arrears.core.dates import today
from arrears.core.errors import DomainError, NotFoundError
from arrears.web.today import today_context
from arrears.web.views import back_to, by, page
from arrears.web.views_actions import _day


def _task(text: str) -> int | None:
    return int(text) if text.strip().isdigit() else None


def _on_today(request: HttpRequest, do: Callable[[], Any], said: str) -> HttpResponse:
    """Run a worklist act; back to the Today page it came from saying `said`, or that page
    with the refusal."""
    try:
        do()
    except NotFoundError as exc:
        if exc.code != "worklist_line_not_found":
            raise
        return _today_with(request, exc.message)
    except DomainError as exc:
        if exc.kind in ("forbidden", "unauthenticated"):
            raise
        return _today_with(request, exc.message)
    messages.success(request, said)
    back = back_to(request) or reverse("web:today")
    if request.headers.get("HX-Request") == "true":
        response = HttpResponse(status=200)
        response["HX-Redirect"] = back
        return response
    return redirect(back)


def _today_with(request: HttpRequest, error: str) -> HttpResponse:
    context = today_context(request, today())
    context["error"] = error
    return render(request, "web/today.html", context, status=422)


@require_POST
@page("worklist.snooze")
def worklist_snooze(request: HttpRequest) -> HttpResponse:
    post = request.POST
    return _on_today(
        request,
        lambda: acts.worklist_snooze(
            by=by(request),
            account_id=post.get("account_id", ""),
            kind=post.get("kind", ""),
            until=_day(post.get("until", ""), _("The day")),
            reason=post.get("reason", ""),
            action_id=_task(post.get("action_id", "")),
        ),
        _("Snoozed until %(day)s: the line comes back then.") % {"day": post.get("until", "")},
    )


@require_POST
@page("worklist.dismiss")
def worklist_dismiss(request: HttpRequest) -> HttpResponse:
    post = request.POST
    return _on_today(
        request,
        lambda: acts.worklist_dismiss(
            by=by(request),
            account_id=post.get("account_id", ""),
            kind=post.get("kind", ""),
            reason=post.get("reason", ""),
            action_id=_task(post.get("action_id", "")),
        ),
        _("Dismissed: the line leaves the worklist."),
    )
