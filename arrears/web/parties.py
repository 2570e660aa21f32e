"""The account page's Parties table (web/_parties.html): each party's contact points as a
person reads them, and beside each phone the compliance guard's word on a call right now
(`dunning.reach.call_words`, one pass for the account), in the user's language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import formats
from django.utils.translation import gettext as _

from arrears.access.selectors import PartyView
from arrears.core.phones import phone_display, phone_href
from arrears.dunning.derived import DerivedHolds
from arrears.dunning.policy import Policy
from arrears.dunning.reach import CallWord, call_words
from arrears.dunning.services import guard_rules

# How a US reader names the zones the book calls in; another zone by its own abbreviation.
ZONE_NAMES = {
    "America/New_York": "ET",
    "America/Detroit": "ET",
    "America/Chicago": "CT",
    "America/Denver": "MT",
    "America/Phoenix": "MT",
    "America/Los_Angeles": "PT",
    "America/Anchorage": "AKT",
    "Pacific/Honolulu": "HT",
}


@dataclass(frozen=True)
class PartyRow:
    """A party of the account as its row shows it."""

    party: PartyView
    phone: str  # as a person reads it
    tel: str  # the `tel:` link ("" for none)
    call: str  # the guard's word on a call now ("" without a phone)
    call_ok: bool
    autodial: str  # "" when autodialled calls are allowed, else why not


def party_rows(
    account: Any,
    parties: list[PartyView],
    holds: Any,
    at: datetime,
    policy: Policy | None,
    *,
    commitments: bool = True,
) -> list[PartyRow]:
    """The rows of the Parties table at `at`, under the account's `policy` (the one the page's
    notice menu has already read: `dunning.selectors.account_policy`). `commitments` False: the
    account has no open promise, active plan or open dispute (`StandingFlags.may_hold`), so the
    guard is asked without reading their holds."""
    words = call_words(
        account=account,
        parties=parties,
        holds=holds,
        at=at,
        rules=guard_rules(policy) if policy else None,
        derived=None if commitments else DerivedHolds(),
    )
    rows = []
    for p in parties:
        word = words[p.party_id]
        rows.append(
            PartyRow(
                p,
                phone_display(p.phone),
                phone_href(p.phone),
                call_text(word, at) if p.phone else "",
                word.kind == "ok",
                "" if word.autodial or not p.phone else _("no consent for autodialled calls"),
            )
        )
    return rows


def zone_name(zone: str, at: datetime) -> str:
    return ZONE_NAMES.get(zone) or at.astimezone(ZoneInfo(zone)).tzname() or zone


def call_text(word: CallWord, at: datetime) -> str:
    """The guard's word in the user's language: "OK to call now", "not before 8:00 AM ET",
    "quiet until Nov 27"."""
    if word.kind == "ok":
        return _("OK to call now")
    if word.kind == "hours" and word.from_time is not None:
        clock = word.from_time.strftime("%I:%M %p").lstrip("0")
        facts = {"time": clock, "zone": zone_name(word.zone, at)}
        if word.tomorrow:
            return _("not before %(time)s %(zone)s tomorrow") % facts
        return _("not before %(time)s %(zone)s") % facts
    if word.kind == "quiet" and word.until is not None:
        return _("quiet until %(date)s") % {"date": formats.date_format(word.until, "M j")}
    if word.rule == "promise":
        return _("quiet: a promise to pay is pending")
    if word.rule == "plan":
        return _("quiet: a payment plan is in good standing")
    if word.rule == "dispute":
        return _("quiet: the balance is disputed")
    if word.rule == "referred":
        return _("quiet: the account is with a law firm or an agency")
    if word.rule.startswith("hold:"):
        return _("on hold (%(reason)s)") % {"reason": _(word.rule.split(":", 1)[1])}
    return _("not now: %(reason)s") % {"reason": word.reason}
