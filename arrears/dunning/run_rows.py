"""The rows a chunk of the daily run writes (dunning.services.cycle_run): its actions, refusals,
timeline rows and fees, and the letters and emails it queues, with the run's JSON entries.

A step's action row carries its idempotency key (a refusal's key is the step's with the guard's
rule): a key already done is never written again, which is what makes a second run of a date do
nothing new. A dry run collects the JSON entries and writes nothing.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from django.db import connection

from arrears.core.fields import to_cents
from arrears.dunning.guard import Decision
from arrears.dunning.models import Action
from arrears.dunning.planning import PlannedStep
from arrears.dunning.policy import jurisdiction_of
from arrears.ledger import bulk
from arrears.ledger.models import TimelineEvent, Transaction
from arrears.ledger.services import NewCharge, charges_post

NOTICE_STATUS = {
    "email": "queued",
    "letter": "queued",
    "certified_letter": "queued",
    "sms": "task",
    "call": "task",
}


@dataclass
class RunResult:
    on: date
    dry_run: bool
    actions: list[dict[str, Any]] = field(default_factory=list)
    blocked: list[dict[str, Any]] = field(default_factory=list)
    accounts_seen: int = 0
    # The run's own pass after the main one: the pre-move-out inspection offers queued (or, in a
    # dry run, that would be) and refused (`dunning.inspection_offer`), each its JSON.
    inspection_offers: list[dict[str, Any]] = field(default_factory=list)

    @property
    def offers_sent(self) -> int:
        return sum(1 for x in self.inspection_offers if not x["rule"])

    def as_json(self) -> dict[str, Any]:
        return {
            "date": self.on.isoformat(),
            "actions": self.actions,
            "blocked": self.blocked,
            "inspection_offers": self.inspection_offers,
        }


class RunAccount(NamedTuple):
    """What the run reads of an account and its property: a tuple, one per account of a chunk."""

    pk: int
    account_id: str
    kind: str
    closed_on: date | None
    rent: Decimal | None
    country: str | None
    state: str | None
    property_tz: str | None
    property_address: str | None

    @property
    def jurisdiction(self) -> str:
        return jurisdiction_of(self.country, self.state)


class RunAddressee(NamedTuple):
    """One of an account's parties, as the run reads it."""

    pk: int
    party_id: str
    role: str
    name: str
    language: str
    timezone: str
    state: str
    email: str
    address: str
    phone: str


def packed(doc: dict[str, Any]) -> dict[str, Any]:
    """A worker's chunk result as its `RunChunk` row keeps it: the JSON compressed, in one string
    ({"z": base64 of zlib}). A chunk of 2,000 accounts says 1.3 MB of JSON, which PostgreSQL
    parsed into jsonb (and wrote to its WAL) in 55-80 ms, inside the chunk's transaction; packed,
    it is 0.19 MB and 20 ms, JSON encoding included (measured on this project's machine)."""
    raw = zlib.compress(json.dumps(doc, separators=(",", ":")).encode(), 1)
    return {"z": base64.b64encode(raw).decode("ascii")}


def unpacked(stored: dict[str, Any]) -> dict[str, Any]:
    """What `packed` kept (a row kept as plain JSON, before it, as it is)."""
    if "z" not in stored:
        return dict(stored)
    doc: dict[str, Any] = json.loads(zlib.decompress(base64.b64decode(stored["z"])))
    return doc


def fee_txn_id(key: str) -> str:
    return "FEE-" + hashlib.sha256(key.encode()).hexdigest()[:20].upper()


class Queued(NamedTuple):
    """A letter or email the run decided on, as correspondence's `outbound_create_many` reads it
    (with the run's JSON entry and action row, to name its document in them)."""

    key: str
    account: RunAccount
    party: RunAddressee | None
    role: str
    channel: str
    template: str
    language: str
    policy: str
    step: str
    run_on: date
    amount: Decimal | None
    deadline: date | None
    delinquency: date | None
    entry: dict[str, Any]
    row: list[Any] | None
    status: str = "queued"
    charge: str | None = None  # the charge a per-charge step is about (its txn id)


