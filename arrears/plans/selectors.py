"""Reads of plans and promises: their tracking as of a date, the holds they put on the daily run,
broken promises for the worklist, and the promise-kept rate per coordinator.

The daily run calls `cycle_holds` once per chunk of accounts: a fixed handful of queries for the
chunk (one when it has no plan and no promise), never one per account.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from arrears.core.errors import NotFoundError, ValidationError
from arrears.core.money import ZERO
from arrears.ledger.models import Account, Transaction
from arrears.plans.models import Installment, Plan, Promise
from arrears.plans.schedule import Due, Limits, Tracking, track


def plan_limits() -> Limits:
    """The company's limits: settings.ARREARS_PLANS (from ARREARS_PLAN_<FIELD> variables) over
    the defaults of `Limits`. ValidationError names a value that is not of its field's kind."""
    given: dict[str, Any] = dict(getattr(settings, "ARREARS_PLANS", {}) or {})
    base = Limits()
    values: dict[str, Any] = {}
    for name, value in given.items():
        if name not in Limits.__dataclass_fields__:
            raise ValidationError(
                _("ARREARS_PLAN_{name}: no such plan limit"),
                code="plan_limit_unknown",
                name=name.upper(),
            )
        current = getattr(base, name)
        text = str(value).strip()
        try:
            if isinstance(current, bool):
                if text.lower() not in ("1", "0", "true", "false", "yes", "no"):
                    raise ValueError(text)
                values[name] = text.lower() in ("1", "true", "yes")
            elif isinstance(current, Decimal):
                values[name] = Decimal(text)
            else:
                values[name] = int(text)
        except (ValueError, ArithmeticError):
            raise ValidationError(
                _("ARREARS_PLAN_{name}={text!r} is not a {kind}"),
                code="plan_limit_invalid",
                name=name.upper(),
                text=text,
                kind=type(current).__name__,
            ) from None
    return replace(base, **values)


def _in_range(model: Any, account_pks: list[int]) -> Any:
    # A range of keys, not a list of 2,000 parameters (the daily run's chunks are ranges).
    return model.objects.filter(account_id__gte=min(account_pks), account_id__lte=max(account_pks))


def payments_by_account(
    account_pks: list[int], after: dict[int, int], on: date
) -> dict[int, list[tuple[date, Decimal, int]]]:
    """Payments booked after each account's book position `after` (a transaction id: what the
    balance already held when the plan or promise was made does not count twice) and posted by
    `on`, as (posted date, amount, transaction id); a reversed payment counts as a negative
    payment on the day of its reversal (a bounced check undoes what it paid)."""
    if not account_pks:
        return {}
    out: dict[int, list[tuple[date, Decimal, int]]] = defaultdict(list)
    rows = (
        _in_range(Transaction, account_pks)
        .filter(id__gt=min(after.values()), posted_on__lte=on)
        .filter(Q(type="payment") | Q(type="reversal", reverses__type="payment"))
        .values_list("account_id", "id", "type", "posted_on", "amount")
    )
    for pk, txn_pk, kind, posted, amount in rows:
        if pk in after and txn_pk > after[pk]:
            out[pk].append((posted, amount if kind == "payment" else -amount, txn_pk))
    return out


def _new_charges(plans: list[Plan], on: date) -> dict[int, list[Due]]:
    """For plans that require current charges: the charges booked after the plan was made."""
    wanted = {p.account_id: p.book_position for p in plans if p.require_current}
    if not wanted:
        return {}
    out: dict[int, list[Due]] = defaultdict(list)
    for pk, txn_pk, txn_id, due, amount in (
        _in_range(Transaction, list(wanted))
        .filter(type="charge", id__gt=min(wanted.values()), due_on__lte=on)
        .values_list("account_id", "id", "txn_id", "due_on", "amount")
    ):
        if pk in wanted and txn_pk > wanted[pk]:
            out[pk].append(Due(_("charge {txn}").format(txn=txn_id), due, amount))
    return out


def tracking_for(plans: list[Plan], on: date) -> dict[int, Tracking]:
    """Each plan's tracking as of `on`, by plan id, in three queries whatever their number.

    What counts: the payments booked after the plan was made (the balance it split already held
    the earlier ones), and, when it requires them, the charges booked after it."""
    if not plans:
        return {}
    schedule: dict[int, list[Due]] = defaultdict(list)
    for plan_id, seq, due_on, amount in Installment.objects.filter(
        plan_id__in=[p.pk for p in plans]
    ).values_list("plan_id", "seq", "due_on", "amount"):
        schedule[plan_id].append(
            Due(
                _("installment {seq}").format(seq=seq) if seq else str(_("down payment")),
                due_on,
                amount,
            )
        )
    payments = payments_by_account(
        [p.account_id for p in plans], {p.account_id: p.book_position for p in plans}, on
    )
    extra = _new_charges(plans, on)
    return {
        p.pk: track(
            [*schedule[p.pk], *extra.get(p.account_id, [])],
            [(day, a) for day, a, _ in payments.get(p.account_id, [])],
            as_of=on,
            grace_days=p.grace_days,
        )
        for p in plans
    }


