"""Writes of the collection cycle: the daily run, holds and notes.

The daily run is plan → guard → execute, a chunk of accounts at a time, each chunk in its own
transaction. Every action and every refusal is written with its idempotency key and its timeline
row in that transaction, so a second run on the same date does nothing new, and a run that died
half-way, run again, finishes the rest.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone as dj_timezone

from arrears.core.dates import book_zone
from arrears.core.errors import NotFoundError, ValidationError
from arrears.correspondence.selectors import party_address_key, returned_addresses
from arrears.correspondence.services import outbound_create_many
from arrears.dunning.calendar import is_california_court_holiday
from arrears.dunning.guard import (
    ActiveHold,
    CallHistory,
    ContactPoint,
    Decision,
    GuardRules,
    guard_check,
)
from arrears.dunning.models import (
    Action,
    CompanyPolicy,
    Consent,
    ContactAttempt,
    Hold,
    PolicyOverride,
    RunLog,
)
from arrears.dunning.planning import (
    AccountState,
    OpenCharge,
    Party,
    PlannedStep,
    next_steps,
    past_due_throughout,
)
from arrears.dunning.policy import Policy, built_in_policies, choose_policy, parse_policy
from arrears.ledger import bulk
from arrears.ledger.interchange import STATE_TIME_ZONES
from arrears.ledger.models import Account, AccountParty, OpenItemDelta, TimelineEvent, Transaction
from arrears.ledger.selectors import open_items_as_of
from arrears.ledger.services import NewCharge, charges_post

CHUNK = 2000
NOTICE_STATUS = {"email": "queued", "letter": "queued", "certified_letter": "queued",
                 "sms": "task", "call": "task"}  # fmt: skip


@dataclass
class RunResult:
    on: date
    dry_run: bool
    actions: list[dict[str, Any]] = field(default_factory=list)
    blocked: list[dict[str, Any]] = field(default_factory=list)
    accounts_seen: int = 0

    def as_json(self) -> dict[str, Any]:
        return {"date": self.on.isoformat(), "actions": self.actions, "blocked": self.blocked}


def company_policies() -> dict[str, Policy]:
    """Built-in policies, overridden by a company's own (latest version of each name)."""
    policies = dict(built_in_policies())
    latest: dict[str, CompanyPolicy] = {}
    for row in CompanyPolicy.objects.order_by("name", "version"):
        latest[row.name] = row
    for name, row in latest.items():
        parsed = parse_policy(row.body, source=f"{name} v{row.version}")
        policies[name] = dataclasses.replace(parsed, version=row.version)
    return policies


def _zone_of(account: Account, party_tz: str, party_state: str) -> str:
    if party_tz:
        return party_tz
    if party_state.upper() in STATE_TIME_ZONES:
        return STATE_TIME_ZONES[party_state.upper()]
    prop = account.property
    if prop is not None:
        return prop.timezone or STATE_TIME_ZONES.get(prop.state.upper(), "America/New_York")
    return str(book_zone())


def _jurisdiction(account: Account) -> str:
    prop = account.property
    if prop is None:
        return ""
    return f"{prop.country}-{prop.state.upper()}" if prop.state else prop.country


def _fee_txn_id(key: str) -> str:
    return "FEE-" + hashlib.sha256(key.encode()).hexdigest()[:20].upper()


