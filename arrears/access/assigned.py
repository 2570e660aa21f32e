"""Who works which account on a day: reads of assignments and coverage (the writes are
`access.assignments`).

An account's coordinator on day D is the user of the most specific assignment open on D: the
account's own, else its property's, else its property's portfolio's (an assignment is open on D
when `since <= D` and it has not ended by D). A user's accounts on D are those whose coordinator
is the user, or someone the user covers for on D (a coverage whose `starts_on <= D <= ends_on`,
not ended by D). Every read here is one query over the whole book, whatever its size: the
resolution is made by the database (subqueries), never by a loop over accounts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from arrears.access import permissions
from arrears.access.models import Assignment, Coverage, Profile
from arrears.ledger.models import Account, Property


def assignments_open(on: date) -> QuerySet[Assignment]:
    """The assignments in force on `on`."""
    return Assignment.objects.filter(since__lte=on).filter(
        Q(ended_on__isnull=True) | Q(ended_on__gt=on)
    )


def coverages_on(on: date) -> QuerySet[Coverage]:
    """The coverages in force on `on` (both ends included, unless ended before)."""
    return Coverage.objects.filter(starts_on__lte=on, ends_on__gte=on).filter(
        Q(ended_on__isnull=True) | Q(ended_on__gt=on)
    )


def _owned_by(users: Any, on: date) -> Q:
    """Accounts whose most specific open assignment on `on` is to one of `users` (a list of
    user pks, or a queryset of them)."""
    open_ = assignments_open(on)
    by_account = open_.filter(account__isnull=False)
    by_property = open_.filter(property__isnull=False)
    mine = open_.filter(user__in=users)
    return (
        Q(pk__in=mine.filter(account__isnull=False).values("account_id"))
        | (
            Q(property_id__in=mine.filter(property__isnull=False).values("property_id"))
            & ~Q(pk__in=by_account.values("account_id"))
        )
        | (
            Q(property__portfolio__in=mine.exclude(portfolio="").values("portfolio"))
            & ~Q(pk__in=by_account.values("account_id"))
            & ~Q(property_id__in=by_property.values("property_id"))
        )
    )


def accounts_assigned(user: Any, on: date, *, covering: bool = True) -> QuerySet[Account]:
    """The accounts `user` works on `on`: theirs (the most specific assignment wins), and, with
    `covering`, those of whoever they cover for that day. One query when evaluated."""
    pk = getattr(user, "pk", None)
    if pk is None:
        return Account.objects.none()
    users: Any = [pk]
    if covering:
        out = coverages_on(on).filter(backup_id=pk).values("user_out_id")
        users = get_user_model().objects.filter(Q(pk=pk) | Q(pk__in=out)).values("pk")
    return Account.objects.filter(_owned_by(users, on))


def accounts_unassigned(on: date) -> QuerySet[Account]:
    """The accounts no open assignment reaches on `on` (no one's worklist holds them as theirs)."""
    open_ = assignments_open(on)
    return Account.objects.exclude(
        pk__in=open_.filter(account__isnull=False).values("account_id")
    ).exclude(
        Q(property_id__in=open_.filter(property__isnull=False).values("property_id"))
        | Q(property__portfolio__in=open_.exclude(portfolio="").values("portfolio"))
    )


def with_coordinator(accounts: QuerySet[Account], on: date) -> QuerySet[Account]:
    """`accounts` annotated with `coordinator_pk`: the user of the most specific open assignment
    on `on` (null: no one). One query when evaluated."""
    open_ = assignments_open(on)
    return accounts.annotate(
        coordinator_pk=Coalesce(
            Subquery(open_.filter(account_id=OuterRef("pk")).values("user_id")[:1]),
            Subquery(open_.filter(property_id=OuterRef("property_id")).values("user_id")[:1]),
            Subquery(
                open_.exclude(portfolio="")
                .filter(portfolio=OuterRef("property__portfolio"))
                .values("user_id")[:1]
            ),
        )
    )


@dataclass(frozen=True)
class Coordinator:
    """Who works an account on a day, how it came to them, and who covers for them that day."""

    username: str
    by: str  # "account", "property" or "portfolio"
    target: str  # the account's, the property's or the portfolio's code
    backup: str = ""  # the backup covering that day ("": none)
    back_on: date | None = None  # the coordinator's last day out, when covered


def account_coordinator(account: Account, on: date) -> Coordinator | None:
    """The coordinator of `account` on `on` (None: assigned to no one), from the account's own
    assignment, its property's or its portfolio's; and the backup covering for them that day.
    `account.property` is read if loaded (the account page's is). One query, in SQL: the
    account page reads it on every request, and the ORM's building of the two queries it took
    cost 3.6 ms of the page's CPU (cProfile, the demo book)."""
    from django.db import connection

    portfolio = account.property.portfolio if account.property_id and account.property else ""
    users = get_user_model()._meta.db_table
    assignment, coverage = Assignment._meta.db_table, Coverage._meta.db_table
    prop = Property._meta.db_table
    sql = f"""
        SELECT u.username, a.account_id, p.property_id, a.portfolio, cover.username,
               cover.ends_on
        FROM {assignment} a
        JOIN {users} u ON u.id = a.user_id
        LEFT JOIN {prop} p ON p.id = a.property_id
        LEFT JOIN (
            SELECT c.user_out_id, b.username, c.ends_on,
                   ROW_NUMBER() OVER (PARTITION BY c.user_out_id ORDER BY c.starts_on, c.id) AS n
            FROM {coverage} c JOIN {users} b ON b.id = c.backup_id
            WHERE c.starts_on <= %s AND c.ends_on >= %s
              AND (c.ended_on IS NULL OR c.ended_on > %s)
        ) cover ON cover.user_out_id = a.user_id AND cover.n = 1
        WHERE a.since <= %s AND (a.ended_on IS NULL OR a.ended_on > %s)
          AND (a.account_id = %s OR a.property_id = %s OR (%s <> '' AND a.portfolio = %s))
        ORDER BY CASE WHEN a.account_id IS NOT NULL THEN 0
                      WHEN a.property_id IS NOT NULL THEN 1 ELSE 2 END, a.id
        LIMIT 1
    """
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [on, on, on, on, on, account.pk, account.property_id, portfolio, portfolio],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    username, account_pk, property_code, portfolio_code, backup, back_on = row
    if account_pk is not None:
        by, target = "account", account.account_id
    elif property_code is not None:
        by, target = "property", property_code
    else:
        by, target = "portfolio", portfolio_code
    if isinstance(back_on, str):  # SQLite gives a date as text
        back_on = date.fromisoformat(back_on)
    return Coordinator(username, by, target, backup=backup or "", back_on=back_on)


def target_of(assignment: Assignment) -> tuple[str, str]:
    """What an assignment gives: ("account" | "property" | "portfolio", its code); the account
    and property are read if loaded."""
    if assignment.account is not None:
        return ("account", assignment.account.account_id)
    if assignment.property is not None:
        return ("property", assignment.property.property_id)
    return ("portfolio", assignment.portfolio)


def assignment_list(*, username: str = "", on: date | None = None) -> QuerySet[Assignment]:
    """The assignments open on `on` (every one ever made when None), of `username` (everyone's
    when empty): portfolios, then properties, then accounts, each by code."""
    rows = assignments_open(on) if on is not None else Assignment.objects.all()
    if username:
        rows = rows.filter(user__username=username)
    return rows.select_related("user", "account", "property").order_by(
        F("account_id").asc(nulls_first=True),
        F("property_id").asc(nulls_first=True),
        "portfolio",
        "property__property_id",
        "account__account_id",
        "since",
        "id",
    )


def coverage_list(*, since: date | None = None) -> QuerySet[Coverage]:
    """The coverages that end on or after `since` (every one when None), the soonest first."""
    rows = Coverage.objects.all()
    if since is not None:
        rows = rows.filter(ends_on__gte=since).filter(
            Q(ended_on__isnull=True) | Q(ended_on__gt=since)
        )
    return rows.select_related("user_out", "backup").order_by("starts_on", "id")


def workers() -> list[str]:
    """The names of the active users who may be given accounts or cover (`worklist.own`), by
    name."""
    roles = [r for r in permissions.ROLES if permissions.allowed(r, "worklist.own")]
    return list(
        Profile.objects.filter(role__in=roles, user__is_active=True)
        .order_by("user__username")
        .values_list("user__username", flat=True)
    )
