"""The acts on who works which account: assign, unassign, and cover for someone who is out
(re-exported by `arrears.access.acts`, which the command line, the pages and the API call).

Each act authorizes its actor as every act does (its verb, through `services.act`), then the
rule of this part: a coordinator acts for herself only (takes or gives up accounts, arranges
her own backup); a manager or an admin acts for anyone (`assignment.others`), a manager within
their properties only. A refusal is a ForbiddenError and changes nothing.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils.translation import gettext_lazy as _

from arrears.access import assignments, permissions
from arrears.access.acting import By, run_act
from arrears.access.errors import ForbiddenError
from arrears.access.models import Assignment, Coverage
from arrears.access.selectors import profile_of
from arrears.access.services import SystemActor
from arrears.core.dates import today
from arrears.ledger.models import Property

Target = assignments.Target


def _for_others(by: By, usernames: tuple[str, ...], verb: str) -> None:
    """ForbiddenError unless the actor acts for themselves only, or may act for others."""
    if isinstance(by.actor, SystemActor):
        return
    profile = profile_of(by.actor)
    if all(name == by.actor.get_username() for name in usernames if name):
        return
    if profile is None or not permissions.allowed(profile.role, "assignment.others"):
        raise ForbiddenError(
            _("the role {role} may change only their own accounts ({verb})"),
            code="assignment_others",
            role=profile.role if profile else "-",
            verb=verb,
        )


def _in_scope(by: By, target: Target) -> None:
    """ForbiddenError for a manager's target outside their properties (an account's scope is
    checked by `act`, which is given the account)."""
    profile = profile_of(by.actor) if not isinstance(by.actor, SystemActor) else None
    if profile is None or profile.role != permissions.MANAGER or target.kind == "account":
        return
    mine = set(profile.property_pks)  # type: ignore[attr-defined]
    if target.kind == "property":
        pks = set(Property.objects.filter(property_id=target.code).values_list("pk", flat=True))
    else:
        pks = set(Property.objects.filter(portfolio=target.code).values_list("pk", flat=True))
    if not pks or not pks <= mine:
        raise ForbiddenError(
            _("{target} is not among your properties"),
            code="assignment_out_of_scope",
            target=f"{target.kind} {target.code}",
        )


def _account(target: Target) -> str | None:
    return target.code if target.kind == "account" else None


def assign(*, by: By, username: str, target: Target) -> Assignment:
    """Give `target` (an account, a property, a portfolio) to `username` from today
    (`assignments.assignment_set`): the coordinator's worklist holds its accounts."""

    def do(_account: Any) -> Assignment:
        _for_others(by, (username,), "assignment.add")
        _in_scope(by, target)
        return assignments.assignment_set(
            username=username, target=target, on=today(), actor=by.name
        )

    return run_act(
        by,
        "assignment.add",
        account_id=_account(target),
        detail={"user": username[:150], **target.detail()},
        do=do,
    )


def unassign(*, by: By, target: Target) -> Assignment:
    """End the assignment of `target` from today (`assignments.assignment_end`): its accounts
    fall to the broader assignment, or to no one."""

    def do(_account: Any) -> Assignment:
        _in_scope(by, target)
        found = assignments.assignment_get(target=target, on=today())
        _for_others(by, (found.user.get_username(),), "assignment.remove")
        return assignments.assignment_end(target=target, on=today(), actor=by.name)

    return run_act(
        by, "assignment.remove", account_id=_account(target), detail=target.detail(), do=do
    )


def coverage_add(
    *, by: By, out: str, backup: str, starts_on: date, ends_on: date, note: str = ""
) -> Coverage:
    """`backup` covers for `out` from `starts_on` to `ends_on`, both included
    (`assignments.coverage_add`): a coordinator arranges her own."""
    note = note.strip()[: assignments.NOTE_LIMIT]

    def do(_account: Any) -> Coverage:
        _for_others(by, (out,), "coverage.add")
        return assignments.coverage_add(
            out=out,
            backup=backup,
            starts_on=starts_on,
            ends_on=ends_on,
            note=note,
            on=today(),
            actor=by.name,
        )

    detail = {
        "out": out[:150],
        "backup": backup[:150],
        "from": starts_on.isoformat(),
        "to": ends_on.isoformat(),
        "note": note,
    }
    return run_act(by, "coverage.add", detail=detail, do=do)


def coverage_end(*, by: By, coverage_id: int) -> Coverage:
    """End a coverage from today, the one out being back (`assignments.coverage_end`)."""

    def do(_account: Any) -> Coverage:
        found = assignments.coverage_get(coverage_id=coverage_id)
        _for_others(by, (found.user_out.get_username(),), "coverage.end")
        return assignments.coverage_end(coverage_id=coverage_id, on=today(), actor=by.name)

    return run_act(by, "coverage.end", detail={"coverage": coverage_id}, do=do)
