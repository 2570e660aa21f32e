"""Daily aging snapshots: each account's aging line (the open charges by bucket, 0/30/60/90 days
past due, and its unapplied credit) as of each day's end, kept compactly, so that a trend over
months and the metrics' balances read a few rows instead of a year of open-item deltas.

Invariants (see also `reports.models`):
- Set-based: a build runs one INSERT … SELECT per calendar month over the ledger's
  `OpenItemDelta` rows, never a loop over accounts or days in Python. An account's line changes
  on a day only when one of its deltas is dated that day or one of its open charges crosses a
  bucket's limit (1, 31, 61 and 91 days after it is due); each delta is turned into those
  changes (its own day's, and each crossing after it), summed per account and day, kept where
  not zero, and added up in date order (a window sum) from the line of the day before.
- Rows: on the first built day and on the first of each month, every account with anything
  open (a keyframe); on any other day, only an account whose line changed. The line as of a
  built day D is the account's row of the latest day in [max(the first of D's month, the first
  built day), D], zero when there is none.
- Exactly the aging: the same deltas and the same buckets as `ledger.selectors.aging_report`
  (a test holds every account's line equal to it, day by day).
- Idempotent and self-correcting: each built day keeps a fingerprint of the deltas dated that
  day (their number and a weighted sum). A build first compares the built days' fingerprints
  with the book's; from the first day that differs (an import of a back-dated transaction, a
  replay), or from `date_from` when given and earlier, everything is deleted and rebuilt. A day
  already built and unchanged is not built again. The built days stay one unbroken run: a build
  asked to start after the last built day starts the day after it.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import transaction

from arrears.core import sql
from arrears.core.dates import today
from arrears.ledger import bulk
from arrears.ledger.aging import Buckets
from arrears.ledger.models import OpenItemDelta
from arrears.reports.models import AgingRoll, AgingSnapshot, SnapshotDay
from arrears.reports.notice_days import notice_days_keep
from arrears.reports.rolls import roll_sums
from arrears.reports.scoped import Scope, scope_of
from arrears.reports.sqldates import plus_days

BUCKETS = Buckets((0, 30, 60, 90))
COLUMNS = ("current", "d1_30", "d31_60", "d61_90", "d91_plus", "credit")
# A charge due on D leaves bucket j on D + CROSSINGS[j] (1, 31, 61 and 91 days past due).
CROSSINGS = tuple(b + 1 for b in BUCKETS.boundaries)
FINGERPRINT_PRIME = 9973


@dataclass(frozen=True)
class Built:
    """What a build did: the days (re)built, from which (None: nothing to do), the rows
    written, and the run of built days after it."""

    rebuilt_from: date | None
    days: int
    rows: int
    first: date | None
    last: date | None

    def as_json(self) -> dict[str, Any]:
        return {
            "rebuilt_from": self.rebuilt_from.isoformat() if self.rebuilt_from else None,
            "days": self.days,
            "rows": self.rows,
            "first": self.first.isoformat() if self.first else None,
            "last": self.last.isoformat() if self.last else None,
        }


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _day_param() -> str:
    return "CAST(%s AS date)" if bulk.is_postgres() else "%s"


def coverage() -> tuple[date, date] | None:
    """The first and last built days, or None when nothing is built."""
    rows = sql.rows(f"SELECT MIN(day), MAX(day) FROM {sql.table(SnapshotDay)}", [])
    first, last = rows[0]
    if first is None:
        return None
    return _as_date(first), _as_date(last)


def _fingerprints(first: date, last: date) -> dict[date, tuple[int, int]]:
    """Per day of [first, last] with deltas: their number and weighted sum (zero days absent)."""
    rows = sql.rows(
        f"SELECT on_date, COUNT(*), SUM(delta * (item_id %% {FINGERPRINT_PRIME} + 1))"
        f" FROM {sql.table(OpenItemDelta)} WHERE on_date >= %s AND on_date <= %s"
        " GROUP BY on_date",
        [sql.day(first), sql.day(last)],
    )
    return {_as_date(d): (int(n), int(s or 0)) for d, n, s in rows}


def _first_changed(first: date, last: date) -> date | None:
    """The first built day whose deltas are no longer those it was built from."""
    now = _fingerprints(first, last)
    then = {
        _as_date(d): (int(n), int(s))
        for d, n, s in sql.rows(
            f"SELECT day, deltas, fingerprint FROM {sql.table(SnapshotDay)}", []
        )
    }
    changed = [d for d in set(now) | set(then) if now.get(d, (0, 0)) != then.get(d, (0, 0))]
    return min(changed) if changed else None


def _book_first_day() -> date | None:
    rows = sql.rows(f"SELECT MIN(on_date) FROM {sql.table(OpenItemDelta)}", [])
    return _as_date(rows[0][0]) if rows[0][0] is not None else None


def _month_chunks(first: date, last: date) -> list[tuple[date, date]]:
    chunks = []
    start = first
    while start <= last:
        end = start.replace(day=calendar.monthrange(start.year, start.month)[1])
        chunks.append((start, min(end, last)))
        start = end + timedelta(days=1)
    return chunks


def snapshots_build(
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Built:
    """Build the snapshots of the days up to `date_to` (default: today) that are not built or
    whose deltas changed, and of every day from `date_from` when given (a forced rebuild).
    Without `date_from` and with nothing built, the build starts on the book's first day.
    `progress(days done, days to do)` is called after each month."""
    end = date_to or today()
    with transaction.atomic():
        bulk.write_lock(SnapshotDay._meta.db_table)
        built = coverage()
        if built is None:
            start = date_from or _book_first_day()
            fresh_from = start
        else:
            first, last = built
            changed = _first_changed(first, last)
            candidates = [last + timedelta(days=1)]
            if changed is not None:
                candidates.append(changed)
            if date_from is not None:
                candidates.append(date_from)
            start = min(candidates)
            end = max(end, last) if start <= last else end
            fresh_from = start if start < first else first
        if start is None or fresh_from is None or start > end:
            _keep_notice_days()
            return Built(None, 0, 0, *(built or (None, None)))
        _delete_from(start, everything=built is not None and start < built[0])
        chunks = _month_chunks(start, end)
        total, done, rows = (end - start).days + 1, 0, 0
        for first_day, last_day in chunks:
            keyframe = first_day.day == 1 or first_day == fresh_from
            from_snapshots = first_day > fresh_from
            rows += _build_chunk(first_day, last_day, keyframe, from_snapshots, fresh_from)
            _record_days(first_day, last_day)
            month = first_day.replace(day=1)
            if month >= fresh_from and last_day.month != (last_day + timedelta(days=1)).month:
                _record_rolls(month, last_day)
            done += (last_day - first_day).days + 1
            if progress is not None:
                progress(done, total)
        if bulk.is_postgres():  # the reads' plans need the new rows' statistics
            for model in (AgingSnapshot, AgingRoll):
                bulk.execute(f"ANALYZE {sql.table(model)}")
        _keep_notice_days()
        return Built(start, total, rows, *(coverage() or (None, None)))


def _keep_notice_days() -> None:
    """The notice days of the built run whose 14 days it covers (`notice_days`), with the
    snapshots: what a later read of `notices` takes instead of computing them."""
    built = coverage()
    if built is not None:
        notice_days_keep(first=built[0], last=built[1])


def _delete_from(start: date, *, everything: bool) -> None:
    for model, column, since in (
        (AgingSnapshot, "day", start),
        (SnapshotDay, "day", start),
        (AgingRoll, "month", start.replace(day=1)),
    ):
        if everything:
            bulk.execute(f"DELETE FROM {sql.table(model)}")
        else:
            bulk.execute(f"DELETE FROM {sql.table(model)} WHERE {column} >= ?", [sql.day(since)])


ROLL_COLUMNS = [f"start{k}" for k in range(4)] + [f"rolled{k}" for k in range(4)]


def _record_rolls(month: date, last: date) -> None:
    """The roll sums of a whole built month, per account (`AgingRoll`)."""
    rows = [
        (pk, sql.day(month), *values)
        for pk, values in roll_sums(scope_of(None), month, last, starts=True)
        if any(values)
    ]
    bulk.insert_plain_rows(AgingRoll._meta.db_table, ["account_id", "month", *ROLL_COLUMNS], rows)


def roll_months(first: date, last: date, scope: Scope) -> list[tuple[int, list[int]]]:
    """Per account, the roll sums of the whole months from `first` (a first day) to `last` (a
    last day), summed: the four starts, then the four rolled. The caller has checked that
    every day is built (`covers`), so every month's rows are written."""
    sums = ", ".join(f"SUM({col})" for col in ROLL_COLUMNS)
    rows = sql.rows(
        f"SELECT account_id, {sums} FROM {sql.table(AgingRoll)}"
        f" WHERE month >= %s AND month <= %s{scope.on('account_id')} GROUP BY account_id",
        [sql.day(first), sql.day(last), *scope.params],
    )
    return [(pk, [int(v or 0) for v in values]) for pk, *values in rows]


