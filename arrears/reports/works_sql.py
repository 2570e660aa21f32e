"""The statements the reports of `reports.works` share: the accounts in scope, the notices sent,
the open charges' spans and the payments that followed a day, as common table expressions that
SQLite and PostgreSQL both take (the few spellings that differ are functions here).

Definitions (docs/metrics.md, "Notices' outcomes, coordinator activity and what works"):
- A notice sent is one account's step of a policy (or a notice by hand: step "by-hand") by one
  channel on one day, however many of its parties it went to: a letter printed for mailing,
  mailed or returned (its day: mailed, else dated), an email sent or bounced (its day: dated,
  the day it was prepared to go), a text sent (its day), a call task set for the coordinator (the
  run's day). A letter returned or an email bounced went out: what followed is counted all the
  same (the comparison is of the notices sent, as an intention-to-treat analysis counts a
  treatment given, whether or not it took).
- The past due of an account at the start of a day D is what the aging as of D − 1 has open of
  the charges due before D (the buckets 1-30 … 91+ as of D, before D's own entries); unapplied
  credit is not netted, as the aging's buckets do not net it.
- What an account paid in the 14 days from D: its payments posted on D … D + 13 that no
  reversal posted by D + 13 undid.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db import connection, transaction

from arrears.core import sql
from arrears.correspondence.mail_models import OutboundSms
from arrears.correspondence.models import Outbound
from arrears.dunning.models import Action
from arrears.ledger import bulk
from arrears.ledger.models import Account, OpenItem, OpenItemDelta, Property, Transaction
from arrears.reports.scoped import Scope
from arrears.reports.sqldates import days_between, plus_days

WINDOW_DAYS = 14
LETTER_WENT = ("rendered", "mailed", "returned")
EMAIL_WENT = ("sent", "bounced")
CALL_TASKS = ("task", "closed")


class Statement:
    """A statement built in pieces, its parameters kept in the order of its text."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.params: list[Any] = []

    def add(self, text: str, *params: Any) -> Statement:
        self.parts.append(text)
        self.params.extend(params)
        return self

    @property
    def text(self) -> str:
        return "".join(self.parts)


def q(name: str) -> str:
    return connection.ops.quote_name(name)


def literal(day: date) -> str:
    """A date as an SQL literal (a date's ISO text holds no quote)."""
    if bulk.is_postgres():
        return f"DATE '{day.isoformat()}'"
    return f"'{day.isoformat()}'"


def bytewise(column: str) -> str:
    """A text column compared byte by byte, where only equality matters (a partition, a
    group): on PostgreSQL the "C" collation, which sorts far faster than the database's
    locale; the same groups, as equal texts are equal in either."""
    return f'{column} COLLATE "C"' if bulk.is_postgres() else column


def greatest(a: str, b: str) -> str:
    return f"GREATEST({a}, {b})" if bulk.is_postgres() else f"MAX({a}, {b})"


def least(a: str, b: str) -> str:
    return f"LEAST({a}, {b})" if bulk.is_postgres() else f"MIN({a}, {b})"


def islands(stmt: Statement, name: str, source: str, keys: str, texts: str = "") -> None:
    """`name`: the day intervals [s, e] of the relation `source` (columns `keys`, `texts`, s, e)
    merged per key where they overlap or touch, so that no day of a key is in two of them: the
    intervals sorted by start, a new island wherever one starts after every earlier one ended
    (gaps and islands, one window for the latest end before, one for the island's number)."""
    part = ", ".join([keys, *[bytewise(t.strip()) for t in texts.split(",") if t.strip()]])
    keys = ", ".join(k for k in (keys, texts) if k)
    stmt.add(
        f", {name}_x AS (SELECT {keys}, s, e, MAX(e) OVER (PARTITION BY {part} ORDER BY s, e"
        " ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS ended FROM"
        f" {source})"
        f", {name}_g AS (SELECT {keys}, s, e, SUM(CASE WHEN ended IS NOT NULL"
        f" AND s <= {plus_days('ended', 1)} THEN 0 ELSE 1 END) OVER (PARTITION BY {part}"
        f" ORDER BY s, e ROWS UNBOUNDED PRECEDING) AS island FROM {name}_x)"
        f", {name} AS (SELECT {keys}, MIN(s) AS s, MAX(e) AS e FROM {name}_g"
        f" GROUP BY {keys}, island)"
    )


def json_text(column: str, key: str) -> str:
    if bulk.is_postgres():
        return f"({column} ->> '{key}')"
    return f"json_extract({column}, '$.{key}')"


def as_text(column: str) -> str:
    return f"CAST({column} AS VARCHAR(20))"