def cycle_run(
    *,
    on: date,
    dry_run: bool = False,
    actor: str = "cycle",
    progress: Callable[[int, int], None] | None = None,
    stop_after_chunks: int | None = None,
) -> RunResult:
    """Plan, guard and execute every account's due steps for `on`; see the module docstring.

    `stop_after_chunks` stops early (as a crash would), for the tests of a resumed run.
    """
    policies = company_policies()
    result = RunResult(on=on, dry_run=dry_run)
    items = open_items_as_of(as_of=on)
    by_account: dict[int, list[Any]] = defaultdict(list)
    for item in items:
        by_account[item.account_pk].append(item)
    candidates = sorted(by_account)
    log = None if dry_run else RunLog.objects.create(
        run_on=on, dry_run=dry_run, started_at=dj_timezone.now())  # fmt: skip
    for index in range(0, len(candidates), CHUNK):
        if stop_after_chunks is not None and index // CHUNK >= stop_after_chunks:
            return result
        chunk = candidates[index : index + CHUNK]
        with transaction.atomic():
            _run_chunk(chunk, by_account, policies, on, dry_run, actor, result)
            if dry_run:
                transaction.set_rollback(True)
        result.accounts_seen += len(chunk)
        if progress:
            progress(min(index + CHUNK, len(candidates)), len(candidates))
    if log is not None:
        log.finished_at = dj_timezone.now()
        log.counts = {"accounts": result.accounts_seen, "actions": len(result.actions),
                      "blocked": len(result.blocked)}  # fmt: skip
        log.save(update_fields=["finished_at", "counts"])
    return result


