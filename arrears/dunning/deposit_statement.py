"""The itemized statement of a security deposit's disposition, sent: the letter `deposit-statement`
to the tenant (the primary party) and to each guarantor of the account, through the compliance
guard and the letter path (the letters batch prints it, `letters mailed` records its proof of
mailing), as `notices.notice_send` sends a notice by hand. It is not a step of any policy (like
the answers to a dispute), so it is queued here with its own merge fields, read from the
disposition in force by `arrears.moveout.statement`.

Invariants:
- the statement of a disposition version goes to each addressee once: its key is
  `ACCOUNT:deposit-statement:vVERSION:PARTY`, so a second send queues nothing new, and a
  corrected disposition (a new version) is stated again;
- after the disposition's `statement_due` it is refused (rule `deposit:deadline`, N.Y. Gen. Oblig.
  Law §7-108(1-a)(e), Cal. Civ. Code §1950.5(g)(1)) unless a reason is given, which goes on the
  timeline (`deposit.statement`);
- a letter whose required merge field is empty (`catalog.REQUIRES`) is refused now, and nothing is
  queued for anyone; an addressee the guard refuses gets no letter (`letter.refused` on the
  timeline, with the rule), the others do.
- the holds a plan, a promise or a dispute give do not stop it (`addressee.NOT_HELD_BY`): the law
  asks for the statement whatever is being negotiated; every other hold (cease, an attorney, a
  bankruptcy, a returned address…) does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _

from arrears.core.errors import ValidationError
from arrears.correspondence.catalog import language_for
from arrears.correspondence.models import Outbound
from arrears.correspondence.rendering import outbound_message
from arrears.correspondence.services import outbound_queue
from arrears.dunning.addressee import _guard, addressee, answer_addressee
from arrears.ledger.models import AccountParty, TimelineEvent
from arrears.moveout.statement import TEMPLATE, StatementDue, statement_due, statement_fields

STEP = "deposit-statement"  # the Outbound's step, and the NOT_HELD_BY entry
CHANNEL = "certified_letter"  # a receipt of mailing: the statement's proof it was sent in time
ROLES = ("primary", "guarantor")


@dataclass(frozen=True)
class StatementLetter:
    """One addressee's statement: queued (now or before), or refused by the guard."""

    party_id: str
    name: str
    role: str
    outbound: Outbound | None
    created: bool = False  # False: queued before (or refused)
    rule: str = ""
    reason: str = ""


@dataclass(frozen=True)
class StatementSent:
    account_id: str
    version: int
    on: date
    late_reason: str
    letters: list[StatementLetter] = field(default_factory=list)

    @property
    def refused(self) -> list[StatementLetter]:
        return [x for x in self.letters if x.outbound is None]

    def lines(self) -> list[str]:
        out = []
        for x in self.letters:
            who = f"{x.name} ({x.party_id}, {x.role})"
            if x.outbound is None:
                out.append(f"{who}: NOT queued, refused by the guard ({x.rule}): {x.reason}")
            else:
                how = "queued" if x.created else "queued already"
                out.append(f"{who}: {how} as L{x.outbound.pk}, {x.outbound.document_name}")
        return out

    def as_json(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "version": self.version,
            "on": self.on.isoformat(),
            "late_reason": self.late_reason or None,
            "letters": [
                {
                    "party_id": x.party_id,
                    "role": x.role,
                    "letter_id": x.outbound.pk if x.outbound else None,
                    "document": x.outbound.document_name if x.outbound else None,
                    "language": x.outbound.language if x.outbound else None,
                    "created": x.created,
                    "rule": x.rule or None,
                }
                for x in self.letters
            ],
        }


