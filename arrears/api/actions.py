"""Routes of the account's actions from correspondence, plans and disputes: calls, promises,
plans (propose, create, show, cancel), disputes (open, resolve), statements, notices sent now,
and the account's archived documents.

Every change goes through `access.services.act` (role, scope, audit row). A contact the
compliance guard refuses is a 409 `guard_refused` with the rule in `extra` (a refused call is
still recorded on the timeline: it was tried; a refused notice or statement changes nothing).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema, Status

from arrears.access import acts
from arrears.access.selectors import authorize, document_visible
from arrears.api.common import ERRORS, by, day, event_out
from arrears.api.schemas import ErrorOut, EventOut
from arrears.core.dates import today
from arrears.core.errors import NotFoundError, ValidationError
from arrears.correspondence.archive import archive_read
from arrears.correspondence.catalog import spec_for
from arrears.correspondence.models import Document
from arrears.disputes.models import Dispute
from arrears.disputes.selectors import dispute_get, dispute_list
from arrears.dunning.selectors import notice_choices
from arrears.ledger.models import TimelineEvent
from arrears.ledger.selectors import open_items_as_of
from arrears.plans.models import Plan, Promise
from arrears.plans.schedule import propose_terms
from arrears.plans.selectors import plan_get, plan_limits, plan_list, promise_list, tracking_for

router = Router(tags=["actions"])
WRITES: dict[int, Any] = {**ERRORS, 400: ErrorOut, 409: ErrorOut}
MAX_ID = 2**31 - 1


def _money(text: str, field: str) -> Decimal:
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise ValidationError(
            _("{field}: not an amount: {text!r}"),
            code="invalid",
            text=str(text)[:40],
            field=field,
        ) from None
    if (
        not value.is_finite()
        or abs(value) >= Decimal("1e12")
        or value != value.quantize(Decimal("0.01"))
    ):
        raise ValidationError(
            _("{field}: an amount has at most two decimals and fewer than 13 digits: {text!r}"),
            code="invalid",
            text=str(text)[:40],
            field=field,
        )
    return value


def _id(value: int, what: str) -> int:
    if not 0 < value <= MAX_ID:
        raise NotFoundError(
            _("no {what} {value}"), code=f"{what}_not_found", what=what, value=value
        )
    return value


class CallIn(Schema):
    party_id: str
    outcome: str
    note: str = ""
    at: str = ""  # YYYY-MM-DDTHH:MM in the party's zone (or with an offset); empty: now
    promise_amount: str | None = None  # the promise taken on the call (outcome "promise")
    promise_on: date | None = None
    confirm: bool = False  # save a promise that has questions (promise_needs_confirmation)


class PromiseIn(Schema):
    amount: str
    promised_on: date
    party_id: str | None = None
    channel: str = "phone"
    confirm: bool = False  # above the balance, more than 60 days off, beside an open promise


class PromiseOut(Schema):
    id: int
    account_id: str
    party_id: str | None
    amount: str
    promised_on: date
    made_on: date
    made_by: str
    channel: str
    status: str
    settled_on: date | None


class ProposeIn(Schema):
    income: str
    obligations: str = "0"


class ProposalOut(Schema):
    balance: str
    feasible: bool
    down_payment: str
    installments: int
    installment: str
    monthly_room: str
    reasons: list[str]


class PlanIn(Schema):
    start: date
    installments: int | None = None
    installment_amount: str | None = None
    down: str = "0"
    frequency: str = "monthly"
    party_id: str | None = None
    charges: list[str] = []


class InstallmentOut(Schema):
    label: str
    due_on: date
    amount: str
    paid: str
    status: str


class PlanOut(Schema):
    id: int
    account_id: str
    status: str
    amount: str
    down_payment: str
    frequency: str
    made_on: date
    made_by: str
    ended_on: date | None
    end_reason: str
    disputed_excluded: str  # what open disputes held when it was made, left out of the plan
    disputes: list[int]
    installments: list[InstallmentOut]


class ReasonIn(Schema):
    reason: str


class DisputeIn(Schema):
    reason: str
    charges: list[str] = []
    party_id: str | None = None
    channel: str = "letter"


class ResolveIn(Schema):
    outcome: str
    amount: str | None = None
    note: str = ""


class DisputeOut(Schema):
    id: int
    account_id: str
    whole_balance: bool
    amount: str
    reason: str
    status: str
    opened_on: date
    outcome: str
    resolved_on: date | None
    letter: str


class AnswerOut(Schema):
    """The answer queued (`letter_id`, by `channel`), or the guard's `rule` when it was not."""

    dispute_id: int
    outcome: str
    credited: str
    letter: str
    channel: str | None
    letter_id: int | None
    document: str | None
    enclosures: list[str]
    rule: str | None


