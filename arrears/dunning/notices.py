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
from django.utils.translation import gettext_lazy as _

from arrears.core.errors import DomainError, NotFoundError, ValidationError
from arrears.correspondence.catalog import spec_for
from arrears.correspondence.models import Outbound
from arrears.correspondence.rendering import message_render
from arrears.correspondence.services import (
    LETTER_CHANNELS,
    POSTAGE,
    document_name,
    template_names,
)
from arrears.dunning.addressee import _guard, addressee
from arrears.dunning.deadlines import notice_deadline
from arrears.dunning.policy import Policy, Step
from arrears.dunning.selectors import NoticeChoices, notice_choices
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


class NoticeQuestionedError(ValidationError):
    """A statutory notice sent by hand (its sending starts a legal clock): queued only when the
    user confirms it; `extra` names the template, its law and its deadline."""

    code = "notice_needs_confirmation"


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
    confirm: bool = True,
) -> NoticeQueued:
    """Queue `template` by `channel` to a party of the account (the primary by default), if the
    guard allows it at `at` (now); returns the queued notice. Only a template of a notice step
    of the account's policy is sent (NoticeNotInPolicyError otherwise), to a role the step names
    (`_check_role`), with its deadline counted as the step counts it; a letter with a required
    merge field empty is refused now (MissingFieldError); a statutory notice is queued only with
    `confirm` (`_ask_if_statutory`, checked last).

    Raises ValidationError (unknown channel or template, no email address), NotFoundError (no
    such account or party), NoticeNotInPolicyError, MissingFieldError or GuardRefusedError (the
    guard's rule in `extra["rule"]`).
    """
    _check_channel_and_template(channel, template)
    account = Account.objects.select_related("property").filter(account_id=account_id).first()
    if account is None:
        raise NotFoundError(
            _("no account {account_id!r}"), code="account_not_found", account_id=account_id
        )
    link = _addressee_link(account, party_id)
    choices = notice_choices(account=account, on=on)
    policy = _policy_offering(choices, account_id, template)
    step = choices.steps[template]
    party = link.party
    _check_role(link, step, template, channel)
    # The deadline as the policy's step counts it from today; the letters batch and the sender
    # fix it again from the day the notice goes out.
    deadline = notice_deadline(policy, step, on)
    # Refused now, not at the print batch: a letter with an empty required field never goes.
    message_render(
        account_id=account_id, template=template, on=on, party_id=party.party_id, deadline=deadline
    )
    when = at or dj_timezone.now()
    decision = _guard(addressee(account, party, when, role=link.role, calls=False), channel, when)
    if not decision.allowed:
        raise GuardRefusedError(
            _("the guard refused the {channel_name} to {party_id} ({rule}): {reason}"),
            code="guard_refused",
            rule=decision.rule,
            reason=decision.reason,
            party_id=party.party_id,
            channel_name=channel.replace("_", " "),
        )
    if not confirm:
        _ask_if_statutory(template, deadline)
    key = f"{account_id}:notice:{template}:{channel}:{party.party_id}:{on.isoformat()}"
    existing = Outbound.objects.filter(key=key).first()
    if existing is not None:
        return NoticeQueued(existing, created=False)
    row = _queue(key, account, link, channel, template, on, actor, policy.name, step.key, deadline)
    return NoticeQueued(row, created=True)


def _check_role(link: AccountParty, step: Step, template: str, channel: str) -> None:
    """A notice goes to the roles its step names (a tenant's notice is not a guarantor's), an
    email to an address."""
    if channel == "email" and not link.party.email:
        raise ValidationError(
            _("{party_id} has no email address"),
            code="party_no_email",
            party_id=link.party.party_id,
        )
    if link.role not in step.audience:
        raise ValidationError(
            _("{template} is sent to {audience}, not to {party_id} ({role})"),
            code="notice_not_for_role",
            template=template,
            audience=", ".join(step.audience),
            party_id=link.party.party_id,
            role=link.role,
        )


def _ask_if_statutory(template: str, deadline: date | None) -> None:
    """A statutory notice starts a legal clock: asked about before it is queued."""
    spec = spec_for(template)
    if spec.statutory:
        raise NoticeQuestionedError(
            _("{template} is a statutory notice ({law}), its deadline {deadline}: confirm it"),
            code="notice_needs_confirmation",
            template=template,
            law=spec.law,
            deadline=deadline.isoformat() if deadline else "",
        )


def _check_channel_and_template(channel: str, template: str) -> None:
    if channel not in NOTICE_CHANNELS:
        raise ValidationError(
            _("a notice goes by {channels}, not {channel!r}"),
            code="notice_channel_unknown",
            channel=channel,
            channels=", ".join(NOTICE_CHANNELS),
        )
    if template not in {name for name, _label, _kind in template_names()}:
        raise ValidationError(
            _("no template {template!r}"), code="template_not_found", template=template
        )


def _addressee_link(account: Account, party_id: str | None) -> AccountParty:
    """The party's link to the account (the primary's when no party is named)."""
    links = AccountParty.objects.filter(account=account).select_related("party").order_by("id")
    link = (
        links.filter(party__party_id=party_id) if party_id else links.filter(role="primary")
    ).first()
    if link is None:
        raise NotFoundError(
            _("{party!r} is not a party of {account_id}"),
            code="party_not_of_account",
            party=party_id or "a primary party",
            party_id=party_id,
            account_id=account.account_id,
        )
    return link


def _policy_offering(choices: NoticeChoices, account_id: str, template: str) -> Policy:
    """The account's policy, if it has a notice step for `template`."""
    if template in choices.templates and choices.policy is not None:
        return choices.policy
    follows = (
        f"the {choices.policy.name} policy that account {account_id} follows"
        if choices.policy is not None
        else f"any policy: account {account_id} follows none"
    )
    offered = f" (its notices: {', '.join(choices.templates)})" if choices.templates else ""
    raise NoticeNotInPolicyError(
        _("{template} is not a notice of {follows}{offered_text}"),
        code="notice_not_in_policy",
        template=template,
        policy=choices.policy.name if choices.policy else None,
        offered=list(choices.templates),
        follows=follows,
        offered_text=offered,
    )


def _queue(
    key: str,
    account: Account,
    link: AccountParty,
    channel: str,
    template: str,
    on: date,
    actor: str,
    policy: str,
    step: str,
    deadline: date | None,
) -> Outbound:
    """The notice's outbound row and its timeline row."""
    party = link.party
    account_id = account.account_id
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
        detail={"by_hand": actor, "policy_step": step},
        policy=policy,
        deadline=deadline,
    )
    _queued_event(row, key, account, channel, template, on, actor)
    return row


def _queued_event(
    row: Outbound, key: str, account: Account, channel: str, template: str, on: date, actor: str
) -> None:
    party_id = row.party.party_id if row.party else None
    name = row.document_name
    waits = "the day's print batch" if channel in LETTER_CHANNELS else "the email sender"
    TimelineEvent.objects.create(
        account=account,
        at=dj_timezone.now(),
        on=on,
        kind="notice.queued",
        actor=actor,
        summary=f"{template} by {channel.replace('_', ' ')} to {party_id}, sent by hand: "
        f"queued for {waits}",
        detail={
            "outbound": row.pk,
            "key": key,
            "template": template,
            "channel": channel,
            "party_id": party_id,
            "document_name": name,
        },
    )
