"""Writes of plans and promises. Every change writes its timeline row in the same transaction.

- `promise_add`, `plan_create`, `plan_renegotiate`, `plan_cancel`: a coordinator's acts;
- the daily settlement of promises and plans is `arrears.plans.settlement.commitments_review`;
- `plan_send_for_acceptance`: the agreement PDF handed to a sender (email is correspondence's;
  this records what was sent, to whom, and the document's SHA-256).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _

from arrears.core.errors import DomainError, NotFoundError, ValidationError
from arrears.core.money import ZERO
from arrears.ledger.models import Account, AccountParty, Party, TimelineEvent, Transaction
from arrears.ledger.selectors import open_items_as_of, party_of_account
from arrears.plans.models import CHANNELS, Installment, Plan, Promise
from arrears.plans.schedule import ScheduleError, build_schedule
from arrears.plans.selectors import plan_limits


def _account(account_id: str, *, lock: bool = False) -> Account:
    rows = Account.objects.select_for_update() if lock else Account.objects
    try:
        return rows.get(account_id=account_id)
    except Account.DoesNotExist:
        raise NotFoundError(
            _("no account {account_id!r}"), code="account_not_found", account_id=account_id
        ) from None


def _book_position() -> int:
    """The book's last transaction id (ids grow as transactions are booked): payments booked
    after it count toward what is made now (the balance already holds the earlier ones).

    The book's, not the account's own last id, which is the same cut for this account: with the
    account's, an account quiet for years put its old id in a chunk's lower bound and the daily
    run read every payment of the chunk since then (bench/holds.py: 1.1 s against 0.07 s)."""
    last = Transaction.objects.order_by("-id").values_list("id", flat=True)
    return last.first() or 0


def _event(account: Account, on: date, kind: str, actor: str, summary: str, **detail: Any) -> None:
    TimelineEvent.objects.create(
        account=account,
        at=dj_timezone.now(),
        on=on,
        kind=kind,
        actor=actor,
        summary=summary[:500],
        detail=detail,
    )


@transaction.atomic
def promise_add(
    *,
    account_id: str,
    amount: Decimal,
    promised_on: date,
    on: date,
    actor: str,
    party_id: str | None = None,
    channel: str = "phone",
) -> Promise:
    """Record a promise to pay `amount` by `promised_on`; payments booked from now count toward
    it (those already in the book do not).

    Raises ValidationError for a non-positive amount, a date in the past or an unknown channel.
    """
    _check_promise(amount, promised_on, on, channel)
    account = _account(account_id, lock=True)
    party = party_of_account(account, party_id)
    promise = Promise.objects.create(
        account=account,
        party=party,
        amount=amount,
        promised_on=promised_on,
        made_on=on,
        channel=channel,
        grace_days=plan_limits().promise_grace_days,
        made_by=actor,
        book_position=_book_position(),
    )
    who = party.party_id if party else "the account"
    _event(
        account,
        on,
        "promise.made",
        actor,
        f"promise by {who} to pay {amount:.2f} by {promised_on} ({channel})",
        promise=promise.pk,
        amount=f"{amount:.2f}",
        promised_on=promised_on.isoformat(),
        party_id=party.party_id if party else None,
        channel=channel,
    )
    return promise


def _check_promise(amount: Decimal, promised_on: date, on: date, channel: str) -> None:
    if amount <= 0:
        raise ValidationError(
            _("a promise's amount must be positive, not {amount}"),
            code="promise_amount_not_positive",
            amount=f"{amount:.2f}",
            field="amount",
        )
    if promised_on < on:
        raise ValidationError(
            _("the promised date {promised_on} is before today ({on})"),
            code="promise_date_past",
            promised_on=promised_on.isoformat(),
            on=on.isoformat(),
            field="promised_on",
        )
    if channel not in CHANNELS:
        raise ValidationError(
            _("a promise's channel is one of {choices}"),
            code="promise_channel_unknown",
            choices=", ".join(CHANNELS),
            channel=channel,
            field="channel",
        )


@dataclass(frozen=True)
class InDispute:
    """What open disputes hold on an account on a date: the whole balance, or these charges'
    amounts. The disputes part knows it; a caller above both parts passes it down
    (`arrears.dunning.commitments`), for plans never import disputes."""

    whole: bool = False
    charges: Mapping[str, Decimal] = field(default_factory=dict)  # txn_id -> amount disputed
    disputes: tuple[int, ...] = ()


# (account pk, date) -> what open disputes hold on it then
DisputeLookup = Callable[[int, date], InDispute]


class DisputedBalanceError(ValidationError):
    """Nothing undisputed is left to plan: the disputed amounts are answered first."""

    code = "disputed"


def _open_amount(
    account: Account, on: date, charges: Sequence[str], held: InDispute
) -> tuple[Decimal, list[str], Decimal]:
    """The undisputed open balance on `on` (charges less unapplied credit, less what open
    disputes hold), or the undisputed open amount of the chosen charges, and the disputed amount
    left out.

    15 USC §1692g(b): collection of a disputed amount stops until it is verified, so a plan to pay
    it is a collection of it; the plan covers the rest only. Raises ValidationError for a charge
    that is not open on the account, DisputedBalanceError when everything it would cover is
    disputed.
    """
    items = open_items_as_of(as_of=on, account_pks=[account.pk])
    open_charges = {i.txn_id: i.amount for i in items if not i.is_credit}
    chosen = list(charges)
    missing = [c for c in chosen if c not in open_charges]
    if missing:
        raise ValidationError(
            _("not open charges of {account_id}: {charges}"),
            code="plan_charges_not_open",
            account_id=account.account_id,
            charges=", ".join(missing),
            field="charges",
        )
    which = ", ".join(str(d) for d in held.disputes)
    if held.whole:
        raise DisputedBalanceError(
            _(
                "the whole balance of {account_id} is in dispute (dispute {which}): resolve it "
                "before a plan"
            ),
            code="disputed",
            account_id=account.account_id,
            which=which,
            disputes=list(held.disputes),
        )
    covered = chosen or list(open_charges)
    disputed = sum((min(open_charges[c], held.charges.get(c, ZERO)) for c in covered), ZERO)
    if chosen:
        total = sum((open_charges[c] for c in chosen), ZERO)
    else:
        total = sum(open_charges.values(), ZERO) - sum(
            (i.amount for i in items if i.is_credit), ZERO
        )
    if disputed > 0 and total - disputed <= 0:
        raise DisputedBalanceError(
            _(
                "everything a plan would cover on {account_id} ({total}) is in dispute (dispute "
                "{which}): nothing undisputed to plan; resolve it first"
            ),
            code="disputed",
            account_id=account.account_id,
            total=f"{total:.2f}",
            which=which,
            disputes=list(held.disputes),
            disputed=f"{disputed:.2f}",
        )
    return total - disputed, chosen, disputed


@transaction.atomic
def plan_create(
    *,
    account_id: str,
    on: date,
    actor: str,
    start: date,
    frequency: str = "monthly",
    installments: int | None = None,
    installment_amount: Decimal | None = None,
    down: Decimal = ZERO,
    dates: Sequence[date] = (),
    charges: Sequence[str] = (),
    party_id: str | None = None,
    acceleration_clause: str | None = None,
    supersedes: Plan | None = None,
    in_dispute: DisputeLookup,
) -> Plan:
    """A payment plan on the undisputed open balance (or the chosen charges) as of `on`:
    what `in_dispute` says open disputes hold is left out, and the plan records it.

    The installments are split by `schedule.build_schedule` and sum to the amount to the cent.
    Raises ValidationError when the account has an active plan (renegotiate it instead), nothing
    to plan, or terms that make no schedule; DisputedBalanceError when all of it is disputed.
    """
    account = _account(account_id, lock=True)
    party = party_of_account(account, party_id)
    _refuse_plan(account, supersedes, start, on)
    held = in_dispute(account.pk, on)
    amount, chosen, disputed = _open_amount(account, on, charges, held)
    schedule = _schedule(
        account_id,
        amount=amount,
        start=start,
        frequency=frequency,
        installments=installments,
        installment_amount=installment_amount,
        down=down,
        down_on=on,
        dates=dates,
    )
    plan = Plan.objects.create(
        account=account,
        party=party,
        amount=amount,
        down_payment=down,
        frequency=frequency,
        start_on=start,
        made_on=on,
        charges=chosen,
        **_company_terms(acceleration_clause),
        supersedes=supersedes,
        created_by=actor,
        book_position=_book_position(),
        disputed_excluded=disputed,
        disputes=list(held.disputes) if disputed else [],
    )
    _installments_write(plan, schedule, held, actor)
    return plan


def _company_terms(acceleration_clause: str | None) -> dict[str, Any]:
    """The company's grace and currency rule, and its acceleration clause unless one is given."""
    limits = plan_limits()
    clause = acceleration_clause
    if clause is None:
        clause = str(getattr(_settings(), "ARREARS_ACCELERATION_CLAUSE", "") or "")
    return {
        "grace_days": limits.grace_days,
        "require_current": limits.require_current,
        "acceleration_clause": clause,
    }