def accounts(stmt: Statement, scope: Scope, currency: str) -> None:
    """`acc`: the accounts in scope in `currency`, with their property's fields."""
    stmt.add(
        "acc AS (SELECT a.id AS account_id, p.property_id AS property_id,"
        " p.portfolio AS portfolio, p.country AS country, p.state AS state"
        f" FROM {sql.table(Account)} a LEFT JOIN {sql.table(Property)} p ON p.id = a.property_id"
        f" WHERE a.currency = %s{scope.on('a.id')})",
        currency,
        *scope.params,
    )


def notices(stmt: Statement, first: date, last: date) -> None:
    """`n`: the notices sent (module docstring) to accounts of `acc` on `first` … `last`, one row
    per account, policy, step, channel and day."""
    out, sms, act = sql.table(Outbound), sql.table(OutboundSms), sql.table(Action)
    lit = ", ".join
    stmt.add(
        ", sent AS ("
        "SELECT o.account_id, o.policy, o.step, o.channel,"
        " COALESCE(o.mailed_on, o.dated_on, o.run_on) AS day"
        f" FROM {out} o WHERE o.policy <> '' AND o.channel <> 'email'"
        f" AND o.status IN ({lit(['%s'] * len(LETTER_WENT))}) AND o.run_on <= %s"
        " UNION ALL SELECT o.account_id, o.policy, o.step, o.channel,"
        " COALESCE(o.dated_on, o.run_on)"
        f" FROM {out} o WHERE o.policy <> '' AND o.channel = 'email'"
        f" AND o.status IN ({lit(['%s'] * len(EMAIL_WENT))}) AND o.run_on <= %s"
        " UNION ALL SELECT s.account_id, COALESCE(x.policy, ''), COALESCE(x.step, ''), 'sms',"
        f" s.{q('on')} FROM {sms} s LEFT JOIN {act} x ON x.{q('key')} = s.{q('key')}"
        f" WHERE s.status = 'sent' AND s.{q('on')} <= %s"
        " UNION ALL SELECT x.account_id, x.policy, x.step, 'call', x.run_on"
        f" FROM {act} x WHERE x.channel = 'call'"
        f" AND x.status IN ({lit(['%s'] * len(CALL_TASKS))}) AND x.run_on <= %s)"
        ", n AS (SELECT DISTINCT s.account_id, s.policy, s.step, s.channel, s.day FROM sent s"
        " JOIN acc ON acc.account_id = s.account_id WHERE s.day >= %s AND s.day <= %s)",
        *LETTER_WENT,
        sql.day(last),
        *EMAIL_WENT,
        sql.day(last),
        sql.day(last),
        *CALL_TASKS,
        sql.day(last),
        sql.day(first),
        sql.day(last),
    )


def spans(stmt: Statement, first: date, last: date) -> None:
    """`spans`: each open charge of `acc`'s accounts, by the days its open amount held: open
    (`cents`) from the end of `open_from` to the end of the day before `open_until` (None: still
    open on `last`); only those open at some day's start in `first` … `last`. A charge's
    open-item deltas are netted per day (ledger.models.OpenItemDelta), so a running sum over
    them in date order is its open amount at each day's end. The deltas before `first` are
    summed per charge into one row dated `first` − 1 (what was open at `first`'s start): the
    window then sorts the period's deltas only, not the book's history; a charge closed before
    `first` (its sum zero) has no such row, as a zero it would add nothing to the sums. That
    sum is read backwards (`open_before`): what is open at the end of the book less the
    deltas from `first` on, not the history before `first` summed forwards. A
    span's `open_from` is only compared with days from `first` on, which the earlier day
    passes as the true one would. A charge is past due and open at the start of D when
    due_on < D, open_from < D and open_until is None or >= D."""
    base = literal(first - timedelta(days=1))
    stmt.add(
        # the deltas from `first` on, read once: the period's, and those that read back
        ", dl AS MATERIALIZED (SELECT item_id, account_id, due_on, on_date, delta"
        f" FROM {sql.table(OpenItemDelta)} WHERE is_credit = %s AND due_on <= %s"
        " AND on_date >= %s AND account_id IN (SELECT account_id FROM acc))"
        ", d AS (SELECT item_id, account_id, due_on, on_date, delta FROM dl"
        " WHERE on_date <= %s"
        f" UNION ALL SELECT item_id, account_id, due_on, {base}, SUM(cents)"
        f" FROM ({open_before('item_id, account_id, due_on', 'due_on <= %s', 'dl')}) z"
        " GROUP BY item_id, account_id, due_on HAVING SUM(cents) <> 0)"
        ", r AS (SELECT account_id, due_on, on_date AS open_from,"
        " LEAD(on_date) OVER (PARTITION BY item_id ORDER BY on_date) AS open_until,"
        " SUM(delta) OVER (PARTITION BY item_id ORDER BY on_date) AS cents FROM d)"
        ", spans AS MATERIALIZED (SELECT account_id, due_on, open_from, open_until, cents FROM r"
        " WHERE cents > 0 AND (open_until IS NULL OR open_until >= %s))",
        False,
        sql.day(last),
        sql.day(first),
        sql.day(last),
        False,
        sql.day(last),
        sql.day(last),
        sql.day(first),
    )


