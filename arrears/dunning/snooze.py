"""A coordinator sets a worklist line aside: snoozed until a date, or dismissed, always with a
reason, on the account's timeline (`WorklistSnooze`; the worklist reads them, see
`worklist._set_aside`)."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from arrears.core.errors import NotFoundError, ValidationError
from arrears.dunning.models import WorklistSnooze
from arrears.ledger.models import Account, TimelineEvent

REASON_LIMIT = 500


@transaction.atomic
def worklist_snooze(
    *,
    account_id: str,
    kind: str,
    until: date,
    reason: str,
    on: date,
    actor: str,
    action_id: int | None = None,
    ref: str = "",
) -> WorklistSnooze:
    """Put the account's `kind` line (the task `action_id`'s) off until `until`: it comes back
    that day."""
    if until <= on:
        raise ValidationError(
            _("snooze until a day after {on}"), code="snooze_until_past", field="until", on=on
        )
    return _set_aside(account_id, kind, until, reason, on, actor, action_id, ref)


@transaction.atomic
def worklist_dismiss(
    *,
    account_id: str,
    kind: str,
    reason: str,
    on: date,
    actor: str,
    action_id: int | None = None,
    ref: str = "",
) -> WorklistSnooze:
    """Take the account's `kind` line off the worklist while its reason is the same (`ref`)."""
    return _set_aside(account_id, kind, None, reason, on, actor, action_id, ref)


def _set_aside(
    account_id: str,
    kind: str,
    until: date | None,
    reason: str,
    on: date,
    actor: str,
    action_id: int | None,
    ref: str,
) -> WorklistSnooze:
    reason = reason.strip()[:REASON_LIMIT]
    if not reason:
        raise ValidationError(
            _("say why the line is set aside"), code="snooze_reason_missing", field="reason"
        )
    account = Account.objects.filter(account_id=account_id).first()
    if account is None:
        raise NotFoundError(
            _("no account {account_id!r}"), code="account_not_found", account_id=account_id
        )
    now = timezone.now()
    row = WorklistSnooze.objects.create(
        account=account,
        kind=kind,
        action_id=action_id,
        ref=ref,
        until=until,
        reason=reason,
        on=on,
        by=actor,
        at=now,
    )
    summary = (
        f"{kind} line dismissed from the worklist: {reason}"
        if until is None
        else f"{kind} line snoozed until {until:%Y-%m-%d}: {reason}"
    )
    TimelineEvent.objects.create(
        account=account,
        at=now,
        on=on,
        kind="worklist.dismissed" if until is None else "worklist.snoozed",
        actor=actor,
        summary=summary[:500],
        detail={
            "kind": kind,
            "until": until.isoformat() if until else None,
            "reason": reason,
            "action_id": action_id,
            "ref": ref,
        },
    )
    return row