def _refuse_plan(account: Account, supersedes: Plan | None, start: date, on: date) -> None:
    """An account has one active plan at a time (the one a renegotiation supersedes aside), and
    a plan starts today or later."""
    active = Plan.objects.filter(account=account, status="active")
    if supersedes is not None:
        active = active.exclude(pk=supersedes.pk)
    first = active.values_list("pk", flat=True).first()
    if first is not None:
        raise ValidationError(
            _(
                "{account_id} already has an active plan ({plan_id}): renegotiate or cancel it "
                "first"
            ),
            code="plan_already_active",
            account_id=account.account_id,
            plan_id=first,
        )
    if start < on:
        raise ValidationError(
            _("the first installment's date {start} is before today ({on})"),
            code="plan_start_past",
            start=start.isoformat(),
            on=on.isoformat(),
            field="start",
        )


def _schedule(account_id: str, *, amount: Decimal, **terms: Any) -> list[Any]:
    """The installments of `amount` on the terms, summing to it to the cent."""
    try:
        schedule = build_schedule(amount=amount, **terms)
    except ScheduleError as exc:
        raise ValidationError(
            _("{account_id}: {problem}"),
            code="plan_terms_invalid",
            account_id=account_id,
            problem=str(exc),
        ) from None
    assert sum((i.amount for i in schedule), ZERO) == amount  # allocate's promise, kept
    return schedule


