"""A case's settlements and an account's write-offs on the pages (docs/legal.md, "Settlements and
write-offs"): on a case's page (`/cases/<id>/`) its settlements with their installments and the
case's net recovery, the form that offers a settlement and the buttons that approve or reject
one offered; on an account's page the write-off form and the account's write-offs.

Each form posts to the act the command line and the API call (`access.acts_legal`
`settlement_offer`, `settlement_decide`, `writeoff_post`). A case out of the user's scope is not
found (404), as one that does not exist; on the case's page a refusal (403) or a mistake (422) is
said beside its form and writes nothing; a write-off answers as the account page's other forms
(`views.change`).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from arrears.access import acts_legal
from arrears.access.selectors import authorize
from arrears.core.errors import DomainError, ValidationError
from arrears.web.settlements import INSTALLMENT_ROWS, STATUS_WORDS
from arrears.web.templatetags.amounts import amount as amount_text
from arrears.web.views import by, change, page
from arrears.web.views_actions import _amount, _day
from arrears.web.views_cases import _case_page
from arrears.web.wording import error_words

OFFER_FIELDS = (
    "amount",
    "note",
    *(f"{kind}_{n}" for n in range(1, INSTALLMENT_ROWS + 1) for kind in ("due", "pay")),
)


def _installments(form: dict[str, str]) -> list[tuple[date, Decimal]]:
    """The rows filled in (a due date and an amount each; a row half filled is a mistake)."""
    out = []
    for n in range(1, INSTALLMENT_ROWS + 1):
        due, pay = form[f"due_{n}"].strip(), form[f"pay_{n}"].strip()
        if not due and not pay:
            continue
        if not due or not pay:
            raise ValidationError(
                _("installment %(n)s needs a due date and an amount") % {"n": n},
                code="settlement_installment_half",
                field="due",
            )
        out.append((_day(due, _("The due date")), _amount(pay, _("The installment"))))
    return out


def _refused(
    request: HttpRequest, case_id: int, exc: DomainError, doing: str, key: str, form: dict[str, str]
) -> HttpResponse:
    """The case's page again, with what went wrong beside the form (`key`) and the form as
    typed: 403 for a refusal, 422 for a mistake."""
    if exc.kind in ("unauthenticated", "not_found"):
        raise exc
    said = _("Can't %(doing)s: %(why)s.") % {
        "doing": doing,
        "why": error_words(exc, doing).rstrip("."),
    }
    return _case_page(
        request,
        case_id,
        errors={key: said},
        offer=form,
        status=403 if exc.kind == "forbidden" else 422,
    )


@require_POST
@page("case.view")
def case_settlement_offer(request: HttpRequest, case_id: int) -> HttpResponse:
    """Offer a settlement of the case's balance (`acts_legal.settlement_offer`)."""
    form = {name: request.POST.get(name, "")[:500] for name in OFFER_FIELDS}
    doing = _("offer this settlement")
    acts_legal.case_visible(request.user, case_id)  # another's case: not found, before the form
    try:
        made = acts_legal.settlement_offer(
            by=by(request),
            case_id=case_id,
            amount=_amount(form["amount"], _("The settlement's amount")),
            installments=_installments(form),
            note=form["note"],
        )
    except DomainError as exc:
        return _refused(request, case_id, exc, doing, "offer", form)
    said = (
        _("Settlement %(id)s of %(amount)s offered: it waits for approval.")
        if made.status == "offered"
        else _("Settlement %(id)s of %(amount)s offered and approved.")
    )
    messages.success(request, said % {"id": made.pk, "amount": amount_text(made.amount)})
    return redirect("web:case", case_id=case_id)


def _decide(request: HttpRequest, case_id: int, settlement_id: int, approve: bool) -> HttpResponse:
    reason = request.POST.get("reason", "")[:500]
    doing = (_("approve settlement %(id)s") if approve else _("reject settlement %(id)s")) % {
        "id": settlement_id
    }
    acts_legal.settlement_visible(request.user, settlement_id, case_id)  # else not found
    try:
        decided = acts_legal.settlement_decide(
            by=by(request),
            settlement_id=settlement_id,
            approve=approve,
            reason=reason,
            case_id=case_id,
        )
    except DomainError as exc:
        return _refused(request, case_id, exc, doing, "decide", {})
    if not approve:
        said = _("Settlement %(id)s rejected.") % {"id": decided.pk}
    elif decided.status == "approved":
        said = _("Settlement %(id)s approved.") % {"id": decided.pk}
    else:  # checked at once: the payments made since the offer may pay it (or have broken it)
        said = _("Settlement %(id)s approved, and checked at once: %(status)s.") % {
            "id": decided.pk,
            "status": STATUS_WORDS.get(decided.status, decided.status),
        }
    messages.success(request, said)
    return redirect("web:case", case_id=case_id)


@require_POST
@page("case.view")
def case_settlement_approve(request: HttpRequest, case_id: int, settlement_id: int) -> HttpResponse:
    """Approve a settlement offered (a manager of the property, a controller, an admin)."""
    return _decide(request, case_id, settlement_id, approve=True)


@require_POST
@page("case.view")
def case_settlement_reject(request: HttpRequest, case_id: int, settlement_id: int) -> HttpResponse:
    """Reject a settlement offered, saying why."""
    return _decide(request, case_id, settlement_id, approve=False)


@require_POST
@page("account.view")
def account_writeoff(request: HttpRequest, account_id: str) -> HttpResponse:
    """Write the account's balance off to bad debt (`acts_legal.writeoff_post`): a controller
    or an admin; an account out of the user's scope is not found, whatever her role."""
    authorize(request.user, "account.view", account_id)
    post = request.POST
    return change(
        request,
        account_id,
        "writeoff.post",
        lambda: acts_legal.writeoff_post(
            by=by(request),
            account_id=account_id,
            amount=_amount(post.get("amount", ""), _("The amount written off")),
            reason=post.get("reason", "")[:500],
            on=_day(post["on"], _("The day written off")) if post.get("on", "").strip() else None,
        ),
        doing=_("write this balance off"),
        said=lambda w: (
            _("%(amount)s written off to bad debt (%(txn)s).")
            % {"amount": amount_text(w.amount), "txn": w.txn_id}
        ),
    )