def open_before(columns: str, where: str, late: str, who: str = "acc") -> str:
    """Rows (`columns`, cents) that sum, per item, to what each open charge (not credit) of
    `acc`'s accounts held as `first` began, its deltas before `first`: what is open at the end
    of the book (`OpenItem`, the sum of all its deltas) less its deltas from `first` on (those
    of the relation `late`: every charge delta of `acc` from `first` on that `where` keeps).
    The book's history before `first` is not read. Parameters: False (not credit), `where`'s
    one (a condition on due_on), then `where`'s again. `who`: the relation of the accounts
    (`acc` unless said)."""
    mine = f"account_id IN (SELECT account_id FROM {who})"
    return (
        f"SELECT {columns}, amount AS cents FROM {sql.table(OpenItem)}"
        f" WHERE is_credit = %s AND {where} AND {mine}"
        f" UNION ALL SELECT {columns}, -delta FROM {late} WHERE {where}"
    )


def past_due(stmt: Statement, days: str, first: date, last: date, who: str = "acc") -> None:
    """`pd`: the past due of each (account_id, day) of the relation `days` (days from `first`
    on) at the start of that day, in one running sum per account. A charge's delta (on
    `on_date`, due `due_on`) counts in the past due at the start of D exactly when on_date < D
    and due_on < D, that is when max(on_date, due_on) < D: so the deltas sorted by that day,
    each (account, day) of `days` sorted before the deltas of its own day, and summed in that
    order, give at each day's row its past due. The deltas with that day before `first` count
    at every day asked: they are summed per account into one row first (a hash aggregate), and
    the window sorts the period's deltas only (that sum read backwards, `open_before`). One pass
    over the accounts' deltas (those of `who`, `acc` unless said), whatever the number of days
    asked."""
    key = greatest("on_date", "due_on")
    delta = sql.table(OpenItemDelta)
    no_day = "CAST(NULL AS date)" if bulk.is_postgres() else "NULL"
    stmt.add(
        # the deltas read once: the period's, those due in it, and those that read back
        f", pdl AS MATERIALIZED (SELECT account_id, due_on, on_date, delta FROM {delta}"
        " WHERE is_credit = %s AND due_on <= %s AND (on_date >= %s OR due_on >= %s)"
        f" AND account_id IN (SELECT account_id FROM {who}))"
        f", ev AS (SELECT account_id, {key} AS k, 1 AS kind, delta AS cents, {no_day} AS day"
        " FROM pdl WHERE on_date <= %s"
        f" UNION ALL SELECT account_id, {literal(first - timedelta(days=1))}, 1, SUM(cents),"
        f" {no_day} FROM ({open_before('account_id', 'due_on < %s', 'pdl', who)}) z"
        " GROUP BY account_id"
        f" UNION ALL SELECT account_id, day, 0, 0, day FROM {days})"
        ", run AS (SELECT account_id, day, kind, SUM(cents) OVER (PARTITION BY account_id"
        " ORDER BY k, kind ROWS UNBOUNDED PRECEDING) AS cents FROM ev)"
        ", pd AS (SELECT account_id, day, cents FROM run WHERE kind = 0)",
        False,
        sql.day(last),
        sql.day(first),
        sql.day(first),
        sql.day(last),
        False,
        sql.day(first),
        sql.day(first),
    )


def _block(day: str, origin: date) -> str:
    # the run of 14 days from `origin` that `day` is in (truncated: the one around `origin`
    # is longer, which the join below allows, each run being 14 days or more)
    return f"({days_between(day, literal(origin))} / {WINDOW_DAYS})"