def _run_chunk(
    chunk: list[int],
    by_account: dict[int, list[Any]],
    policies: dict[str, Policy],
    on: date,
    dry_run: bool,
    actor: str,
    result: RunResult,
) -> None:
    # The chunk's accounts by a range of keys, not a list of 2,000 parameters: the range may hold
    # accounts with nothing open, which the loop below never asks for.
    lo, hi = chunk[0], chunk[-1]
    accounts = {
        a.pk: a
        for a in Account.objects.filter(pk__gte=lo, pk__lte=hi)
        .select_related("property")
        .defer("extra", "property__extra")
    }
    overrides = dict(
        PolicyOverride.objects.filter(account_id__gte=lo, account_id__lte=hi).values_list(
            "account_id", "policy"
        )
    )
    parties: dict[int, list[AccountParty]] = defaultdict(list)
    ap: AccountParty | None
    for ap in (
        AccountParty.objects.filter(account_id__gte=lo, account_id__lte=hi)
        .select_related("party")
        .defer("extra", "party__extra")
    ):
        parties[ap.account_id].append(ap)
    holds: dict[int, list[ActiveHold]] = defaultdict(list)
    active = Hold.objects.filter(account_id__gte=lo, account_id__lte=hi,
                                 released_at__isnull=True, placed_on__lte=on)  # fmt: skip
    for h in active.select_related("party"):
        party_id = h.party.party_id if h.party_id else None  # type: ignore[union-attr]
        holds[h.account_id].append(ActiveHold(h.reason, party_id, h.until))
    done: dict[int, set[str]] = defaultdict(set)
    done_on: dict[int, dict[str, date]] = defaultdict(dict)
    anchors: dict[int, set[date]] = defaultdict(set)
    for account_pk, account_id, key, run_on, status, step, start in Action.objects.filter(
        account_id__gte=lo, account_id__lte=hi
    ).values_list("account_id", "account__account_id", "key", "run_on", "status", "step",
                  "delinquency"):  # fmt: skip
        done[account_pk].add(key)
        if status != "refused" and start is not None:
            # after_step triggers look a step up by its delinquency (see planning).
            done_on[account_pk].setdefault(f"{account_id}:{step}:{start.isoformat()}", run_on)
            anchors[account_pk].add(start)
    since = _delinquent_since(chunk, by_account, anchors, on)
    fees: dict[int, dict[str, set[date]]] = defaultdict(lambda: defaultdict(set))
    fee_codes = {s.fee_code for p in policies.values() for s in p.steps if s.action == "fee"}
    for account_pk, code, posted in Transaction.objects.filter(
        account_id__gte=lo,
        account_id__lte=hi,
        type="charge",
        code__in=fee_codes,
        posted_on__lte=on,
    ).values_list("account_id", "code", "posted_on"):
        fees[account_pk][code].add(posted)
    consents: dict[str, dict[str, bool]] = defaultdict(dict)
    party_pks = {ap.party_id for aps in parties.values() for ap in aps}
    returned = returned_addresses(party_pks)  # letters returned undeliverable
    for party_pk, channel, granted in (
        Consent.objects.filter(party_id__in=party_pks)
        .order_by("at", "id")
        .values_list("party_id", "channel", "granted")
    ):
        consents[str(party_pk)][channel] = granted
    calls: dict[tuple[int, int], list[datetime]] = defaultdict(list)
    talks: dict[tuple[int, int], list[datetime]] = defaultdict(list)
    week_ago = datetime.combine(on - timedelta(days=8), time(0), tzinfo=ZoneInfo("UTC"))
    for a_pk, p_pk, at, talked in ContactAttempt.objects.filter(
        account_id__gte=lo, account_id__lte=hi, channel="call", at__gte=week_ago
    ).values_list("account_id", "party_id", "at", "conversation"):
        calls[(a_pk, p_pk)].append(at)
        if talked:
            talks[(a_pk, p_pk)].append(at)

    new_actions: list[Action] = []
    events: list[TimelineEvent] = []
    charges: list[NewCharge] = []
    now = dj_timezone.now()
    for pk in chunk:
        account = accounts[pk]
        moved_out = account.closed_on is not None and account.closed_on <= on
        policy = choose_policy(
            policies, jurisdiction=_jurisdiction(account), account_kind=account.kind,
            moved_out=moved_out, override=overrides.get(pk),
        )  # fmt: skip
        if policy is None:
            continue
        rows = by_account[pk]
        charges_open = tuple(
            OpenCharge(r.txn_id, r.code, r.due_on, r.posted_on, r.amount)
            for r in rows if not r.is_credit
        )  # fmt: skip
        balance = sum((c.open_amount for c in charges_open), Decimal(0)) - sum(
            (r.amount for r in rows if r.is_credit), Decimal(0)
        )
        people = {ap.party.party_id: ap for ap in parties[pk]}
        state = AccountState(
            account_id=account.account_id, kind=account.kind, moved_out=moved_out,
            rent=account.rent, balance=balance, open_charges=charges_open,
            parties=tuple(Party(ap.party.party_id, ap.role, ap.party.name, ap.party.language)
                          for ap in parties[pk]),
            fees_posted={code: frozenset(days) for code, days in fees[pk].items()},
            delinquent_since=since.get(pk),
        )  # fmt: skip
        planned = next_steps(
            state, policy, done[pk], on, done_on=done_on[pk],
            is_court_holiday=is_california_court_holiday,
        )  # fmt: skip
        for plan in planned:
            ap = people.get(plan.party_id) if plan.party_id else None
            decision = _decide(plan, account, ap, holds[pk], consents, calls, talks, on,
                               guard_rules(policy), returned)  # fmt: skip
            _record(plan, decision, account, ap, on, now, actor, new_actions, events, charges,
                    result, done[pk])  # fmt: skip
    # Correspondence queues each letter and email; the run's JSON names its document. The
    # allowed actions and this chunk's JSON entries were appended in the same order.
    documents = outbound_create_many(new_actions, insert=not dry_run)
    allowed = [a for a in new_actions if a.status != "refused"]
    for a, entry in zip(allowed, result.actions[len(result.actions) - len(allowed) :], strict=True):
        if a.key in documents:
            a.document = entry["document"] = documents[a.key]
    if dry_run:
        return
    charges_post(charges)
    fee_ids = dict(Transaction.objects.filter(txn_id__in=[c.txn_id for c in charges]).values_list(
        "txn_id", "id"))  # fmt: skip
    for a in new_actions:
        if a.action == "fee":
            a.charge_id = fee_ids.get(_fee_txn_id(a.key))
    bulk.insert_objects(new_actions)
    bulk.insert_objects(events)


