"""The collection goals in the database, and the book's sums they are measured with
(docs/metrics.md, "Forecast vs actual"): the one writer of `CollectionGoal` (called by the acts of
`arrears.access.acts_goals`, which authorize and audit) and the set-based reads of the forecast.

Invariants:
- A goal's scope is a key of the book: a property's id, a portfolio's name, or "" for the book;
  an account is in a property's goal by its property, in a portfolio's by its property's
  portfolio, in the book's always.
- Collected is what the metrics call collected (`reports.metrics`): payments posted in the days
  less the reversals of payments posted in them. Charges due are the charges whose due date is
  in the days. Past due is what the worklist calls past due (`dunning.worklist`): the charges
  open at the day's end that fell due before it, less unapplied credit, from the aging's deltas.
- Each read is one aggregate over the book, grouped in SQL; scope is given (`scope_of`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from arrears.core import sql
from arrears.ledger.models import Account, OpenItemDelta, Property, Transaction
from arrears.reports.models import CollectionGoal
from arrears.reports.scoped import aggregate, scope_of


def key_sql(kind: str) -> str:
    """The SQL of an account's key in a goal of `kind` (account `a`, its property `p`)."""
    return {
        "property": "COALESCE(p.property_id, '')",
        "portfolio": "COALESCE(p.portfolio, '')",
        "book": "''",
    }[kind]


@dataclass(frozen=True)
class Put:
    goal: CollectionGoal
    was: Decimal | None  # the amount before (None: a new goal)
    was_source: str


def goal_put(
    *, month: date, kind: str, key: str, currency: str, amount: Decimal, source: str, actor: str
) -> Put:
    """Set the goal (month, kind, key, currency) to `amount`: created, or updated in place with
    what it was returned (the caller's audit row keeps it)."""
    with transaction.atomic():
        found = (
            CollectionGoal.objects.select_for_update()
            .filter(month=month, scope_kind=kind, scope_key=key, currency=currency)
            .first()
        )
        now = timezone.now()
        if found is None:
            goal = CollectionGoal.objects.create(
                month=month,
                scope_kind=kind,
                scope_key=key,
                currency=currency,
                amount=amount,
                set_by=actor,
                set_at=now,
                source=source,
            )
            return Put(goal, None, "")
        was, was_source = found.amount, found.source
        found.amount, found.set_by, found.set_at, found.source = amount, actor, now, source
        found.save(update_fields=["amount", "set_by", "set_at", "source"])
        return Put(found, was, was_source)


def goals_of(
    *, month: date, kind: str | None = None, currency: str | None = None
) -> QuerySet[CollectionGoal]:
    """The goals of `month` (of one kind, one currency), by kind, key and currency."""
    found = CollectionGoal.objects.filter(month=month)
    if kind is not None:
        found = found.filter(scope_kind=kind)
    if currency:
        found = found.filter(currency=currency)
    return found.order_by("scope_kind", "scope_key", "currency")


def keys_of_book(kind: str) -> set[str]:
    """The keys a goal of `kind` may have: the properties' ids, the portfolios named, ""."""
    if kind == "property":
        return set(Property.objects.values_list("property_id", flat=True))
    if kind == "portfolio":
        return set(Property.objects.exclude(portfolio="").values_list("portfolio", flat=True))
    return {""}


def currencies_of(kind: str, key: str) -> list[str]:
    """The currencies of the accounts of a goal's scope."""
    accounts = Account.objects.all()
    if kind == "property":
        accounts = accounts.filter(property__property_id=key)
    elif kind == "portfolio":
        accounts = accounts.filter(property__portfolio=key)
    return sorted(set(accounts.values_list("currency", flat=True)))


def _from() -> str:
    return (
        f" FROM {sql.table(Transaction)} t JOIN {sql.table(Account)} a ON a.id = t.account_id"
        f" LEFT JOIN {sql.table(Property)} p ON p.id = a.property_id"
        f" LEFT JOIN {sql.table(Transaction)} r ON r.id = t.reverses_id"
    )


# A payment less a payment's reversal, in a CASE: what the metrics call collected.
_COLLECTED = (
    "CASE WHEN t.type = %s THEN t.amount WHEN t.type = %s AND r.type = %s THEN -t.amount ELSE 0 END"
)
_COLLECTED_PARAMS = ["payment", "reversal", "payment"]


