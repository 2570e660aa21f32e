"""One party of one account as the compliance guard sees it at the minute of a contact made
after the daily run (an email sent, a call logged, a letter by hand), and the guard asked of it.

A contact by hand passes the same rules as the run's: the account's holds, the party's consents
and call history, the policy's windows and caps, and the holds the account's commitments give
(a plan in good standing, a promise pending, a dispute of the whole balance). A commitment's own
papers are not stopped by its own holds (NOT_HELD_BY).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils.translation import gettext_lazy as _

from arrears.core.errors import NotFoundError
from arrears.correspondence.selectors import party_address_key, returned_addresses
from arrears.dunning.derived import DerivedHolds, derived_holds
from arrears.dunning.guard import (
    ActiveHold,
    CallHistory,
    ContactPoint,
    Decision,
    GuardRules,
    contact_point,
    guard_check,
)
from arrears.dunning.models import Consent, ContactAttempt, Hold
from arrears.dunning.policy import Policy, choose_policy, jurisdiction_of
from arrears.dunning.services import company_policies, guard_rules
from arrears.dunning.zones import contact_zone
from arrears.ledger.models import Account, AccountParty, Party


@dataclass(frozen=True)
class Addressee:
    account: Account
    party: Party
    role: str
    zone: str
    contact: ContactPoint
    holds: list[ActiveHold]
    calls: CallHistory
    rules: GuardRules
    # Holds the account's commitments give (a plan in good standing, a promise pending, a
    # dispute of the whole balance): a contact by hand passes the same rules as the run's.
    derived: tuple[tuple[str, str], ...] = ()


def addressee(
    account: Account,
    party: Party,
    at: datetime,
    policies: dict[str, Policy] | None = None,
    role: str | None = None,
    calls: bool = True,
    derived: DerivedHolds | None = None,
) -> Addressee:
    """What the guard needs to know of one party of one account, at `at`. A caller that knows
    them already passes the policies in force and the party's `role`; `calls=False` skips the
    call history (an email or a letter is not a call)."""
    if role is None:
        link = AccountParty.objects.filter(account=account, party=party).first()
        if link is None:
            raise NotFoundError(
                _("{party_id!r} is not a party of account {account_id!r}"),
                code="party_not_of_account",
                party_id=party.party_id,
                account_id=account.account_id,
            )
        role = link.role
    zone = _party_zone(account, party)
    on = at.astimezone(ZoneInfo(zone)).date()
    history = ContactAttempt.objects.filter(
        account=account, party=party, channel="call", at__gte=at - timedelta(days=8), at__lte=at
    ).values_list("at", "conversation")
    moved_out = bool(account.closed_on and account.closed_on <= on)
    policy = choose_policy(
        policies or company_policies(),
        jurisdiction=_jurisdiction(account),
        account_kind=account.kind,
        moved_out=moved_out,
    )
    if derived is None:
        derived = derived_holds([account.pk], on)
    return Addressee(
        account,
        party,
        role,
        zone,
        _contact(account, party, role, zone),
        _holds(account, on),
        CallHistory.of(history if calls else ()),
        guard_rules(policy) if policy else GuardRules(),
        _account_commitments(derived, account.pk),
    )


def _contact(account: Account, party: Party, role: str, zone: str) -> ContactPoint:
    """How the party may be reached: addresses, consents, mail come back."""
    return contact_point(
        party_id=party.party_id,
        role=role,
        timezone=zone,
        email=party.email,
        address=party.address,
        phone=party.phone,
        unit_address=account.property.address if account.property else None,
        consents=Consent.objects.filter(party=party)
        .order_by("at", "id")
        .values_list("channel", "granted"),
        # Letters to an address that mail came back from are refused, as the run refuses them.
        address_returned=party_address_key(party, account, role)
        in returned_addresses([party.pk]).get(party.pk, ()),
    )


def _holds(account: Account, on: date) -> list[ActiveHold]:
    """The account's holds in force on `on`."""
    return [
        ActiveHold(h.reason, h.party.party_id if h.party else None, h.until)
        for h in Hold.objects.filter(
            account=account, released_at__isnull=True, placed_on__lte=on
        ).select_related("party")
    ]


def _account_commitments(derived: DerivedHolds, account_pk: int) -> tuple[tuple[str, str], ...]:
    """The holds an account's commitments give any contact with it: a plan in good standing or
    a promise pending (rules `plan`, `promise`), a dispute of the whole balance (`dispute`,
    15 USC §1692g(b)). A dispute of some charges only stops what is about them: the run's
    steps, not a call or an email about the rest."""
    out = []
    commitment = derived.commitments.get(account_pk)
    if commitment is not None:
        out.append((commitment.rule, commitment.reason))
    if derived.disputed(account_pk)[0]:
        out.append(("dispute", "the whole balance is disputed"))
    return tuple(out)


def _guard(who: Addressee, channel: str, at: datetime) -> Decision:
    return guard_check(
        action="notice",
        channel=channel,
        at=at,
        holds=who.holds,
        contact=who.contact,
        calls=who.calls,
        rules=who.rules,
        derived=who.derived,
    )


def _account(account_id: str) -> Account:
    account = Account.objects.select_related("property").filter(account_id=account_id).first()
    if account is None:
        raise NotFoundError(
            _("no account {account_id!r}"), code="account_not_found", account_id=account_id
        )
    return account


def _party(party_id: str) -> Party:
    party = Party.objects.filter(party_id=party_id).first()
    if party is None:
        raise NotFoundError(_("no party {party_id!r}"), code="party_not_found", party_id=party_id)
    return party


# Emails that are not collection steps but a commitment's own paper: the plan agreement sent for
# acceptance, the answer to a resolved dispute. The holds a commitment gives (a plan, a promise,
# and for the answer the dispute itself) do not stop them; every other hold does (cease,
# represented, deceased, bankruptcy…), and so do the channel and the hours. The deposit's
# itemized statement is owed by law within its clock (N.Y. Gen. Oblig. Law §7-108(1-a)(e)),
# whatever is being negotiated: a plan, a promise or a dispute does not stop it either; nor the
# pre-move-out inspection offer the law owes a tenant whose tenancy ends (N.Y. Gen. Oblig. Law
# §7-108(1-a)(d), Cal. Civ. Code §1950.5(f)(1)).
NOT_HELD_BY = {
    "plan-agreement": ("plan", "promise"),
    "dispute-answer": ("plan", "promise", "dispute"),
    "deposit-statement": ("plan", "promise", "dispute"),
    "inspection-offer": ("plan", "promise", "dispute"),
}


def answer_addressee(who: Addressee, step: str) -> Addressee:
    """`who` without the holds that do not stop `step` (NOT_HELD_BY); unchanged for any other."""
    skip = NOT_HELD_BY.get(step, ())
    if not skip:
        return who
    return dataclasses.replace(
        who,
        holds=[h for h in who.holds if h.party_id is not None or h.reason not in skip],
        derived=tuple(d for d in who.derived if d[0] not in skip),
    )


def _party_zone(account: Account, party: Party) -> str:
    prop = account.property
    return contact_zone(
        party.timezone, party.state, prop.timezone if prop else None, prop.state if prop else None
    )


def _jurisdiction(account: Account) -> str:
    prop = account.property
    return jurisdiction_of(prop.country, prop.state) if prop else ""