def payments(days: tuple[date, date], who: str = "") -> str:
    """A derived table of the payments that can follow a day of `days` (the statement's days,
    first and last: a bound the planner reads, so that a join hashes the period's payments,
    not the book's), each with the day it was first reversed (`reversed_on`, none if never):
    the book's reversals, few, grouped and hashed once rather than looked up per payment.
    Each payment is there twice, by `b`, the run of 14 days it is in and the one before: a
    day D's payments (D … D + 13) are all in D's run or the next, so a join on the account
    and D's run (`paid_after`) finds each once, among the account's payments of 28 days, not
    among all its payments of the period. `who`: a relation of the accounts whose payments
    are wanted (all unless said)."""
    first, last = days
    mine = f" AND p.account_id IN (SELECT account_id FROM {who})" if who else ""
    txn = sql.table(Transaction)
    # twice as a UNION ALL (not a join to two rows, which the planner would join after the
    # account's payments, with `b` then a filter, not a key)
    paid = (
        "SELECT p.id, p.account_id, p.posted_on, p.amount, rv.on_day AS reversed_on,"
        " {b} AS b FROM {txn} p LEFT JOIN (SELECT reverses_id, MIN(posted_on) AS on_day"
        " FROM {txn} WHERE type = 'reversal' AND reverses_id IS NOT NULL"
        " GROUP BY reverses_id) rv ON rv.reverses_id = p.id WHERE p.type = 'payment'"
        " AND p.posted_on >= {first} AND p.posted_on <= {last}{mine}"
    )
    return "({} UNION ALL {})".format(
        *(
            paid.format(
                b=f"{_block('p.posted_on', first)} - {k}",
                txn=txn,
                first=literal(first),
                last=literal(last + timedelta(days=WINDOW_DAYS - 1)),
                mine=mine,
            )
            for k in (0, 1)
        )
    )


def paid_after(
    account: str, day: str, days: tuple[date, date], *, many: bool = False, who: str = ""
) -> str:
    """A join to `t`, the payments of `account` in the 14 days from `day` (one of `days`,
    first and last) that no reversal posted by the last of them undid. For `many` days on
    PostgreSQL (the notices'), the period's payments hashed once by account and run of 14
    days (`payments`); otherwise (a few days, as the contacts', or on SQLite, which cannot
    hash a join to a derived table and would scan it for each day) the account's payments
    by the transactions' index, each reversal looked up by its unique key (a count, not NOT
    EXISTS, which PostgreSQL would plan as an anti join hashing every reversal of the book
    for each payment). `who`, for many days: as `payments`."""
    end = plus_days(day, WINDOW_DAYS - 1)
    if not (many and bulk.is_postgres()):
        first, last = days
        txn = sql.table(Transaction)
        return (
            f" JOIN {txn} t ON t.account_id = {account} AND t.type = 'payment'"
            f" AND t.posted_on >= {day} AND t.posted_on <= {end}"
            f" AND t.posted_on >= {literal(first)}"
            f" AND t.posted_on <= {literal(last + timedelta(days=WINDOW_DAYS - 1))}"
            f" AND (SELECT COUNT(*) FROM {txn} rv WHERE rv.reverses_id = t.id"
            f" AND rv.type = 'reversal' AND rv.posted_on <= {end}) = 0"
        )
    return (
        f" JOIN {payments(days, who)} t ON t.account_id = {account}"
        f" AND t.b = {_block(day, days[0])} AND t.posted_on >= {day} AND t.posted_on <= {end}"
        f" AND (t.reversed_on IS NULL OR t.reversed_on > {end})"
    )


def run(
    query: str, params: list[Any], *, merge: bool = True, sort: bool = True
) -> list[tuple[Any, ...]]:
    """Run one of these statements; on PostgreSQL with room to hash (as `scoped.aggregate`)
    and without nested loops. PostgreSQL cannot estimate the rows of a common table expression
    made of a window or a DISTINCT and takes each for one row, then joins two of them in a
    nested loop: on bench/reports.py's book of 200 accounts (3,512 notices seeded),
    `what-works` took 65 s that way, every row of a CTE scanned again for each row of the other
    (10.9 M rows filtered out), against SQLite's 0.4 s. The joins here are all of whole sets
    (hash joins)."""
    if not bulk.is_postgres():
        return sql.rows(query, params)
    with transaction.atomic():
        bulk.execute("SET LOCAL work_mem = '256MB'")
        bulk.execute("SET LOCAL enable_nestloop = off")
        # compiling these plans (tens of nodes over hundreds of thousands of rows) cost more
        # than it saved: 4.9 s of JIT in what-works' 40 s on the bench's book
        bulk.execute("SET LOCAL jit = off")
        if not merge:
            bulk.execute("SET LOCAL enable_mergejoin = off")
        if not sort:
            # groups hashed, not sorted: the planner, misreading a CTE's rows, would sort
            # hundreds of thousands of rows to group them (the windows still sort)
            bulk.execute("SET LOCAL enable_sort = off")
        return sql.rows(query, params)


def earlier(day: date, days: int) -> date:
    return day - timedelta(days=days)