def due_and_collected(
    kind: str, first: date, last: date, accounts: QuerySet[Account] | None
) -> dict[tuple[str, str], tuple[int, int]]:
    """Per (key, currency): the charges due in [first, last] and what was collected in it, in
    cents."""
    scope = scope_of(accounts)
    lo, hi = sql.day(first), sql.day(last)
    rows = aggregate(
        f"SELECT {key_sql(kind)}, a.currency,"
        " SUM(CASE WHEN t.type = %s AND t.due_on >= %s AND t.due_on <= %s THEN t.amount"
        " ELSE 0 END),"
        " SUM(CASE WHEN t.posted_on >= %s AND t.posted_on <= %s THEN "
        f"{_COLLECTED} ELSE 0 END)"
        f"{_from()} WHERE ((t.type = %s AND t.due_on >= %s AND t.due_on <= %s)"
        " OR (t.type IN (%s, %s) AND t.posted_on >= %s AND t.posted_on <= %s))"
        f"{scope.on('t.account_id')} GROUP BY 1, 2",
        [
            "charge",
            lo,
            hi,
            lo,
            hi,
            *_COLLECTED_PARAMS,
            "charge",
            lo,
            hi,
            "payment",
            "reversal",
            lo,
            hi,
            *scope.params,
        ],
    )
    return {(key, currency): (int(due or 0), int(got or 0)) for key, currency, due, got in rows}


def collected_daily(
    kind: str, first: date, last: date, accounts: QuerySet[Account] | None
) -> dict[tuple[str, str], list[tuple[date, int]]]:
    """Per (key, currency): what was collected each day of [first, last] that saw any."""
    scope = scope_of(accounts)
    rows = aggregate(
        f"SELECT {key_sql(kind)}, a.currency, t.posted_on, SUM({_COLLECTED})"
        f"{_from()} WHERE t.type IN (%s, %s) AND t.posted_on >= %s AND t.posted_on <= %s"
        f"{scope.on('t.account_id')} GROUP BY 1, 2, 3",
        [*_COLLECTED_PARAMS, "payment", "reversal", sql.day(first), sql.day(last), *scope.params],
    )
    out: dict[tuple[str, str], list[tuple[date, int]]] = {}
    for key, currency, day, cents in rows:
        on = day if isinstance(day, date) else date.fromisoformat(str(day))
        out.setdefault((key, currency), []).append((on, int(cents or 0)))
    return out


@dataclass(frozen=True)
class PastDue:
    pk: int
    account_id: str
    key: str
    currency: str
    cents: int


def past_due(kind: str, as_of: date, accounts: QuerySet[Account] | None) -> list[PastDue]:
    """The accounts with something past due at the end of `as_of` (module docstring)."""
    scope = scope_of(accounts)
    signed = "CASE WHEN is_credit = %s THEN -delta WHEN due_on < %s THEN delta ELSE 0 END"
    rows = aggregate(
        f"SELECT x.account_id, a.account_id, {key_sql(kind)}, a.currency, x.cents FROM"
        f" (SELECT account_id, SUM({signed}) AS cents FROM {sql.table(OpenItemDelta)}"
        f" WHERE on_date <= %s{scope.on('account_id')} GROUP BY account_id"
        f" HAVING SUM({signed}) > 0) x"
        f" JOIN {sql.table(Account)} a ON a.id = x.account_id"
        f" LEFT JOIN {sql.table(Property)} p ON p.id = a.property_id",
        [True, sql.day(as_of), sql.day(as_of), *scope.params, True, sql.day(as_of)],
    )
    return [PastDue(pk, aid, key, cur, int(cents)) for pk, aid, key, cur, cents in rows]


def keys_wholly_in(kind: str, accounts: QuerySet[Account] | None) -> set[str] | None:
    """The keys of `kind` whose every account is in `accounts`, at least one (None: every key,
    the whole book being in scope): a goal is read only by whoever sees the whole of what it is
    measured on, lest a part of its collections be compared with all of it."""
    if accounts is None:
        return None
    subquery, params = accounts.values("pk").query.sql_with_params()
    rows = sql.rows(
        f"SELECT {key_sql(kind)}, COUNT(*), SUM(CASE WHEN a.id IN ({subquery}) THEN 1 ELSE 0 END)"
        f" FROM {sql.table(Account)} a LEFT JOIN {sql.table(Property)} p ON p.id = a.property_id"
        " GROUP BY 1",
        list(params),
    )
    return {key for key, count, inside in rows if count and int(inside or 0) == int(count)}