class Written:
    """What a chunk of the run writes: its actions, timeline rows and fees, as rows (tuples of
    database values) for one COPY each. A dry run keeps none of it."""

    ACTION_COLUMNS = (
        "key",
        "account_id",
        "party_id",
        "role",
        "policy",
        "policy_version",
        "step",
        "action",
        "channel",
        "template",
        "language",
        "amount",
        "deadline",
        "delinquency",
        "charge_id",
        "status",
        "rule",
        "reason",
        "run_on",
        "created_at",
        "document",
    )
    EVENT_COLUMNS = ("account_id", "at", "on", "kind", "actor", "summary", "detail")

    def __init__(self, *, on: date, now: datetime, actor: str, dry_run: bool) -> None:
        ops = connection.ops
        self.dry_run = dry_run
        self.actor = actor
        self.on, self.now = on, now
        self.db_on = ops.adapt_datefield_value(on)
        self.db_now = ops.adapt_datetimefield_value(now)
        self.db_date = ops.adapt_datefield_value
        self.actions: list[list[Any]] = []
        self.fee_rows: dict[str, list[Any]] = {}  # a fee's txn_id: its action's row
        self.events: list[tuple[Any, ...]] = []
        self.charges: list[NewCharge] = []
        self.queued: list[Queued] = []

    def action(
        self,
        plan: PlannedStep,
        account: RunAccount,
        ap: RunAddressee | None,
        key: str,
        status: str,
        decision: Decision,
    ) -> list[Any]:
        step = plan.step
        row = [
            key,
            account.pk,
            ap.pk if ap else None,
            plan.role or "",
            plan.policy,
            plan.policy_version,
            step.key,
            step.action,
            step.channel or "",
            step.template or "",
            plan.language if plan.language in ("en", "es") else "en",
            None if plan.amount is None else to_cents(plan.amount),
            None if plan.deadline is None else self.db_date(plan.deadline),
            None if plan.delinquency is None else self.db_date(plan.delinquency),
            None,
            status,
            decision.rule,
            decision.reason[:300],
            self.db_on,
            self.db_now,
            "",
        ]
        self.actions.append(row)
        if step.action == "fee" and status == "done":
            self.fee_rows[fee_txn_id(key)] = row
        return row

    def event(self, account: RunAccount, kind: str, summary: str, detail: dict[str, Any]) -> None:
        self.events.append(
            (
                account.pk,
                self.db_now,
                self.db_on,
                kind,
                self.actor,
                summary[:500],
                json.dumps(detail),
            )
        )

    def write(self) -> None:
        # The timeline rows first: the fees take the book's append lock (`charges_post`), held
        # to the commit, which the other chunks' fees wait for (two workers), so as little as
        # can be is written after it.
        bulk.insert_rows(TimelineEvent._meta.db_table, self.EVENT_COLUMNS, self.events)
        charges_post(self.charges)
        if self.fee_rows:
            charge_id = self.ACTION_COLUMNS.index("charge_id")
            for txn_id, pk in Transaction.objects.filter(
                txn_id__in=list(self.fee_rows)
            ).values_list("txn_id", "id"):
                self.fee_rows[txn_id][charge_id] = pk
        bulk.insert_rows(Action._meta.db_table, self.ACTION_COLUMNS, self.actions)


def record_step(
    plan: PlannedStep,
    decision: Decision,
    account: RunAccount,
    ap: RunAddressee | None,
    out: Written,
    result: RunResult,
    done: set[str],
) -> None:
    """Record a planned step as the guard decided it: a refusal (once for its step and rule) or
    the action, its JSON entry, the letter or email it queues, its fee and its timeline row."""
    if not decision.allowed:
        _record_refusal(plan, decision, account, ap, out, result, done)
        return
    step = plan.step
    entry = _entry(plan, account, ap)
    result.actions.append(entry)
    status = NOTICE_STATUS.get(step.channel or "", "done") if step.action == "notice" else "done"
    row = None if out.dry_run else out.action(plan, account, ap, plan.key, status, decision)
    if status == "queued":
        out.queued.append(_queued(plan, account, ap, out, entry, row))
    if out.dry_run:
        return
    if step.action == "fee":
        out.charges.append(_fee_charge(plan, account, out.on))
    _record_event(plan, account, ap, out, status, entry)