class DisputeResolvedOut(DisputeOut):
    answer: AnswerOut


class StatementIn(Schema):
    email: bool = False


class StatementOut(Schema):
    document: str
    sha256: str
    emailed: str | None


class NoticeIn(Schema):
    template: str
    channel: str = "letter"
    party_id: str | None = None
    confirm: bool = False  # a statutory notice is queued only confirmed (notice_needs_confirmation)


class NoticeChoiceOut(Schema):
    template: str
    title: str  # the template's readable name (English)
    roles: list[str]  # the roles it goes to (primary, co_obligor, guarantor)
    channel: str  # as the policy's step sends it
    statutory: bool  # queued only with "confirm": true
    law: str


class NoticeChoicesOut(Schema):
    policy: str | None
    templates: list[str]
    notices: list[NoticeChoiceOut]


class NoticeOut(Schema):
    id: int
    key: str
    channel: str
    template: str
    party_id: str
    status: str
    created: bool


class DocumentOut(Schema):
    name: str
    kind: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime


@router.post("/accounts/{account_id}/calls", response={201: EventOut, **WRITES})
def call_post(request: HttpRequest, account_id: str, body: CallIn) -> Any:
    """Log a call and its outcome, with the promise taken on it (`promise_amount`,
    `promise_on`). A call logged now that the guard refuses is recorded refused and answered
    409 with the rule in `extra`; a call logged after the fact (`at`) is recorded, the guard's
    warning in its event's detail. A promise with questions is a 409
    `promise_needs_confirmation` (the questions in `extra.reasons`) unless `confirm`."""
    promise = None
    if body.promise_amount is not None or body.promise_on is not None:
        if body.promise_amount is None or body.promise_on is None:
            raise ValidationError(
                _("a promise taken on a call needs its amount and its date"),
                code="call_promise_incomplete",
            )
        promise = acts.PromiseTaken(_money(body.promise_amount, "promise_amount"), body.promise_on)
    logged = acts.call_log(
        by=by(request),
        account_id=account_id,
        party_id=body.party_id,
        outcome=body.outcome,
        note=body.note,
        at=body.at,
        promise=promise,
        confirm=body.confirm,
    )
    d = logged.decision
    if not logged.recorded:
        return Status(
            409,
            {
                "code": "guard_refused",
                "message": f"the guard refused the call ({d.rule}): {d.reason}",
                "extra": {"rule": d.rule, "reason": d.reason, "event": logged.event.pk},
            },
        )
    return Status(201, event_out(logged.event))


def _promise_out(p: Promise) -> dict[str, Any]:
    return {
        "id": p.pk,
        "account_id": p.account.account_id,
        "party_id": p.party.party_id if p.party else None,
        "amount": f"{p.amount:.2f}",
        "promised_on": p.promised_on,
        "made_on": p.made_on,
        "made_by": p.made_by,
        "channel": p.channel,
        "status": p.status,
        "settled_on": p.settled_on,
    }


@router.get("/accounts/{account_id}/promises", response={200: list[PromiseOut], **ERRORS})
def promises_get(request: HttpRequest, account_id: str) -> Any:
    """The account's promises to pay, oldest first."""
    authorize(request.user, "account.view", account_id)
    return [_promise_out(p) for p in promise_list(account_id=account_id)]


@router.post("/accounts/{account_id}/promises", response={201: PromiseOut, **WRITES})
def promise_post(request: HttpRequest, account_id: str, body: PromiseIn) -> Any:
    """Record a promise to pay `amount` by `promised_on`."""
    authorize(request.user, "promise.record", account_id)
    promise = acts.promise_record(
        by=by(request),
        account_id=account_id,
        amount=_money(body.amount, "amount"),
        promised_on=day(body.promised_on),
        party_id=body.party_id or None,
        channel=body.channel,
        confirm=body.confirm,
    )
    return Status(
        201, _promise_out(Promise.objects.select_related("account", "party").get(pk=promise.pk))
    )


def _plan_out(p: Plan, tracking: Any) -> dict[str, Any]:
    lines = tracking.lines if tracking is not None else []
    return {
        "id": p.pk,
        "account_id": p.account.account_id,
        "status": p.status,
        "amount": f"{p.amount:.2f}",
        "down_payment": f"{p.down_payment:.2f}",
        "frequency": p.frequency,
        "made_on": p.made_on,
        "made_by": p.created_by,
        "ended_on": p.ended_on,
        "end_reason": p.end_reason,
        "disputed_excluded": f"{p.disputed_excluded:.2f}",
        "disputes": p.disputes,
        "installments": [
            {
                "label": i.label,
                "due_on": i.due_on,
                "amount": f"{i.amount:.2f}",
                "paid": f"{i.paid:.2f}",
                "status": i.status,
            }
            for i in lines
        ],
    }