def guard_rules(policy: Policy) -> GuardRules:
    """The guard's windows and caps for a policy: the federal floor unless the policy's
    [settings] ask for stricter ones (`contact_from = "09:00"`, `contact_until = "20:00"`,
    `calls_per_week = 3`, `quiet_days_after_conversation = 7`), for stricter local rules."""
    settings = policy.settings
    base = GuardRules()
    return GuardRules(
        earliest=time.fromisoformat(settings.get("contact_from", base.earliest.isoformat())),
        latest=time.fromisoformat(settings.get("contact_until", base.latest.isoformat())),
        calls_per_week=int(settings.get("calls_per_week", base.calls_per_week)),
        quiet_days_after_conversation=int(
            settings.get("quiet_days_after_conversation", base.quiet_days_after_conversation)
        ),
    )


def _delinquent_since(
    chunk: list[int],
    by_account: dict[int, list[Any]],
    anchors: dict[int, set[date]],
    on: date,
) -> dict[int, date]:
    """For accounts whose oldest past-due charge is newer than the delinquency their last steps
    were taken for: that delinquency's start, if the account stayed past due ever since."""
    wanted: dict[int, date] = {}
    for pk in chunk:
        late = [r.due_on for r in by_account[pk] if not r.is_credit and r.due_on < on]
        earlier = [a for a in anchors.get(pk, ()) if late and a < min(late)]
        if earlier:
            wanted[pk] = max(earlier)
    if not wanted:
        return {}
    history: dict[int, dict[int, tuple[date, list[tuple[date, Decimal]]]]] = defaultdict(dict)
    for pk, item, due, day, delta in OpenItemDelta.objects.filter(
        account_id__in=list(wanted), is_credit=False, on_date__lte=on
    ).values_list("account_id", "item_id", "due_on", "on_date", "delta"):
        if due is not None:  # charges always have a due date
            history[pk].setdefault(item, (due, []))[1].append((day, delta))
    return {
        pk: anchor
        for pk, anchor in wanted.items()
        if past_due_throughout(list(history[pk].values()), anchor, on)
    }


def _decide(
    plan: PlannedStep,
    account: Account,
    ap: AccountParty | None,
    holds: list[ActiveHold],
    consents: dict[str, dict[str, bool]],
    calls: dict[tuple[int, int], list[datetime]],
    talks: dict[tuple[int, int], list[datetime]],
    on: date,
    rules: GuardRules,
    returned: dict[int, set[str]] | None = None,
) -> Decision:
    step = plan.step
    contact = None
    history = None
    zone = str(book_zone())
    if ap is not None:
        party = ap.party
        zone = _zone_of(account, party.timezone, party.state)
        given = consents.get(str(party.pk), {})
        contact = ContactPoint(
            party_id=party.party_id, timezone=zone, has_email=bool(party.email),
            # A tenant's address is the leased unit when none is on file; a guarantor's is not.
            has_address=bool(party.address) or (
                ap.role != "guarantor" and bool(account.property and account.property.address)
            ),
            has_phone=bool(party.phone), sms_consent=given.get("sms", False),
            opted_out=frozenset(ch for ch, ok in given.items() if not ok),
            address_returned=party.pk in (returned or {})
            and party_address_key(party, account, ap.role) in (returned or {})[party.pk],
        )  # fmt: skip
        history = CallHistory(calls.get((account.pk, party.pk), ()),
                              talks.get((account.pk, party.pk), ()))  # fmt: skip
    # The run's contacts go out on its date at noon in the addressee's zone: letters are mailed,
    # emails scheduled and call tasks listed inside the contact window; a coordinator's call is
    # checked again, at the minute it is placed, when it is logged.
    at = datetime.combine(on, time(12, 0), tzinfo=ZoneInfo(zone))
    return guard_check(action=step.action, channel=step.channel, at=at, holds=holds,
                       contact=contact, calls=history, rules=rules)  # fmt: skip


