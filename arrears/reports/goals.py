"""Collection goals, pure (docs/metrics.md, "Forecast vs actual"): the pace of a month's goal, the
accounts that would close its gap, the rate a goal is proposed from, and a goals CSV read.

Invariants: amounts are whole cents (`int`, sums the database made) in and out; a figure made
of a share (the pace, a proposal) is rounded once, half up, to the cent; a rate is a `Decimal`
of 4 places, None when nothing was due. No Django, no database, no clock: the day is passed in.
"""

from __future__ import annotations

import calendar
import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

KINDS = ("property", "portfolio", "book")
IMPORT_KINDS = ("property", "portfolio")  # a CSV's goals (a book's goal is set one by one)
IMPORT_COLUMNS = ("month", "scope", "key", "amount", "currency")
RATE_PLACES = Decimal("0.0001")
RATE_MONTHS = 12  # a proposal's rate: the last 12 full months
CLOSERS_LISTED = 25  # the accounts listed as those that would close a gap


@dataclass(frozen=True)
class Month:
    """A calendar month: its first and last day."""

    first: date

    @property
    def days(self) -> int:
        return calendar.monthrange(self.first.year, self.first.month)[1]

    @property
    def last(self) -> date:
        return self.first.replace(day=self.days)

    @property
    def label(self) -> str:
        return f"{self.first:%Y-%m}"

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.replace(day=1))

    def before(self, months: int) -> Month:
        """The month `months` before this one."""
        index = self.first.year * 12 + self.first.month - 1 - months
        return Month(date(index // 12, index % 12 + 1, 1))


def _half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def pace(goal: int, as_of: date) -> int:
    """What should be collected by the end of `as_of` for the goal of its month to be met at an
    even pace by calendar day: goal × (days elapsed, `as_of` included) / (days in the month),
    in cents, half up."""
    month = Month.of(as_of)
    return _half_up(Decimal(goal) * as_of.day / month.days)


@dataclass(frozen=True)
class Week:
    """A week of a month for the chart: days 1-7, 8-14, 15-21, 22-28 and 29 to the end."""

    first: date
    last: date

    @property
    def label(self) -> str:
        return f"{self.first:%m-%d}–{self.last:%m-%d}"


def weeks(month: Month) -> list[Week]:
    """The month cut into weeks of seven days from its first: 1-7, 8-14, 15-21, 22-28, and the
    days after the 28th (none in a February of 28 days)."""
    out = []
    start = month.first
    while start <= month.last:
        end = min(start + timedelta(days=6), month.last)
        out.append(Week(start, end))
        start = end + timedelta(days=1)
    return out


@dataclass(frozen=True)
class Progress:
    """A goal against what was collected: `pace` as of the day, `ahead` whether collected is at
    or above it, `difference` collected − pace (negative: behind), `gap` what is still to
    collect to meet the goal (0 once met)."""

    goal: int
    collected: int
    pace: int
    ahead: bool
    difference: int
    gap: int


def progress(goal: int, collected: int, as_of: date) -> Progress:
    """The goal's progress as of `as_of` (`pace`)."""
    due = pace(goal, as_of)
    return Progress(
        goal, collected, due, collected >= due, collected - due, max(goal - collected, 0)
    )


@dataclass(frozen=True)
class Candidate:
    """An account that may pay toward a gap: what it has past due and the worklist's
    likelihood that it pays (`dunning.worklist.likelihoods`)."""

    account_id: str
    past_due: int  # cents
    likelihood: Decimal

    @property
    def expected(self) -> int:
        """Expected recovery, as the worklist orders its lines: past due × likelihood, cents."""
        return _half_up(Decimal(self.past_due) * self.likelihood)


@dataclass(frozen=True)
class Closer:
    rank: int
    candidate: Candidate
    cumulative: int  # the past due of this account and every one ranked before it


@dataclass(frozen=True)
class Closers:
    """The accounts that would close a gap, in the worklist's order: `listed` the first
    `CLOSERS_LISTED` of them, `needed` how many it takes for their past due to cover the gap
    (None when all of them do not), `covered` the past due of those `needed` (of all, when
    they do not cover it)."""

    listed: tuple[Closer, ...]
    needed: int | None
    covered: int


def rank(candidates: Iterable[Candidate]) -> list[Candidate]:
    """The worklist's order (`dunning.worklist.worklist`): most expected recovery first, then
    by account id."""
    return sorted(candidates, key=lambda c: (-c.expected, c.account_id))


def closers(candidates: Iterable[Candidate], gap: int) -> Closers:
    """The accounts, in the worklist's order, taken until their past due covers `gap`."""
    if gap <= 0:
        return Closers((), 0, 0)
    taken: list[Closer] = []
    total = 0
    for i, candidate in enumerate(rank(c for c in candidates if c.past_due > 0), start=1):
        total += candidate.past_due
        taken.append(Closer(i, candidate, total))
        if total >= gap:
            return Closers(tuple(taken[:CLOSERS_LISTED]), i, total)
    return Closers(tuple(taken[:CLOSERS_LISTED]), None, total)


def rate_window(month: Month, on: date) -> tuple[Month, Month]:
    """The 12 full months a proposal for `month` reads, made on `on`: those ending with the
    month before `month`, or before `on`'s month when that is earlier (a month not yet over is
    not a full month)."""
    last = Month.of(min(month.first, on.replace(day=1))).before(1)
    return last.before(RATE_MONTHS - 1), last


def collection_rate(collected: int, due: int) -> Decimal | None:
    """Collected / charges due over the same months, 4 places, half up; None when nothing was
    due."""
    if due <= 0:
        return None
    return (Decimal(max(collected, 0)) / Decimal(due)).quantize(RATE_PLACES, ROUND_HALF_UP)


def proposal(rate: Decimal | None, due: int) -> int:
    """A goal proposed: the rate × the charges due in the month, cents, half up (0 with no
    rate)."""
    if rate is None:
        return 0
    return _half_up(rate * due)


@dataclass(frozen=True)
class GoalRow:
    """A goal of an imported CSV, read and checked for form (not yet against the book)."""

    line: int
    month: date
    kind: str
    key: str
    amount: int  # cents
    currency: str  # "" when the file names none


@dataclass(frozen=True)
class RowProblem:
    line: int
    column: str
    reason: str


def read_goals_csv(text: str) -> tuple[list[GoalRow], list[RowProblem]]:
    """The rows of a goals CSV (header `month,scope,key,amount[,currency]`; `month` YYYY-MM,
    `scope` property or portfolio, `amount` positive with at most two decimals, `currency`
    three letters), and what is wrong in each (line 1 is the header). A goal named twice is a
    problem of its second line."""
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in IMPORT_COLUMNS[:4] if c not in header]
    unknown = [c for c in header if c not in IMPORT_COLUMNS]
    if missing or unknown or not header:
        reason = "the header is month,scope,key,amount[,currency]"
        if missing:
            reason += f"; missing: {', '.join(missing)}"
        if unknown:
            reason += f"; unknown: {', '.join(unknown)}"
        return [], [RowProblem(1, "", reason)]
    rows: list[GoalRow] = []
    problems: list[RowProblem] = []
    seen: dict[tuple[date, str, str, str], int] = {}
    for line, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            problems.append(
                RowProblem(line, "", f"{len(values)} fields where the header has {len(header)}")
            )
            continue
        row = dict(zip(header, (v.strip() for v in values), strict=True))
        found = _row(line, row)
        if isinstance(found, RowProblem):
            problems.append(found)
            continue
        name = (found.month, found.kind, found.key, found.currency)
        if name in seen:
            problems.append(RowProblem(line, "key", f"the same goal as line {seen[name]}"))
            continue
        seen[name] = line
        rows.append(found)
    return rows, problems


def _row(line: int, row: dict[str, str]) -> GoalRow | RowProblem:
    month = _month(row["month"])
    if month is None:
        return RowProblem(line, "month", f"not a month (YYYY-MM): {row['month']!r}")
    if row["scope"] not in IMPORT_KINDS:
        return RowProblem(line, "scope", f"property or portfolio, not {row['scope']!r}")
    if not row["key"]:
        return RowProblem(line, "key", "empty: a property's id or a portfolio's name")
    cents = _cents(row["amount"])
    if cents is None:
        reason = f"not an amount with at most 2 decimals: {row['amount']!r}"
        return RowProblem(line, "amount", reason)
    if cents <= 0:
        return RowProblem(line, "amount", f"a goal is more than zero: {row['amount']!r}")
    currency = row.get("currency", "").upper()
    if currency and not (len(currency) == 3 and currency.isalpha()):
        return RowProblem(line, "currency", f"not a currency code: {row['currency']!r}")
    return GoalRow(line, month, row["scope"], row["key"], cents, currency)


def _month(text: str) -> date | None:
    parts = text.split("-")
    if len(parts) != 2 or not all(p.isdigit() for p in parts) or len(parts[0]) != 4:
        return None
    year, month = int(parts[0]), int(parts[1])
    if not (1900 <= year <= 2200 and 1 <= month <= 12):
        return None
    return date(year, month, 1)


def _cents(text: str) -> int | None:
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        return None
    if not value.is_finite() or value != value.quantize(Decimal("0.01")):
        return None
    return int(value * 100)


def cumulative(daily: Sequence[tuple[date, int]], marks: Sequence[date]) -> list[int]:
    """What was collected from the month's start up to each of `marks`, from (day, cents)."""
    out = []
    for mark in marks:
        out.append(sum(cents for day, cents in daily if day <= mark))
    return out
