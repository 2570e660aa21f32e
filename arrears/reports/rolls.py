"""The roll rates' sums (docs/metrics.md, "Roll rates"), per account, from the open-item deltas:
read by `metrics` for a period, and by `snapshots` for each whole month it builds (kept in
`AgingRoll`, so that the metrics of whole months read them instead).

Invariant: one aggregate statement per call, grouped per account; whole cents.
"""

from __future__ import annotations

from datetime import date

from arrears.core import sql
from arrears.ledger.aging import Buckets
from arrears.ledger.models import OpenItemDelta
from arrears.reports import formulas
from arrears.reports.scoped import Scope, aggregate

BUCKETS = Buckets((0, 30, 60, 90))
ROLLS = 4  # from each of the first four buckets to the next


def roll_sums(
    scope: Scope, first: date, last: date, *, starts: bool
) -> list[tuple[int, list[int]]]:
    """Per account, for each roll: the amount in its bucket on the first day of each month of
    the period, and what of those same charges is open on the month's last day in a later
    bucket, each summed over the months (docs/metrics.md, "Roll rates").

    Only the deltas of charges due late enough to be in a roll's bucket on the period's first
    day are read; each is paired with the months (a table of their limits) in which it can
    count: posted by the month's first day (a charge's first delta is the day it was posted),
    dated by its last, due no more than 90 days before its first. A CASE per month and bucket on
    every delta instead took 1.2 s on the 10k-account / 1M-transaction book (PostgreSQL), and a
    join to the transactions for the posting day 0.4 s of it; this takes 0.6 s. Without
    `starts` (read from the snapshots instead) only what rolled is summed."""
    spans = formulas.month_spans(first, last)
    limits, params = [], []
    for span in spans:
        at_start = [low for low, _high in BUCKETS.due_limits(span.first)]
        at_end = [low for low, _high in BUCKETS.due_limits(span.last)]
        limits.append("(" + ", ".join(["%s"] * 8) + ")")
        params += [sql.day(d) for d in (*at_start[:4], *at_end[:4])]  # type: ignore[arg-type]
    # s0..s3: the lowest due day of each bucket on the month's first day (s0 is that day);
    # e0..e3: the same on its last day (e0 is that day); due before e_k: past bucket k by then.
    bucket = [
        "x.due_on >= s.s0",
        "x.due_on < s.s0 AND x.due_on >= s.s1",
        "x.due_on < s.s1 AND x.due_on >= s.s2",
        "x.due_on < s.s2 AND x.due_on >= s.s3",
    ]
    columns = []
    if starts:
        columns += [
            f"SUM(CASE WHEN x.on_date <= s.s0 AND {b} THEN x.delta ELSE 0 END)" for b in bucket
        ]
    columns += [
        f"SUM(CASE WHEN {b} AND x.due_on < s.e{k} THEN x.delta ELSE 0 END)"
        for k, b in enumerate(bucket)
    ]
    earliest_due = BUCKETS.due_limits(spans[0].first)[ROLLS - 1][0]
    assert earliest_due is not None
    params += [False, sql.day(last), sql.day(earliest_due), *scope.params]
    rows = aggregate(
        f"WITH s(s0, s1, s2, s3, e0, e1, e2, e3) AS (VALUES {', '.join(limits)}),"
        " x AS (SELECT account_id, due_on, on_date, delta,"
        " MIN(on_date) OVER (PARTITION BY item_id) AS posted_on"
        f" FROM {sql.table(OpenItemDelta)}"
        " WHERE is_credit = %s AND on_date <= %s AND due_on >= %s"
        f"{scope.on('account_id')})"
        f" SELECT x.account_id, {', '.join(columns)} FROM x JOIN s"
        " ON x.posted_on <= s.s0 AND x.on_date <= s.e0 AND x.due_on >= s.s3"
        " GROUP BY x.account_id",
        params,
    )
    return [(pk, [int(c or 0) for c in cents]) for pk, *cents in rows]