def _installments_write(plan: Plan, schedule: Sequence[Any], held: InDispute, actor: str) -> None:
    """The plan's installments, and its timeline row."""
    Installment.objects.bulk_create(
        [Installment(plan=plan, seq=i.seq, due_on=i.due_on, amount=i.amount) for i in schedule]
    )
    amount, disputed, on = plan.amount, plan.disputed_excluded, plan.made_on
    frequency, chosen, supersedes = plan.frequency, plan.charges, plan.supersedes
    account = plan.account
    parts = ", ".join(f"{i.amount:.2f} on {i.due_on}" for i in schedule)
    left_out = ""
    if disputed:
        which = ", ".join(str(d) for d in held.disputes)
        left_out = f"; {disputed:.2f} in dispute (dispute {which}) left out"
    _event(
        account,
        on,
        "plan.created",
        actor,
        f"plan {plan.pk}: {amount:.2f} in {len(schedule)} part(s): {parts}{left_out}",
        disputed_excluded=f"{disputed:.2f}",
        disputes=plan.disputes,
        plan=plan.pk,
        amount=f"{amount:.2f}",
        frequency=frequency,
        charges=chosen,
        supersedes=supersedes.pk if supersedes else None,
        installments=[
            {"seq": i.seq, "due_on": i.due_on.isoformat(), "amount": f"{i.amount:.2f}"}
            for i in schedule
        ],
    )


def _settings() -> Any:
    from django.conf import settings

    return settings


def _end(plan: Plan, status: str, on: date, reason: str, actor: str, **detail: Any) -> None:
    plan.status = status
    plan.ended_on = on
    plan.end_reason = reason[:500]
    plan.save(update_fields=["status", "ended_on", "end_reason"])
    _event(
        plan.account,
        on,
        f"plan.{status}",
        actor,
        f"plan {plan.pk} {status}: {reason}",
        plan=plan.pk,
        reason=reason,
        **detail,
    )


def _plan_for_update(plan_id: int) -> Plan:
    plan = Plan.objects.select_for_update().select_related("account").filter(pk=plan_id).first()
    if plan is None:
        raise NotFoundError(_("no plan {plan_id}"), code="plan_not_found", plan_id=plan_id)
    return plan


@transaction.atomic
def plan_cancel(*, plan_id: int, reason: str, on: date, actor: str) -> Plan:
    """Cancel an active plan, with the reason; it stays on record. The cycle resumes."""
    if not reason.strip():
        raise ValidationError(
            _("a cancellation needs a reason"), code="plan_cancel_reason_missing", field="reason"
        )
    plan = _plan_for_update(plan_id)
    if not plan.can_cancel():
        raise ValidationError(
            _("plan {plan_id} is {status}, not active: nothing to cancel"),
            code="plan_not_active",
            plan_id=plan_id,
            status=plan.status,
        )
    _end(plan, "cancelled", on, reason.strip(), actor)
    return plan


