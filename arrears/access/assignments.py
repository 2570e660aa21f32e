"""Writes of who works which account: assignments and coverage (the reads are
`access.assigned`; the acts that call these are `access.acts_assignments`).

Invariants:
- a target (an account, a property, a portfolio) has at most one open assignment: assigning it
  ends the one it had, on the same day;
- every account whose coordinator an assignment change changes gets one timeline row
  (`assignment.changed`), and every account of a coordinator who is covered for gets one
  (`coverage.added`, `coverage.ended`): written in bulk, in the change's transaction, however
  many accounts a property or a portfolio holds;
- whoever is given accounts, or covers for someone, is an active user whose role works the
  worklist (`permissions.allowed(role, "worklist.own")`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from arrears.access import permissions
from arrears.access.assigned import accounts_assigned, assignments_open, with_coordinator
from arrears.access.models import Assignment, Coverage, Profile
from arrears.core.errors import NotFoundError, ValidationError
from arrears.ledger.models import Account, Property, TimelineEvent

TARGETS = ("account", "property", "portfolio")
NOTE_LIMIT = 300
TIMELINE_BATCH = 1000


@dataclass(frozen=True)
class Target:
    """What is assigned: an account, a property or a portfolio, by its code."""

    kind: str
    code: str

    def detail(self) -> dict[str, str]:
        return {self.kind: self.code}


def target_from(*, account_id: str = "", property_id: str = "", portfolio: str = "") -> Target:
    """The one target named (an account, a property or a portfolio); ValidationError when none
    or more than one is named."""
    named = [
        Target(kind, code.strip())
        for kind, code in zip(TARGETS, (account_id, property_id, portfolio), strict=True)
        if code and code.strip()
    ]
    if len(named) != 1:
        raise ValidationError(
            _("name one account, property or portfolio"), code="assignment_target", field="target"
        )
    return named[0]


def _where(target: Target) -> dict[str, Any]:
    """The assignment's fields for `target`; NotFoundError for an account, a property or a
    portfolio the book does not have."""
    if target.kind == "account":
        account = Account.objects.filter(account_id=target.code).first()
        if account is None:
            raise NotFoundError(
                _("no account {account_id!r}"), code="not_found", account_id=target.code
            )
        return {"account": account}
    if target.kind == "property":
        found = Property.objects.filter(property_id=target.code).first()
        if found is None:
            raise NotFoundError(
                _("no property {property_id!r}"),
                code="property_not_found",
                property_id=target.code,
                field="property",
            )
        return {"property": found}
    if not Property.objects.filter(portfolio=target.code).exists():
        raise NotFoundError(
            _("no portfolio {portfolio!r}"),
            code="portfolio_not_found",
            portfolio=target.code,
            field="portfolio",
        )
    return {"portfolio": target.code}


def reached(target: Target, on: date) -> QuerySet[Account]:
    """The accounts whose coordinator on `on` comes from `target`'s assignment (none more
    specific reaches them)."""
    open_ = assignments_open(on)
    if target.kind == "account":
        return Account.objects.filter(account_id=target.code)
    own = open_.filter(account__isnull=False).values("account_id")
    if target.kind == "property":
        return Account.objects.filter(property__property_id=target.code).exclude(pk__in=own)
    by_property = open_.filter(property__isnull=False).values("property_id")
    return (
        Account.objects.filter(property__portfolio=target.code)
        .exclude(pk__in=own)
        .exclude(property_id__in=by_property)
    )


def worker(username: str) -> Any:
    """The active user named `username` whose role works the worklist; NotFoundError (no such
    active user) or ValidationError (a role that is given no accounts)."""
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise NotFoundError(
            _("no active user {username!r}"), code="user_not_found", username=username
        )
    role = Profile.objects.filter(user=user).values_list("role", flat=True).first()
    if not permissions.allowed(role, "worklist.own"):
        raise ValidationError(
            _("{username}'s role is {role}: only a coordinator or an admin works accounts"),
            code="assignee_role",
            username=username,
            role=role or "-",
            field="user",
        )
    return user


def _coordinators(accounts: QuerySet[Account], on: date) -> dict[int, str]:
    """Each account's coordinator's name on `on` ("" for no one), in two queries."""
    pairs: list[tuple[int, int | None]] = list(
        with_coordinator(accounts, on).values_list("pk", "coordinator_pk")  # type: ignore[misc]
    )
    names = dict(
        get_user_model()
        .objects.filter(pk__in={u for _, u in pairs if u is not None})
        .values_list("pk", "username")
    )
    return {pk: names.get(u, "") if u is not None else "" for pk, u in pairs}


def _timeline(
    rows: list[tuple[int, str, dict[str, Any]]], *, kind: str, on: date, actor: str
) -> int:
    """One timeline row per (account pk, summary, detail), inserted in batches."""
    at = timezone.now()
    TimelineEvent.objects.bulk_create(
        [
            TimelineEvent(
                account_id=pk, at=at, on=on, kind=kind, actor=actor, summary=text, detail=detail
            )
            for pk, text, detail in rows
        ],
        batch_size=TIMELINE_BATCH,
    )
    return len(rows)


def _changed(
    before: dict[int, str], after: dict[int, str], target: Target, *, on: date, actor: str
) -> int:
    """The `assignment.changed` rows of the accounts whose coordinator changed."""
    rows = []
    for pk, was in before.items():
        now = after.get(pk, "")
        if now == was:
            continue
        text = f"coordinator: {now or 'no one'} ({target.kind} {target.code})"
        text += f"; was {was}" if was else ""
        detail = {"coordinator": now, "was": was, **target.detail()}
        rows.append((pk, text[:500], detail))
    return _timeline(rows, kind="assignment.changed", on=on, actor=actor)


@transaction.atomic
def assignment_set(*, username: str, target: Target, on: date, actor: str) -> Assignment:
    """Give `target` to `username` from `on`, ending the target's open assignment to someone
    else; every account whose coordinator changes gets a timeline row.

    Raises NotFoundError (no such user or target) or ValidationError (a role that works no
    accounts; the target is theirs already)."""
    user = worker(username)
    where = _where(target)
    current = assignments_open(on).filter(**where).select_for_update(of=("self",)).first()
    if current is not None and current.user_id == user.pk:
        raise ValidationError(
            _("{username} has {target} already"),
            code="assignment_unchanged",
            username=username,
            target=f"{target.kind} {target.code}",
            field="user",
        )
    accounts = reached(target, on)
    before = _coordinators(accounts, on)
    if current is not None:
        _end(current, on=on, actor=actor)
    made = Assignment.objects.create(user=user, since=on, assigned_by=actor, **where)
    _changed(before, dict.fromkeys(before, user.get_username()), target, on=on, actor=actor)
    return made


def _end(assignment: Assignment, *, on: date, actor: str) -> None:
    # An assignment made today and ended today was never in force: kept, as nothing is erased.
    assignment.ended_on = max(on, assignment.since)
    assignment.ended_by = actor
    assignment.save(update_fields=["ended_on", "ended_by"])


def assignment_get(*, target: Target, on: date, lock: bool = False) -> Assignment:
    """The open assignment of `target` on `on`, with its user; NotFoundError (no such target, or
    it is assigned to no one)."""
    rows = assignments_open(on).filter(**_where(target)).select_related("user")
    current = (rows.select_for_update(of=("self",)) if lock else rows).first()
    if current is None:
        raise NotFoundError(
            _("{target} is assigned to no one"),
            code="assignment_not_found",
            target=f"{target.kind} {target.code}",
        )
    return current


@transaction.atomic
def assignment_end(*, target: Target, on: date, actor: str) -> Assignment:
    """End the open assignment of `target` from `on`: its accounts fall to the broader
    assignment (the property's, the portfolio's) or to no one; each whose coordinator changes
    gets a timeline row. NotFoundError when the target has no open assignment."""
    current = assignment_get(target=target, on=on, lock=True)
    accounts = reached(target, on)
    pks = list(accounts.values_list("pk", flat=True))
    before = _coordinators(Account.objects.filter(pk__in=accounts), on)
    _end(current, on=on, actor=actor)
    after = _coordinators(Account.objects.filter(pk__in=pks), on) if pks else {}
    _changed(before, after, target, on=on, actor=actor)
    return current


def _covered_rows(coverage: Coverage, on: date, text: str) -> list[tuple[int, str, dict[str, Any]]]:
    """One row per account of the one who is out (their own, on the first day the coverage
    counts from: `on` or its start)."""
    day = max(on, coverage.starts_on)
    pks = accounts_assigned(coverage.user_out, day, covering=False).values_list("pk", flat=True)
    detail = {
        "coverage": coverage.pk,
        "out": coverage.user_out.get_username(),
        "backup": coverage.backup.get_username(),
        "starts_on": coverage.starts_on.isoformat(),
        "ends_on": coverage.ends_on.isoformat(),
    }
    return [(pk, text[:500], detail) for pk in pks]


@transaction.atomic
def coverage_add(
    *, out: str, backup: str, starts_on: date, ends_on: date, note: str, on: date, actor: str
) -> Coverage:
    """`backup` covers for `out` from `starts_on` to `ends_on`, both included: the backup's
    worklist holds `out`'s accounts those days; each of them gets a timeline row.

    Raises NotFoundError (no such active user) or ValidationError (a role that works no
    accounts; covering for oneself; the range reversed or over; `out` already covered then)."""
    user_out, user_backup = worker(out), worker(backup)
    if user_out.pk == user_backup.pk:
        raise ValidationError(
            _("no one covers for themselves"), code="coverage_oneself", field="backup"
        )
    if ends_on < starts_on:
        raise ValidationError(
            _("the range ends ({until}) before it starts ({since})"),
            code="coverage_range_reversed",
            until=ends_on.isoformat(),
            since=starts_on.isoformat(),
            field="to",
        )
    if ends_on < on:
        raise ValidationError(
            _("the absence ended on {until}, before today"),
            code="coverage_past",
            until=ends_on.isoformat(),
            field="to",
        )
    overlap = (
        Coverage.objects.select_for_update(of=("self",))
        .filter(user_out=user_out, starts_on__lte=ends_on, ends_on__gte=starts_on)
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gt=starts_on))
        .select_related("backup")
        .first()
    )
    if overlap is not None:
        raise ValidationError(
            _("{username} is already covered by {backup} from {since} to {until}"),
            code="coverage_overlaps",
            username=out,
            backup=overlap.backup.get_username(),
            since=overlap.starts_on.isoformat(),
            until=overlap.ends_on.isoformat(),
            field="from",
        )
    coverage = Coverage.objects.create(
        user_out=user_out,
        backup=user_backup,
        starts_on=starts_on,
        ends_on=ends_on,
        note=note.strip()[:NOTE_LIMIT],
        made_by=actor,
    )
    text = f"{backup} covers for {out} from {starts_on.isoformat()} to {ends_on.isoformat()}"
    _timeline(_covered_rows(coverage, on, text), kind="coverage.added", on=on, actor=actor)
    return coverage


def coverage_get(*, coverage_id: int) -> Coverage:
    """One coverage with its users; NotFoundError if there is none."""
    found = Coverage.objects.select_related("user_out", "backup").filter(pk=coverage_id).first()
    if found is None:
        raise NotFoundError(
            _("no coverage #{coverage_id}"), code="coverage_not_found", coverage_id=coverage_id
        )
    return found


@transaction.atomic
def coverage_end(*, coverage_id: int, on: date, actor: str) -> Coverage:
    """End a coverage from `on` (the one out is back): from that day the backup's worklist no
    longer holds their accounts; each of them gets a timeline row. NotFoundError (no such
    coverage) or ValidationError (it is over already)."""
    coverage = coverage_get(coverage_id=coverage_id)
    Coverage.objects.select_for_update(of=("self",)).filter(pk=coverage.pk).first()
    if coverage.ends_on < on or (coverage.ended_on is not None and coverage.ended_on <= on):
        raise ValidationError(
            _("coverage #{coverage_id} is over already"),
            code="coverage_over",
            coverage_id=coverage_id,
        )
    coverage.ended_on = on
    coverage.ended_by = actor
    coverage.save(update_fields=["ended_on", "ended_by"])
    who = (
        f"{coverage.backup.get_username()} no longer covers for {coverage.user_out.get_username()}"
    )
    rows = _covered_rows(coverage, on, f"{who} from {on.isoformat()}")
    _timeline(rows, kind="coverage.ended", on=on, actor=actor)
    return coverage


def last_day(coverage: Coverage) -> date:
    """The last day a coverage counts (its end, or the day before it was ended)."""
    if coverage.ended_on is None:
        return coverage.ends_on
    return min(coverage.ends_on, coverage.ended_on - timedelta(days=1))
