"""Reads of the collection cycle: an account's timeline, the coordinator's worklist, and the
policies' versions with their text.

The worklist orders its lines by expected recovery: balance × likelihood, where the likelihood is
the account's own record over the last 12 months, (paid within 30 days of due) / (charged), kept
between 0.05 and 1, so that the order can be explained line by line.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from arrears.core import sql
from arrears.core.errors import NotFoundError
from arrears.disputes.checks import FeeRule, Rules
from arrears.dunning.calendar import carry_to_business_day
from arrears.dunning.contact import mail_work_lines
from arrears.dunning.derived import worklist_lines
from arrears.dunning.guard import ActiveHold, CallHistory, contact_point, guard_check
from arrears.dunning.models import (
    Action,
    CompanyPolicy,
    Consent,
    ContactAttempt,
    Hold,
    PolicyOverride,
)
from arrears.dunning.planning import first_day
from arrears.dunning.policy import (
    Policy,
    Step,
    built_in_policies,
    built_in_sources,
    choose_policy,
    parse_policy,
)
from arrears.dunning.undelivered import undelivered_work_lines
from arrears.dunning.zones import contact_zone
from arrears.ledger.models import Account, Allocation, Party, TimelineEvent, Transaction
from arrears.ledger.selectors import open_items_as_of

LARGE_DELINQUENCY = Decimal("1000.00")
EXPIRING_WITHIN_DAYS = 3
NEW_DELINQUENCY_DAYS = 7


def timeline_list(*, account_id: str) -> list[TimelineEvent]:
    """The account's timeline, oldest first."""
    if not Account.objects.filter(account_id=account_id).exists():
        raise NotFoundError(
            _("no account {account_id!r}"), code="account_not_found", account_id=account_id
        )
    return list(TimelineEvent.objects.filter(account__account_id=account_id).order_by("at", "id"))


def holds_list(*, account_id: str) -> list[Hold]:
    return list(
        Hold.objects.filter(account__account_id=account_id)
        .select_related("party")
        .order_by("placed_on", "id")
    )


@dataclass(frozen=True)
class Activity:
    """What the cycle and its people did to one account: newest first."""

    timeline: list[TimelineEvent]
    holds: list[Hold] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    timeline_total: int = 0  # how many events in all, when `timeline` is only the latest
    actions_total: int = 0


def activity_get(*, account: Account, limit: int | None = None) -> Activity:
    """The account's timeline (newest first), its holds (active and released) and its actions;
    with `limit`, only the latest `limit` events and actions (the totals say how many in all).

    Read on every view of the account page, by hand-written SQL, which the page's target needs
    (2.7 M instructions an account against 7.6 M through the ORM, see core.sql): three queries,
    and a hold's or an action's party comes as `party_name` (and a hold's as `party_code`).
    """
    top = "" if limit is None else f" LIMIT {int(limit)}"
    timeline = list(
        TimelineEvent.objects.raw(
            f"SELECT * FROM {sql.table(TimelineEvent)} WHERE account_id = %s"
            f' ORDER BY "on" DESC, at DESC, id DESC{top}',
            [account.pk],
        )
    )
    timeline_total = len(timeline)
    if limit is not None and timeline_total >= limit:
        timeline_total = TimelineEvent.objects.filter(account_id=account.pk).count()
    party = sql.table(Party)
    holds = list(
        Hold.objects.raw(
            f"SELECT h.*, p.name AS party_name, p.party_id AS party_code FROM {sql.table(Hold)} h"
            f" LEFT JOIN {party} p ON p.id = h.party_id WHERE h.account_id = %s"
            " ORDER BY h.placed_on DESC, h.id DESC",
            [account.pk],
        )
    )
    actions = list(
        Action.objects.raw(
            f"SELECT a.*, p.name AS party_name FROM {sql.table(Action)} a"
            f" LEFT JOIN {party} p ON p.id = a.party_id WHERE a.account_id = %s"
            f" ORDER BY a.run_on DESC, a.id DESC{top}",
            [account.pk],
        )
    )
    actions_total = len(actions)
    if limit is not None and actions_total >= limit:
        actions_total = Action.objects.filter(account_id=account.pk).count()
    return Activity(
        timeline=timeline,
        holds=holds,
        actions=actions,
        timeline_total=timeline_total,
        actions_total=actions_total,
    )


