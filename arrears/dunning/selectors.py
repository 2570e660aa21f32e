"""Reads of the collection cycle: an account's timeline and activity, and the policies'
versions with their text. The coordinator's worklist is `arrears.dunning.worklist` (its
`worklist` and `WorkItem` are read from here too)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from typing import Any

from django.db.models import Count, Sum
from django.utils.translation import gettext_lazy as _

from arrears.core import sql
from arrears.core.errors import NotFoundError
from arrears.disputes.checks import FeeRule, Rules
from arrears.dunning.calendar import carry_to_business_day
from arrears.dunning.models import (
    Action,
    CompanyPolicy,
    Hold,
    PolicyOverride,
    RunChunk,
    RunLog,
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
from arrears.dunning.worklist import WorkItem, likelihoods, worklist
from arrears.ledger.models import Account, Party, TimelineEvent

__all__ = ["WorkItem", "likelihoods", "worklist"]  # read from here by the parts above


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


@dataclass(frozen=True)
class RunStatus:
    """How far the latest real run has got: its chunks done of its chunks, and once finished
    what it did (`RunLog.counts`); `state` is running, finished or stopped."""

    run_on: date
    started_at: datetime
    finished_at: datetime | None
    state: str
    chunks_total: int
    chunks_done: int
    accounts_done: int
    counts: dict[str, Any]
    stopped: str

    def as_json(self) -> dict[str, Any]:
        return {
            "date": self.run_on.isoformat(),
            "state": self.state,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "chunks_total": self.chunks_total,
            "chunks_done": self.chunks_done,
            "accounts_done": self.accounts_done,
            "counts": self.counts,
            "stopped": self.stopped,
        }


def run_status_get() -> RunStatus | None:
    """The latest real run's progress and result, or None before the first run."""
    log = RunLog.objects.filter(dry_run=False).order_by("-started_at", "-pk").first()
    if log is None:
        return None
    done = RunChunk.objects.filter(run=log).aggregate(n=Count("pk"), accounts=Sum("accounts"))
    state = "stopped" if log.stopped else "finished" if log.finished_at else "running"
    return RunStatus(
        run_on=log.run_on,
        started_at=log.started_at,
        finished_at=log.finished_at,
        state=state,
        chunks_total=log.chunks_total,
        chunks_done=done["n"] or 0,
        accounts_done=done["accounts"] or 0,
        counts=dict(log.counts),
        stopped=log.stopped,
    )