def _plan_of(account_id: str, plan_id: int) -> Plan:
    plan = plan_get(plan_id=_id(plan_id, "plan"))
    if plan.account.account_id != account_id:
        raise NotFoundError(
            _("no plan {plan_id} on {account_id}"),
            code="plan_not_found",
            plan_id=plan_id,
            account_id=account_id,
        )
    return plan


@router.get("/accounts/{account_id}/plans", response={200: list[PlanOut], **ERRORS})
def plans_get(request: HttpRequest, account_id: str) -> Any:
    """The account's plans, oldest first, each installment with what was paid and its status."""
    authorize(request.user, "account.view", account_id)
    rows = plan_list(account_id=account_id)
    tracking = tracking_for(rows, today())
    return [_plan_out(p, tracking.get(p.pk)) for p in rows]


@router.get("/accounts/{account_id}/plans/{plan_id}", response={200: PlanOut, **ERRORS})
def plan_show(request: HttpRequest, account_id: str, plan_id: int) -> Any:
    """One plan with each installment's status."""
    authorize(request.user, "account.view", account_id)
    plan = _plan_of(account_id, plan_id)
    return _plan_out(plan, tracking_for([plan], today()).get(plan.pk))


@router.post("/accounts/{account_id}/plan-proposals", response={200: ProposalOut, **WRITES})
def plan_propose(request: HttpRequest, account_id: str, body: ProposeIn) -> Any:
    """Terms the tenant can keep, from their monthly income and obligations (changes nothing)."""
    account = authorize(request.user, "plan.create", account_id)
    assert account is not None
    items = open_items_as_of(as_of=today(), account_pks=[account.pk])
    balance = sum((-i.amount if i.is_credit else i.amount for i in items), Decimal(0))
    p = propose_terms(
        balance=balance,
        income=_money(body.income, "income"),
        obligations=_money(body.obligations, "obligations"),
        rent=account.rent,
        limits=plan_limits(),
    )
    return {
        "balance": f"{balance:.2f}",
        "feasible": p.feasible,
        "down_payment": f"{p.down:.2f}",
        "installments": p.installments,
        "installment": f"{p.installment:.2f}",
        "monthly_room": f"{p.room:.2f}",
        "reasons": list(p.reasons),
    }


@router.post("/accounts/{account_id}/plans", response={201: PlanOut, **WRITES})
def plan_post(request: HttpRequest, account_id: str, body: PlanIn) -> Any:
    """Create a payment plan on the open balance (or the chosen charges)."""
    if body.installments is not None and not 0 < body.installments <= 1000:
        raise ValidationError(
            _("installments: between 1 and 1000"),
            code="installments_out_of_range",
            field="installments",
        )
    authorize(request.user, "plan.create", account_id)
    terms = acts.PlanTerms(
        start=day(body.start),
        frequency=body.frequency,
        installments=body.installments,
        installment_amount=_money(body.installment_amount, "installment_amount")
        if body.installment_amount
        else None,
        down=_money(body.down or "0", "down"),
        party_id=body.party_id or None,
    )
    plan = acts.plan_create(
        by=by(request), account_id=account_id, terms=terms, charges=body.charges[:200]
    )
    plan = plan_get(plan_id=plan.pk)
    return Status(201, _plan_out(plan, tracking_for([plan], today()).get(plan.pk)))


@router.post("/accounts/{account_id}/plans/{plan_id}/cancel", response={200: PlanOut, **WRITES})
def plan_cancel_post(request: HttpRequest, account_id: str, plan_id: int, body: ReasonIn) -> Any:
    """Cancel an active plan, with the reason."""
    acts.plan_cancel(
        by=by(request), account_id=account_id, plan_id=_id(plan_id, "plan"), reason=body.reason
    )
    plan = plan_get(plan_id=plan_id)
    return _plan_out(plan, tracking_for([plan], today()).get(plan.pk))


def _dispute_out(d: Dispute) -> dict[str, Any]:
    return {
        "id": d.pk,
        "account_id": d.account.account_id,
        "whole_balance": d.whole_balance,
        "amount": f"{d.amount:.2f}",
        "reason": d.reason,
        "status": d.status,
        "opened_on": d.opened_on,
        "outcome": d.outcome,
        "resolved_on": d.resolved_on,
        "letter": d.letter,
    }


@router.get("/accounts/{account_id}/disputes", response={200: list[DisputeOut], **ERRORS})
def disputes_get(request: HttpRequest, account_id: str) -> Any:
    """The account's disputes, oldest first."""
    authorize(request.user, "account.view", account_id)
    return [_dispute_out(d) for d in dispute_list(account_id=account_id)]


