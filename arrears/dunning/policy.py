"""Collection policies as data: a versioned ladder of steps, read from TOML.

A policy file (see docs/policies.md and arrears/dunning/policies/*.toml):

    name = "ny-residential"
    version = 1
    jurisdiction = "US-NY"                 # matched against the property's country-state
    account_kinds = ["residential_lease"]
    state = "active"                       # or "moved_out"; steps may narrow it further

    [[steps]]
    key = "late-notice"                    # stable: it is part of every idempotency key
    days_past_due = 6                      # of the oldest open charge (of `codes`, if given)
    codes = ["RENT"]
    per = "charge"                         # "charge": once per open charge (a month of arrears);
                                           # "delinquency": once per delinquency
    action = "notice"                      # notice | fee | recommend_referral | referral | hold
    channel = "certified_letter"           # email | letter | certified_letter | sms | call
    template = "ny-late-rent-notice"
    audience = ["primary", "co_obligor", "guarantor"]

Other trigger keys: `day_of_month` (a monthly step, e.g. a statement: due from that day of each
month while something is owed, once per account, addressee and month), `within_days` (a
per-charge step is due from its day for this many days, default 10), `min_balance` (a
decimal string), `after_step` + `after_days` (days since that step was done in this
delinquency, with the balance still owed), `days_before_due` (a reminder before the due date),
`state`; for the coordinator's calls (`channel = "call"`, a task on the worklist, no template
needed): `before_deadline_of` + `days_before_deadline`, `after_broken_promise` and
`after_returned_mail` (days). Other action keys: `fee_code`, `fee_fixed`,
`fee_percent_of_rent` (the fee is the lesser of the two that are given), `amounts` ("rent_only"
or "all"), `deadline_days` and `deadline_rule` ("calendar" or "court_days"), `hold_reason`,
`fallback_channel` (an email step only: "letter" or "certified_letter", the same template sent
by that channel to the same party when the email is given up or bounced).
A step may wait out a statutory grace period instead of a day count: `grace_days_exclusive = 5`
is due the day after the period's last day (the due date + 5, carried over by the policy-level
`business_day_rule`, "US-NY" for NY General Construction Law §§20, 25-a; "" for none), and a
deadline's last day is carried over by the same rule.

Pure: no Django. A parsed policy is immutable; a change is a new version, and what was done under
an old version keeps that version's name on its action.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

BUILT_IN = Path(__file__).parent / "policies"

ACTIONS = ("notice", "fee", "recommend_referral", "referral", "hold")
CHANNELS = ("email", "letter", "certified_letter", "sms", "call")
FALLBACK_CHANNELS = ("letter", "certified_letter")
ROLES = ("primary", "co_obligor", "guarantor")
PER = ("charge", "delinquency")
STATES = ("active", "moved_out", "any")
DEADLINE_RULES = ("calendar", "court_days")
# Whose business days carry a period's last day over (arrears/dunning/calendar.py):
# "" none; "US-NY" New York's (General Construction Law §25-a: a period ending on a Saturday,
# Sunday or public holiday runs to the next business day).
BUSINESS_DAY_RULES = ("", "US-NY")
POLICY_KEYS = frozenset(
    {
        "name",
        "version",
        "description",
        "jurisdiction",
        "account_kinds",
        "state",
        "business_day_rule",
        "settings",
        "steps",
    }
)


class PolicyError(ValueError):
    """A policy file that cannot be used; the message names the policy, step and key."""


@dataclass(frozen=True)
class Step:
    key: str
    action: str
    days_past_due: int | None = None
    days_before_due: int | None = None
    # A statutory grace period "within N days of the due date": the step is due from the day
    # after its last day, the due date + N (GCL §20: the due date itself is not counted),
    # carried to the next business day by the policy's `business_day_rule` (GCL §25-a).
    grace_days_exclusive: int | None = None
    # A monthly step (a statement "sent monthly by policy"): due from this day of each month
    # (1-28, a day every month has), once per month; its key is `account:step:YYYY-MM:party`.
    day_of_month: int | None = None
    codes: tuple[str, ...] = ()
    per: str = "delinquency"
    # A per-charge step stays due this many days from its day, so that a missed run catches up,
    # but a first run on an old book does not send one notice for every month ever unpaid.
    within_days: int = 10
    min_balance: Decimal = Decimal("0.01")
    after_step: str | None = None
    after_days: int | None = None
    # A call before a notice's deadline runs out: `days_before_deadline` days before the last day
    # the notice of step `before_deadline_of` gave (served, counted as the notice counts it),
    # through that last day; once per delinquency.
    before_deadline_of: str | None = None
    days_before_deadline: int | None = None
    # A call this many days after a promise was broken (not followed by a new promise or plan),
    # or after a letter came back undeliverable; once per broken promise, per returned letter.
    after_broken_promise: int | None = None
    after_returned_mail: int | None = None
    state: str | None = None
    channel: str | None = None
    template: str | None = None
    audience: tuple[str, ...] = ("primary",)
    fee_code: str = "LATE"
    fee_fixed: Decimal | None = None
    fee_percent_of_rent: Decimal | None = None
    amounts: str = "all"
    deadline_days: int | None = None
    deadline_rule: str = "calendar"
    hold_reason: str | None = None
    # An email step whose addressee must get the notice: when the email is given up or bounced,
    # the same template goes by this channel (docs/policies.md, "When an email cannot be sent").
    fallback_channel: str | None = None
    law: str = ""  # the statute the step follows, for the timeline and the docs

    @property
    def has_call_trigger(self) -> bool:
        return (
            self.before_deadline_of is not None
            or self.after_broken_promise is not None
            or self.after_returned_mail is not None
        )

    @property
    def contacts_someone(self) -> bool:
        return self.action == "notice"


@dataclass(frozen=True)
class Policy:
    name: str
    version: int
    jurisdiction: str
    account_kinds: tuple[str, ...]
    state: str
    steps: tuple[Step, ...]
    description: str = ""
    # Whose business days carry the last day of a period (a grace, a deadline) over: one of
    # BUSINESS_DAY_RULES; "" carries nothing.
    business_day_rule: str = ""
    settings: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def step(self, key: str) -> Step:
        for s in self.steps:
            if s.key == key:
                return s
        raise KeyError(key)

    def find_step(self, key: str) -> Step | None:
        """The step of that key, or None (a letter of no step: by hand, a dispute's answer)."""
        return next((s for s in self.steps if s.key == key), None)


def _decimal(policy: str, step: str, key: str, value: Any) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, float):
        raise PolicyError(f'{policy}, step {step}: {key} must be a string like "50.00"')
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise PolicyError(f"{policy}, step {step}: {key} is not a number: {value!r}") from None