@dataclass(frozen=True)
class WorkItem:
    account_id: str
    kind: str  # call, text, email, email_failed, deadline, referral, new_delinquency,
    # broken_promise, plan_broken, dispute_overdue
    reason: str
    balance: Decimal
    likelihood: Decimal
    party_id: str | None = None
    action_id: int | None = None

    @property
    def expected(self) -> Decimal:
        return (self.balance * self.likelihood).quantize(Decimal("0.01"))

    def as_json(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "kind": self.kind,
            "reason": self.reason,
            "party_id": self.party_id,
            "balance": f"{self.balance:.2f}",
            "likelihood": f"{self.likelihood:.2f}",
            "expected_recovery": f"{self.expected:.2f}",
        }


def likelihoods(account_pks: list[int], on: date) -> dict[int, Decimal]:
    """Share of the last 12 months' charges paid within 30 days of their due date."""
    since = on - timedelta(days=365)
    charged: dict[int, Decimal] = defaultdict(Decimal)
    for pk, amount in Transaction.objects.filter(
        account_id__in=account_pks, type="charge", due_on__gte=since, due_on__lte=on
    ).values_list("account_id", "amount"):
        charged[pk] += amount
    paid: dict[int, Decimal] = defaultdict(Decimal)
    for pk, amount, made, due in (
        Allocation.objects.filter(
            account_id__in=account_pks,
            charge__due_on__gte=since,
            charge__due_on__lte=on,
            made_on__lte=on,
        )
        .filter(Q(undone_on__isnull=True) | Q(undone_on__gt=on))
        .values_list("account_id", "amount", "made_on", "charge__due_on")
    ):
        if due is not None and (made - due).days <= 30:
            paid[pk] += amount
    out = {}
    for pk in account_pks:
        share = paid[pk] / charged[pk] if charged[pk] else Decimal("0.5")
        out[pk] = min(Decimal(1), max(Decimal("0.05"), share)).quantize(Decimal("0.01"))
    return out


Line = tuple[int, str, str, str | None, int | None]  # account pk, kind, reason, party, action


def worklist(*, on: date, now: datetime | None = None, user: str | None = None) -> list[WorkItem]:
    """The coordinator's queue for the day, most expected recovery first; see module docstring.

    Every line of the book: whose lines a user sees (their scope, their own accounts and those
    they cover for, the unassigned ones) is `access.selectors.worklist_visible` and
    `WorklistScope`, which filter this list; `user` is accepted and not used.
    """
    balance, oldest_due = _past_due(on)
    lines = _task_lines(on, now, balance)
    lines.extend(mail_work_lines())  # mail that needs an answer
    lines.extend(undelivered_work_lines())  # emails given up or bounced, not yet dealt with
    lines.extend(_deadline_and_referral_lines(on, balance))
    for line in worklist_lines(on):  # broken promises, disputes open too long
        if line[1] == "dispute_overdue" or balance.get(line[0], Decimal(0)) > 0:
            lines.append(line)
    for pk, start in oldest_due.items():
        if (on - start).days <= NEW_DELINQUENCY_DAYS and balance[pk] >= LARGE_DELINQUENCY:
            lines.append(
                (
                    pk,
                    "new_delinquency",
                    _("{amount} past due since {day}").format(
                        amount=f"{balance[pk]:.2f}", day=f"{start:%Y-%m-%d}"
                    ),
                    None,
                    None,
                )
            )
    # One line per account and kind of work (a call task stays one line per task), keeping the
    # latest: a referral recommended twice is one thing to do.
    latest: dict[tuple[int, str, int | None], Line] = {}
    for line in lines:
        key = (line[0], line[1], line[4] if line[1] in ("call", "text") else None)
        current = latest.get(key)
        if current is None or (line[4] or 0) > (current[4] or 0):
            latest[key] = line
    unique = list(latest.values())
    pks = sorted({line[0] for line in unique})
    odds = likelihoods(pks, on)
    ids = dict(Account.objects.filter(pk__in=pks).values_list("pk", "account_id"))
    work = [
        WorkItem(ids[pk], kind, reason, balance[pk], odds[pk], party, action)
        for pk, kind, reason, party, action in unique
    ]
    work.sort(key=lambda w: (-w.expected, w.account_id, w.kind))
    return work


