"""The pre-move-out inspection offer, sent by the daily run: the letter `inspection-offer` to the
tenant (the account's primary party) of each residential lease ending soon in a jurisdiction that
requires it (N.Y. Gen. Oblig. Law §7-108(1-a)(d), Cal. Civ. Code §1950.5(f)(1); the rule is data,
`moveout/deposit_rules.toml`), through the compliance guard and the letter path (the letters
batch prints it, `letters mailed` records its proof of mailing), as the deposit's itemized
statement is sent (`deposit_statement`).

It is a pass of its own after the run's main one (`services.cycle_run`), over the set the
selector `moveout.selectors.inspection_offers_due` reads: a tenant who owes nothing is never a
candidate of the main run, whose candidates are the accounts with open items.

Invariants:
- one offer per account, vacate date and addressee: its key is
  `ACCOUNT:inspection-offer:VACATE_ON:PARTY` (`inspection_offer_key`), so a second run queues
  nothing new, and a vacate date changed since makes a new offer;
- a dry run sends and writes nothing: it says what it would send;
- the holds a plan, a promise or a dispute give do not stop it (`addressee.NOT_HELD_BY`): the
  law owes it to the tenant whatever is being negotiated; every other hold does (cease, an
  attorney, a bankruptcy, a returned address…), and the refusal is written once per rule
  (`letter.refused` on the timeline) and asked again on the next run;
- each account's offer is queued in its own savepoint: a letter that cannot be rendered (a
  required merge field empty, `merge_field_missing`) is refused alone, and the others go.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone as dj_timezone

from arrears.core.dates import book_zone
from arrears.correspondence.catalog import language_for
from arrears.correspondence.rendering import MissingFieldError, outbound_message
from arrears.correspondence.services import outbound_queue
from arrears.dunning.addressee import _guard, addressee, answer_addressee
from arrears.dunning.derived import derived_holds
from arrears.dunning.services import company_policies
from arrears.ledger.models import Account, AccountParty, TimelineEvent
from arrears.moveout.selectors import (
    INSPECTION_OFFER,
    InspectionOfferDue,
    inspection_offer_key,
    inspection_offers_due,
)

STEP = INSPECTION_OFFER  # the Outbound's step, and the NOT_HELD_BY entry
CHANNEL = "letter"  # first-class: the statutes ask for it in writing, not for a receipt of mailing


@dataclass(frozen=True)
class OfferSent:
    """One tenant's offer: queued (`letter` its id; None in a dry run), or refused (`rule`)."""

    account_id: str
    party_id: str
    vacate_on: date
    opens: date
    closes: date
    offer_by: date
    letter: int | None = None
    document: str = ""
    rule: str = ""
    reason: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "party_id": self.party_id,
            "template": INSPECTION_OFFER,
            "channel": CHANNEL,
            "vacate_on": self.vacate_on.isoformat(),
            "inspection_from": self.opens.isoformat(),
            "inspection_until": self.closes.isoformat(),
            "offer_by": self.offer_by.isoformat(),
            "letter_id": self.letter,
            "document": self.document or None,
            "rule": self.rule or None,
        }


def offer_fields(due: InspectionOfferDue) -> dict[str, Any]:
    """The letter's own merge fields (docs/templates.md, `inspection_offer`): dates under keys
    ending `_on`."""
    w = due.window
    return {
        "inspection_offer": {
            "vacate_on": w.vacate_on.isoformat(),
            "from_on": w.opens.isoformat(),
            "until_on": w.closes.isoformat(),
            "offer_by_on": w.offer_by.isoformat(),
            "notice_hours": w.notice_hours,
            "law": due.law,
        }
    }