def _record(
    plan: PlannedStep,
    decision: Decision,
    account: Account,
    ap: AccountParty | None,
    on: date,
    now: datetime,
    actor: str,
    actions: list[Action],
    events: list[TimelineEvent],
    charges: list[NewCharge],
    result: RunResult,
    done: set[str],
) -> None:
    step = plan.step
    party_id = ap.party.party_id if ap else None
    if not decision.allowed:
        # A refusal is recorded once for its step and rule: the guard is asked again each day
        # (a hold may end, an address may arrive), but the same answer is not written again.
        key = f"{plan.key}@{decision.rule}"
        if key in done:
            return
        result.blocked.append({"account_id": account.account_id, "party_id": party_id,
                               "step": step.key, "rule": decision.rule})  # fmt: skip
        actions.append(_action(plan, account, ap, on, now, key, "refused", decision))
        events.append(TimelineEvent(
            account=account, at=now, on=on, kind=f"{step.action}.refused", actor=actor,
            summary=f"{step.key} not done"
            + (f" for {party_id}" if party_id else "")
            + f": {decision.reason or decision.rule}",
            detail={"step": step.key, "rule": decision.rule, "policy": plan.policy,
                    "party_id": party_id, "key": plan.key},
        ))  # fmt: skip
        return
    entry: dict[str, Any] = {"account_id": account.account_id, "party_id": party_id,
                             "role": plan.role, "step": step.key, "channel": step.channel,
                             "template": step.template}  # fmt: skip
    if plan.amount is not None:
        entry["amount"] = f"{plan.amount:.2f}"
    if plan.deadline is not None:
        entry["deadline"] = plan.deadline.isoformat()
    result.actions.append(entry)
    status = NOTICE_STATUS.get(step.channel or "", "done") if step.action == "notice" else "done"
    actions.append(_action(plan, account, ap, on, now, plan.key, status, decision))
    if step.action == "fee":
        assert plan.amount is not None
        charges.append(NewCharge(
            txn_id=_fee_txn_id(plan.key), account_pk=account.pk, posted_on=on, due_on=on,
            code=step.fee_code, amount=plan.amount,
            memo=f"{step.key} for {plan.charge_txn_id} ({step.law})".strip(),
            reference=plan.key[:200],
        ))  # fmt: skip
    what = {
        "notice": f"{step.template} by {step.channel} to {party_id} ({plan.role})",
        "fee": f"{step.fee_code} fee {plan.amount} posted",
        "recommend_referral": "referral to the attorney recommended",
        "referral": "referred",
        "hold": f"{step.hold_reason} hold placed",
    }.get(step.action, step.action)
    events.append(TimelineEvent(
        account=account, at=now, on=on, kind=f"{step.action}.{status}", actor=actor,
        summary=f"{step.key}: {what}",
        detail={"step": step.key, "policy": plan.policy, "policy_version": plan.policy_version,
                "party_id": party_id, "amount": entry.get("amount"), "law": step.law,
                "deadline": entry.get("deadline"), "key": plan.key},
    ))  # fmt: skip


def _action(
    plan: PlannedStep,
    account: Account,
    ap: AccountParty | None,
    on: date,
    now: datetime,
    key: str,
    status: str,
    decision: Decision,
) -> Action:
    step = plan.step
    return Action(
        key=key, account=account, party=ap.party if ap else None, role=plan.role or "",
        policy=plan.policy, policy_version=plan.policy_version, step=step.key,
        action=step.action, channel=step.channel or "", template=step.template or "",
        language=plan.language if plan.language in ("en", "es") else "en",
        amount=plan.amount, deadline=plan.deadline, delinquency=plan.delinquency,
        status=status, rule=decision.rule, reason=decision.reason[:300], run_on=on,
        created_at=now,
    )  # fmt: skip


# ---- company policies ---


@transaction.atomic
def policy_add(*, text: str, source: str = "policy") -> CompanyPolicy:
    """Store a company's policy as a new version of its name; PolicyError if it does not parse.

    A policy's earlier versions stay: what was done under them keeps their name and version.
    """
    policy = parse_policy(text, source=source)
    last = CompanyPolicy.objects.filter(name=policy.name).order_by("-version").first()
    built_in = built_in_policies().get(policy.name)
    # A version number names one text only: after the built-in's and the company's last.
    version = max(
        policy.version,
        last.version + 1 if last else 1,
        built_in.version + 1 if built_in else 1,
    )
    return CompanyPolicy.objects.create(name=policy.name, version=version, body=text)


