"""`arrears report metrics`: opening and closing receivables, billed, collected, CEI, DSO
(count-back and simple) and roll rates over a period, for the whole book or by property,
portfolio or coordinator (docs/metrics.md defines each).

Invariants:
- Set-based: three aggregate queries over the book, each grouped per account (the
  transactions of the period and of the count-back's months, the payments' reversals, the
  open-item deltas), whatever the number of accounts or transactions; the per-account sums are
  whole cents (`int`), added per group in Python, and turned into `Decimal` once per output
  line (`formulas`), never per transaction.
- Where the daily snapshots (`reports.snapshots`) cover the days a period needs, the balances
  and the roll sums are read from them (and, for whole months, from their `AgingRoll` rows)
  instead of from a year of deltas; the figures are the same either way (a test compares them).
- The receivables are the aging's balance (open charges less unapplied credit, the same deltas
  `ledger.selectors.aging_report` sums), so opening and closing agree with `arrears aging` as of
  the day before `from` and as of `to`.
- Scope is given, not decided here: `accounts` (a queryset, None for the whole book) is what
  the caller may see, and the coordinator of each account (`coordinators`) comes from the
  access part, which owns assignments and sits above this one.
- One document per currency: amounts of different currencies are never added.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from arrears.core import sql
from arrears.core.errors import ValidationError
from arrears.core.fields import from_cents
from arrears.ledger.aging import Buckets
from arrears.ledger.models import Account, OpenItemDelta, Property, Transaction
from arrears.reports import formulas, snapshots, sqldates
from arrears.reports.rolls import roll_sums
from arrears.reports.scoped import Scope, aggregate, scope_of

BY_CHOICES = ("property", "portfolio", "coordinator")
ALL = "ALL"
# From each of the first four buckets to the next (or any later one: see docs/metrics.md).
ROLLS = ("current->1-30", "1-30->31-60", "31-60->61-90", "61-90->91+")
_BUCKETS = Buckets((0, 30, 60, 90))

# The per-account vector of cents, by position.
BILLED, PAID, REVERSED, OPENING, CLOSING, CURRENT = range(6)
START = 6  # ROLLS' starting amounts, then what of them rolled
ROLLED = START + len(ROLLS)
COUNTBACK = ROLLED + len(ROLLS)
WIDTH = COUNTBACK + formulas.COUNTBACK_MONTHS


@dataclass(frozen=True)
class Period:
    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValidationError(
                _("the period ends ({to}) before it starts ({start})"),
                code="period_reversed",
                start=self.first.isoformat(),
                to=self.last.isoformat(),
                field="to",
            )

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def metrics(
    *,
    period: Period,
    by: str | None = None,
    accounts: QuerySet[Account] | None = None,
    coordinators: Mapping[int, str] | None = None,
    currencies: list[str] | None = None,
    from_snapshots: bool = True,
) -> list[dict[str, Any]]:
    """The metrics of `period` over `accounts` (None: the whole book), one document per
    currency (of `currencies`, those with no account too; else of the accounts'), each with
    one group per key (`ALL` without `by`; every property, portfolio or coordinator that has an
    account, "" for none). `coordinators` maps an account's pk to its coordinator's user name
    (needed by `by="coordinator"`). The balances and the roll rates' month-start buckets are
    read from the daily snapshots when every day they need is built (and `from_snapshots`),
    from the book's deltas otherwise: the same figures either way. Raises ValidationError for an
    unknown `by`."""
    if by is not None and by not in BY_CHOICES:
        raise ValidationError(
            _("metrics are by one of {choices}, not {by!r}"),
            code="metrics_by_unknown",
            by=by,
            choices=", ".join(BY_CHOICES),
            field="by",
        )
    scope = scope_of(accounts)
    keys = _account_keys(scope, by, coordinators or {})
    sums: dict[int, list[int]] = defaultdict(lambda: [0] * WIDTH)
    groups: dict[str, dict[str, list[int]]] = defaultdict(dict)
    for currency, group, position, cents in _transaction_sums(scope, period, by):
        if by == "coordinator":
            currency, group = keys[group]
        key = group if by is not None else ALL
        groups[currency].setdefault(key, [0] * WIDTH)[position] += cents
    for pk, cents in _reversal_sums(scope, period):
        sums[pk][REVERSED] += cents
    needed = _snapshot_days(period)
    whole_months = period.first.day == 1 and (period.last + timedelta(days=1)).day == 1
    rolls: list[tuple[int, list[int]]]
    if from_snapshots and snapshots.covers([day for _position, day, _amount in needed]):
        if whole_months:  # the balances from the snapshots, the rolls from each month's sums
            needed = needed[:3]
            rolls = snapshots.roll_months(period.first, period.last, scope)
        else:  # the month-start buckets from the snapshots, what rolled from the deltas
            rolls = [
                (pk, [0] * len(ROLLS) + values)
                for pk, values in roll_sums(scope, period.first, period.last, starts=False)
            ]
        for pk, values in snapshots.sums_on(needed, scope, WIDTH):
            for i, cents in enumerate(values):
                sums[pk][i] += cents
    else:
        for pk, values in _delta_sums(scope, period):
            for i, cents in enumerate(values):
                sums[pk][OPENING + i] += cents
        rolls = roll_sums(scope, period.first, period.last, starts=True)
    for pk, values in rolls:
        for i, cents in enumerate(values):
            sums[pk][START + i] += cents
    for pk, (currency, key) in keys.items():
        line = groups[currency].setdefault(key, [0] * WIDTH)
        for i, cents in enumerate(sums.get(pk, ())):
            line[i] += cents
    wanted = sorted(set(currencies or ()) | set(groups)) or [_default_currency()]
    return [_document(period, groups.get(c, {}), c, by) for c in wanted]


def metrics_json(docs: list[dict[str, Any]]) -> dict[str, Any] | list[dict[str, Any]]:
    """The command's and the API's JSON, shaped as the aging's (`ledger.selectors.aging_json`):
    the object itself for a book in one currency, a list of one per currency otherwise."""
    return docs[0] if len(docs) == 1 else docs


def _default_currency() -> str:
    return str(Account._meta.get_field("currency").default)


def _document(
    period: Period, groups: dict[str, list[int]], currency: str, by: str | None
) -> dict[str, Any]:
    if by is None:
        groups = {ALL: groups.get(ALL, [0] * WIDTH)}
    return {
        "from": period.first.isoformat(),
        "to": period.last.isoformat(),
        "currency": currency,
        "groups": [_group(key, groups[key], period) for key in sorted(groups)],
    }


def _group(key: str, v: list[int], period: Period) -> dict[str, Any]:
    spans = formulas.countback_spans(period.last)
    countback = [(v[COUNTBACK + i], span.days) for i, span in enumerate(spans)]
    text = formulas.rate_text
    return {
        "key": key,
        "opening_receivables": f"{from_cents(v[OPENING]):.2f}",
        "billed": f"{from_cents(v[BILLED]):.2f}",
        "collected": f"{from_cents(v[PAID] - v[REVERSED]):.2f}",
        "closing_receivables": f"{from_cents(v[CLOSING]):.2f}",
        "closing_current": f"{from_cents(v[CURRENT]):.2f}",
        "cei": text(
            formulas.cei(
                opening=v[OPENING],
                billed=v[BILLED],
                closing=v[CLOSING],
                closing_current=v[CURRENT],
            )
        ),
        "dso_countback": text(formulas.dso_countback(closing=v[CLOSING], billed=countback)),
        "dso_simple": text(
            formulas.dso_simple(closing=v[CLOSING], billed=v[BILLED], days=period.days)
        ),
        "roll_rates": {
            name: text(formulas.share(v[ROLLED + i], v[START + i])) for i, name in enumerate(ROLLS)
        },
    }


def _snapshot_days(period: Period) -> list[tuple[int, date, str]]:
    """What the snapshots give (`snapshots.sums_on`): the opening balance (the day before the
    period), the closing one and what is current at the close, and each roll's starting bucket
    on the first day of each month of the period."""
    wanted = [
        (OPENING, period.first - timedelta(days=1), "balance"),
        (CLOSING, period.last, "balance"),
        (CURRENT, period.last, snapshots.COLUMNS[0]),
    ]
    for span in formulas.month_spans(period.first, period.last):
        wanted += [(START + k, span.first, snapshots.COLUMNS[k]) for k in range(len(ROLLS))]
    return wanted


def _account_keys(
    scope: Scope, by: str | None, coordinators: Mapping[int, str]
) -> dict[int, tuple[str, str]]:
    """Each account in scope: (its currency, its group's key)."""
    account, prop = sql.table(Account), sql.table(Property)
    rows = sql.rows(
        f"SELECT a.id, a.currency, p.property_id, p.portfolio FROM {account} a"
        f" LEFT JOIN {prop} p ON p.id = a.property_id WHERE 1 = 1{scope.on('a.id')}",
        scope.params,
    )
    out = {}
    for pk, currency, property_id, portfolio in rows:
        if by == "property":
            key = property_id or ""
        elif by == "portfolio":
            key = portfolio or ""
        elif by == "coordinator":
            key = coordinators.get(pk, "")
        else:
            key = ALL
        out[pk] = (currency, key)
    return out


def _transaction_sums(
    scope: Scope, period: Period, by: str | None
) -> list[tuple[str, Any, int, int]]:
    """(currency, group, position, cents): billed and paid in the period, and billed in each
    count-back month. Grouped in SQL by the group itself (its property or portfolio; an
    account's pk when by coordinator, whose map is the caller's) and the month of posting: a
    CASE per count-back month on each of a year's transactions cost 1.4 s of 2.8 on the
    10k-account / 1M-transaction book (PostgreSQL, bench/reports.py), the grouping 0.16 s."""
    spans = formulas.countback_spans(period.last)
    month_of = {f"{span.first:%Y-%m}": COUNTBACK + i for i, span in enumerate(spans)}
    key = {
        None: "a.currency",
        "property": "COALESCE(p.property_id, '')",
        "portfolio": "COALESCE(p.portfolio, '')",
        "coordinator": "a.id",
    }[by]
    month = sqldates.month_of("t.posted_on")
    earliest = min(period.first, spans[-1].first)
    rows = aggregate(
        f"SELECT a.currency, {key}, t.type, {month},"
        " CASE WHEN t.posted_on >= %s THEN 1 ELSE 0 END, SUM(t.amount)"
        f" FROM {sql.table(Transaction)} t JOIN {sql.table(Account)} a ON a.id = t.account_id"
        f" LEFT JOIN {sql.table(Property)} p ON p.id = a.property_id"
        " WHERE t.posted_on >= %s AND t.posted_on <= %s"
        " AND (t.type = %s OR (t.type = %s AND t.posted_on >= %s))"
        f"{scope.on('t.account_id')} GROUP BY 1, 2, 3, 4, 5",
        [
            sql.day(period.first),
            sql.day(earliest),
            sql.day(period.last),
            "charge",
            "payment",
            sql.day(period.first),
            *scope.params,
        ],
    )
    out = []
    for currency, group, kind, posted_month, inside, cents in rows:
        amount = int(cents or 0)
        if kind == "payment":
            out.append((currency, group, PAID, amount))
            continue
        if inside:
            out.append((currency, group, BILLED, amount))
        if str(posted_month) in month_of:
            out.append((currency, group, month_of[str(posted_month)], amount))
    return out


def _reversal_sums(scope: Scope, period: Period) -> list[tuple[int, int]]:
    """Per account: the reversals posted in the period of payments (a reversed credit was no
    collection). Reversals are few: read through the posting-date index, each joined to its
    payment by key."""
    txn = sql.table(Transaction)
    rows = aggregate(
        f"SELECT t.account_id, SUM(t.amount) FROM {txn} t JOIN {txn} r ON r.id = t.reverses_id"
        " WHERE t.type = %s AND r.type = %s AND t.posted_on >= %s AND t.posted_on <= %s"
        f"{scope.on('t.account_id')} GROUP BY t.account_id",
        ["reversal", "payment", sql.day(period.first), sql.day(period.last), *scope.params],
    )
    return [(pk, int(cents or 0)) for pk, cents in rows]


def _delta_sums(scope: Scope, period: Period) -> list[tuple[int, list[int]]]:
    """Per account, from the open-item deltas (the aging's): the opening and closing balance
    and what is current at the close."""
    signed = "CASE WHEN is_credit = %s THEN -delta ELSE delta END"
    rows = aggregate(
        f"SELECT account_id, SUM(CASE WHEN on_date <= %s THEN {signed} ELSE 0 END),"
        f" SUM({signed}), SUM(CASE WHEN is_credit = %s AND due_on >= %s THEN delta ELSE 0 END)"
        f" FROM {sql.table(OpenItemDelta)} WHERE on_date <= %s{scope.on('account_id')}"
        " GROUP BY account_id",
        [
            sql.day(period.first - timedelta(days=1)),
            True,
            True,
            False,
            sql.day(period.last),
            sql.day(period.last),
            *scope.params,
        ],
    )
    return [(pk, [int(c or 0) for c in cents]) for pk, *cents in rows]
