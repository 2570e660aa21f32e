"""The aging lines of the accounts in a scope at a few days (the daily review's D-7, D-1 and D,
the digest's week, the trend's month ends), read set-based.

Invariants:
- One statement whatever the number of accounts: from the daily snapshots when every day asked
  for is built (`snapshots.sums_on`, each day's lines read once), else from the ledger's
  open-item deltas, one aggregate per account with a sum per day and bucket (the deltas
  `ledger.selectors.aging_report` and `reports.over60` sum). Both give exactly the aging
  (`snapshots` holds its lines equal to it, day by day; a test holds the two reads equal).
- A line is six whole-cent `int`s, `daily_figures`' order (current, 1-30, 31-60, 61-90, 91+,
  credit); the lines of the days asked for are laid end to end, day 0 first. An account with
  nothing open on any of the days is left out.
- Scope is given (`scoped.scope_of`), never decided here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from arrears.core import sql
from arrears.ledger.models import Account, OpenItemDelta, Property
from arrears.reports import snapshots
from arrears.reports.daily_figures import WIDTH
from arrears.reports.scoped import Scope, aggregate


def lines_at(
    days: Sequence[date], scope: Scope, *, from_snapshots: bool = True
) -> dict[int, tuple[int, ...]]:
    """Per account: its lines at each of `days` (distinct), laid end to end."""
    width = WIDTH * len(days)
    if from_snapshots and snapshots.covers(days):
        wanted = [
            (i * WIDTH + k, day, column)
            for i, day in enumerate(days)
            for k, column in enumerate(snapshots.COLUMNS)
        ]
        rows = snapshots.sums_on(wanted, scope, width)
    else:
        rows = _from_deltas(days, scope)
    return {pk: tuple(values) for pk, values in rows if any(values)}


def _from_deltas(days: Sequence[date], scope: Scope) -> list[tuple[int, list[int]]]:
    columns: list[str] = []
    params: list[Any] = []
    for day in days:
        for low, high in snapshots.BUCKETS.due_limits(day):
            cond, more = ["on_date <= %s", "is_credit = %s"], [sql.day(day), False]
            if low is not None:
                cond.append("due_on >= %s")
                more.append(sql.day(low))
            if high is not None:
                cond.append("due_on <= %s")
                more.append(sql.day(high))
            columns.append(f"SUM(CASE WHEN {' AND '.join(cond)} THEN delta ELSE 0 END)")
            params += more
        columns.append("SUM(CASE WHEN on_date <= %s AND is_credit = %s THEN delta ELSE 0 END)")
        params += [sql.day(day), True]
    rows = aggregate(
        f"SELECT account_id, {', '.join(columns)} FROM {sql.table(OpenItemDelta)}"
        f" WHERE on_date <= %s{scope.on('account_id')} GROUP BY account_id",
        [*params, sql.day(max(days)), *scope.params],
    )
    return [(pk, [int(v or 0) for v in values]) for pk, *values in rows]


@dataclass(frozen=True)
class AccountKey:
    account_id: str
    property_id: str
    property_name: str
    portfolio: str
    currency: str


def accounts_in(scope: Scope) -> dict[int, AccountKey]:
    """Every account of the scope with its property, portfolio and currency (one query)."""
    rows = sql.rows(
        f"SELECT a.id, a.account_id, p.property_id, p.name, p.portfolio, a.currency"
        f" FROM {sql.table(Account)} a LEFT JOIN {sql.table(Property)} p ON p.id = a.property_id"
        f" WHERE 1 = 1{scope.on('a.id')}",
        scope.params,
    )
    return {
        pk: AccountKey(account_id, property_id or "", name or "", portfolio or "", currency)
        for pk, account_id, property_id, name, portfolio, currency in rows
    }