@transaction.atomic
def policy_assign(*, account_id: str, policy: str | None, actor: str, on: date) -> None:
    """Make one account follow a named policy (None: back to the one its property chooses)."""
    account = _account(account_id)
    if policy is not None and policy not in company_policies():
        raise NotFoundError(f"no policy {policy!r}")
    PolicyOverride.objects.filter(account=account).delete()
    if policy is not None:
        PolicyOverride.objects.create(account=account, policy=policy)
    TimelineEvent.objects.create(
        account=account, at=dj_timezone.now(), on=on, kind="policy.assigned", actor=actor,
        summary=f"follows policy {policy}" if policy else "follows its property's policy again",
        detail={"policy": policy},
    )  # fmt: skip


# ---- holds and notes -------------------------------------------------------------------------


def _account(account_id: str) -> Account:
    try:
        return Account.objects.get(account_id=account_id)
    except Account.DoesNotExist:
        raise NotFoundError(f"no account {account_id!r}", account_id=account_id) from None


@transaction.atomic
def hold_place(
    *, account_id: str, reason: str, on: date, actor: str, until: date | None = None,
    party_id: str | None = None, note: str = "",
) -> Hold:  # fmt: skip
    """Place a hold on an account (or one of its parties); written on the timeline."""
    if reason not in Hold.Reason.values:
        raise ValidationError(f"a hold's reason is one of {', '.join(Hold.Reason.values)}")
    account = _account(account_id)
    party = None
    if party_id:
        link = AccountParty.objects.filter(account=account, party__party_id=party_id).first()
        if link is None:
            raise NotFoundError(f"{party_id!r} is not a party of account {account_id!r}")
        party = link.party
    if until is not None and until < on:
        raise ValidationError(f"--until {until} is before the hold starts ({on})")
    hold = Hold.objects.create(account=account, party=party, reason=reason, placed_on=on,
                               until=until, note=note, placed_by=actor)  # fmt: skip
    whom = f" on {party_id}" if party_id else ""
    TimelineEvent.objects.create(
        account=account, at=dj_timezone.now(), on=on, kind="hold.placed", actor=actor,
        summary=f"{reason} hold{whom}" + (f" until {until}" if until else ""),
        detail={"hold": hold.pk, "reason": reason, "party_id": party_id,
                "until": until.isoformat() if until else None, "note": note},
    )  # fmt: skip
    return hold


@transaction.atomic
def hold_release(*, account_id: str, hold_id: int, actor: str, on: date) -> Hold:
    """Release a hold (it stays on record, released)."""
    account = _account(account_id)
    hold = Hold.objects.select_for_update().filter(account=account, pk=hold_id).first()
    if hold is None:
        raise NotFoundError(f"account {account_id!r} has no hold {hold_id}")
    if hold.released_at is not None:
        raise ValidationError(f"hold {hold_id} was already released on {hold.released_on}")
    hold.released_at = dj_timezone.now()
    hold.released_on = on
    hold.released_by = actor
    hold.save(update_fields=["released_at", "released_on", "released_by"])
    TimelineEvent.objects.create(
        account=account, at=hold.released_at, on=on, kind="hold.released", actor=actor,
        summary=f"{hold.reason} hold released", detail={"hold": hold.pk},
    )  # fmt: skip
    return hold


@transaction.atomic
def note_add(*, account_id: str, text: str, actor: str, on: date) -> TimelineEvent:
    if not text.strip():
        raise ValidationError("a note needs some text")
    account = _account(account_id)
    return TimelineEvent.objects.create(
        account=account, at=dj_timezone.now(), on=on, kind="note.added", actor=actor,
        summary=text.strip()[:500], detail={"text": text.strip()},
    )  # fmt: skip
