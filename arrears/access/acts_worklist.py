"""The acts on the worklist's lines: snooze one until a date, dismiss one, each with a reason
(`dunning.snooze`). Read as `acts.worklist_snooze`, `acts.worklist_dismiss`: see `acts`.

The line is named as the coordinator sees it: the account, the kind of line and, for a call or
text task, the task's action id. It must be on the day's worklist of the actor; its present
reason (`WorkItem.ref`) is what a dismissal keeps away.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils.translation import gettext_lazy as _

from arrears.access.acting import By, run_act
from arrears.core.dates import today
from arrears.core.errors import NotFoundError
from arrears.dunning import snooze
from arrears.dunning.models import WorklistSnooze
from arrears.dunning.worklist import WorkItem

DETAIL_LIMIT = 300


def _line(by: By, account_id: str, kind: str, action_id: int | None, on: date) -> WorkItem:
    """The actor's worklist line of the account and kind (and task), or NotFoundError."""
    from arrears.access.selectors import worklist_visible

    for item in worklist_visible(by.actor, on=on):
        if (
            item.account_id == account_id
            and item.kind == kind
            and (action_id is None or item.action_id == action_id)
        ):
            return item
    raise NotFoundError(
        _("no {kind} line for {account_id} on the worklist"),
        code="worklist_line_not_found",
        kind=kind,
        account_id=account_id,
    )


def worklist_snooze(
    *,
    by: By,
    account_id: str,
    kind: str,
    until: date,
    reason: str,
    action_id: int | None = None,
) -> WorklistSnooze:
    """Snooze a worklist line until `until` (`dunning.snooze.worklist_snooze`)."""
    on = today()

    def do(_account: Any) -> WorklistSnooze:
        line = _line(by, account_id, kind, action_id, on)
        return snooze.worklist_snooze(
            account_id=account_id,
            kind=kind,
            until=until,
            reason=reason,
            on=on,
            actor=by.name,
            action_id=line.action_id if kind in ("call", "text") else None,
            ref=line.ref,
        )

    detail = {
        "kind": kind,
        "until": until.isoformat(),
        "reason": reason.strip()[:DETAIL_LIMIT],
        "action_id": action_id,
    }
    return run_act(by, "worklist.snooze", account_id=account_id, detail=detail, do=do)


def worklist_dismiss(
    *, by: By, account_id: str, kind: str, reason: str, action_id: int | None = None
) -> WorklistSnooze:
    """Dismiss a worklist line while its reason stands (`dunning.snooze.worklist_dismiss`)."""
    on = today()

    def do(_account: Any) -> WorklistSnooze:
        line = _line(by, account_id, kind, action_id, on)
        return snooze.worklist_dismiss(
            account_id=account_id,
            kind=kind,
            reason=reason,
            on=on,
            actor=by.name,
            action_id=line.action_id if kind in ("call", "text") else None,
            ref=line.ref,
        )

    detail = {"kind": kind, "reason": reason.strip()[:DETAIL_LIMIT], "action_id": action_id}
    return run_act(by, "worklist.dismiss", account_id=account_id, detail=detail, do=do)