def _record_days(first: date, last: date) -> None:
    prints = _fingerprints(first, last)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    bulk.insert_plain_rows(
        SnapshotDay._meta.db_table,
        ["day", "deltas", "fingerprint"],
        [(sql.day(d), *prints.get(d, (0, 0))) for d in days],
    )


def _build_chunk(
    first: date, last: date, keyframe: bool, from_snapshots: bool, built_first: date
) -> int:
    """Write the rows of [first, last] (one calendar month at most); returns how many."""
    delta, snap = sql.table(OpenItemDelta), sql.table(AgingSnapshot)
    day = _day_param()
    # The line as of the day before: dated `first` on a keyframe (so that every account with
    # anything open gets a row), the day before otherwise (only the changes are written).
    base_day = first if keyframe else first - timedelta(days=1)
    if from_snapshots:
        base, base_params = _base_from_snapshots(first - timedelta(days=1), built_first)
    else:
        base, base_params = _base_from_deltas(first - timedelta(days=1))
    false, true = False, True
    x = [plus_days("due_on", n) for n in CROSSINGS]
    own_day = [
        f"CASE WHEN is_credit = %s AND on_date < {x[0]} THEN delta ELSE 0 END",
        *(
            f"CASE WHEN is_credit = %s AND on_date >= {x[i - 1]} AND on_date < {x[i]}"
            " THEN delta ELSE 0 END"
            for i in range(1, len(x))
        ),
        f"CASE WHEN is_credit = %s AND on_date >= {x[-1]} THEN delta ELSE 0 END",
        "CASE WHEN is_credit = %s THEN delta ELSE 0 END",
    ]
    own_params = [false] * (len(x) + 1) + [true]
    if bulk.is_postgres():
        crossing = "(d.due_on + k.shift)"
    else:
        crossing = "date(d.due_on, '+' || k.shift || ' days')"
    moved = [
        "CASE WHEN k.j = 0 THEN -d.delta ELSE 0 END",
        *(
            f"CASE WHEN k.j = {m} THEN -d.delta WHEN k.j = {m - 1} THEN d.delta ELSE 0 END"
            for m in range(1, len(x))
        ),
        f"CASE WHEN k.j = {len(x) - 1} THEN d.delta ELSE 0 END",
        "0",
    ]
    offsets = ", ".join(f"({j}, {n})" for j, n in enumerate(CROSSINGS))
    c = [f"c{i}" for i in range(len(COLUMNS))]
    sums = ", ".join(f"SUM({col}) AS {col}" for col in c)
    nonzero = " OR ".join(f"SUM({col}) <> 0" for col in c)
    running = ", ".join(f"SUM({col}) OVER (PARTITION BY a ORDER BY dd) AS {col}" for col in c)
    earliest_due = first - timedelta(days=CROSSINGS[-1])
    query = (
        f"INSERT INTO {snap} (account_id, day, {', '.join(COLUMNS)})"
        f" WITH k(j, shift) AS (VALUES {offsets}),"
        f" ev(a, dd, {', '.join(c)}) AS ("
        f"{base}"
        f" UNION ALL SELECT account_id, on_date, {', '.join(own_day)} FROM {delta}"
        " WHERE on_date >= %s AND on_date <= %s"
        f" UNION ALL SELECT d.account_id, {crossing}, {', '.join(moved)}"
        f" FROM {delta} d CROSS JOIN k"
        " WHERE d.is_credit = %s AND d.due_on >= %s AND d.due_on < %s AND d.on_date < %s"
        f" AND {crossing} >= %s AND {crossing} <= %s AND d.on_date < {crossing}),"
        f" net AS (SELECT a, dd, {sums} FROM ev GROUP BY a, dd HAVING {nonzero}),"
        f" lines AS (SELECT a, dd, {running} FROM net)"
        f" SELECT a, dd, {', '.join(c)} FROM lines WHERE dd >= {day}"
    )
    params = [
        sql.day(base_day),
        *base_params,
        *own_params,
        sql.day(first),
        sql.day(last),
        false,
        sql.day(earliest_due),
        sql.day(last),
        sql.day(last),
        sql.day(first),
        sql.day(last),
        sql.day(first),
    ]
    with transaction.atomic():
        if bulk.is_postgres():
            bulk.execute("SET LOCAL work_mem = '256MB'")
        with _cursor() as cursor:
            cursor.execute(query, params)
            return int(cursor.rowcount)