def _addressees(due: StatementDue) -> list[AccountParty]:
    """The primary party first, then each guarantor; each party once."""
    links = (
        AccountParty.objects.filter(account=due.account, role__in=ROLES)
        .select_related("party")
        .order_by("id")
    )
    ordered = sorted(links, key=lambda ap: (ROLES.index(ap.role), ap.pk))
    seen: set[int] = set()
    out = []
    for link in ordered:
        if link.party_id not in seen:
            seen.add(link.party_id)
            out.append(link)
    if not out:
        raise ValidationError(
            _("{account_id} has no tenant or guarantor to send the statement to"),
            code="statement_no_addressee",
            account_id=due.account.account_id,
        )
    return out


@transaction.atomic
def deposit_statement_send(
    *, account_id: str, on: date, actor: str, late_reason: str = "", at: datetime | None = None
) -> StatementSent:
    """Queue the itemized statement of the disposition in force to the tenant and each guarantor
    (module docstring). Raises DomainError (and queues nothing) for no such account, no
    disposition, after the deadline without a reason (DepositRefusedError, rule
    `deposit:deadline`), an empty required merge field (MissingFieldError)."""
    due = statement_due(account_id=account_id, on=on, late_reason=late_reason)
    account = due.account
    version = due.disposition.version
    when = at or dj_timezone.now()
    sent = StatementSent(account_id, version, on, due.late_reason)
    for link in _addressees(due):
        party = link.party
        who = answer_addressee(addressee(account, party, when, role=link.role, calls=False), STEP)
        decision = _guard(who, CHANNEL, when)
        if not decision.allowed:
            _refused(account, party.party_id, decision.rule, decision.reason, on, actor, when)
            sent.letters.append(
                StatementLetter(
                    party.party_id,
                    party.name,
                    link.role,
                    None,
                    rule=decision.rule,
                    reason=decision.reason,
                )
            )
            continue
        key = f"{account_id}:{TEMPLATE}:v{version}:{party.party_id}"
        existed = Outbound.objects.filter(key=key).exists()
        language = language_for(party.language)
        row = outbound_queue(
            key=key,
            account=account,
            party=party,
            role=link.role,
            channel=CHANNEL,
            template=TEMPLATE,
            language=language,
            step=STEP,
            run_on=on,
            actor=actor,
            fields=statement_fields(due, language),
            summary=f"itemized statement of the deposit (disposition version {version}) queued "
            f"by certified letter for {party.name}",
        )
        # Rendered now as the letters batch will render it: a required field left empty refuses
        # the whole send (MissingFieldError), and the transaction writes nothing.
        outbound_message(row, letter=True)
        sent.letters.append(
            StatementLetter(party.party_id, party.name, link.role, row, created=not existed)
        )
    if any(x.created for x in sent.letters):
        _sent_event(due, sent, actor, when)
    return sent


def _refused(
    account: Any, party_id: str, rule: str, reason: str, on: date, actor: str, at: datetime
) -> None:
    TimelineEvent.objects.create(
        account=account,
        at=at,
        on=on,
        kind="letter.refused",
        actor=actor,
        summary=f"{TEMPLATE} not sent to {party_id}: {reason or rule}"[:500],
        detail={"template": TEMPLATE, "rule": rule, "party_id": party_id},
    )


def _sent_event(due: StatementDue, sent: StatementSent, actor: str, at: datetime) -> None:
    d = due.disposition
    to = ", ".join(x.party_id for x in sent.letters if x.created)
    summary = f"itemized statement of the deposit (version {d.version}) sent to {to}"
    if due.late:
        summary += f", after its deadline of {d.statement_due.isoformat()}: {due.late_reason}"
    TimelineEvent.objects.create(
        account=due.account,
        at=at,
        on=sent.on,
        kind="deposit.statement",
        actor=actor,
        summary=summary[:500],
        detail={
            "version": d.version,
            "letters": [
                {"letter": x.outbound.pk, "party_id": x.party_id, "role": x.role}
                for x in sent.letters
                if x.created and x.outbound
            ],
            "statement_due": d.statement_due.isoformat(),
            "late_reason": due.late_reason,
            "law": due.rule.law,
        },
    )