def _record_refusal(
    plan: PlannedStep,
    decision: Decision,
    account: RunAccount,
    ap: RunAddressee | None,
    out: Written,
    result: RunResult,
    done: set[str],
) -> None:
    step = plan.step
    party_id = ap.party_id if ap else None
    # A refusal is recorded once for its step and rule: the guard is asked again each day
    # (a hold may end, an address may arrive), but the same answer is not written again.
    key = f"{plan.key}@{decision.rule}"
    if key in done:
        return
    result.blocked.append(
        {
            "account_id": account.account_id,
            "party_id": party_id,
            "step": step.key,
            "rule": decision.rule,
        }
    )
    if out.dry_run:
        return
    out.action(plan, account, ap, key, "refused", decision)
    out.event(
        account,
        f"{step.action}.refused",
        f"{step.key} not done"
        + (f" for {party_id}" if party_id else "")
        + f": {decision.reason or decision.rule}",
        {
            "step": step.key,
            "rule": decision.rule,
            "policy": plan.policy,
            "party_id": party_id,
            "key": plan.key,
        },
    )


def _entry(plan: PlannedStep, account: RunAccount, ap: RunAddressee | None) -> dict[str, Any]:
    """The run's JSON entry of an action."""
    step = plan.step
    entry: dict[str, Any] = {
        "account_id": account.account_id,
        "party_id": ap.party_id if ap else None,
        "role": plan.role,
        "step": step.key,
        "channel": step.channel,
        "template": step.template,
    }
    if plan.amount is not None:
        entry["amount"] = f"{plan.amount:.2f}"
    if plan.deadline is not None:
        entry["deadline"] = plan.deadline.isoformat()
    return entry


def _queued(
    plan: PlannedStep,
    account: RunAccount,
    ap: RunAddressee | None,
    out: Written,
    entry: dict[str, Any],
    row: list[Any] | None,
) -> Queued:
    step = plan.step
    return Queued(
        plan.key,
        account,
        ap,
        plan.role or "",
        step.channel or "",
        step.template or "",
        plan.language if plan.language in ("en", "es") else "en",
        plan.policy,
        step.key,
        out.on,
        plan.amount,
        plan.deadline,
        plan.delinquency,
        entry,
        row,
        charge=plan.charge_txn_id if step.per == "charge" else None,
    )


def _fee_charge(plan: PlannedStep, account: RunAccount, on: date) -> NewCharge:
    step = plan.step
    assert plan.amount is not None
    return NewCharge(
        txn_id=fee_txn_id(plan.key),
        account_pk=account.pk,
        posted_on=on,
        due_on=on,
        code=step.fee_code,
        amount=plan.amount,
        memo=f"{step.key} for {plan.charge_txn_id} ({step.law})".strip(),
        reference=plan.key[:200],
    )


def _record_event(
    plan: PlannedStep,
    account: RunAccount,
    ap: RunAddressee | None,
    out: Written,
    status: str,
    entry: dict[str, Any],
) -> None:
    step = plan.step
    party_id = ap.party_id if ap else None
    what = {
        "notice": f"{step.template} by {step.channel} to {party_id} ({plan.role})"
        if step.template
        else f"{step.channel} to {party_id} ({plan.role})",  # a coordinator's call
        "fee": f"{step.fee_code} fee {plan.amount} posted",
        "recommend_referral": "referral to the attorney recommended",
        "referral": "referred",
        "hold": f"{step.hold_reason} hold placed",
    }.get(step.action, step.action)
    out.event(
        account,
        f"{step.action}.{status}",
        f"{step.key}: {what}",
        {
            "step": step.key,
            "policy": plan.policy,
            "policy_version": plan.policy_version,
            "party_id": party_id,
            "amount": entry.get("amount"),
            "law": step.law,
            "deadline": entry.get("deadline"),
            "key": plan.key,
        },
    )