def _cursor() -> Any:
    from django.db import connection

    return connection.cursor()


def _base_from_deltas(as_of: date) -> tuple[str, list[Any]]:
    """Each account's line as of `as_of` from the deltas (the aging's sums), dated by the
    statement's first parameter."""
    limits = BUCKETS.due_limits(as_of)
    columns, params = [], []
    for low, high in limits:
        cond, more = ["is_credit = %s"], [False]
        if low is not None:
            cond.append("due_on >= %s")
            more.append(sql.day(low))
        if high is not None:
            cond.append("due_on <= %s")
            more.append(sql.day(high))
        columns.append(f"SUM(CASE WHEN {' AND '.join(cond)} THEN delta ELSE 0 END)")
        params += more
    columns.append("SUM(CASE WHEN is_credit = %s THEN delta ELSE 0 END)")
    params += [True, sql.day(as_of)]
    return (
        f"SELECT account_id, {_day_param()}, {', '.join(columns)}"
        f" FROM {sql.table(OpenItemDelta)} WHERE on_date <= %s GROUP BY account_id",
        params,
    )


def _window_start(day: date, built_first: date) -> date:
    return max(day.replace(day=1), built_first)


def _latest(window: tuple[date, date], scope: Scope | None = None) -> tuple[str, list[Any]]:
    """The rows of each account's latest day in `window` (both ends included): a keyframe's
    own rows when the window is one day; else, on PostgreSQL, DISTINCT ON by the (account,
    day) index, elsewhere the rows of each account's latest day."""
    snap = sql.table(AgingSnapshot)
    on = scope.on("account_id") if scope else ""
    cols = ", ".join(COLUMNS)
    params = [*(scope.params if scope else [])]
    if window[0] == window[1]:
        return (
            f"SELECT account_id, {cols} FROM {snap} WHERE day = %s{on}",
            [sql.day(window[0]), *params],
        )
    if bulk.is_postgres():
        return (
            f"SELECT DISTINCT ON (account_id) account_id, {cols} FROM {snap}"
            f" WHERE day >= %s AND day <= %s{on} ORDER BY account_id, day DESC",
            [sql.day(window[0]), sql.day(window[1]), *params],
        )
    return (
        f"SELECT s.account_id, {', '.join('s.' + col for col in COLUMNS)} FROM {snap} s"
        f" JOIN (SELECT account_id AS pk, MAX(day) AS last FROM {snap}"
        f" WHERE day >= %s AND day <= %s{on} GROUP BY account_id) l"
        " ON l.pk = s.account_id AND l.last = s.day",
        [sql.day(window[0]), sql.day(window[1]), *params],
    )


