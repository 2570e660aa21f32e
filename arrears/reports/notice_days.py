"""What followed each notice sent, kept beside the daily snapshots, so that `notices`
(reports.works) reads a narrow row per notice instead of reading its past due's running sum, its
payments' join and their de-duplication again at every call (docs/metrics.md, `notices`, "Kept
with the snapshots").

What followed a notice (account, policy, step, channel, day D) depends on that account's book
alone, not on the period asked: its past due at the start of D (the open-item deltas dated
before D, derived by cash application from the transactions posted before D), the payments
posted on D … D + 13 and the reversals of them posted by D + 13, and the plans made on D … D +
13. So a row computed once stays exact while the account gets no transaction posted on or
before D + 13 and no plan made on or before D + 13: the book is insert-only (transactions,
ledger.models; a plan is never deleted nor its day changed), so these are exactly the
account's transactions and plans with an id above the marks its rows were computed at
(`NoticeKept`). Each payment counted is kept with the day of the latest earlier notice that
counted it (in its line, and in the account), so that a period's sums count it once without
listing and de-duplicating every notice's payments.

Invariants:
- An account's rows (`NoticeOutcome`, `NoticePayment`, `NoticeKept`) are written together by
  one build from the same statements as the live report (`works_sql`), all its notices of the
  kept run at once; a build rewrites an account whole when its rows went stale or its notices
  are no longer those kept.
- The marks are read after the book's writers were waited for and held off (PostgreSQL: SHARE
  locks on the transactions and the plans), so no row the computation misses can have an id at
  or below them.
- A read uses an account's kept rows only when its notices of the period are those kept (the
  notices are read live: a letter mailed on another day, an email that failed or went change
  a row without an insert) and it has no newer transaction or plan dated by the period's last
  day + 13; every other account in scope is computed live, whole, by the report's statements.
  A payment belongs to one account, so the two parts add up.
- Kept or live, the report's JSON is the same (arrears/access/tests/test_report_works_reference.py).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db import connection, transaction

from arrears.core import sql
from arrears.ledger import bulk
from arrears.ledger.models import Account, Transaction
from arrears.plans.models import Plan
from arrears.reports.models import NoticeKept, NoticeOutcome, NoticePayment
from arrears.reports.sqldates import month_of, plus_days
from arrears.reports.works_sql import WINDOW_DAYS, Statement, notices, paid_after, past_due

KEEP_ACCOUNTS = "arrears_notice_keep_account"


def outcome_sql(paid: str, past_due: str, plan: str) -> str:
    """The SQL of a notice's outcome (docs/metrics.md, `notices`), in OUTCOMES' order."""
    return (
        f"CASE WHEN {paid} > 0 AND {paid} >= {past_due} THEN 'paid_full'"
        f" WHEN {plan} THEN 'plan' WHEN {paid} > 0 THEN 'paid_part' ELSE 'nothing' END"
    )


# the outcome of a live notice, over `lpay` (what its day's account paid), `pd` and `pl` (`live`)
LIVE_OUTCOME = outcome_sql(
    "COALESCE(lpay.cents, 0)", "COALESCE(pd.cents, 0)", "pl.account_id IS NOT NULL"
)
KEYS = ("account_id", "policy", "step", "channel", "day")


def _same(a: str, b: str) -> str:
    return " AND ".join(f"{a}.{k} = {b}.{k}" for k in KEYS)


def kept(stmt: Statement, first: date, last: date) -> None:
    """Over the notices sent (`sent`) of `first` … `last` to the accounts `acc`: `kn`, the kept
    notices, `la`, the accounts to compute live (the others' kept rows are exact for the
    period), with their notices (`nl`, one row each, as `n`) and notice days (`ld`). An
    account is computed live when its notices of the period are not those kept (one sent
    since, or a letter's day or status changed: one grouping of the sent and the kept finds
    them), or when it got a transaction posted, or a plan made, on or before
    `last` + 13 with an id above its marks: the book's rows above the lowest mark are few
    (those written since the last build), found by their keys."""
    marks = sql.table(NoticeKept)
    newer = (
        ", {name} AS (SELECT m.account_id FROM {marks} m"
        " JOIN {table} x ON x.account_id = m.account_id AND x.id > m.{mark}"
        " WHERE x.id > (SELECT MIN({mark}) FROM {marks}) AND x.{day} <= %s"
        " AND m.account_id IN (SELECT account_id FROM acc))"
    )
    horizon = sql.day(last + timedelta(days=WINDOW_DAYS - 1))
    txn, plan = sql.table(Transaction), sql.table(Plan)
    cols = ", ".join(f"k.{c}" for c in KEYS)
    stmt.add(
        newer.format(name="chg", day="posted_on", marks=marks, table=txn, mark="txn_mark")
        + newer.format(name="chp", day="made_on", marks=marks, table=plan, mark="plan_mark"),
        horizon,
        horizon,
    )
    keys = ", ".join(KEYS)
    stmt.add(
        f", kn AS MATERIALIZED (SELECT {cols}, k.outcome FROM {sql.table(NoticeOutcome)} k"
        " WHERE k.day >= %s AND k.day <= %s AND k.account_id IN (SELECT account_id FROM acc))"
        # each notice sent (`sent`, as `n` but not yet made distinct) or kept, once, with
        # whether it is live (0), kept (1) or both
        f", v AS (SELECT {keys}, MIN(src) AS lo, MAX(src) AS hi FROM (SELECT {keys}, 0 AS src"
        " FROM sent WHERE day >= %s AND day <= %s"
        " AND account_id IN (SELECT account_id FROM acc)"
        f" UNION ALL SELECT {keys}, 1 FROM kn) z GROUP BY {keys})"
        ", la AS (SELECT account_id FROM v WHERE lo = hi"
        " UNION SELECT account_id FROM chg UNION SELECT account_id FROM chp)"
        f", nl AS (SELECT {keys} FROM v WHERE lo = 0"
        " AND account_id IN (SELECT account_id FROM la))"
        ", ld AS (SELECT DISTINCT account_id, day FROM nl)",
        sql.day(first),
        sql.day(last),
        sql.day(first),
        sql.day(last),
    )


def kept_sums(stmt: Statement, first: date, last: date, group: str, *, by_month: bool) -> str:
    """Adds `kp` to `stmt` and returns the report's rows (`works.notices_outcomes`: kind,
    group, policy, step, channel, outcome, count or cents) of the kept notices of the accounts
    not computed live: the outcomes counted per line, and what each line, group and the whole
    collected, each payment once. `group`: the SQL of a row's group over `acc` and `k.day`. A
    payment is in a line's sum (a group's, the total's) at its first notice of the period in
    that line (of the account, grouped by the account's property, portfolio or coordinator, or
    by its notice's month; of the account): where the latest earlier notice counting it is
    before `first` (or in another month). `kp` sums the payments once per line, in one pass."""

    def first_of(column: str, month: bool) -> str:
        other_month = f" OR {month_of(column)} <> {month_of('k.day')}" if month else ""
        return f"CASE WHEN {column} IS NULL OR {column} < %s{other_month} THEN amount ELSE 0 END"

    def rows(table: str, where: str = "") -> str:
        # each kept row of the accounts not computed live, with its group `g`
        return (
            f"(SELECT {group} AS g, k.* FROM {table} k JOIN acc ON acc.account_id = k.account_id"
            f" WHERE k.account_id NOT IN (SELECT account_id FROM la){where}) x"
        )

    line = first_of("x.line_before", by_month).replace("k.day", "x.day")
    in_group = first_of("x.account_before", by_month).replace("k.day", "x.day")
    in_total = first_of("x.account_before", False)
    stmt.add(
        f", kp AS (SELECT g, policy, step, channel, SUM({line}) AS l, SUM({in_group}) AS ga,"
        f" SUM({in_total}) AS ta"
        f" FROM {rows(sql.table(NoticePayment), ' AND k.day >= %s AND k.day <= %s')}"
        " GROUP BY g, policy, step, channel)",
        *[sql.day(first)] * 3,
        sql.day(first),
        sql.day(last),
    )
    return (
        " UNION ALL SELECT 'n', g, policy, step, channel, outcome, COUNT(*)"
        f" FROM {rows('kn')} GROUP BY g, policy, step, channel, outcome"
        " UNION ALL SELECT 'l', g, policy, step, channel, '', l FROM kp"
        " UNION ALL SELECT 'g', g, '', '', '', '', SUM(ga) FROM kp GROUP BY g"
        " UNION ALL SELECT 't', '', '', '', '', '', SUM(ta) FROM kp"
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
    """Keep the notices of `first` … `last`: every account with a stale row, or whose notices
    are no longer those kept, is computed again, whole. Inside the caller's transaction (the
    snapshots' build); returns the accounts computed. The notices whose 14 days are not over
    by `last` are kept too: a payment posted in them later sends their account back to the
    live statements until the next build."""
    if last < first:
        return 0
    txn, plan = sql.table(Transaction), sql.table(Plan)
    rows, pays = sql.table(NoticeOutcome), sql.table(NoticePayment)
    marks = sql.table(NoticeKept)
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
        # the accounts to compute: a row gone stale, or notices not those kept
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
        notices(stmt, first, last)
        by_txn = stale.format(marks=marks, table=txn, mark="txn_mark", day="posted_on", end=end)
        by_plan = stale.format(marks=marks, table=plan, mark="plan_mark", day="made_on", end=end)
        stmt.add(
            f", kn AS (SELECT * FROM {rows} WHERE day >= %s AND day <= %s)"
            f" SELECT account_id FROM ({by_txn} UNION {by_plan}"
            f" UNION SELECT n.account_id FROM n LEFT JOIN kn ON {_same('kn', 'n')}"
            " WHERE kn.account_id IS NULL"
            f" UNION SELECT kn.account_id FROM kn LEFT JOIN n ON {_same('kn', 'n')}"
            " WHERE n.account_id IS NULL) z",
            sql.day(first),
            sql.day(last),
        )
        _execute(stmt.text, stmt.params)
        mine = f"account_id IN (SELECT account_id FROM {KEEP_ACCOUNTS})"
        for table in (rows, pays, marks):
            bulk.execute(f"DELETE FROM {table} WHERE {mine}")
        # the same statements as the report's live accounts, over these accounts' notices
        head = Statement().add(f"WITH acc AS (SELECT account_id FROM {KEEP_ACCOUNTS})")
        notices(head, first, last)
        head.add(
            ", ld AS (SELECT DISTINCT account_id, day FROM n), la AS (SELECT account_id FROM acc)"
        )
        live(head, first, last)
        keys = ", ".join(f"n.{k}" for k in KEYS)
        pay = Statement().add(
            f"INSERT INTO {pays} ({', '.join(KEYS)}, payment, amount, account_before, line_before) "
        )
        pay.add(head.text, *head.params).add(
            f" SELECT {keys}, lp.id, lp.amount, LAG(n.day) OVER (PARTITION BY lp.id"
            " ORDER BY n.day, n.policy, n.step, n.channel), LAG(n.day) OVER (PARTITION BY"
            " lp.id, n.policy, n.step, n.channel ORDER BY n.day)"
            " FROM n JOIN lp ON lp.account_id = n.account_id AND lp.day = n.day"
        )
        _execute(pay.text, pay.params)
        day = Statement().add(f"INSERT INTO {rows} ({', '.join(KEYS)}, past_due, paid, outcome) ")
        day.add(head.text, *head.params).add(
            ", lpay AS (SELECT account_id, day, SUM(amount) AS cents FROM lp"
            " GROUP BY account_id, day)"
            f" SELECT {keys}, COALESCE(pd.cents, 0), COALESCE(lpay.cents, 0),"
            f" {LIVE_OUTCOME}"
            " FROM n LEFT JOIN pd ON pd.account_id = n.account_id AND pd.day = n.day"
            " LEFT JOIN lpay ON lpay.account_id = n.account_id AND lpay.day = n.day"
            " LEFT JOIN pl ON pl.account_id = n.account_id AND pl.day = n.day",
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
