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

from csp.constants import SELF
from csp.decorators import csp_replace
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
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
from arrears.correspondence.uploads import DOCUMENT_KINDS, max_upload_bytes
from arrears.disputes.models import CHANNELS as DISPUTE_CHANNELS
from arrears.disputes.models import Dispute
from arrears.disputes.selectors import dispute_list
from arrears.dunning.documents import DisputeAnswered
from arrears.dunning.selectors import notice_choices, preview_deadline
from arrears.ledger.models import AccountParty
from arrears.ledger.selectors import open_items_as_of
from arrears.moveout.services import Deduct
from arrears.plans.schedule import propose_terms
from arrears.plans.selectors import plan_limits, plan_list, promise_list, tracking_for
from arrears.web.actions import DEDUCTION_ROWS
from arrears.web.templatetags.amounts import amount as amount_text
from arrears.web.templatetags.amounts import day as day_text
from arrears.web.views import _after_change, by, page, refusal_text
from arrears.web.views import change as _change
from arrears.web.wording import error_words, warning_words


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


def _promise_taken(post: Any) -> acts.PromiseTaken | None:
    """The promise taken on a call (outcome "promise"): its amount and date, both asked."""
    if post.get("outcome") != "promise":
        return None
    amount, on = post.get("promise_amount", "").strip(), post.get("promise_on", "").strip()
    if not amount or not on:
        raise ValidationError(
            _("A call with a promise needs the amount and the date promised."),
            code="call_promise_incomplete",
        )
    return acts.PromiseTaken(_amount(amount, _("The amount")), _day(on, _("The promised date")))


@require_POST
@page("account.view")
def account_call(request: HttpRequest, account_id: str) -> HttpResponse:
    post = request.POST

    def refused(logged: Any) -> str:
        d = logged.decision
        return "" if logged.recorded else refusal_text(d.rule, d.reason, _("log this call"))

    def said(logged: Any) -> str:
        text = _("Call logged.")
        if logged.promise is not None:
            text += " " + _("Promise recorded: %(amount)s by %(day)s.") % {
                "amount": amount_text(logged.promise.amount),
                "day": day_text(logged.promise.promised_on),
            }
        if logged.warned:
            text += " " + warning_words(logged.decision.rule, logged.decision.reason)
        return text

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
            promise=_promise_taken(post),
            confirm=post.get("confirm") == "1",
        ),
        refused,
        doing=_("log this call"),
        said=said,
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
            confirm=post.get("confirm") == "1",
        ),
        doing=_("record this promise"),
        said=lambda p: (
            _("Promise recorded: %(amount)s by %(day)s.")
            % {"amount": amount_text(p.amount), "day": day_text(p.promised_on)}
        ),
    )


@require_POST
@page("account.view")
def account_refer(request: HttpRequest, account_id: str) -> HttpResponse:
    post = request.POST
    return _change(
        request,
        account_id,
        "referral.make",
        lambda: acts.referral_make(
            by=by(request),
            account_id=account_id,
            firm=post.get("firm", ""),
            note=post.get("note", ""),
            override=post.get("override", ""),
        ),
        doing=_("refer this account"),
        said=lambda r: _("Referred to %(firm)s.") % {"firm": r.firm},
    )


