"""Notices that waited too long for the printer: not printed as they stand.

A notice is queued on the day the run (or a person) decides it; a letter is mailed when a batch
prints it. A notice not mailed within its policy's window (`[settings] mail_within_days`, 5 days
by default) from the day it was queued, and any demand whose deadline has passed before it is
printed, would tell the tenant a date that is gone or nearly gone: a notice must give the days
the law gives counted from when the tenant can read it (e.g. RPAPL §711(2): 14 days after a
written demand is served). At printing such a notice is, by the policy's `stale_notice` setting:
- `redate` (the default): dated the day it is printed, its deadline counted again from that day
  (a step's by the step's rule, `deadlines.notice_deadline`, through the re-check; a notice of
  no step by the same number of days it gave when queued), said so on the timeline
  (`letter.stale`);
- `reissue`: cancelled (rule `stale`) and a new letter queued in its place, dated and counted
  from the day it is re-issued, printed by the next batch, said so on the timeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, timedelta

from django.utils import timezone as dj_timezone

from arrears.correspondence.models import Outbound
from arrears.correspondence.outbound import Recheck, outbound_queue
from arrears.dunning.policy import Policy
from arrears.ledger.models import TimelineEvent

MAIL_WITHIN_DAYS = 5
STALE_MODES = ("redate", "reissue")


def _window(policy: Policy | None) -> int:
    settings = policy.settings if policy is not None else {}
    return int(settings.get("mail_within_days", MAIL_WITHIN_DAYS))


def _mode(policy: Policy | None) -> str:
    mode = str((policy.settings if policy is not None else {}).get("stale_notice", "redate"))
    return mode if mode in STALE_MODES else "redate"


def stale_reason(row: Outbound, on: date, policy: Policy | None) -> str:
    """Why the letter is not printed as it stands on `on` ("" when it may be)."""
    waited = (on - row.run_on).days
    window = _window(policy)
    if waited > window:
        return f"not mailed within {window} days of being queued on {row.run_on.isoformat()}"
    if row.deadline is not None and row.deadline < on:
        return f"its deadline {row.deadline.isoformat()} passed before it was mailed"
    return ""


def stale_checks(
    rows: Sequence[Outbound],
    checks: Sequence[Recheck],
    on: date,
    *,
    policies: dict[str, Policy],
    actor: str,
) -> list[Recheck]:
    """The re-checks of the letters about to print on `on`, the stale ones re-dated or cancelled
    and re-issued (module docstring), each said on the timeline."""
    out = []
    for row, check in zip(rows, checks, strict=True):
        policy = policies.get(row.policy) if row.policy else None
        reason = "" if check.cancel else stale_reason(row, on, policy)
        if not reason:
            out.append(check)
        elif _mode(policy) == "reissue":
            out.append(_reissue(row, check, on, reason, actor))
        else:
            out.append(_redate(row, check, on, reason, actor))
    return out


def _recounted(row: Outbound, check: Recheck, on: date) -> date | None:
    """The deadline counted from `on`: the re-check's, when it counted one from `on` (a step's);
    else as many days after `on` as the notice gave when it was queued."""
    if check.deadline is not None and check.deadline != row.deadline:
        return check.deadline
    if row.deadline is None:
        return None
    given = (row.deadline - (row.dated_on or row.run_on)).days
    return on + timedelta(days=max(given, 0))


def _redate(row: Outbound, check: Recheck, on: date, reason: str, actor: str) -> Recheck:
    deadline = _recounted(row, check, on)
    TimelineEvent.objects.create(
        account_id=row.account_id,
        at=dj_timezone.now(),
        on=on,
        kind="letter.stale",
        actor=actor,
        summary=f"{row.template} {reason}: re-dated {on.isoformat()}"
        + (f", deadline counted again: {deadline.isoformat()}" if deadline else ""),
        detail={
            "letter_id": row.pk,
            "key": row.key,
            "reason": reason,
            "mode": "redate",
            "queued_on": row.run_on.isoformat(),
            "deadline_was": row.deadline.isoformat() if row.deadline else None,
            "deadline": deadline.isoformat() if deadline else None,
        },
    )
    return replace(check, deadline=deadline)


def _reissue(row: Outbound, check: Recheck, on: date, reason: str, actor: str) -> Recheck:
    new = outbound_queue(
        key=f"{row.key}:reissued:{on.isoformat()}",
        account=row.account,
        party=row.party,
        role=row.role,
        channel=row.channel,
        template=row.template,
        run_on=on,
        actor=actor,
        language=row.language,
        step=row.step,
        amount=check.amount,
        fields=(row.detail or {}).get("fields") or {},
        enclosures=(row.detail or {}).get("enclosures") or (),
        summary=f"{row.template} re-issued: the letter queued {row.run_on.isoformat()} was "
        f"{reason}",
    )
    deadline = _recounted(row, check, on)
    Outbound.objects.filter(pk=new.pk).update(
        policy=row.policy,
        deadline=deadline,
        delinquency=row.delinquency,
        detail={
            **new.detail,
            "reissues": row.pk,
            "policy_step": (row.detail or {}).get("policy_step", ""),
        },
    )
    return Recheck(cancel=f"{reason}: cancelled and re-issued as L{new.pk}", rule="stale")
