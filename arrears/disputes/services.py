"""Writes of disputes: open one, resolve it. Every step writes its timeline row in the same
transaction; a credit is a new transaction in the book (`ledger.services.credits_post`).

15 USC §1692g(b): while a debt, or a disputed portion of it, is under verification, collection of
that amount stops; the rest of the balance keeps its course. The daily run derives that hold from
the open disputes (`selectors.disputed_amounts`); nothing here sets a flag.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _

from arrears.core.errors import NotFoundError, ValidationError
from arrears.core.money import ZERO
from arrears.disputes.models import CHANNELS, Dispute, DisputedCharge
from arrears.ledger.models import Account, TimelineEvent, Transaction
from arrears.ledger.selectors import open_items_as_of, party_of_account
from arrears.ledger.services import NewCredit, credits_post

# The answer's template (correspondence's catalog) for each outcome, the one table of it:
# `arrears.dunning.documents.dispute_resolve` (the act's service, for every interface) queues the
# letter named on the dispute through the guard, with the account analysis enclosed for a
# rejection. Resolving here alone posts the credits and queues nothing.
LETTERS = {"upheld": "dispute-upheld", "partial": "dispute-partial", "rejected": "dispute-rejected"}


def _event(account: Account, on: date, kind: str, actor: str, summary: str, **detail: Any) -> None:
    TimelineEvent.objects.create(
        account=account,
        at=dj_timezone.now(),
        on=on,
        kind=kind,
        actor=actor,
        summary=summary[:500],
        detail=detail,
    )


@transaction.atomic
def dispute_open(
    *,
    account_id: str,
    reason: str,
    on: date,
    actor: str,
    charges: Sequence[str] = (),
    party_id: str | None = None,
    channel: str = "letter",
    documents: Sequence[str] = (),
) -> Dispute:
    """Open a dispute on the chosen charges (their open amounts) or, with none, on every charge
    open on `on`. Raises ValidationError for no reason, an unknown channel, a charge that is not an
    open charge of the account, or nothing open to dispute."""
    if not reason.strip():
        raise ValidationError(
            _("a dispute needs the reason the party gave"), code="dispute_reason_missing"
        )
    if channel not in CHANNELS:
        raise ValidationError(
            _("a dispute's channel is one of {choices}"),
            code="dispute_channel_unknown",
            channel=channel,
            choices=", ".join(CHANNELS),
        )
    try:
        account = Account.objects.select_for_update().get(account_id=account_id)
    except Account.DoesNotExist:
        raise NotFoundError(
            _("no account {account_id!r}"), code="account_not_found", account_id=account_id
        ) from None
    party = party_of_account(account, party_id)
    held = _held_charges(account, charges, on)
    amount = sum(held.values(), ZERO)
    dispute = Dispute.objects.create(
        account=account,
        party=party,
        whole_balance=not charges,
        amount=amount,
        reason=reason.strip(),
        channel=channel,
        documents=list(documents),
        opened_on=on,
        opened_by=actor,
    )
    pks = dict(
        Transaction.objects.filter(account=account, txn_id__in=list(held)).values_list(
            "txn_id", "id"
        )
    )
    DisputedCharge.objects.bulk_create(
        [DisputedCharge(dispute=dispute, charge_id=pks[t], amount=a) for t, a in held.items()]
    )
    _opened_event(dispute, held, actor=actor)
    return dispute


def _opened_event(dispute: Dispute, held: dict[str, Decimal], *, actor: str) -> None:
    """The `dispute.opened` timeline row."""
    party, amount = dispute.party, dispute.amount
    what = "the whole balance" if dispute.whole_balance else ", ".join(held)
    _event(
        dispute.account,
        dispute.opened_on,
        "dispute.opened",
        actor,
        f"dispute {dispute.pk} on {what} ({amount:.2f}): {dispute.reason}",
        dispute=dispute.pk,
        amount=f"{amount:.2f}",
        charges=list(held),
        whole_balance=dispute.whole_balance,
        party_id=party.party_id if party else None,
        channel=dispute.channel,
        documents=list(dispute.documents),
    )


def _held_charges(account: Account, charges: Sequence[str], on: date) -> dict[str, Decimal]:
    """The open amount of each charge disputed (every charge open on `on` when none is named).
    Raises ValidationError for a charge that is not an open charge of the account, or nothing
    open to dispute."""
    account_id = account.account_id
    open_charges = {
        i.txn_id: i.amount
        for i in open_items_as_of(as_of=on, account_pks=[account.pk])
        if not i.is_credit
    }
    if charges:
        known = set(
            Transaction.objects.filter(
                account=account, txn_id__in=list(charges), type="charge"
            ).values_list("txn_id", flat=True)
        )
        for txn_id in charges:
            if txn_id not in known:
                raise ValidationError(
                    _("{txn_id!r} is not a charge of account {account_id}"),
                    code="dispute_charge_unknown",
                    txn_id=txn_id,
                    account_id=account_id,
                )
            if txn_id not in open_charges:
                raise ValidationError(
                    _("charge {txn_id} is paid: nothing of it is open to dispute on {on}"),
                    code="dispute_charge_paid",
                    txn_id=txn_id,
                    on=on,
                )
        held = {t: open_charges[t] for t in dict.fromkeys(charges)}
    else:
        held = open_charges
    if not held:
        raise ValidationError(
            _("{account_id} has nothing open to dispute on {on}"),
            code="dispute_nothing_open",
            account_id=account_id,
            on=on,
        )
    return held


@transaction.atomic
def dispute_resolve(
    *,
    dispute_id: int,
    outcome: str,
    on: date,
    actor: str,
    amount: Decimal | None = None,
    note: str = "",
) -> Dispute:
    """Resolve an open dispute: `upheld` credits each disputed charge its disputed amount;
    `partial` credits `amount` (less than what was disputed) over the disputed charges, oldest due
    first; `rejected` credits nothing and the account analysis answers the party. The letter to
    send is named on the dispute and the timeline (correspondence sends it).

    Raises ValidationError for an unknown outcome, a resolved dispute, or a partial amount that is
    missing, not positive, or not less than the disputed amount.
    """
    if outcome not in Dispute.Outcome.values:
        raise ValidationError(
            _("an outcome is one of {choices}"),
            code="dispute_outcome_unknown",
            outcome=outcome,
            choices=", ".join(Dispute.Outcome.values),
        )
    dispute = (
        Dispute.objects.select_for_update().select_related("account").filter(pk=dispute_id).first()
    )
    if dispute is None:
        raise NotFoundError(
            _("no dispute {dispute_id}"), code="dispute_not_found", dispute_id=dispute_id
        )
    if not dispute.can_resolve():
        raise ValidationError(
            _("dispute {dispute_id} was already resolved ({outcome}) on {resolved_on}"),
            code="dispute_resolved",
            dispute_id=dispute_id,
            outcome=dispute.outcome,
            resolved_on=dispute.resolved_on,
        )
    lines = list(dispute.charges.select_related("charge").order_by("charge__due_on", "charge_id"))
    to_credit = _to_credit(dispute, outcome, amount)
    credits = _credits(dispute, lines, to_credit, on=on, outcome=outcome, note=note)
    credits_post(credits)
    _resolved(dispute, outcome, on=on, actor=actor, note=note, to_credit=to_credit, credits=credits)
    return dispute


def _to_credit(dispute: Dispute, outcome: str, amount: Decimal | None) -> Decimal:
    """What the outcome credits: the disputed amount (upheld), `amount` (partial), nothing
    (rejected). Raises ValidationError for an amount the outcome does not take."""
    if outcome == "upheld":
        if amount is not None and amount != dispute.amount:
            raise ValidationError(
                _(
                    "an upheld dispute credits what was disputed ({disputed:.2f}); "
                    "{amount:.2f} is a partial resolution"
                ),
                code="dispute_upheld_amount",
                disputed=dispute.amount,
                amount=amount,
            )
        return dispute.amount
    if outcome == "partial":
        if amount is None or amount <= 0 or amount >= dispute.amount:
            raise ValidationError(
                _(
                    "a partial resolution credits an amount above 0 and below the disputed "
                    "{disputed:.2f}"
                ),
                code="dispute_partial_amount",
                field="amount",
                disputed=dispute.amount,
                amount=amount,
            )
        return amount
    if amount is not None:
        raise ValidationError(
            _("a rejected dispute credits nothing: leave out the amount"),
            code="dispute_rejected_amount",
            field="amount",
            amount=amount,
        )
    return ZERO


def _credits(
    dispute: Dispute,
    lines: list[DisputedCharge],
    to_credit: Decimal,
    *,
    on: date,
    outcome: str,
    note: str,
) -> list[NewCredit]:
    """The credits of `to_credit` over the disputed charges in order, each line's credited
    amount saved."""
    credits = []
    left = to_credit
    for line in lines:
        part = min(left, line.amount)
        if part <= 0:
            break
        left -= part
        line.credited = part
        line.save(update_fields=["credited"])
        credits.append(
            NewCredit(
                txn_id=f"DSP-{dispute.pk}-{line.charge.txn_id}"[:64],
                account_pk=dispute.account_id,
                posted_on=on,
                amount=part,
                applies_to_pk=line.charge_id,
                code=line.charge.code,
                memo=f"dispute {dispute.pk} {outcome}: {note}".strip()[:500],
                reference=f"dispute:{dispute.pk}",
            )
        )
    return credits


def _resolved(
    dispute: Dispute,
    outcome: str,
    *,
    on: date,
    actor: str,
    note: str,
    to_credit: Decimal,
    credits: list[NewCredit],
) -> None:
    """Save the dispute resolved, with its `dispute.resolved` timeline row."""
    dispute.status = "resolved"
    dispute.outcome = outcome
    dispute.resolved_on = on
    dispute.resolved_by = actor
    dispute.note = note
    dispute.credited = to_credit
    dispute.letter = LETTERS[outcome]
    dispute.save(
        update_fields=[
            "status",
            "outcome",
            "resolved_on",
            "resolved_by",
            "note",
            "credited",
            "letter",
        ]
    )
    credited = ", ".join(f"{c.amount:.2f} on {c.txn_id.split('-', 2)[2]}" for c in credits)
    _event(
        dispute.account,
        on,
        "dispute.resolved",
        actor,
        f"dispute {dispute.pk} {outcome}"
        + (f": credit {credited}" if credits else ": no credit; the account analysis answers it"),
        dispute=dispute.pk,
        outcome=outcome,
        credited=f"{to_credit:.2f}",
        credits=[c.txn_id for c in credits],
        note=note,
        letter=LETTERS[outcome],
    )