def plan_get(*, plan_id: int) -> Plan:
    try:
        return Plan.objects.select_related("account", "party", "supersedes").get(pk=plan_id)
    except Plan.DoesNotExist:
        raise NotFoundError(
            _("no plan {plan_id}"), code="plan_not_found", plan_id=plan_id
        ) from None


def plan_tracking(*, plan: Plan, on: date) -> Tracking:
    return tracking_for([plan], on)[plan.pk]


@dataclass(frozen=True)
class CycleHold:
    """A commitment that holds the daily run for one account."""

    rule: str  # "plan" or "promise"
    reason: str


def cycle_holds(account_pks: Iterable[int], on: date) -> dict[int, CycleHold]:
    """Accounts held on `on` by a plan in good standing (rule `plan`) or a promise whose date,
    with its grace, has not passed (rule `promise`). A broken plan or promise holds nothing, even
    before the review marks it: the hold is derived from the payments each day."""
    pks = list(account_pks)
    if not pks:
        return {}
    wanted = set(pks)
    out: dict[int, CycleHold] = {}
    promises = [
        row
        for row in _in_range(Promise, pks)
        .filter(status="open", made_on__lte=on)
        .values_list("account_id", "id", "amount", "promised_on", "grace_days", "book_position")
        if row[0] in wanted
    ]
    plans = [
        p
        for p in _in_range(Plan, pks).filter(status="active", made_on__lte=on)
        if p.account_id in wanted
    ]
    tracked = tracking_for(plans, on)
    for plan in plans:
        if not tracked[plan.pk].broken:
            out[plan.account_id] = CycleHold("plan", f"plan {plan.pk} in good standing")
    if promises:
        after: dict[int, int] = {}
        for pk, *_, position in promises:
            after[pk] = min(after.get(pk, position), position)
        paid = payments_by_account(list(after), after, on)
        for pk, promise_id, amount, by, grace, position in promises:
            got = sum((a for _, a, txn in paid.get(pk, []) if txn > position), ZERO)
            if got < amount and on <= by + timedelta(days=grace) and pk not in out:
                out[pk] = CycleHold("promise", f"promise {promise_id} of {amount:.2f} by {by}")
    return out


@dataclass(frozen=True)
class BrokenPromise:
    account_pk: int
    promise_id: int
    amount: Decimal
    promised_on: date
    settled_on: date


def broken_promises(*, on: date, days: int = 30) -> list[BrokenPromise]:
    """Promises broken in the last `days` days and not followed by a newer promise or plan on
    the same account: the coordinator's call to make."""
    rows = list(
        Promise.objects.filter(
            status="broken", settled_on__lte=on, settled_on__gt=on - timedelta(days=days)
        ).values_list("account_id", "id", "amount", "promised_on", "settled_on")
    )
    if not rows:
        return []
    pks = {r[0] for r in rows}
    later: dict[int, date] = {}
    for pk, made in [
        *Promise.objects.filter(account_id__in=pks).values_list("account_id", "made_on"),
        *Plan.objects.filter(account_id__in=pks).values_list("account_id", "made_on"),
    ]:
        later[pk] = max(later.get(pk, made), made)
    return [
        BrokenPromise(row[0], row[1], row[2], row[3], row[4] or on)
        for row in rows
        if later.get(row[0], date.min) <= row[3]  # nothing agreed since its date
    ]


@dataclass(frozen=True)
class BrokenPlan:
    account_pk: int
    plan_id: int
    ended_on: date


def broken_plans(*, on: date, days: int = 30) -> list[BrokenPlan]:
    """Plans broken in the last `days` days with no newer plan on the account: the guarantor may
    be told, the next step decided."""
    rows = list(
        Plan.objects.filter(
            status="broken", ended_on__lte=on, ended_on__gt=on - timedelta(days=days)
        ).values_list("account_id", "id", "ended_on")
    )
    if not rows:
        return []
    newer: dict[int, int] = {}
    for pk, plan_id in Plan.objects.filter(account_id__in={r[0] for r in rows}).values_list(
        "account_id", "id"
    ):
        newer[pk] = max(newer.get(pk, plan_id), plan_id)
    return [
        BrokenPlan(pk, plan_id, ended or on) for pk, plan_id, ended in rows if newer[pk] == plan_id
    ]


