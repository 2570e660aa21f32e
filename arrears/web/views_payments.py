"""The account page's form to post a payment received (`acts_payments.payment_post`, as
`arrears payment post` and `POST /api/accounts/{id}/payments`).

The form carries a token made when it was drawn: a payment typed without a reference is known by
it, so a form sent twice (a double click, a resend after a lost answer) posts one payment."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from arrears.access.acts_payments import payment_post
from arrears.access.selectors import authorize
from arrears.web.templatetags.amounts import amount as amount_text
from arrears.web.views import by, change, page
from arrears.web.views_actions import _amount, _day

FORM_REFERENCE_PREFIX = "desk:"


@require_POST
@page("account.view")
def account_payment(request: HttpRequest, account_id: str) -> HttpResponse:
    """Post the payment the form describes; an account out of the user's scope is not found."""
    authorize(request.user, "account.view", account_id)
    post = request.POST
    typed = post.get("reference", "").strip()
    token = post.get("token", "").strip()[:64]
    reference = typed or (FORM_REFERENCE_PREFIX + token if token else "")
    return change(
        request,
        account_id,
        "payment.post",
        lambda: payment_post(
            by=by(request),
            account_id=account_id,
            amount=_amount(post.get("amount", ""), _("The amount paid")),
            on=_day(post.get("on", ""), _("The day paid")),
            reference=reference,
            memo=post.get("memo", "")[:2000],
        ),
        doing=_("post this payment"),
        said=lambda p: (
            (
                _("Payment of %(amount)s on %(on)s posted (%(txn)s).")
                if p.posted
                else _("Already posted: %(amount)s on %(on)s (%(txn)s); nothing posted now.")
            )
            % {"amount": amount_text(p.amount), "on": p.posted_on.isoformat(), "txn": p.txn_id}
        ),
    )
