"""What followed the notices of each account and day, kept beside the daily snapshots, so that
`notices` (reports.works) reads a row for a notice day instead of its past due's running sum and
its payments' join, which cost most of the report on a large book (docs/metrics.md, "Cost").

What a notice day (account, D) holds depends on that account's book alone, not on the period
asked: its past due at the start of D (the open-item deltas dated before D, derived by cash
application from the transactions posted before D), the payments posted on D … D + 13 and the
reversals of them posted by D + 13, and the plans made on D … D + 13. So a row computed once
stays exact while the account gets no transaction posted on or before D + 13 and no plan made on
or before D + 13: the book is insert-only (a transaction, ledger.models; a plan is never deleted
nor its day changed), so these are exactly the account's transactions and plans with an id above
the marks its rows were computed at (`NoticeKept`).

Invariants:
- An account's rows (`NoticeDay`, `NoticeDayPayment`, `NoticeKept`) are written together by one
  build from the same statements as the live report (`works_sql`), all its notice days of the
  kept run at once; a build rewrites an account whole when one of its rows went stale or one of
  its notice days has no row.
- The marks are read after the book's writers were waited for and held off (PostgreSQL: SHARE
  locks on the transactions and the plans), so no row the computation misses can have an id at
  or below them.
- A read uses a row only when the account has nothing newer dated within the row's 14 days
  (`kept`); every other notice day is computed live. The notices themselves (which letters,
  emails, texts and calls went, and on which day) are always read live: their rows change
  state (a letter mailed, an email sent) without an insert.
- Kept or live, the report's JSON is the same (arrears/access/tests/test_report_works_reference.py).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import connection, transaction

from arrears.core import sql
from arrears.ledger import bulk
from arrears.ledger.models import Account, Transaction
from arrears.plans.models import Plan
from arrears.reports.models import NoticeDay, NoticeDayPayment, NoticeKept
from arrears.reports.sqldates import plus_days
from arrears.reports.works_sql import WINDOW_DAYS, Statement, notices, paid_after, past_due

KEEP_ACCOUNTS = "arrears_notice_keep_account"


def kept(stmt: Statement, first: date, last: date) -> None:
    """`kd`: the kept rows of `first` … `last` still exact (account_id, day, past_due, paid,
    plan); `ld`: the (account_id, day) of the notices `n` without one, to compute live, and
    `la` their accounts. A row of day D is stale when its account got a transaction posted on
    or before D + 13 or a plan made on or before D + 13 with an id above its marks: the book's
    rows above the lowest mark are few (those written since the last build), found by their
    keys."""
    kept_, marks = sql.table(NoticeDay), sql.table(NoticeKept)
    end = plus_days("k.day", WINDOW_DAYS - 1)
    newer = (
        ", {name} AS (SELECT m.account_id, MIN(x.{day}) AS since FROM {marks} m"
        " JOIN {table} x ON x.account_id = m.account_id AND x.id > m.{mark}"
        " WHERE x.id > (SELECT MIN({mark}) FROM {marks}) GROUP BY m.account_id)"
    )
    txn, plan = sql.table(Transaction), sql.table(Plan)
    stmt.add(
        newer.format(name="chg", day="posted_on", marks=marks, table=txn, mark="txn_mark")
        + newer.format(name="chp", day="made_on", marks=marks, table=plan, mark="plan_mark")
        + f", kd AS (SELECT k.account_id, k.day, k.past_due, k.paid, k.plan FROM {kept_} k"
        " LEFT JOIN chg ON chg.account_id = k.account_id"
        " LEFT JOIN chp ON chp.account_id = k.account_id"
        " WHERE k.day >= %s AND k.day <= %s"
        f" AND (chg.since IS NULL OR chg.since > {end})"
        f" AND (chp.since IS NULL OR chp.since > {end}))"
        ", ld AS (SELECT DISTINCT n.account_id, n.day FROM n LEFT JOIN kd"
        " ON kd.account_id = n.account_id AND kd.day = n.day WHERE kd.account_id IS NULL)"
        ", la AS (SELECT DISTINCT account_id FROM ld)",
        sql.day(first),
        sql.day(last),
    )


def live(stmt: Statement, first: date, last: date) -> None:
    """For the days of `ld` (of `first` … `last`; accounts `la`): `pd`, their past due at the
    start of the day; `lp`, the payments within 14 days of each (account_id, day, id, amount);
    `pl`, the days followed by a plan within 14 days."""
    past_due(stmt, "ld", first, last, who="la")
    end = plus_days("ld.day", WINDOW_DAYS - 1)
    stmt.add(
        ", lp AS MATERIALIZED (SELECT ld.account_id, ld.day, t.id, t.amount FROM ld"
        f"{paid_after('ld.account_id', 'ld.day', (first, last), many=True, who='la')})"
        ", pl AS (SELECT DISTINCT ld.account_id, ld.day FROM ld"
        f" JOIN {sql.table(Plan)} p ON p.account_id = ld.account_id"
        f" AND p.made_on >= ld.day AND p.made_on <= {end})"
    )


def _execute(query: str, params: list[Any]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return int(cursor.rowcount)


def notice_days_keep(*, first: date, last: date) -> int:
    """Keep the notice days of `first` … `last`: every account with a stale row or a notice
    day without one is computed again, whole. Inside the caller's transaction (the snapshots'
    build); returns the accounts computed. The days whose 14 days are not over by `last` are
    kept too: a payment posted in them later makes their account's rows stale, so they are read
    live until the next build, and kept, as the report has them, they cost it nothing."""
    through = last
    if through < first:
        return 0
    txn, plan = sql.table(Transaction), sql.table(Plan)
    rows, pays, marks = sql.table(NoticeDay), sql.table(NoticeDayPayment), sql.table(NoticeKept)
    with transaction.atomic():
        if bulk.is_postgres():
            # the writers in progress finish, and no other starts, before the marks are read
            bulk.execute(f"LOCK TABLE {txn} IN SHARE MODE")
            bulk.execute(f"LOCK TABLE {plan} IN SHARE MODE")
            bulk.execute("SET LOCAL work_mem = '256MB'")
            bulk.execute("SET LOCAL jit = off")
        txn_mark = int(sql.rows(f"SELECT COALESCE(MAX(id), 0) FROM {txn}", [])[0][0])
        plan_mark = int(sql.rows(f"SELECT COALESCE(MAX(id), 0) FROM {plan}", [])[0][0])
        bulk.execute(f"DROP TABLE IF EXISTS {KEEP_ACCOUNTS}")
        bulk.execute(f"CREATE TEMPORARY TABLE {KEEP_ACCOUNTS} (account_id BIGINT PRIMARY KEY)")
        # the accounts to compute: a row gone stale, or a notice day with no row
        stale = (
            "SELECT m.account_id FROM {marks} m JOIN {table} x ON x.account_id = m.account_id"
            " AND x.id > m.{mark} AND x.{day} <= {end}"
            " WHERE x.id > (SELECT MIN({mark}) FROM {marks})"
        )
        end = plus_days("m.through", WINDOW_DAYS - 1)
        stmt = Statement().add(
            f"INSERT INTO {KEEP_ACCOUNTS} (account_id) WITH acc AS (SELECT id AS account_id"
            f" FROM {sql.table(Account)})"
        )
        notices(stmt, first, through)
        by_txn = stale.format(marks=marks, table=txn, mark="txn_mark", day="posted_on", end=end)
        by_plan = stale.format(marks=marks, table=plan, mark="plan_mark", day="made_on", end=end)
        stmt.add(
            f" SELECT account_id FROM ({by_txn} UNION {by_plan}"
            f" UNION SELECT n.account_id FROM n LEFT JOIN {rows} k ON k.account_id = n.account_id"
            " AND k.day = n.day WHERE k.account_id IS NULL) z"
        )
        _execute(stmt.text, stmt.params)
        mine = f"account_id IN (SELECT account_id FROM {KEEP_ACCOUNTS})"
        for table in (rows, pays, marks):
            bulk.execute(f"DELETE FROM {table} WHERE {mine}")
        # the same statements as the report's live days, over these accounts' notice days
        head = Statement().add(f"WITH acc AS (SELECT account_id FROM {KEEP_ACCOUNTS})")
        notices(head, first, through)
        head.add(
            ", ld AS (SELECT DISTINCT account_id, day FROM n), la AS (SELECT account_id FROM acc)"
        )
        live(head, first, through)
        pay = Statement().add(f"INSERT INTO {pays} (account_id, day, payment, amount) ")
        pay.add(head.text, *head.params).add(" SELECT account_id, day, id, amount FROM lp")
        _execute(pay.text, pay.params)
        day = Statement().add(f"INSERT INTO {rows} (account_id, day, past_due, paid, plan) ")
        day.add(head.text, *head.params).add(
            ", lpay AS (SELECT account_id, day, SUM(amount) AS cents FROM lp"
            " GROUP BY account_id, day)"
            " SELECT ld.account_id, ld.day, COALESCE(pd.cents, 0), COALESCE(lpay.cents, 0),"
            " CASE WHEN pl.account_id IS NULL THEN %s ELSE %s END FROM ld"
            " LEFT JOIN pd ON pd.account_id = ld.account_id AND pd.day = ld.day"
            " LEFT JOIN lpay ON lpay.account_id = ld.account_id AND lpay.day = ld.day"
            " LEFT JOIN pl ON pl.account_id = ld.account_id AND pl.day = ld.day",
            False,
            True,
        )
        _execute(day.text, day.params)
        accounts = _execute(
            f"INSERT INTO {marks} (account_id, txn_mark, plan_mark, through)"
            f" SELECT account_id, %s, %s, MAX(day) FROM {rows} WHERE {mine}"
            " GROUP BY account_id",
            [txn_mark, plan_mark],
        )
        bulk.execute(f"DROP TABLE {KEEP_ACCOUNTS}")
        if bulk.is_postgres():
            for table in (rows, pays, marks):
                bulk.execute(f"ANALYZE {table}")
    return accounts
