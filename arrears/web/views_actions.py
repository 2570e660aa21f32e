"""The account page's actions of correspondence, plans and disputes: log a call, record a
promise, propose / create / cancel a plan, open / resolve a dispute, send a statement, preview
and send a notice now; the commitments panel (promises, plans, disputes, loaded by htmx after
the page) and the archived documents of the timeline.

Each action is shaped like `views.account_note`: `act(...)` authorizes (role and scope) and
writes the audit row with the service's change, in one transaction; a DomainError is shown
beside the forms (htmx) with status 422; a contact the compliance guard refuses is shown with
its rule (the refused call stays on the timeline: it was tried).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from arrears.access import acts
from arrears.access.errors import ForbiddenError
from arrears.access.selectors import authorize, can, document_visible
from arrears.core.dates import today
from arrears.core.errors import DomainError, NotFoundError, ValidationError
from arrears.correspondence.archive import archive_read
from arrears.correspondence.pdfs import letter_pdf
from arrears.correspondence.rendering import message_render
from arrears.correspondence.services import template_names
from arrears.disputes.models import CHANNELS as DISPUTE_CHANNELS
from arrears.disputes.models import Dispute
from arrears.disputes.selectors import dispute_list
from arrears.dunning.documents import DisputeAnswered
from arrears.dunning.selectors import preview_deadline
from arrears.ledger.models import AccountParty
from arrears.ledger.selectors import open_items_as_of
from arrears.plans.schedule import propose_terms
from arrears.plans.selectors import plan_limits, plan_list, promise_list, tracking_for
from arrears.web.views import _after_change, by, page, refusal_text
from arrears.web.views import change as _change


def _amount(text: str, what: str) -> Decimal:
    try:
        value = Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        raise ValidationError(
            _("%(what)s is not an amount: %(text)s") % {"what": what, "text": text[:40]},
            code="amount_invalid",
            text=text[:40],
        ) from None
    if not value.is_finite() or abs(value) >= Decimal("1e12"):
        raise ValidationError(
            _("%(what)s is not an amount: %(text)s") % {"what": what, "text": text[:40]},
            code="amount_invalid",
            text=text[:40],
        )
    return value.quantize(Decimal("0.01"))


def _day(text: str, what: str) -> date:
    try:
        value = date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(
            _("%(what)s is not a date: %(text)s") % {"what": what, "text": text[:40]},
            code="date_invalid",
            text=text[:40],
        ) from None
    if not date(1900, 1, 1) <= value <= date(2200, 12, 31):
        raise ValidationError(
            _("%(what)s is not a date: %(text)s") % {"what": what, "text": text[:40]},
            code="date_invalid",
            text=text[:40],
        )
    return value


def _int(text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValidationError(
            _("%(what)s is not a number: %(text)s") % {"what": what, "text": text[:40]},
            code="number_invalid",
            text=text[:40],
        ) from None


@require_POST
@page("account.view")
def account_call(request: HttpRequest, account_id: str) -> HttpResponse:
    post = request.POST

    def refused(logged: Any) -> str:
        d = logged.decision
        return "" if d.allowed else refusal_text(d.rule, d.reason)

    return _change(
        request,
        account_id,
        "call.log",
        lambda: acts.call_log(
            by=by(request),
            account_id=account_id,
            party_id=post.get("party_id", ""),
            outcome=post.get("outcome", ""),
            note=post.get("note", ""),
            at=post.get("at", ""),
        ),
        refused,
    )


@require_POST
@page("account.view")
def account_promise(request: HttpRequest, account_id: str) -> HttpResponse:
    post = request.POST
    return _change(
        request,
        account_id,
        "promise.record",
        lambda: acts.promise_record(
            by=by(request),
            account_id=account_id,
            amount=_amount(post.get("amount", ""), _("The amount")),
            promised_on=_day(post.get("promised_on", ""), _("The promised date")),
            party_id=post.get("party_id") or None,
            channel=post.get("channel") or "phone",
        ),
    )


@require_GET
@page("plan.create")
def account_plan_propose(request: HttpRequest, account_id: str) -> HttpResponse:
    """Terms the tenant can keep, from their monthly income and obligations (a read)."""
    account = authorize(request.user, "plan.create", account_id)
    assert account is not None
    context: dict[str, Any] = {"account": account}
    try:
        income = _amount(request.GET.get("income", ""), _("The income"))
        obligations = _amount(request.GET.get("obligations", "") or "0", _("The obligations"))
        items = open_items_as_of(as_of=today(), account_pks=[account.pk])
        balance = sum((-i.amount if i.is_credit else i.amount for i in items), Decimal(0))
        context["proposal"] = propose_terms(
            balance=balance,
            income=income,
            obligations=obligations,
            rent=account.rent,
            limits=plan_limits(),
        )
    except DomainError as exc:
        context["error"] = exc.message
    return render(
        request, "web/_plan_proposal.html", context, status=422 if "error" in context else 200
    )


@require_POST
@page("account.view")
def account_plan(request: HttpRequest, account_id: str) -> HttpResponse:
    post = request.POST

    def do() -> Any:
        count = post.get("installments", "").strip()
        each = post.get("installment_amount", "").strip()
        terms = acts.PlanTerms(
            start=_day(post.get("start", ""), _("The first installment's date")),
            frequency=post.get("frequency") or "monthly",
            installments=_int(count, _("The installments")) if count else None,
            installment_amount=_amount(each, _("The installment")) if each else None,
            down=_amount(post.get("down", "") or "0", _("The down payment")),
            party_id=post.get("party_id") or None,
        )
        return acts.plan_create(by=by(request), account_id=account_id, terms=terms)

    return _change(request, account_id, "plan.create", do)


@require_POST
@page("account.view")
def account_plan_cancel(request: HttpRequest, account_id: str, plan_id: int) -> HttpResponse:
    return _change(
        request,
        account_id,
        "plan.cancel",
        lambda: acts.plan_cancel(
            by=by(request),
            account_id=account_id,
            plan_id=plan_id,
            reason=request.POST.get("reason", ""),
        ),
    )


@require_POST
@page("account.view")
def account_dispute(request: HttpRequest, account_id: str) -> HttpResponse:
    post = request.POST
    return _change(
        request,
        account_id,
        "dispute.open",
        lambda: acts.dispute_open(
            by=by(request),
            account_id=account_id,
            reason=post.get("reason", ""),
            charges=post.getlist("charges")[:1000],
            party_id=post.get("party_id") or None,
            channel=post.get("channel") or "letter",
        ),
    )


@require_POST
@page("account.view")
def account_dispute_resolve(request: HttpRequest, account_id: str, dispute_id: int) -> HttpResponse:
    post = request.POST

    def do() -> DisputeAnswered:
        text = post.get("amount", "").strip()
        return acts.dispute_resolve(
            by=by(request),
            account_id=account_id,
            dispute_id=dispute_id,
            outcome=post.get("outcome", ""),
            amount=_amount(text, _("The amount")) if text else None,
            note=post.get("note", ""),
        )

    def refused(answered: DisputeAnswered) -> str:
        if answered.outbound is not None:
            return ""
        return (
            _("The dispute is resolved; its answer was not queued.")
            + " "
            + refusal_text(answered.rule, answered.reason)
        )

    return _change(request, account_id, "dispute.resolve", do, refused)


@require_POST
@page("account.view")
def account_statement(request: HttpRequest, account_id: str) -> HttpResponse:
    """The statement as of today: a PDF download, or (email=1) emailed through the guard."""
    email = request.POST.get("email") == "1"

    def do() -> acts.StatementSent:
        return acts.statement_send(by=by(request), account_id=account_id, email=email)

    if email:
        return _change(request, account_id, "statement.send", do, lambda _s: "")
    authorize(request.user, "statement.send", account_id)
    try:
        sent = do()
    except (ForbiddenError, NotFoundError):
        raise
    except DomainError as exc:
        return _after_change(request, account_id, exc.message)
    as_of = sent.statement.as_of
    response = HttpResponse(sent.statement.data, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="statement-{account_id}-{as_of.isoformat()}.pdf"'
    )
    return response


@require_GET
@page("notice.preview")
def account_notice_preview(request: HttpRequest, account_id: str) -> HttpResponse:
    """A template rendered for the account, as text (an htmx part) or as the letter's PDF."""
    account = authorize(request.user, "notice.preview", account_id)
    assert account is not None
    template = request.GET.get("template", "")
    context: dict[str, Any] = {"account": account, "template": template}
    if template not in {name for name, _, _ in template_names()}:
        context["error"] = _("No template %(name)s.") % {"name": template[:100]}
        return render(request, "web/_notice_preview.html", context, status=422)
    on = today()
    party_id = request.GET.get("party_id") or None
    pdf = request.GET.get("format") == "pdf"
    try:
        message = message_render(
            account_id=account_id,
            template=template,
            on=on,
            party_id=party_id,
            deadline=preview_deadline(account_id=account_id, template=template, on=on),
            letter=pdf,
            reference="preview",
        )
    except DomainError as exc:
        context["error"] = exc.message
        return render(request, "web/_notice_preview.html", context, status=422)
    if pdf:
        response = HttpResponse(letter_pdf(message.html), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{template}-{account_id}.pdf"'
        return response
    context["message"] = message
    return render(request, "web/_notice_preview.html", context)


@require_POST
@page("account.view")
def account_notice_send(request: HttpRequest, account_id: str) -> HttpResponse:
    post = request.POST
    return _change(
        request,
        account_id,
        "notice.send",
        lambda: acts.notice_send(
            by=by(request),
            account_id=account_id,
            template=post.get("template", ""),
            channel=post.get("channel", ""),
            party_id=post.get("party_id") or None,
        ),
    )


@require_GET
@page("account.view")
def account_commitments(request: HttpRequest, account_id: str) -> HttpResponse:
    """Promises, plans (with each installment's status) and disputes, newest first."""
    account = authorize(request.user, "account.view", account_id)
    assert account is not None
    on = today()
    plan_rows = plan_list(account_id=account_id)[::-1]
    tracking = tracking_for(plan_rows, on)
    charges = [i for i in open_items_as_of(as_of=on, account_pks=[account.pk]) if not i.is_credit]
    return render(
        request,
        "web/_commitments.html",
        {
            "account": account,
            "promises": promise_list(account_id=account_id)[::-1],
            "plans": [(p, tracking.get(p.pk)) for p in plan_rows],
            "disputes": dispute_list(account_id=account_id)[::-1],
            "open_charges": charges,
            "outcomes": Dispute.Outcome.values,
            "can_plan": can(request.user, "plan.create"),
            "can_plan_cancel": can(request.user, "plan.cancel"),
            "can_resolve": can(request.user, "dispute.resolve"),
            "can_dispute": can(request.user, "dispute.open"),
            "parties": AccountParty.objects.filter(account=account).select_related("party"),
            "dispute_channels": DISPUTE_CHANNELS,
        },
    )


@require_GET
@page("document.view")
def account_document(request: HttpRequest, account_id: str) -> HttpResponse:
    """An archived document of the account (`?name=` as on the timeline), as stored."""
    document = document_visible(
        request.user, account_id=account_id, name=request.GET.get("name", "")
    )
    response = HttpResponse(archive_read(document), content_type=document.content_type)
    filename = document.name.rsplit("/", 1)[-1].replace('"', "")
    inline = "inline" if document.content_type == "application/pdf" else "attachment"
    response["Content-Disposition"] = f'{inline}; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