STEP_KEYS = set(Step.__dataclass_fields__)
DECIMAL_KEYS = {"min_balance", "fee_fixed", "fee_percent_of_rent"}


def parse_policy(text: str, *, source: str = "policy") -> Policy:
    """A Policy from TOML text; PolicyError naming the policy, step and key otherwise."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{source}: not valid TOML: {exc}") from None
    name = data.get("name")
    if not name:
        raise PolicyError(f"{source}: a policy needs a name")
    unknown_keys = set(data) - POLICY_KEYS
    if unknown_keys:
        raise PolicyError(f"{name}: unknown policy keys {sorted(unknown_keys)}")
    rule = data.get("business_day_rule", "")
    if rule not in BUSINESS_DAY_RULES:
        raise PolicyError(
            f"{name}: business_day_rule must be one of "
            f"{', '.join(repr(r) for r in BUSINESS_DAY_RULES)} (got {rule!r})"
        )
    steps = []
    keys: set[str] = set()
    for raw in data.get("steps", []):
        steps.append(_parse_step(name, raw, keys))
    state = data.get("state", "active")
    if state not in STATES:
        raise PolicyError(f"{name}: state must be one of {', '.join(STATES)}")
    return Policy(
        name=name,
        version=int(data.get("version", 1)),
        business_day_rule=rule,
        jurisdiction=data.get("jurisdiction", ""),
        account_kinds=tuple(data.get("account_kinds", ())),
        state=state,
        steps=tuple(steps),
        description=data.get("description", ""),
        settings=dict(data.get("settings", {})),
    )


def _parse_step(name: str, raw: dict[str, Any], keys: set[str]) -> Step:
    """One step of policy `name`; `keys` holds the keys of the steps before it (this one's is
    added). PolicyError naming the step and key otherwise."""
    key = raw.get("key")
    if not key or key in keys:
        raise PolicyError(f"{name}: every step needs a key of its own (got {key!r})")
    keys.add(key)
    unknown = set(raw) - STEP_KEYS
    if unknown:
        raise PolicyError(f"{name}, step {key}: unknown keys {sorted(unknown)}")
    action = raw.get("action")
    if action not in ACTIONS:
        raise PolicyError(f"{name}, step {key}: action must be one of {', '.join(ACTIONS)}")
    channel = raw.get("channel")
    if action == "notice" and (
        channel not in CHANNELS or not (raw.get("template") or channel == "call")
    ):
        raise PolicyError(f"{name}, step {key}: a notice needs a channel and a template")
    _check_call_triggers(name, key, raw, keys)
    fallback = raw.get("fallback_channel")
    if fallback is not None and (action != "notice" or raw.get("channel") != "email"):
        raise PolicyError(f"{name}, step {key}: fallback_channel is for an email notice only")
    if fallback is not None and fallback not in FALLBACK_CHANNELS:
        raise PolicyError(
            f"{name}, step {key}: fallback_channel must be one of "
            f"{', '.join(FALLBACK_CHANNELS)}, not {fallback!r}"
        )
    if raw.get("per", "delinquency") not in PER:
        raise PolicyError(f"{name}, step {key}: per must be charge or delinquency")
    audience = _check_trigger_and_audience(name, key, raw)
    _check_grace_and_deadline(name, key, raw)
    if raw.get("after_step") and raw["after_step"] not in keys:
        raise PolicyError(f"{name}, step {key}: after_step names no earlier step")
    plain = {k: v for k, v in raw.items() if k not in DECIMAL_KEYS | {"codes", "audience"}}
    minimum = _decimal(name, key, "min_balance", raw.get("min_balance", "0.01"))
    return Step(
        **plain,
        codes=tuple(raw.get("codes", ())),
        audience=audience,
        min_balance=minimum if minimum is not None else Decimal("0.01"),
        fee_fixed=_decimal(name, key, "fee_fixed", raw.get("fee_fixed")),
        fee_percent_of_rent=_decimal(
            name, key, "fee_percent_of_rent", raw.get("fee_percent_of_rent")
        ),
    )


def _check_trigger_and_audience(name: str, key: str, raw: dict[str, Any]) -> tuple[str, ...]:
    """A step's audience (checked), after checking its day_of_month trigger."""
    audience = tuple(raw.get("audience", ["primary"]))
    if any(role not in ROLES for role in audience):
        raise PolicyError(f"{name}, step {key}: audience roles are {', '.join(ROLES)}")
    if "day_of_month" in raw:
        day = raw["day_of_month"]
        if not isinstance(day, int) or isinstance(day, bool) or not 1 <= day <= 28:
            raise PolicyError(f"{name}, step {key}: day_of_month is a day from 1 to 28")
        if any(k in raw for k in ("days_past_due", "days_before_due", "after_step")):
            raise PolicyError(
                f"{name}, step {key}: day_of_month is a trigger of its own: "
                "leave out days_past_due, days_before_due and after_step"
            )
    return audience


