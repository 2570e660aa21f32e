"""Whether each party of an account may be called right now, as the compliance guard says it:
the account page shows it beside each phone ("OK to call now", "not before 8:00 AM ET", "quiet
until Nov 27").

One pass for the whole account: the holds the page has read already, one query for the
account's call attempts of the last days, the commitments' holds (a fixed number of queries)
and the account's policy; then `guard.guard_check`, the very function a logged call passes, for
each party, once for a call dialled by hand and once for an autodialled call (47 USC
§227(b)(1)(A) asks prior express consent for that: `guard` cites it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from arrears.dunning.derived import DerivedHolds, derived_holds
from arrears.dunning.guard import (
    ActiveHold,
    CallHistory,
    Decision,
    GuardRules,
    contact_point,
    guard_check,
)
from arrears.dunning.models import ContactAttempt
from arrears.dunning.zones import contact_zone
from arrears.ledger.models import Account


@dataclass(frozen=True)
class CallWord:
    """The guard's word on calling one party now. `kind`: `ok`; `hours` (not before `from_time`,
    `tomorrow` or today, in `zone`); `quiet` (until the end of `until`, a hold's or the call
    caps' date; `until` None: until it is released); `held` (a commitment or a hold with no
    end: `reason`); `no_phone`. `autodial`: whether an autodialled call is allowed too."""

    kind: str
    zone: str
    reason: str = ""
    rule: str = ""
    until: date | None = None
    from_time: time | None = None
    tomorrow: bool = False
    autodial: bool = False


def call_words(
    *,
    account: Account,
    parties: Sequence[Any],
    holds: Iterable[Any],
    at: datetime,
    rules: GuardRules | None = None,
    derived: DerivedHolds | None = None,
) -> dict[str, CallWord]:
    """{party_id: CallWord} for the account's parties at the aware time `at`. `parties` carry
    party_id, role, phone, email, address, timezone, state and consent ({channel: granted});
    `holds` are the account's Hold rows (a party's with `party_code`, as `activity_get` reads
    them). `derived`: the account's commitments' holds when the caller knows them (none, say),
    else they are read."""
    rules = rules or GuardRules()
    prop = account.property
    zones = {
        p.party_id: contact_zone(
            p.timezone, p.state, prop.timezone if prop else None, prop.state if prop else None
        )
        for p in parties
    }
    on = at.astimezone(ZoneInfo(zones[parties[0].party_id])).date() if parties else at.date()
    active = [
        ActiveHold(h.reason, getattr(h, "party_code", None) if h.party_id else None, h.until)
        for h in holds
        if h.released_at is None and h.placed_on <= on
    ]
    if derived is None:
        derived = derived_holds([account.pk], on)
    commitments: list[tuple[str, str]] = []
    if account.pk in derived.commitments:
        held = derived.commitments[account.pk]
        commitments.append((held.rule, held.reason))
    if derived.disputed(account.pk)[0]:
        commitments.append(("dispute", "the whole balance is disputed"))
    calls: dict[int, list[tuple[datetime, bool]]] = {}
    for party_pk, when, talked in ContactAttempt.objects.filter(
        account=account, channel="call", at__gte=at - timedelta(days=8), at__lte=at
    ).values_list("party_id", "at", "conversation"):
        calls.setdefault(party_pk, []).append((when, talked))
    out = {}
    for p in parties:
        history = CallHistory.of(calls.get(getattr(p, "pk", 0), ()))
        out[p.party_id] = _word(p, zones[p.party_id], at, active, commitments, history, rules)
    return out


def _word(
    party: Any,
    zone: str,
    at: datetime,
    holds: list[ActiveHold],
    commitments: list[tuple[str, str]],
    history: CallHistory,
    rules: GuardRules,
) -> CallWord:
    contact = contact_point(
        party_id=party.party_id,
        role=party.role,
        timezone=zone,
        email=party.email,
        address=party.address,
        phone=party.phone,
        unit_address=None,
        consents=party.consent.items(),
        address_returned=False,
    )

    def ask(channel: str) -> Decision:
        return guard_check(
            action="notice",
            channel=channel,
            at=at,
            holds=holds,
            contact=contact,
            calls=history,
            rules=rules,
            derived=tuple(commitments),
        )

    decision = ask("call")
    base = CallWord(
        "ok", zone, reason=decision.reason, rule=decision.rule, autodial=ask("autodial").allowed
    )
    if decision.allowed:
        return base
    if decision.rule == "hours":
        late = at.astimezone(ZoneInfo(zone)).time() >= rules.latest
        return replace(base, kind="hours", from_time=rules.earliest, tomorrow=late)
    if decision.rule.startswith("hold:"):
        reason = decision.rule.split(":", 1)[1]
        hold = next((h for h in holds if h.reason == reason), None)
        until = hold.until if hold else None
        return replace(base, kind="quiet" if until else "held", until=until)
    if decision.rule == "frequency":
        return replace(base, kind="quiet", until=_quiet_until(history, at, rules, zone))
    if decision.rule == "channel:no phone number":
        return replace(base, kind="no_phone")
    return replace(base, kind="held")


def _quiet_until(history: CallHistory, at: datetime, rules: GuardRules, zone: str) -> date:
    """The last day the call caps keep the party quiet: 7 days after the conversation, or until
    the oldest of the week's attempts is a week old (12 CFR §1006.14(b)(2))."""
    quiet = timedelta(days=rules.quiet_days_after_conversation)
    ends = [c + quiet for c in history.conversations if at - quiet < c <= at]
    week = [a for a in history.attempts if at - timedelta(days=7) < a <= at]
    if len(week) >= rules.calls_per_week:
        ends.append(min(week) + timedelta(days=7))
    end = max(ends) if ends else at
    return (end.astimezone(ZoneInfo(zone)) - timedelta(microseconds=1)).date()
