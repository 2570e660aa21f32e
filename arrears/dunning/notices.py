"""A notice sent by hand, now: the coordinator's "send this letter or email today", through the
same guard as the daily run's steps (docs/workspace.md, "Send a notice now").

Invariants:
- nothing goes out that the guard refuses at the minute it is asked: a refusal raises
  `GuardRefusedError` naming the rule, and nothing is written;
- a notice is queued once per account, party, template, channel and day (the idempotency key):
  asked twice the same day, it is the same notice, not a second one;
- the notice is an `Outbound` row like the run's: a letter waits for the day's print batch
  (`arrears letters batch`), an email for the sender (`arrears mail send`), which asks the guard
  again at the minute it sends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction
from django.utils import timezone as dj_timezone

from arrears.core.errors import DomainError, NotFoundError, ValidationError
from arrears.correspondence.models import Outbound
from arrears.correspondence.rendering import message_render
from arrears.correspondence.services import (
    LETTER_CHANNELS,
    POSTAGE,
    document_name,
    template_names,
)
from arrears.dunning.contact import _guard, addressee
from arrears.dunning.deadlines import notice_deadline
from arrears.dunning.selectors import notice_choices
from arrears.ledger.models import Account, AccountParty, TimelineEvent

NOTICE_CHANNELS = (*LETTER_CHANNELS, "email")


class GuardRefusedError(DomainError):
    """The compliance guard refused a contact; `extra` names the rule and its reason."""

    code = "guard_refused"


class NoticeNotInPolicyError(DomainError):
    """A notice by hand that the account's policy has no step for (a California 3-day notice to a
    New York tenant, the answer to a dispute no one raised); `extra` names the template and the
    policy."""

    code = "notice_not_in_policy"


@dataclass(frozen=True)
class NoticeQueued:
    outbound: Outbound
    created: bool  # False: the same notice was asked for already today


@transaction.atomic
def notice_send(
    *,
    account_id: str,
    template: str,
    channel: str,
    on: date,
    actor: str,
    party_id: str | None = None,
    at: datetime | None = None,
) -> NoticeQueued:
    """Queue `template` by `channel` to a party of the account (the primary by default), if the
    guard allows it at `at` (now). Returns the queued notice.

    Only a template of a notice step of the account's policy is sent (NoticeNotInPolicyError
    otherwise), with its deadline counted as that step counts it; a letter that would render
    with a required merge field empty is refused now (MissingFieldError).

    Raises ValidationError (unknown channel or template, no email address), NotFoundError (no
    such account or party), NoticeNotInPolicyError, MissingFieldError or GuardRefusedError (the
    guard's rule in `extra["rule"]`).
    """
    if channel not in NOTICE_CHANNELS:
        raise ValidationError(f"a notice goes by {', '.join(NOTICE_CHANNELS)}, not {channel!r}")
    if template not in {name for name, _, _ in template_names()}:
        raise ValidationError(f"no template {template!r}", template=template)
    account = Account.objects.select_related("property").filter(account_id=account_id).first()
    if account is None:
        raise NotFoundError(f"no account {account_id!r}", account_id=account_id)
    links = AccountParty.objects.filter(account=account).select_related("party").order_by("id")
    link = (
        links.filter(party__party_id=party_id) if party_id else links.filter(role="primary")
    ).first()
    if link is None:
        raise NotFoundError(f"{party_id or 'a primary party'!r} is not a party of {account_id}")
    choices = notice_choices(account=account, on=on)
    if template not in choices.templates or choices.policy is None:
        follows = (
            f"the {choices.policy.name} policy that account {account_id} follows"
            if choices.policy is not None
            else f"any policy: account {account_id} follows none"
        )
        offered = f" (its notices: {', '.join(choices.templates)})" if choices.templates else ""
        raise NoticeNotInPolicyError(
            f"{template} is not a notice of {follows}{offered}",
            template=template,
            policy=choices.policy.name if choices.policy else None,
            offered=list(choices.templates),
        )
    step = choices.steps[template]
    party = link.party
    if channel == "email" and not party.email:
        raise ValidationError(f"{party.party_id} has no email address")
    # The deadline as the policy's step counts it from today; the letters batch and the sender
    # fix it again from the day the notice goes out.
    deadline = notice_deadline(choices.policy, step, on)
    # Refused now, not at the print batch: a letter with an empty required field never goes.
    message_render(
        account_id=account_id, template=template, on=on, party_id=party.party_id, deadline=deadline
    )
    when = at or dj_timezone.now()
    decision = _guard(addressee(account, party, when, role=link.role, calls=False), channel, when)
    if not decision.allowed:
        raise GuardRefusedError(
            f"the guard refused the {channel.replace('_', ' ')} to {party.party_id} "
            f"({decision.rule}): {decision.reason}",
            rule=decision.rule,
            reason=decision.reason,
            party_id=party.party_id,
        )
    key = f"{account_id}:notice:{template}:{channel}:{party.party_id}:{on.isoformat()}"
    existing = Outbound.objects.filter(key=key).first()
    if existing is not None:
        return NoticeQueued(existing, created=False)
    name = (
        ""
        if channel == "email"
        else document_name(
            key=key,
            channel=channel,
            run_on=on,
            account_id=account_id,
            step=template,
            party_id=party.party_id,
        )
    )
    row = Outbound.objects.create(
        key=key,
        account=account,
        party=party,
        role=link.role,
        channel=channel,
        template=template,
        language=party.language or "en",
        step="by-hand",
        run_on=on,
        status="queued",
        document_name=name,
        postage_class=POSTAGE.get(channel, ""),
        recipient=party.email if channel == "email" else "",
        created_at=dj_timezone.now(),
        detail={"by_hand": actor, "policy_step": step.key},
        policy=choices.policy.name,
        deadline=deadline,
    )
    waits = "the day's print batch" if channel in LETTER_CHANNELS else "the email sender"
    TimelineEvent.objects.create(
        account=account,
        at=dj_timezone.now(),
        on=on,
        kind="notice.queued",
        actor=actor,
        summary=f"{template} by {channel.replace('_', ' ')} to {party.party_id}, sent by hand: "
        f"queued for {waits}",
        detail={
            "outbound": row.pk,
            "key": key,
            "template": template,
            "channel": channel,
            "party_id": party.party_id,
            "document_name": name,
        },
    )
    return NoticeQueued(row, created=True)
