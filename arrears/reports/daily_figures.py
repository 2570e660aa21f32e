"""The daily review's and the weekly digest's arithmetic over aging lines (pure: no Django, no
database, no clock).

An aging line is an account's open charges by bucket (current, 1-30, 31-60, 61-90, 91+ days past
due, as `arrears aging`) and its unapplied credit, six whole-cent `int`s in that order
(`reports.snapshots.COLUMNS`). Definitions (docs/metrics.md, "Daily review, aging trend and the
manager's digest"):
- balance: the five buckets less the credit (the aging's balance);
- past due: the open charges more than 0 days past due, the four buckets after "current"
  (unapplied credit is not netted against it: the aging shows it apart);
- a new delinquency on D: an account past due at the end of D (past due > 0) that was not at
  the end of the day compared with (the day before, or a week before for the digest);
- a mover: an account whose balance or past due changed between two days; its move is the
  change of its balance, or of its past due when that change is larger in size (a charge falling
  past due moves the past due, not the balance); the largest rises and falls are listed.

Invariants: amounts stay whole cents here; they are turned into decimal strings by the caller,
once per output line. Lists come out in a stable order (by size, then account id).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from arrears.reports.formulas import share

WIDTH = 6  # current, 1-30, 31-60, 61-90, 91+, credit
BUCKETS = 5
LABELS = ("current", "1-30", "31-60", "61-90", "91+")
CREDIT = 5
OVER_60_FROM = 3  # the buckets 61-90 and 91+
MOVERS = 20


def balance(line: Sequence[int]) -> int:
    """Open charges less unapplied credit."""
    return sum(line[:BUCKETS]) - line[CREDIT]


def past_due(line: Sequence[int]) -> int:
    """The open charges more than 0 days past due."""
    return sum(line[1:BUCKETS])


def line_of(lines: Sequence[int], index: int) -> tuple[int, ...]:
    """Day `index`'s line out of a run of lines laid end to end (`aging_days.lines_at`)."""
    return tuple(lines[index * WIDTH : (index + 1) * WIDTH])


def add(total: list[int], line: Sequence[int]) -> None:
    for i, cents in enumerate(line):
        total[i] += cents


@dataclass(frozen=True)
class Move:
    pk: int
    balance_before: int
    balance: int
    past_due_before: int
    past_due: int

    @property
    def size(self) -> int:
        """The move: the balance's change, or the past due's when larger in size."""
        by_balance = self.balance - self.balance_before
        by_past_due = self.past_due - self.past_due_before
        return by_past_due if abs(by_past_due) > abs(by_balance) else by_balance


def moves(before: Mapping[int, Sequence[int]], after: Mapping[int, Sequence[int]]) -> list[Move]:
    """Every account whose balance or past due differs between two days' lines (an account
    absent from one has a zero line on it)."""
    zero = (0,) * WIDTH
    out = []
    for pk in set(before) | set(after):
        was, now = before.get(pk, zero), after.get(pk, zero)
        move = Move(pk, balance(was), balance(now), past_due(was), past_due(now))
        if move.size:
            out.append(move)
    return out


def movers(
    found: Iterable[Move], names: Mapping[int, str], limit: int = MOVERS
) -> tuple[list[Move], list[Move]]:
    """The `limit` largest rises and the `limit` largest falls, each largest first (ties by
    account id, `names`: pk to account id)."""
    rows = list(found)
    up = sorted((m for m in rows if m.size > 0), key=lambda m: (-m.size, names.get(m.pk, "")))
    down = sorted((m for m in rows if m.size < 0), key=lambda m: (m.size, names.get(m.pk, "")))
    return up[:limit], down[:limit]


def newly_past_due(
    before: Mapping[int, Sequence[int]], after: Mapping[int, Sequence[int]]
) -> list[int]:
    """The accounts past due in `after` and not in `before`."""
    zero = (0,) * WIDTH
    return sorted(
        pk
        for pk, line in after.items()
        if past_due(line) > 0 and past_due(before.get(pk, zero)) == 0
    )


def share_over_60(line: Sequence[int]) -> Decimal | None:
    """The open charges more than 60 days past due over all open charges (4 places, half up);
    None with nothing open."""
    return share(sum(line[OVER_60_FROM:BUCKETS]), sum(line[:BUCKETS]))