@router.post("/accounts/{account_id}/disputes", response={201: DisputeOut, **WRITES})
def dispute_post(request: HttpRequest, account_id: str, body: DisputeIn) -> Any:
    """Open a dispute on the chosen charges, or (none named) on the whole balance."""
    dispute = acts.dispute_open(
        by=by(request),
        account_id=account_id,
        reason=body.reason,
        charges=body.charges[:1000],
        party_id=body.party_id or None,
        channel=body.channel,
    )
    return Status(201, _dispute_out(dispute_get(dispute_id=dispute.pk)))


@router.post(
    "/accounts/{account_id}/disputes/{dispute_id}/resolve",
    response={200: DisputeResolvedOut, **WRITES},
)
def dispute_resolve_post(
    request: HttpRequest, account_id: str, dispute_id: int, body: ResolveIn
) -> Any:
    """Resolve an open dispute: upheld, partial (with the amount credited) or rejected."""
    authorize(request.user, "dispute.resolve", account_id)
    answered = acts.dispute_resolve(
        by=by(request),
        account_id=account_id,
        dispute_id=_id(dispute_id, "dispute"),
        outcome=body.outcome,
        amount=_money(body.amount, "amount") if body.amount else None,
        note=body.note,
    )
    return {**_dispute_out(dispute_get(dispute_id=dispute_id)), "answer": answered.as_json()}


@router.post("/accounts/{account_id}/statement", response={201: StatementOut, **WRITES})
def statement_post(request: HttpRequest, account_id: str, body: StatementIn) -> Any:
    """The statement as of today, archived (its name is a document of the account); with
    `email`, emailed to the primary party through the guard."""
    sent = acts.statement_send(by=by(request), account_id=account_id, email=body.email)
    document = sent.statement.document
    assert document is not None
    return Status(
        201, {"document": document.name, "sha256": document.sha256, "emailed": sent.emailed}
    )


@router.get("/accounts/{account_id}/notices", response={200: NoticeChoicesOut, **ERRORS})
def notices_get(request: HttpRequest, account_id: str) -> Any:
    """The notices that may be sent the account now: its policy's notice steps' templates (what
    `POST …/notices` accepts; a template of no step is refused with `notice_not_in_policy`)."""
    account = authorize(request.user, "notice.send", account_id)
    assert account is not None
    choices = notice_choices(account=account, on=today())
    policy = choices.policy.name if choices.policy else None
    notices = []
    for template in choices.templates:
        step, spec = choices.steps[template], spec_for(template)
        notices.append(
            {
                "template": template,
                "title": spec.title("en"),
                "roles": list(step.audience),
                "channel": step.channel or "",
                "statutory": spec.statutory,
                "law": spec.law,
            }
        )
    return {"policy": policy, "templates": list(choices.templates), "notices": notices}


@router.post("/accounts/{account_id}/notices", response={201: NoticeOut, **WRITES})
def notice_post(request: HttpRequest, account_id: str, body: NoticeIn) -> Any:
    """Send a notice now: queued for the day's print batch (letters) or the sender (email),
    if the guard allows it now; a refusal is 409 with the rule in `extra`."""
    queued = acts.notice_send(
        by=by(request),
        account_id=account_id,
        template=body.template,
        channel=body.channel,
        party_id=body.party_id or None,
        confirm=body.confirm,
    )
    o = queued.outbound
    return Status(
        201,
        {
            "id": o.pk,
            "key": o.key,
            "channel": o.channel,
            "template": o.template,
            "party_id": o.party.party_id if o.party else "",
            "status": o.status,
            "created": queued.created,
        },
    )


@router.get("/accounts/{account_id}/documents", response={200: list[DocumentOut], **ERRORS})
def documents_get(request: HttpRequest, account_id: str) -> Any:
    """The archived documents named on the account's timeline (letters, statements, emails)."""
    authorize(request.user, "document.view", account_id)
    names = [
        n
        for n in TimelineEvent.objects.filter(account__account_id=account_id).values_list(
            "detail__document", flat=True
        )
        if isinstance(n, str) and n
    ]
    return list(Document.objects.filter(name__in=names).order_by("created_at", "id"))


@router.get("/accounts/{account_id}/documents/content", response={200: None, **ERRORS})
def document_content(request: HttpRequest, account_id: str, name: str) -> Any:
    """An archived document's bytes, as stored (`name` as listed)."""
    document = document_visible(request.user, account_id=account_id, name=name)
    response = HttpResponse(archive_read(document), content_type=document.content_type)
    response["Content-Disposition"] = f'attachment; filename="{document.name.rsplit("/", 1)[-1]}"'
    return response
