"""Emails that could not be delivered: never dropped silently.

An email given up (its retry schedule spent: arrears.correspondence.mail_out), bounced (a 5xx at
SMTP time, or a delivery report that came back later) or that could not be made at all:
- fails its action (`failed`, reason "email failed: <last error>" or "email bounced: <error>"),
  an action already `done` included (a bounce reported after the server took the message);
- stays on the worklist (`email_failed`: the account, the party, the address, the last error and
  the date) until the coordinator has dealt with it: a note written on the account, a call logged
  with the party, or another email sent or a letter mailed to the party, after it was given up;
- where its step names a `fallback_channel`, queues the same template by that channel to the same
  party, through the guard, once (its own idempotency key, `<the email's key>:fallback:<channel>`).

An email the guard refused is not undelivered: it was not meant to go (its action is `refused`).
Rows given up before this module existed carry no `given_up_at` and are left as they were.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from arrears.correspondence.models import Outbound
from arrears.correspondence.services import POSTAGE, document_name
from arrears.dunning.addressee import _guard, addressee
from arrears.dunning.deadlines import notice_deadline
from arrears.dunning.guard import Decision
from arrears.dunning.models import Action, CompanyPolicy, ContactAttempt
from arrears.dunning.policy import (
    FALLBACK_CHANNELS,
    Policy,
    Step,
    built_in_policies,
    parse_policy,
)
from arrears.dunning.services import company_policies
from arrears.ledger.models import TimelineEvent

WorkLine = tuple[int, str, str, str | None, int | None]


def _undelivered() -> Q:
    """Email rows given up, bounced or not made, that the guard did not refuse."""
    return Q(channel="email", status__in=["failed", "bounced"], given_up_at__isnull=False) & ~Q(
        detail__has_key="rule"
    )


def emails_undelivered_settle(*, on: date, at: datetime, actor: str = "mail") -> list[str]:
    """Fail the actions of undelivered emails and queue their fallback letters (module
    docstring), each action in one transaction; returns the keys of the actions failed now."""
    keys = Outbound.objects.filter(_undelivered()).values("key")
    actions = Action.objects.filter(
        channel="email", status__in=["queued", "done"], key__in=keys
    ).select_related("account", "account__property", "party")
    rows = {row.key: row for row in Outbound.objects.filter(key__in=[a.key for a in actions])}
    failed = []
    for action in actions:
        row = rows[action.key]
        word = "bounced" if row.status == "bounced" else "failed"
        with transaction.atomic():
            changed = Action.objects.filter(pk=action.pk, status=action.status).update(
                status="failed",
                reason=f"email {word}: {row.error}"[:300],
                document=row.document_name if row.document_id else action.document,
            )
            if not changed:
                continue  # another settle took it
            TimelineEvent.objects.create(
                account=action.account,
                at=at,
                on=on,
                kind="notice.failed",
                actor=actor,
                summary=f"{action.step}: email to {row.recipient or action.party_id} {word}: "
                f"{row.error}"[:500],
                detail={"key": action.key, "step": action.step, "error": row.error},
            )
            policy = _policy(action.policy, action.policy_version)
            step = policy.find_step(action.step) if policy is not None else None
            if policy is not None and step is not None and step.fallback_channel:
                _fallback(action, row, policy, step, on=on, at=at, actor=actor)
        failed.append(action.key)
    return failed


def _policy(name: str, version: int) -> Policy | None:
    """The policy version an action was decided under (else the one in force of that name)."""
    in_force = company_policies().get(name)
    if in_force is not None and in_force.version == version:
        return in_force
    built = built_in_policies().get(name)
    if built is not None and built.version == version:
        return built
    row = CompanyPolicy.objects.filter(name=name, version=version).first()
    if row is not None:
        parsed = parse_policy(row.body, source=f"{row.name} v{row.version}")
        return dataclasses.replace(parsed, version=row.version)
    return in_force


def fallback_key(key: str, channel: str) -> str:
    """The idempotency key of the letter sent instead of the email of `key`."""
    return f"{key}:fallback:{channel}"


def _fallback(
    action: Action,
    row: Outbound,
    policy: Policy,
    step: Step,
    *,
    on: date,
    at: datetime,
    actor: str,
) -> None:
    """Queue the step's template by its fallback channel to the same party, if the guard allows
    it now; its refusal is recorded instead. Once per email (the key)."""
    channel = step.fallback_channel or ""
    key = fallback_key(action.key, channel)
    if action.party is None or Action.objects.filter(key=key).exists():
        return
    account, party = action.account, action.party
    role = action.role or "primary"
    decision = _guard(addressee(account, party, at, role=role, calls=False), channel, at)
    deadline = notice_deadline(policy, step, on)
    name = ""
    if decision.allowed:
        name = _fallback_outbound(action, row, key, channel, deadline, on, at)
    Action.objects.create(
        key=key,
        account=account,
        party=party,
        role=role,
        policy=action.policy,
        policy_version=action.policy_version,
        step=action.step,
        action="notice",
        channel=channel,
        template=action.template,
        language=action.language,
        amount=action.amount,
        deadline=deadline,
        delinquency=action.delinquency,
        status="queued" if decision.allowed else "refused",
        rule=decision.rule,
        reason=f"instead of the email {action.key}"[:300]
        if decision.allowed
        else decision.reason[:300],
        run_on=on,
        created_at=at,
        document=name,
    )
    _fallback_event(action, key, channel, name, decision, on=on, at=at, actor=actor)


def _fallback_outbound(
    action: Action,
    row: Outbound,
    key: str,
    channel: str,
    deadline: date | None,
    on: date,
    at: datetime,
) -> str:
    """The fallback letter's outbound row, queued; returns its document's name."""
    assert action.party is not None
    account, party = action.account, action.party
    name = document_name(
        key=key,
        channel=channel,
        run_on=on,
        account_id=account.account_id,
        step=action.step,
        party_id=party.party_id,
    )
    Outbound.objects.create(
        key=key,
        account=account,
        party=party,
        role=action.role or "primary",
        channel=channel,
        template=action.template,
        language=row.language or "en",
        policy=action.policy,
        step=action.step,
        run_on=on,
        amount=action.amount,
        deadline=deadline,
        delinquency=action.delinquency,
        status="queued",
        document_name=name,
        postage_class=POSTAGE.get(channel, ""),
        created_at=at,
        detail={"fallback_for": action.key},
    )
    return name


def _fallback_event(
    action: Action,
    key: str,
    channel: str,
    name: str,
    decision: Decision,
    *,
    on: date,
    at: datetime,
    actor: str,
) -> None:
    assert action.party is not None
    account, party = action.account, action.party
    by = channel.replace("_", " ")
    what = (
        f"queued by {by} to {party.party_id} instead of the email"
        if decision.allowed
        else f"not sent by {by} to {party.party_id} ({decision.rule}): {decision.reason}"
    )
    TimelineEvent.objects.create(
        account=account,
        at=at,
        on=on,
        kind="notice.queued" if decision.allowed else "notice.refused",
        actor=actor,
        summary=f"{action.step}: {action.template} {what}"[:500],
        detail={
            "key": key,
            "step": action.step,
            "policy": action.policy,
            "party_id": party.party_id,
            "channel": channel,
            "instead_of": action.key,
            "document_name": name,
            "rule": decision.rule,
        },
    )


def undelivered_work_lines() -> list[WorkLine]:
    """Worklist lines for undelivered emails not yet dealt with (module docstring): one per
    email, naming the party, the address, the last error and the date."""
    rows = list(
        Outbound.objects.filter(_undelivered())
        .select_related("party")
        .order_by("given_up_at", "id")
    )
    if not rows:
        return []
    accounts = {r.account_id for r in rows}
    since = min(r.given_up_at for r in rows if r.given_up_at is not None)
    notes, contacts, mailed = _dealt_with(accounts, since)
    fallbacks = set(
        Outbound.objects.filter(
            detail__has_key="fallback_for", account_id__in=accounts
        ).values_list("key", flat=True)
    )
    lines: dict[int, WorkLine] = {}
    more: dict[int, int] = {}
    for row in rows:
        given_up = row.given_up_at
        assert given_up is not None
        pair = (row.account_id, row.party_id)
        if (
            any(w > given_up for w in notes.get(row.account_id, ()))
            or any(w > given_up for w in contacts.get(pair, ()))
            or any(d >= given_up.date() for d in mailed.get(pair, ()))
        ):
            continue
        if row.account_id in lines:
            more[row.account_id] = more.get(row.account_id, 0) + 1
            continue
        party = row.party
        word = _("bounced") if row.status == "bounced" else _("not delivered")
        who = f"{party.name} ({party.party_id})" if party else _("no party")
        instead = [c for c in FALLBACK_CHANNELS if fallback_key(row.key, c) in fallbacks]
        letter = (
            _("; a {letter} is queued instead").format(letter=_(instead[0].replace("_", " ")))
            if instead
            else ""
        )
        reason = _("email to {who} at {address} {word}, given up {day}: {error}").format(
            who=who,
            address=row.recipient or _("(no address)"),
            word=word,
            day=f"{given_up:%Y-%m-%d}",
            error=row.error,
        )
        reason += letter
        party_id = party.party_id if party else None
        lines[row.account_id] = (row.account_id, "email_failed", reason, party_id, None)
    out = []
    for pk, (account_pk, kind, reason, party_id, action) in lines.items():
        tail = _(" (+{more} more)").format(more=more[pk]) if more.get(pk) else ""
        out.append((account_pk, kind, reason[: 300 - len(tail)] + tail, party_id, action))
    return out


def _dealt_with(
    accounts: set[int], since: datetime
) -> tuple[
    dict[int, list[datetime]],
    dict[tuple[int, int | None], list[datetime]],
    dict[tuple[int, int | None], list[date]],
]:
    """What deals with an undelivered email, since `since`: notes on its account, contacts with
    its party (calls, emails sent), and letters mailed to its party."""
    notes: dict[int, list[datetime]] = {}
    for account_pk, when in TimelineEvent.objects.filter(
        account_id__in=accounts, kind="note.added", at__gt=since
    ).values_list("account_id", "at"):
        notes.setdefault(account_pk, []).append(when)
    contacts: dict[tuple[int, int | None], list[datetime]] = {}
    for account_pk, party_pk, when in ContactAttempt.objects.filter(
        account_id__in=accounts, at__gt=since
    ).values_list("account_id", "party_id", "at"):
        contacts.setdefault((account_pk, party_pk), []).append(when)
    for account_pk, party_pk, sent in Outbound.objects.filter(
        account_id__in=accounts, channel="email", status="sent", sent_at__gt=since
    ).values_list("account_id", "party_id", "sent_at"):
        if sent is not None:
            contacts.setdefault((account_pk, party_pk), []).append(sent)
    mailed: dict[tuple[int, int | None], list[date]] = {}
    for account_pk, party_pk, day in Outbound.objects.filter(
        account_id__in=accounts, status="mailed", mailed_on__gte=since.date()
    ).values_list("account_id", "party_id", "mailed_on"):
        if day is not None:
            mailed.setdefault((account_pk, party_pk), []).append(day)
    return notes, contacts, mailed