@require_GET
@page("account.view")
def account_refer_checklist(request: HttpRequest, account_id: str) -> HttpResponse:
    """The referral checklist of the account (loaded into its Refer form): what the case file
    will hold, what is missing and how to add it."""
    shown = acts.referral_checklist(actor=request.user, account_id=account_id)
    return render(
        request,
        "web/_refer_checklist.html",
        {"c": shown, "account_id": account_id, "kinds": DOCUMENT_KINDS},
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

    return _change(
        request,
        account_id,
        "plan.create",
        do,
        doing=_("create this plan"),
        said=lambda _p: _("Payment plan created."),
    )


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
        doing=_("cancel this plan"),
        said=lambda _p: _("Payment plan cancelled."),
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
        doing=_("open this dispute"),
        said=lambda _d: _(
            "Dispute opened: collection of what is disputed stops until it is answered."
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
            + refusal_text(answered.rule, answered.reason, _("send the answer"))
        )

    return _change(
        request,
        account_id,
        "dispute.resolve",
        do,
        refused,
        doing=_("resolve this dispute"),
        said=lambda _a: _("Dispute resolved; the answer is queued."),
    )


@require_POST
@page("account.view")
def account_statement(request: HttpRequest, account_id: str) -> HttpResponse:
    """The statement as of today: a PDF download, or (email=1) emailed through the guard."""
    email = request.POST.get("email") == "1"

    def do() -> acts.StatementSent:
        return acts.statement_send(by=by(request), account_id=account_id, email=email)

    if email:
        return _change(
            request,
            account_id,
            "statement.send",
            do,
            doing=_("email the statement"),
            said=lambda _s: _("Statement emailed."),
        )
    authorize(request.user, "statement.send", account_id)
    try:
        sent = do()
    except (ForbiddenError, NotFoundError):
        raise
    except DomainError as exc:
        return _after_change(request, account_id, error_words(exc, _("make the statement")))
    as_of = sent.statement.as_of
    response = HttpResponse(sent.statement.data, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="statement-{account_id}-{as_of.isoformat()}.pdf"'
    )
    return response


def _notice_chosen(params: Any) -> tuple[str, str | None]:
    """The template and the party of the notice form: `notice` ("template|party_id", the menu
    of the policy's notices per party), or `template` and `party_id` apart."""
    chosen = params.get("notice", "")
    if "|" in chosen:
        template, party_id = chosen.split("|", 1)
        return template, party_id or None
    return params.get("template", ""), params.get("party_id") or None


@require_GET
@page("notice.preview")
@xframe_options_sameorigin
@csp_replace({"frame-ancestors": [SELF]})  # type: ignore[arg-type]  # the PDF, framed by the page
def account_notice_preview(request: HttpRequest, account_id: str) -> HttpResponse:
    """A template rendered for the account as the letter batch renders it (nothing is queued):
    as an htmx part (the text and the letter's PDF in a frame) or, asked directly, the PDF."""
    account = authorize(request.user, "notice.preview", account_id)
    assert account is not None
    template, party_id = _notice_chosen(request.GET)
    context: dict[str, Any] = {"account": account, "template": template, "party_id": party_id}
    if not template:
        context["error"] = _("Choose a notice to preview.")
        return render(request, "web/_notice_preview.html", context, status=422)
    if template not in {name for name, _, _ in template_names()}:
        context["error"] = _("No template %(name)s.") % {"name": template[:100]}
        return render(request, "web/_notice_preview.html", context, status=422)
    on = today()
    pdf = request.GET.get("format") == "pdf" or request.headers.get("HX-Request") != "true"
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
        context["error"] = error_words(exc, _("preview this letter"))
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
    template, party_id = _notice_chosen(post)

    def do() -> Any:
        channel = post.get("channel", "")
        if not channel:  # as the policy's step sends it (a §235-e notice by certified mail)
            account = authorize(request.user, "notice.send", account_id)
            assert account is not None
            step = notice_choices(account=account, on=today()).steps.get(template)
            channel = (step.channel if step is not None else "") or "letter"
        return acts.notice_send(
            by=by(request),
            account_id=account_id,
            template=template,
            channel=channel,
            party_id=party_id,
            confirm=post.get("confirm") == "1",
        )

    def said(queued: Any) -> str:
        o = queued.outbound
        if not queued.created:
            return _("This notice was queued already today.")
        where = _("the print batch") if o.channel != "email" else _("the email sender")
        return _("Notice queued for %(where)s.") % {"where": where}

    return _change(request, account_id, "notice.send", do, doing=_("queue this notice"), said=said)


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


@require_POST
@page("account.view")
def account_moveout(request: HttpRequest, account_id: str) -> HttpResponse:
    """Record the day the tenants vacated (`acts.moveout_record`)."""
    post = request.POST
    return _change(
        request,
        account_id,
        "moveout.record",
        lambda: acts.moveout_record(
            by=by(request),
            account_id=account_id,
            on=_day(post.get("on", ""), _("The day vacated")),
            forwarding_address=post.get("forwarding_address", ""),
            party_id=post.get("party_id", ""),
        ),
        doing=_("record this move-out"),
        said=lambda m: (
            _("Move-out recorded: vacated on %(day)s.") % {"day": day_text(m.vacated_on)}
        ),
    )


def _deductions(request: HttpRequest) -> list[Deduct]:
    """The filled rows of the disposition form, each with its receipt if one was attached."""
    rows = []
    for n in range(1, DEDUCTION_ROWS + 1):
        code = request.POST.get(f"code_{n}", "").strip()
        amount = request.POST.get(f"amount_{n}", "").strip()
        text = request.POST.get(f"text_{n}", "")
        if not (code or amount or text.strip()):
            continue
        upload = request.FILES.get(f"receipt_{n}")
        receipt = None
        if upload is not None:
            receipt = (upload.name or "receipt", upload.read(max_upload_bytes() + 1))
        rows.append(
            Deduct(code, _amount(amount or "0", _("Deduction %(n)s") % {"n": n}), text, receipt)
        )
    return rows


@require_POST
@page("account.view")
def account_deposit_dispose(request: HttpRequest, account_id: str) -> HttpResponse:
    """Post the deposit's disposition (`acts.deposit_dispose`) from the form's rows."""
    post = request.POST
    return _change(
        request,
        account_id,
        "deposit.dispose",
        lambda: acts.deposit_dispose(
            by=by(request),
            account_id=account_id,
            deductions=_deductions(request),
            on=_day(post["on"], _("The day posted")) if post.get("on", "").strip() else None,
            late_reason=post.get("late_reason", ""),
            correction_reason=post.get("correction_reason", ""),
        ),
        doing=_("post this disposition"),
        said=lambda v: (
            _("Deposit disposed of: refund due %(amount)s.")
            % {"amount": amount_text(v.disposition.refund_due)}
            if v.disposition.refund_due
            else _("Deposit disposed of: balance owed %(amount)s.")
            % {"amount": amount_text(v.disposition.balance_owed)}
        ),
    )


def _statement_said(sent: Any) -> str:
    queued = [x for x in sent.letters if x.outbound is not None]
    text = _("Itemized statement queued for printing: %(count)s letters (%(names)s).") % {
        "count": len(queued),
        "names": ", ".join(x.name for x in queued),
    }
    for x in sent.refused:
        text += " " + refusal_text(x.rule, x.reason, _("mail it to %(name)s") % {"name": x.name})
    return text


@require_POST
@page("account.view")
def account_deposit_statement(request: HttpRequest, account_id: str) -> HttpResponse:
    """Mail the itemized statement of the deposit (`acts.deposit_statement_send`)."""
    return _change(
        request,
        account_id,
        "deposit.statement",
        lambda: acts.deposit_statement_send(
            by=by(request),
            account_id=account_id,
            late_reason=request.POST.get("late_reason", ""),
        ),
        doing=_("mail the itemized statement"),
        said=_statement_said,
    )


@require_GET
@page("account.view")
@xframe_options_sameorigin
def account_deposit_statement_preview(request: HttpRequest, account_id: str) -> HttpResponse:
    """The itemized statement as the letter would print, as a PDF; nothing is queued."""
    try:
        message = acts.deposit_statement_preview(
            request.user, account_id=account_id, party_id=request.GET.get("party_id", "")
        )
    except (ForbiddenError, NotFoundError):
        raise
    except DomainError as exc:
        return HttpResponse(
            error_words(exc, _("preview the itemized statement")),
            status=422,
            content_type="text/plain; charset=utf-8",
        )
    response = HttpResponse(letter_pdf(message.html), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="deposit-statement-{account_id}.pdf"'
    return response
