"""The compliance guard: the one gate every outbound contact and every fee passes. Pure.

`guard_check` answers allow, or refuse with the rule that refused. The rules, in order:

1. holds on the account or the party (`hold:<reason>`): a bankruptcy automatic stay stops every
   collection act, fees included (11 USC §362(a)(6)); a debtor represented by an attorney is not
   contacted (15 USC §1692c(a)(2)); a written request to cease stops contact (15 USC §1692c(c));
   a deceased party, military service (Servicemembers Civil Relief Act, 50 USC §3931 et seq.),
   a dispute under verification (15 USC §1692g(b)), a plan in good standing and a manual hold
   (until its date) stop collection steps. A hold on a party stops contact with that party only.
   Then the holds the daily run derives for the step (`derived`): `plan` (a plan in good
   standing) and `promise` (a promise not yet due or broken) stop every step of the account;
   `dispute` stops only the steps about a disputed amount (15 USC §1692g(b)), so the rest of the
   balance keeps its course.
2. the channel itself (`channel:<what is missing>`): no email without an address, no letter
   without a postal address (nor to one that mail came back from), no text and no autodialled
   or prerecorded call without consent, nothing on a channel the party opted out of.
   47 USC §227(b)(1)(A)(iii): a call to a cell phone made with an automatic telephone dialing
   system or an artificial or prerecorded voice (a text is such a call: Campbell-Ewald v.
   Gomez, 577 U.S. 153 (2016)) needs the called party's prior express consent. The FCC's
   one-to-one consent rule (47 CFR §64.1200(f)(9), 2023 order) asks it of the one caller, and
   its revocation rule (47 CFR §64.1200(a)(10), 2024 order) lets it be withdrawn by any
   reasonable means: the latest word per channel wins, so a withdrawal stops the channel.
3. contact hours (`hours`): calls, texts and emails only from 8:00 to before 21:00 in the party's
   own time zone (15 USC §1692c(a)(1); Reg F, 12 CFR §1006.6(b)(1)(i)); configurable per
   jurisdiction for stricter local rules.
4. call frequency (`frequency`): at most 7 call attempts in 7 days about a debt, and none within
   7 days after a telephone conversation about it (12 CFR §1006.14(b)(2)).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

CONTACT_CHANNELS = ("email", "letter", "certified_letter", "sms", "call", "autodial")
TIMED_CHANNELS = ("email", "sms", "call", "autodial")
# Channels that need the party's prior express consent (47 USC §227(b)(1)(A)).
CONSENT_CHANNELS = ("sms", "autodial")
# Account holds that stop fees; every account hold stops notices.
STOPS_FEES = ("bankruptcy", "dispute", "plan", "manual")
# Account holds that stop the other steps (referrals, holds placed by the policy).
STOPS_STEPS = ("bankruptcy", "dispute", "plan", "manual", "military", "deceased")


@dataclass(frozen=True)
class ActiveHold:
    reason: str
    party_id: str | None = None  # None: the whole account
    until: date | None = None

    def active_on(self, on: date) -> bool:
        return self.until is None or on <= self.until


@dataclass(frozen=True)
class ContactPoint:
    """What the guard needs to know of the addressee."""

    party_id: str
    timezone: str
    has_email: bool = True
    has_address: bool = True
    has_phone: bool = True
    sms_consent: bool = False
    autodial_consent: bool = False  # autodialled or prerecorded calls (47 USC §227(b)(1)(A))
    opted_out: frozenset[str] = frozenset()
    address_returned: bool = False  # mail to the postal address came back undeliverable


@dataclass(frozen=True)
class GuardRules:
    """Windows and caps: the federal floor by default, stricter per jurisdiction if configured."""

    earliest: time = time(8, 0)
    latest: time = time(21, 0)  # the first minute that is no longer allowed
    calls_per_week: int = 7
    quiet_days_after_conversation: int = 7


@dataclass(frozen=True)
class Decision:
    allowed: bool
    rule: str = ""
    reason: str = ""

    @classmethod
    def allow(cls) -> Decision:
        return cls(True)


@dataclass(frozen=True)
class CallHistory:
    attempts: Sequence[datetime] = ()
    conversations: Sequence[datetime] = ()

    @classmethod
    def of(cls, calls: Iterable[tuple[datetime, bool]]) -> CallHistory:
        """From (when, whether it was a conversation) pairs, as the book records call attempts."""
        attempts, talks = [], []
        for at, talked in calls:
            attempts.append(at)
            if talked:
                talks.append(at)
        return cls(attempts, talks)


def contact_point(
    *,
    party_id: str,
    role: str,
    timezone: str,
    email: str | None,
    address: str | None,
    phone: str | None,
    unit_address: str | None,
    consents: Iterable[tuple[str, bool]],
    address_returned: bool,
) -> ContactPoint:
    """What the guard knows of a party, from the facts of the book: the one constructor that the
    daily run, a coordinator's contact and the worklist share.

    `consents` are the party's consent records oldest first (the latest per channel wins);
    a tenant's postal address is the leased unit (`unit_address`) when none is on file, a
    guarantor's is not.
    """
    given = dict(consents)
    return ContactPoint(
        party_id=party_id,
        timezone=timezone,
        has_email=bool(email),
        has_address=bool(address) or (role != "guarantor" and bool(unit_address)),
        has_phone=bool(phone),
        sms_consent=given.get("sms", False),
        autodial_consent=given.get("autodial", False),
        opted_out=frozenset(channel for channel, granted in given.items() if not granted),
        address_returned=address_returned,
    )


def guard_check(
    *,
    action: str,
    channel: str | None,
    at: datetime,
    holds: Sequence[ActiveHold],
    contact: ContactPoint | None = None,
    calls: CallHistory | None = None,
    rules: GuardRules | None = None,
    derived: Sequence[tuple[str, str]] = (),
) -> Decision:
    """Allow or refuse one step (`action` notice, fee, referral, …) at the aware time `at`.

    `derived` are the (rule, reason) holds the run derived for this very step (see rule 1).
    """
    rules = rules or GuardRules()
    # A hold "until" a date lasts to the end of that day on the debtor's own calendar.
    on = at.astimezone(ZoneInfo(contact.timezone)).date() if contact else at.date()
    for hold in holds:
        if hold.active_on(on) and _hold_stops(hold, action, contact):
            return Decision(False, f"hold:{hold.reason}", _hold_reason(hold))
    if derived:
        rule, reason = derived[0]
        return Decision(False, rule, reason)
    if action != "notice" or contact is None or channel is None:
        return Decision.allow()
    refusal = _channel_refusal(channel, contact)
    if refusal:
        return Decision(False, f"channel:{refusal}", f"cannot use {channel}: {refusal}")
    if channel in TIMED_CHANNELS:
        local = at.astimezone(ZoneInfo(contact.timezone))
        # Compare wall-clock times in the party's zone: across a DST change 20:59 stays allowed
        # and 21:00 stays refused, whatever the UTC offset that day.
        if not rules.earliest <= local.time() < rules.latest:
            return Decision(
                False,
                "hours",
                f"{local:%H:%M} {contact.timezone} is outside {rules.earliest:%H:%M}–"
                f"{rules.latest:%H:%M}",
            )
    if channel in ("call", "autodial") and calls is not None:
        week_ago = at - timedelta(days=7)
        attempts = [a for a in calls.attempts if week_ago < a <= at]
        if len(attempts) >= rules.calls_per_week:
            return Decision(False, "frequency", f"{len(attempts)} call attempts in 7 days")
        quiet = timedelta(days=rules.quiet_days_after_conversation)
        if any(at - quiet < c <= at for c in calls.conversations):
            return Decision(False, "frequency", "a conversation in the last 7 days")
    return Decision.allow()


def _hold_stops(hold: ActiveHold, action: str, contact: ContactPoint | None) -> bool:
    if hold.party_id is not None:  # a party's hold stops contact with that party alone
        return action == "notice" and contact is not None and contact.party_id == hold.party_id
    if action == "notice":
        return True
    if action == "fee":
        return hold.reason in STOPS_FEES
    return hold.reason in STOPS_STEPS


def _hold_reason(hold: ActiveHold) -> str:
    whom = f"party {hold.party_id}" if hold.party_id else "the account"
    until = f" until {hold.until.isoformat()}" if hold.until else ""
    return f"{hold.reason} hold on {whom}{until}"


def _channel_refusal(channel: str, contact: ContactPoint) -> str:
    if channel in contact.opted_out:
        return "opted out"
    if channel == "email" and not contact.has_email:
        return "no email address"
    if channel in ("letter", "certified_letter") and not contact.has_address:
        return "no postal address"
    if channel in ("letter", "certified_letter") and contact.address_returned:
        return "mail returned undeliverable"
    if channel == "sms" and not contact.sms_consent:
        return "no consent to texts"
    if channel == "autodial" and not contact.autodial_consent:
        return "no consent to autodialled calls"
    if channel in ("sms", "call", "autodial") and not contact.has_phone:
        return "no phone number"
    return ""