def _past_due(on: date) -> tuple[dict[int, Decimal], dict[int, date]]:
    """What is past due on the date, by account: charges due before it, less unapplied credit
    (rent posted ahead of its due date is owed, but not yet late); and the oldest such charge's
    due date."""
    balance: dict[int, Decimal] = defaultdict(Decimal)
    oldest_due: dict[int, date] = {}
    for item in open_items_as_of(as_of=on):
        if item.is_credit:
            balance[item.account_pk] -= item.amount
        elif item.due_on is not None and item.due_on < on:
            balance[item.account_pk] += item.amount
            oldest_due[item.account_pk] = min(
                oldest_due.get(item.account_pk, item.due_on), item.due_on
            )
    return balance, oldest_due


def _task_lines(on: date, now: datetime | None, balance: dict[int, Decimal]) -> list[Line]:
    """The call and text tasks of accounts past due that the guard allows now."""
    lines: list[Line] = []
    tasks = Action.objects.filter(status="task", run_on__lte=on).select_related(
        "account", "party", "account__property"
    )
    holds: dict[int, list[ActiveHold]] = defaultdict(list)
    for h in Hold.objects.filter(released_at__isnull=True, placed_on__lte=on).select_related(
        "party"
    ):
        holds[h.account_id].append(
            ActiveHold(h.reason, h.party.party_id if h.party else None, h.until)
        )
    recent: dict[tuple[int, int | None], list[tuple[datetime, bool]]] = defaultdict(list)
    week_ago = datetime.combine(on - timedelta(days=8), time(0), tzinfo=ZoneInfo("UTC"))
    for a_pk, p_pk, at_, talked in ContactAttempt.objects.filter(
        channel="call", at__gte=week_ago
    ).values_list("account_id", "party_id", "at", "conversation"):
        recent[(a_pk, p_pk)].append((at_, talked))
    consents: dict[int, list[tuple[str, bool]]] = defaultdict(list)
    for party_pk, channel, granted in (
        Consent.objects.filter(party_id__in=tasks.values("party_id"))
        .order_by("at", "id")
        .values_list("party_id", "channel", "granted")
    ):
        consents[party_pk].append((channel, granted))
    for task in tasks:
        if balance.get(task.account_id, Decimal(0)) <= 0:
            continue
        calls = CallHistory.of(recent.get((task.account_id, task.party_id), ()))
        if not _task_allowed(task, on, now, holds[task.account_id], consents, calls):
            continue
        party = task.party
        kind = "call" if task.channel == "call" else "text"
        lines.append(
            (
                task.account_id,
                kind,
                f"{task.step}: {task.template} ({task.policy})",
                party.party_id if party else None,
                task.pk,
            )
        )
    return lines


def _task_allowed(
    task: Action,
    on: date,
    now: datetime | None,
    holds: list[ActiveHold],
    consents: dict[int, list[tuple[str, bool]]],
    calls: CallHistory,
) -> bool:
    party = task.party
    prop = task.account.property
    zone = contact_zone(
        party.timezone if party else None,
        party.state if party else None,
        prop.timezone if prop else None,
        prop.state if prop else None,
    )
    at = now or datetime.combine(on, time(12, 0), tzinfo=ZoneInfo(zone))
    # The guard sees the party as the run saw it (consents and opt-outs given since included);
    # a call or a text goes to no postal address, so returned mail does not matter here.
    contact = contact_point(
        party_id=party.party_id if party else "",
        role=task.role or "",
        timezone=zone,
        email=party.email if party else None,
        address=party.address if party else None,
        phone=party.phone if party else None,
        unit_address=prop.address if prop else None,
        consents=consents.get(task.party_id or 0, ()),
        address_returned=False,
    )
    decision = guard_check(
        action="notice", channel=task.channel, at=at, holds=holds, contact=contact, calls=calls
    )
    return decision.allowed