@transaction.atomic
def plan_renegotiate(*, plan_id: int, reason: str, on: date, actor: str, **terms: Any) -> Plan:
    """Replace an active plan by a new one on today's balance; the old one is kept, superseded."""
    if not reason.strip():
        raise ValidationError(
            _("a renegotiation needs a reason"),
            code="plan_renegotiate_reason_missing",
            field="reason",
        )
    old = _plan_for_update(plan_id)
    if old.status != "active":
        raise ValidationError(
            _("plan {plan_id} is {status}, not active"),
            code="plan_not_active",
            plan_id=plan_id,
            status=old.status,
        )
    _end(old, "superseded", on, reason.strip(), actor)
    return plan_create(
        account_id=old.account.account_id, on=on, actor=actor, supersedes=old, **terms
    )


# (to, subject, body, pdf, filename) -> what it did: None, or a dict for the timeline (e.g.
# {"status": "sent" | "queued", "message_id": …, "document": …}). It raises if nothing went.
Sender = Callable[[str, str, str, bytes, str], Any]


def plan_send_for_acceptance(
    *,
    plan_id: int,
    send: Sender,
    on: date,
    actor: str,
    language: str | None = None,
    again: bool = False,
) -> Plan:
    """Render the agreement and hand it to `send` (to, subject, body, pdf bytes, filename), then
    record it: when, to whom, and the document's SHA-256, on the plan and the timeline.

    The sender runs outside this function's transactions, so what it records of its own (an
    email sent, or refused by the guard) stays recorded even when it raises; the plan is then
    not marked sent. Raises DomainError when the plan is not active, was already sent (unless
    `again`), or its party has no email address.
    """
    from arrears.plans.agreement import agreement_pdf

    with transaction.atomic():
        plan = _sendable(plan_id, again)
        party = plan.party or _primary(plan.account)
        if party is None or not party.email:
            raise DomainError(
                _("plan {plan_id}: no email address to send the agreement to"),
                code="plan_no_email",
                plan_id=plan_id,
            )
        lang = language or (party.language if party.language in ("en", "es") else "en")
        pdf = agreement_pdf(plan, lang)
    digest = hashlib.sha256(pdf).hexdigest()
    subject, body = _agreement_message(plan.pk, lang)
    outcome = send(party.email, subject, body, pdf, f"plan-{plan.pk}-{lang}.pdf")
    recorded = ("plan", "to", "sha256", "language")  # what the timeline row says already
    extra = {
        k: v for k, v in (outcome if isinstance(outcome, dict) else {}).items() if k not in recorded
    }
    with transaction.atomic():
        plan = _sendable(plan_id, again)
        plan.sent_for_acceptance_at = dj_timezone.now()
        plan.sent_to = party.email
        plan.agreement_sha256 = digest
        plan.save(update_fields=["sent_for_acceptance_at", "sent_to", "agreement_sha256"])
        how = "queued for" if extra.get("status") == "queued" else "sent to"
        _event(
            plan.account,
            on,
            "plan.sent_for_acceptance",
            actor,
            f"plan {plan.pk} agreement ({lang}) {how} {party.email} for acceptance",
            plan=plan.pk,
            to=party.email,
            sha256=digest,
            language=lang,
            **extra,
        )
    return plan


def _agreement_message(plan_id: int, lang: str) -> tuple[str, str]:
    """The subject and body of the email that carries the agreement, in its language."""
    if lang == "en":
        return (
            "Your payment plan agreement",
            f"Please read the attached agreement for plan {plan_id} and reply to accept it.",
        )
    return (
        "Su acuerdo de plan de pagos",
        f"Lea el acuerdo adjunto del plan {plan_id} y responda para aceptarlo.",
    )


def _sendable(plan_id: int, again: bool) -> Plan:
    plan = _plan_for_update(plan_id)
    if plan.status != "active":
        raise ValidationError(
            _("plan {plan_id} is {status}: only an active plan is sent"),
            code="plan_not_active",
            plan_id=plan_id,
            status=plan.status,
        )
    if plan.sent_for_acceptance_at is not None and not again:
        raise ValidationError(
            _("plan {plan_id}'s agreement was already sent to {to} on {sent_on}"),
            code="plan_already_sent",
            plan_id=plan_id,
            to=plan.sent_to,
            sent_on=f"{plan.sent_for_acceptance_at:%Y-%m-%d}",
        )
    return plan


def _primary(account: Account) -> Party | None:
    link = (
        AccountParty.objects.filter(account=account, role="primary")
        .select_related("party")
        .order_by("id")
        .first()
    )
    return link.party if link else None