@dataclass(frozen=True)
class KeptRate:
    coordinator: str
    kept: int
    broken: int

    @property
    def rate(self) -> Decimal | None:
        settled = self.kept + self.broken
        return (Decimal(self.kept) / settled).quantize(Decimal("0.0001")) if settled else None

    def as_json(self) -> dict[str, Any]:
        rate = self.rate
        return {
            "coordinator": self.coordinator,
            "kept": self.kept,
            "broken": self.broken,
            "rate": None if rate is None else f"{rate:.4f}",
        }


def promises_settled(*, since: date | None = None, until: date | None = None) -> QuerySet[Promise]:
    """The promises the kept rate counts: those settled, kept or broken, between the dates (both
    included); open promises do not count yet. The one statement of that definition: the
    command's rate per coordinator and the `promises` report (reports.outcomes) both read it."""
    rows = Promise.objects.exclude(status="open")
    if since is not None:
        rows = rows.filter(settled_on__gte=since)
    if until is not None:
        rows = rows.filter(settled_on__lte=until)
    return rows


def promise_kept_rate(*, since: date | None = None, until: date | None = None) -> list[KeptRate]:
    """Per coordinator who took them: promises kept and broken (settled between the dates), and
    the share kept (`KeptRate.rate`)."""
    rows = promises_settled(since=since, until=until)
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"kept": 0, "broken": 0})
    for who, status in rows.values_list("made_by", "status"):
        counts[who][status] += 1
    return [KeptRate(who, c["kept"], c["broken"]) for who, c in sorted(counts.items())]


def promise_list(*, account_id: str) -> list[Promise]:
    return list(Promise.objects.filter(account__account_id=account_id).order_by("made_on", "id"))


def plan_list(*, account_id: str) -> list[Plan]:
    return list(Plan.objects.filter(account__account_id=account_id).order_by("made_on", "id"))


PROMISE_FAR_OFF_DAYS = 60  # a promise dated further out is asked about before it is saved


class PromiseQuestionedError(ValidationError):
    """A promise that may be a mistake (above the balance, far off, or beside an open promise):
    saved only when the user confirms it; `extra["reasons"]` names each question."""

    code = "promise_needs_confirmation"


def promise_questions(
    *, account_id: str, amount: Decimal, promised_on: date, on: date
) -> list[dict[str, str]]:
    """What to ask before a promise is saved: each question a code and its facts (none of a
    promise `promise_add` refuses anyway: nothing, or in the past)."""
    from arrears.ledger.selectors import open_items_as_of

    questions: list[dict[str, str]] = []
    if amount <= 0 or promised_on < on:
        return questions
    promises = list(
        Promise.objects.filter(account__account_id=account_id, status="open").order_by("id")
    )
    pks = list(Account.objects.filter(account_id=account_id).values_list("pk", flat=True))
    items = open_items_as_of(as_of=on, account_pks=pks)
    balance = sum((-i.amount if i.is_credit else i.amount for i in items), ZERO)
    if amount > balance:
        questions.append(
            {"code": "above_balance", "amount": f"{amount:.2f}", "balance": f"{balance:.2f}"}
        )
    if (promised_on - on).days > PROMISE_FAR_OFF_DAYS:
        questions.append(
            {
                "code": "far_off",
                "promised_on": promised_on.isoformat(),
                "days": str((promised_on - on).days),
            }
        )
    for p in promises:
        questions.append(
            {
                "code": "duplicate",
                "promise": str(p.pk),
                "amount": f"{p.amount:.2f}",
                "promised_on": p.promised_on.isoformat(),
            }
        )
    return questions


def promise_check(*, account_id: str, amount: Decimal, promised_on: date, on: date) -> None:
    """Raise PromiseQuestionedError when the promise has questions to confirm."""
    questions = promise_questions(
        account_id=account_id, amount=amount, promised_on=promised_on, on=on
    )
    if questions:
        raise PromiseQuestionedError(
            _("confirm the promise of {amount} by {promised_on}: {said}"),
            code="promise_needs_confirmation",
            amount=f"{amount:.2f}",
            promised_on=promised_on.isoformat(),
            reasons=questions,
            said="; ".join(_question_said(q) for q in questions),
        )


def _question_said(q: dict[str, str]) -> str:
    if q["code"] == "above_balance":
        return f"{q['amount']} is more than the balance of {q['balance']}"
    if q["code"] == "far_off":
        return f"{q['promised_on']} is {q['days']} days away"
    return f"promise {q['promise']} of {q['amount']} by {q['promised_on']} is still open"