def _deadline_and_referral_lines(on: date, balance: dict[int, Decimal]) -> list[Line]:
    """Deadlines that expire within days unpaid, and referrals recommended, of accounts past
    due."""
    lines: list[Line] = []
    for a in Action.objects.filter(
        deadline__gte=on,
        deadline__lte=on + timedelta(days=EXPIRING_WITHIN_DAYS),
        status__in=["queued", "done"],
    ).only("account_id", "step", "deadline", "party"):
        if balance.get(a.account_id, Decimal(0)) > 0:
            why = _("{step} expires {day} unpaid").format(step=a.step, day=f"{a.deadline:%Y-%m-%d}")
            lines.append((a.account_id, "deadline", why, None, a.pk))
    for a in Action.objects.filter(action__in=["recommend_referral", "referral"], status="done"):
        if balance.get(a.account_id, Decimal(0)) > 0:
            lines.append(
                (
                    a.account_id,
                    "referral",
                    _("{step}: referral to the attorney recommended on {day}").format(
                        step=a.step, day=f"{a.run_on:%Y-%m-%d}"
                    ),
                    None,
                    a.pk,
                )
            )
    return lines


def analysis_rules(*, account_id: str, on: date) -> Rules:
    """What an account analysis checks the figures against: the lease rent and the late-fee steps
    and charge codes of the policy the account follows on `on` (for New York, RPL §238-a(2)'s
    cap and day come from ny-residential's late-fee step, not from code)."""
    from arrears.dunning.models import PolicyOverride
    from arrears.dunning.services import company_policies
    from arrears.ledger.selectors import account_get

    account = account_get(account_id=account_id)
    override = PolicyOverride.objects.filter(account=account).values_list("policy", flat=True)
    prop = account.property
    place = (
        ""
        if prop is None
        else f"{prop.country}-{prop.state.upper()}"
        if prop.state
        else prop.country
    )
    policy = choose_policy(
        company_policies(),
        jurisdiction=place,
        account_kind=account.kind,
        moved_out=account.closed_on is not None and account.closed_on <= on,
        override=override.first(),
    )
    if policy is None:
        return Rules(rent=account.rent)
    fees = tuple(_fee_rule(policy, s) for s in policy.steps if s.action == "fee")
    codes = {c for s in policy.steps for c in s.codes} | {f.code for f in fees}
    codes |= set(policy.settings.get("charge_codes", ()))
    return Rules(
        rent=account.rent,
        fees=fees,
        known_codes=frozenset(codes),
        policy=f"{policy.name} v{policy.version}",
    )


def _fee_rule(policy: Policy, step: Step) -> FeeRule:
    """A fee step as the analysis checks it. After a grace period the fee is allowed from the day
    after its last day (GCL §20), carried over by the policy's business_day_rule (GCL §25-a);
    `days_past_due` then states the least that can be (the grace plus one)."""
    grace = step.grace_days_exclusive
    return FeeRule(
        code=step.fee_code,
        fixed=step.fee_fixed,
        percent_of_rent=step.fee_percent_of_rent,
        days_past_due=(step.days_past_due or 0) if grace is None else grace + 1,
        law=step.law,
        rent_codes=step.codes or ("RENT",),
        first_day=None
        if grace is None
        else partial(
            first_day,
            step,
            business_day_rule=policy.business_day_rule,
            carry_over=carry_to_business_day,
        ),
    )


@dataclass(frozen=True)
class PolicyVersion:
    """One version of a policy: built in (shipped with Arrears) or the company's own upload."""

    policy: Policy
    built_in: bool
    in_force: bool  # the version the cycle uses for this name (the company's latest, else built in)
    text: str  # its TOML
    created_at: datetime | None = None