def _base_from_snapshots(as_of: date, built_first: date) -> tuple[str, list[Any]]:
    latest, params = _latest((_window_start(as_of, built_first), as_of))
    columns = ", ".join(f"x.{col}" for col in COLUMNS)
    return f"SELECT x.account_id, {_day_param()}, {columns} FROM ({latest}) x", params


def covers(days: Iterable[date]) -> bool:
    """Whether every one of `days` is built."""
    built = coverage()
    return built is not None and all(built[0] <= d <= built[1] for d in days)


def lines_on(day: date, scope: Scope | None = None) -> dict[int, tuple[int, ...]]:
    """Each account's line as of a built day (account pk: the six amounts in cents, COLUMNS'
    order), the accounts with nothing open left out. Raises LookupError for a day not built."""
    built = coverage()
    if built is None or not built[0] <= day <= built[1]:
        raise LookupError(f"no snapshot of {day.isoformat()}")
    query, params = _latest((_window_start(day, built[0]), day), scope)
    return {
        pk: tuple(int(v) for v in values) for pk, *values in sql.rows(query, params) if any(values)
    }


def sums_on(
    wanted: list[tuple[int, date, str]], scope: Scope, width: int
) -> list[tuple[int, list[int]]]:
    """Per account, `width` sums: each (position, day, amount) of `wanted` adds to `position`
    the account's `amount` (a column of COLUMNS, or "balance": the buckets less the credit) as
    of that built day. One statement: each day's lines read once, summed per account into one
    column per position. The caller has checked that each day is built (`covers`)."""
    built = coverage()
    assert built is not None
    days = sorted({day for _position, day, _amount in wanted})
    parts, params = [], []
    for i, day in enumerate(days):
        latest, more = _latest((_window_start(day, built[0]), day), scope)
        parts.append(f"SELECT {i} AS di, x.* FROM ({latest}) x")
        params += more
    balance = " + ".join(f"u.{col}" for col in COLUMNS[:-1]) + " - u.credit"
    terms: dict[int, list[str]] = {}
    for position, day, amount in wanted:
        value = balance if amount == "balance" else f"u.{COLUMNS[COLUMNS.index(amount)]}"
        terms.setdefault(position, []).append(f"WHEN u.di = {days.index(day)} THEN {value}")
    positions = sorted(terms)
    columns = ", ".join(f"SUM(CASE {' '.join(terms[p])} ELSE 0 END)" for p in positions)
    rows = sql.rows(
        f"SELECT u.account_id, {columns} FROM ({' UNION ALL '.join(parts)}) u"
        " GROUP BY u.account_id",
        params,
    )
    out = []
    for pk, *values in rows:
        line = [0] * width
        for p, v in zip(positions, values, strict=True):
            line[p] += int(v or 0)
        out.append((pk, line))
    return out
