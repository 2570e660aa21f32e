"""The account page's forms that keep its record up to date: a party's contact points, consent
to texts and autodialled calls, a document added to the account's history.

Plain forms (no script: the pages' CSP allows none inline): a change answers with a redirect
back to the account page at the party's row (or the documents' form), which says it was saved;
a refusal answers the page again (422) with the message beside the form, in the user's
language. Each calls one act of `arrears.access.acts`.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from arrears.access import acts
from arrears.access.errors import ForbiddenError
from arrears.access.selectors import authorize
from arrears.core.errors import DomainError, NotFoundError
from arrears.correspondence.contacts import CONTACT_FIELDS
from arrears.correspondence.uploads import max_upload_bytes
from arrears.web.views import _account_context, account_html, by, page


def _back(account_id: str, saved: str, anchor: str) -> HttpResponse:
    url = reverse("web:ledger", args=[account_id])
    return redirect(f"{url}?saved={saved}#{anchor}", permanent=False)


def _refused(request: HttpRequest, account_id: str, key: str, exc: DomainError) -> HttpResponse:
    context = _account_context(request, account_id)
    context["record_error"] = {
        "key": key,
        "field": str(exc.extra.get("field", "")),
        "message": exc.message,
    }
    return account_html(request, context, status=422)


def _run(
    request: HttpRequest, account_id: str, verb: str, key: str, do: Any, saved: str
) -> HttpResponse:
    authorize(request.user, verb, account_id)
    try:
        do()
    except (ForbiddenError, NotFoundError):
        raise
    except DomainError as exc:
        return _refused(request, account_id, key, exc)
    return _back(account_id, saved, key)


@require_POST
@page("account.view")
def account_party(request: HttpRequest, account_id: str, party_id: str) -> HttpResponse:
    """Change a party's contact points from its row's form (`acts.party_update`)."""
    changes: dict[str, str | None] = {
        name: request.POST.get(name) for name in CONTACT_FIELDS if name in request.POST
    }
    return _run(
        request,
        account_id,
        "party.update",
        f"party-{party_id}",
        lambda: acts.party_update(
            by=by(request), party_id=party_id, changes=changes, account_id=account_id
        ),
        f"party-{party_id}",
    )


@require_POST
@page("account.view")
def account_consent(request: HttpRequest, account_id: str, party_id: str) -> HttpResponse:
    """Record a party's consent, or its withdrawal (`act` grant or withdraw)."""
    withdraw = request.POST.get("act") == "withdraw"
    act = acts.consent_withdraw if withdraw else acts.consent_grant
    return _run(
        request,
        account_id,
        "consent.withdraw" if withdraw else "consent.grant",
        f"consent-{party_id}",
        lambda: act(
            by=by(request),
            party_id=party_id,
            channel=request.POST.get("channel", ""),
            how=request.POST.get("how", ""),
            words=request.POST.get("words", ""),
            account_id=account_id,
        ),
        f"consent-{party_id}",
    )


@require_POST
@page("account.view")
def account_document_add(request: HttpRequest, account_id: str) -> HttpResponse:
    """Add an uploaded file to the account's history (`acts.document_add`); its type is read
    from its bytes, its name kept only as a label."""
    upload = request.FILES.get("file")
    data = upload.read(max_upload_bytes() + 1) if upload is not None else b""
    return _run(
        request,
        account_id,
        "document.add",
        "documents",
        lambda: acts.document_add(
            by=by(request),
            account_id=account_id,
            data=data,
            filename=upload.name or "" if upload is not None else "",
            title=request.POST.get("title", ""),
            kind=request.POST.get("kind", "") or "other",
        ),
        "documents",
    )