CALL_TRIGGERS = ("before_deadline_of", "after_broken_promise", "after_returned_mail")


def _check_call_triggers(name: str, key: str, raw: dict[str, Any], keys: set[str]) -> None:
    """PolicyError for a malformed trigger of a coordinator's call (see Step)."""
    given = [k for k in CALL_TRIGGERS if k in raw]
    if not given:
        return
    if raw.get("channel") != "call" or len(given) > 1:
        raise PolicyError(f"{name}, step {key}: {given[0]} is a trigger of a call step, alone")
    others = ("day_of_month", "days_past_due", "days_before_due", "after_step")
    if any(k in raw for k in (*others, "grace_days_exclusive")):
        raise PolicyError(f"{name}, step {key}: {given[0]} is a trigger of its own")
    if "before_deadline_of" in raw:
        if raw["before_deadline_of"] not in keys - {key}:
            raise PolicyError(f"{name}, step {key}: before_deadline_of names no earlier step")
        if not _whole_days(raw.get("days_before_deadline"), 0):
            raise PolicyError(
                f"{name}, step {key}: days_before_deadline is a whole number of days, 0 or more"
            )
    for days in ("after_broken_promise", "after_returned_mail"):
        if days in raw and not _whole_days(raw[days], 0):
            raise PolicyError(f"{name}, step {key}: {days} is a whole number of days, 0 or more")