def inspection_offers_send(*, on: date, actor: str, dry_run: bool = False) -> list[OfferSent]:
    """Queue the inspection offer of every lease `inspection_offers_due(on)` lists, to its
    tenant, through the guard (module docstring). Returns what was queued or refused (a dry
    run: what would be, writing nothing)."""
    due = inspection_offers_due(on)
    if not due:
        return []
    accounts = {
        a.pk: a
        for a in Account.objects.filter(pk__in=[d.account_pk for d in due]).select_related(
            "property"
        )
    }
    tenants: dict[int, AccountParty] = {}
    for tenant in (
        AccountParty.objects.filter(account_id__in=list(accounts), role="primary")
        .select_related("party")
        .order_by("id")
    ):
        tenants.setdefault(tenant.account_id, tenant)
    policies = company_policies()
    derived = derived_holds(list(accounts), on)
    noon = datetime.combine(on, time(12, 0), tzinfo=book_zone())
    out = []
    for offer in due:
        account = accounts[offer.account_pk]
        link = tenants.get(account.pk)
        if link is None:  # no tenant on the lease: no one to offer it to
            continue
        party = link.party
        who = addressee(
            account, party, noon, policies, role="primary", calls=False, derived=derived
        )
        # As the run's letters: on its date at noon in the addressee's zone.
        at = datetime.combine(on, time(12, 0), tzinfo=ZoneInfo(who.zone))
        decision = _guard(answer_addressee(who, STEP), CHANNEL, at)
        sent = _offer(offer, party.party_id)
        key = inspection_offer_key(account.account_id, offer.window.vacate_on, party.party_id)
        if not decision.allowed:
            if not dry_run:
                _refused(account, key, party.party_id, decision.rule, decision.reason, on, actor)
            out.append(_refusal(sent, decision.rule, decision.reason))
            continue
        if dry_run:
            out.append(sent)
            continue
        try:
            with transaction.atomic():
                row = _queue(account, link, offer, key, on, actor)
        except MissingFieldError as exc:
            out.append(_refusal(sent, "merge_field_missing", str(exc)))
            continue
        out.append(_queued(sent, row.pk, row.document_name))
    return out


def _offer(offer: InspectionOfferDue, party_id: str) -> OfferSent:
    w = offer.window
    return OfferSent(offer.account_id, party_id, w.vacate_on, w.opens, w.closes, w.offer_by)


def _refusal(sent: OfferSent, rule: str, reason: str) -> OfferSent:
    return OfferSent(**{**sent.__dict__, "rule": rule, "reason": reason})


def _queued(sent: OfferSent, letter: int, document: str) -> OfferSent:
    return OfferSent(**{**sent.__dict__, "letter": letter, "document": document})


def _queue(
    account: Account,
    link: AccountParty,
    offer: InspectionOfferDue,
    key: str,
    on: date,
    actor: str,
) -> Any:
    party = link.party
    w = offer.window
    row = outbound_queue(
        key=key,
        account=account,
        party=party,
        role=link.role,
        channel=CHANNEL,
        template=INSPECTION_OFFER,
        language=language_for(party.language),
        step=STEP,
        run_on=on,
        actor=actor,
        fields=offer_fields(offer),
        summary=f"pre-move-out inspection offer queued by letter for {party.name}",
    )
    # Rendered now as the letters batch will render it: a required field left empty refuses
    # this offer (MissingFieldError), and its savepoint writes nothing.
    outbound_message(row, letter=True)
    law = f" ({offer.law})" if offer.law else ""
    TimelineEvent.objects.create(
        account=account,
        at=dj_timezone.now(),
        on=on,
        kind="inspection.offered",
        actor=actor,
        summary=(
            f"pre-move-out inspection offered to {party.party_id}{law}: the tenancy ends on "
            f"{w.vacate_on.isoformat()}, the inspection between {w.opens.isoformat()} and "
            f"{w.closes.isoformat()}"
        )[:500],
        detail={
            "letter": row.pk,
            "party_id": party.party_id,
            "vacate_on": w.vacate_on.isoformat(),
            "inspection_from": w.opens.isoformat(),
            "inspection_until": w.closes.isoformat(),
            "offer_by": w.offer_by.isoformat(),
            "law": offer.law,
        },
    )
    return row


def _refused(
    account: Account, key: str, party_id: str, rule: str, reason: str, on: date, actor: str
) -> None:
    """The guard's refusal on the timeline, once per offer and rule: the run asks again each
    day, and a hold released lets the offer go."""
    if TimelineEvent.objects.filter(
        account=account, kind="letter.refused", detail__key=key, detail__rule=rule
    ).exists():
        return
    TimelineEvent.objects.create(
        account=account,
        at=dj_timezone.now(),
        on=on,
        kind="letter.refused",
        actor=actor,
        summary=f"{INSPECTION_OFFER} not sent to {party_id}: {reason or rule}"[:500],
        detail={"template": INSPECTION_OFFER, "rule": rule, "party_id": party_id, "key": key},
    )