def policy_versions() -> list[PolicyVersion]:
    """Every version of every policy, by name then newest first."""
    from arrears.dunning.services import company_policies

    in_force = {(p.name, p.version) for p in company_policies().values()}
    out = [
        PolicyVersion(policy, True, (name, policy.version) in in_force, built_in_sources()[name])
        for name, policy in built_in_policies().items()
    ]
    for row in CompanyPolicy.objects.order_by("name", "version"):
        parsed = parse_policy(row.body, source=f"{row.name} v{row.version}")
        policy = dataclasses.replace(parsed, version=row.version)
        out.append(
            PolicyVersion(
                policy, False, (row.name, row.version) in in_force, row.body, row.created_at
            )
        )
    return sorted(out, key=lambda v: (v.policy.name, -v.policy.version, v.built_in))


def policy_get(*, name: str, version: int | None = None) -> PolicyVersion:
    """A policy's version `version`, or the one in force; NotFoundError if there is none."""
    for found in policy_versions():
        if found.policy.name == name and (
            found.policy.version == version if version is not None else found.in_force
        ):
            return found
    raise NotFoundError(
        _("no policy {name!r}{version_text}"),
        code="policy_not_found",
        name=name,
        version=version,
        version_text=f" v{version}" if version else "",
    )


def policy_overrides() -> list[tuple[str, str]]:
    """The accounts that follow a policy of their own: (account id, policy name), by account."""
    return list(
        PolicyOverride.objects.order_by("account__account_id").values_list(
            "account__account_id", "policy"
        )
    )


def account_policy(*, account: Account, on: date) -> Policy | None:
    """The policy an account follows on `on` (its own, else the match for its jurisdiction,
    kind and state), as the daily run chooses it; None when none applies."""
    from arrears.dunning.policy import jurisdiction_of
    from arrears.dunning.services import company_policies

    # By hand (core.sql), as company_policies: the account page asks this on every request.
    override = sql.rows(
        f"SELECT {sql.columns(PolicyOverride, 'policy')} FROM {sql.table(PolicyOverride)}"
        f" WHERE {sql.columns(PolicyOverride, 'account')} = %s"
        f" ORDER BY {sql.columns(PolicyOverride, 'id')} LIMIT 1",
        [account.pk],
    )
    prop = account.property
    return choose_policy(
        company_policies(),
        jurisdiction=jurisdiction_of(prop.country, prop.state) if prop is not None else "",
        account_kind=account.kind,
        moved_out=account.closed_on is not None and account.closed_on <= on,
        override=override[0][0] if override else None,
    )


@dataclass(frozen=True)
class NoticeChoices:
    """The notices a coordinator may send an account by hand: the templates of its policy's
    notice steps, in the policy's order (`steps` maps each to its first step)."""

    policy: Policy | None
    templates: tuple[str, ...]
    steps: dict[str, Any] = field(default_factory=dict)


def notice_choices(*, account: Account, on: date) -> NoticeChoices:
    """What `notice_send` accepts for the account on `on`: a notice is sent by hand only as its
    policy's steps would send it (a California 3-day notice never goes to a New York tenant);
    letters that are no step (the answers to a dispute) are never offered as notices."""
    policy = account_policy(account=account, on=on)
    if policy is None:
        return NoticeChoices(None, ())
    steps: dict[str, Any] = {}
    for step in policy.steps:
        if step.action == "notice" and step.template and step.template not in steps:
            steps[step.template] = step
    return NoticeChoices(policy, tuple(steps), steps)


def preview_deadline(*, account_id: str, template: str, on: date) -> date | None:
    """The deadline a notice of `template` to the account would name if it went out on `on`, for
    a preview: its policy's step counted as the letter will count it (`notice_deadline`: court
    days, NY GCL §25-a…); a template no step of the account's policy sends gets its nominal days
    in calendar days (correspondence's catalog), and an unknown account none."""
    from arrears.correspondence.rendering import preview_deadline as nominal
    from arrears.dunning.deadlines import notice_deadline

    account = Account.objects.select_related("property").filter(account_id=account_id).first()
    if account is None:
        return nominal(template, on)
    choices = notice_choices(account=account, on=on)
    step = choices.steps.get(template)
    if choices.policy is None or step is None:
        return nominal(template, on)
    return notice_deadline(choices.policy, step, on)