def _whole_days(value: Any, least: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


def _check_grace_and_deadline(name: str, key: str, raw: dict[str, Any]) -> None:
    """PolicyError for a malformed grace period or deadline of one step."""
    if "grace_days_exclusive" in raw:
        if not _whole_days(raw["grace_days_exclusive"], 0):
            raise PolicyError(
                f"{name}, step {key}: grace_days_exclusive is a whole number of days, 0 or more "
                f"(got {raw['grace_days_exclusive']!r})"
            )
        triggers = ("day_of_month", "days_past_due", "days_before_due", "after_step")
        others = [k for k in triggers if k in raw]
        if others:
            raise PolicyError(
                f"{name}, step {key}: grace_days_exclusive is a trigger of its own: "
                f"leave out {', '.join(others)}"
            )
    if "deadline_days" in raw and not _whole_days(raw["deadline_days"], 1):
        raise PolicyError(
            f"{name}, step {key}: deadline_days is a whole number of days, 1 or more "
            f"(got {raw['deadline_days']!r})"
        )
    if raw.get("deadline_rule", "calendar") not in DEADLINE_RULES:
        raise PolicyError(
            f"{name}, step {key}: deadline_rule must be one of {', '.join(DEADLINE_RULES)} "
            f"(got {raw['deadline_rule']!r})"
        )


@cache
def built_in_policies() -> dict[str, Policy]:
    """The policies shipped in arrears/dunning/policies, by name."""
    return {name: parse_policy(text, source=name) for name, text in built_in_sources().items()}


@cache
def built_in_sources() -> dict[str, str]:
    """The TOML text of each policy shipped in arrears/dunning/policies, by the policy's name."""
    found = {}
    for path in sorted(BUILT_IN.glob("*.toml")):
        text = path.read_text(encoding="utf-8")
        found[parse_policy(text, source=path.name).name] = text
    return found


def jurisdiction_of(country: str | None, state: str | None) -> str:
    """A property's jurisdiction as policies name it: "US-NY", "US" without a state, "" without
    a property (a receivable with no property falls to the policies that name no jurisdiction)."""
    if not country:
        return ""
    return f"{country}-{state.upper()}" if state else country


def choose_policy(
    policies: dict[str, Policy],
    *,
    jurisdiction: str,
    account_kind: str,
    moved_out: bool,
    override: str | None = None,
) -> Policy | None:
    """The policy for an account: its override, else the most specific match by jurisdiction
    (country-state, then country, then any) and account kind, for its state."""
    if override:
        return policies.get(override)
    state = "moved_out" if moved_out else "active"
    candidates = [
        p
        for p in policies.values()
        if account_kind in p.account_kinds and p.state in (state, "any")
    ]
    for wanted in (jurisdiction, jurisdiction.split("-")[0], ""):
        for p in candidates:
            if p.jurisdiction == wanted:
                return p
    return None
