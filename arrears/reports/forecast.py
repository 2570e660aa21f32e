"""The reports of the month's collection goals (docs/metrics.md, "Forecast vs actual"):
`forecast`, each goal of the month against what was collected to date, its pace, its gap and the
accounts that would close it; `weekly`, the week's metrics next to the month's goal and pace.

Invariants:
- A goal is shown only to a reader whose scope holds every account it is measured on
  (`goal_store.keys_wholly_in`): a part of its collections is never compared with all of it.
- Collected, charges due and past due are `goal_store`'s (the metrics' collected, the
  worklist's past due); the ranking of the accounts that would close a gap is the worklist's
  (expected recovery: past due × `dunning.worklist.likelihoods`), through `goals.closers`.
- Set-based: one aggregate per figure over the book, whatever the number of goals; the
  likelihoods are the worklist's own read, for the accounts with something past due.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from arrears.core.fields import from_cents, to_cents
from arrears.dunning.worklist import likelihoods
from arrears.reports import goal_store
from arrears.reports.builtin import currencies_of, in_currency
from arrears.reports.document import Chart, Column, Document, Series, Table
from arrears.reports.goals import Candidate, Month, closers, cumulative, pace, progress, weeks
from arrears.reports.metrics import Period, metrics
from arrears.reports.registry import Ask, register

GOAL_BYS = ("property", "portfolio")


def money(cents: int | None) -> str | None:
    return None if cents is None else f"{from_cents(cents):.2f}"


def _kind(ask: Ask) -> str:
    return ask.by or "book"


def _visible_goals(ask: Ask, month: Month) -> list[Any]:
    kind = _kind(ask)
    goals = list(goal_store.goals_of(month=month.first, kind=kind, currency=ask.currency))
    wholly = goal_store.keys_wholly_in(kind, ask.accounts)
    return [g for g in goals if wholly is None or g.scope_key in wholly]


def _scope_label(kind: str, key: str) -> str:
    return key if kind != "book" else _t("the book")


@register(
    "forecast",
    _("Forecast vs actual"),
    bys=GOAL_BYS,
    summary=_(
        "each goal of the month: collected to date, its pace, the gap and who would close it"
    ),
)
def forecast_report(ask: Ask) -> Document:
    month = Month.of(ask.as_of)
    kind = _kind(ask)
    goals = _visible_goals(ask, month)
    scope = in_currency(ask)
    collected = goal_store.collected_daily(kind, month.first, ask.as_of, scope)
    owed = [
        p
        for p in goal_store.past_due(kind, ask.as_of, scope)
        if p.key in {g.scope_key for g in goals}
    ]
    odds = likelihoods(sorted(p.pk for p in owed), ask.as_of) if owed else {}
    candidates: dict[tuple[str, str], list[Candidate]] = defaultdict(list)
    for p in owed:
        candidates[p.key, p.currency].append(Candidate(p.account_id, p.cents, odds[p.pk]))
    cuts = weeks(month)
    rows, charts, tables = [], [], []
    for goal in goals:
        name = (goal.scope_key, goal.currency)
        daily = collected.get(name, [])
        got = sum(cents for day, cents in daily)
        target = to_cents(goal.amount)
        state = progress(target, got, ask.as_of)
        close = closers(candidates.get(name, []), state.gap)
        marks = [w.last for w in cuts]
        so_far = cumulative(daily, marks)
        week_rows = [
            {
                "first": w.first.isoformat(),
                "last": w.last.isoformat(),
                "collected": money(so_far[i]) if w.first <= ask.as_of else None,
                "pace": money(pace(target, w.last)),
            }
            for i, w in enumerate(cuts)
        ]
        row = {
            "scope": goal.scope_kind,
            "key": goal.scope_key,
            "currency": goal.currency,
            "source": goal.source,
            "goal": money(target),
            "collected": money(got),
            "pace": money(state.pace),
            "status": "ahead" if state.ahead else "behind",
            "difference": money(state.difference),
            "gap": money(state.gap),
            "closers_needed": close.needed,
            "closers_cover": money(close.covered),
            "closers": [
                {
                    "rank": c.rank,
                    "account_id": c.candidate.account_id,
                    "past_due": money(c.candidate.past_due),
                    "likelihood": f"{c.candidate.likelihood:.2f}",
                    "expected_recovery": money(c.candidate.expected),
                    "cumulative": money(c.cumulative),
                }
                for c in close.listed
            ],
            "weeks": week_rows,
        }
        rows.append(row)
        label = _scope_label(goal.scope_kind, goal.scope_key)
        charts.append(
            Chart(
                "line",
                _t("%(scope)s: collected to date and the goal's pace") % {"scope": label},
                tuple(f"{w.first:%m-%d}–{w.last:%m-%d}" for w in cuts),
                (
                    Series(
                        _t("collected"),
                        tuple(
                            from_cents(so_far[i]) if w.first <= ask.as_of else None
                            for i, w in enumerate(cuts)
                        ),
                    ),
                    Series(_t("pace"), tuple(from_cents(pace(target, w.last)) for w in cuts)),
                ),
                "money",
                goal.currency,
                _t(
                    "Collected from the first of the month to the end of each week, and the "
                    "goal's pace (%(goal)s %(currency)s spread evenly over the month's days)"
                )
                % {"goal": money(target), "currency": goal.currency},
            )
        )
        if row["closers"]:
            tables.append(
                Table(
                    _t("%(scope)s: the accounts that would close the gap of %(gap)s")
                    % {"scope": label, "gap": row["gap"]},
                    CLOSER_COLUMNS,
                    row["closers"],
                    note=_t("in the worklist's order: past due × likelihood, largest first"),
                )
            )
    summary = Table(
        _t("Goals of %(month)s") % {"month": month.label},
        GOAL_COLUMNS,
        [{**r, "key": _scope_label(r["scope"], r["key"])} for r in rows],
        note=_t("pace: the goal × the days elapsed / the days of the month"),
    )
    data = {
        "as_of": ask.as_of.isoformat(),
        "month": month.label,
        "by": kind,
        "days_elapsed": ask.as_of.day,
        "days_in_month": month.days,
        "goals": rows,
    }
    notes = () if goals else (_t("No goal is set for this month in this scope."),)
    return Document(
        "forecast",
        _t("Forecast vs actual"),
        _t("%(month)s, as of %(day)s") % {"month": month.label, "day": ask.as_of},
        data,
        (summary, *tables),
        tuple(charts),
        notes,
    )


GOAL_COLUMNS = (
    Column("key", _("scope")),
    Column("currency", _("currency")),
    Column("goal", _("goal"), "money"),
    Column("collected", _("collected"), "money"),
    Column("pace", _("pace"), "money"),
    Column("status", _("status")),
    Column("difference", _("ahead (+) / behind (−)"), "money"),
    Column("gap", _("gap to the goal"), "money"),
    Column("closers_needed", _("accounts to close it"), "int"),
)
CLOSER_COLUMNS = (
    Column("rank", _("rank"), "int"),
    Column("account_id", _("account")),
    Column("past_due", _("past due"), "money"),
    Column("likelihood", _("likelihood"), "rate"),
    Column("expected_recovery", _("expected recovery"), "money"),
    Column("cumulative", _("cumulative past due"), "money"),
)


@register(
    "weekly",
    _("The week vs the month's goal"),
    bys=GOAL_BYS,
    summary=_("the week's collected, billed and CEI next to the month's goal and pace"),
)
def weekly_report(ask: Ask) -> Document:
    first = ask.as_of - timedelta(days=6)
    month = Month.of(ask.as_of)
    kind = _kind(ask)
    docs = metrics(
        period=Period(first, ask.as_of),
        by=ask.by,
        accounts=in_currency(ask),
        currencies=currencies_of(ask),
    )
    goals = {(g.scope_key, g.currency): g for g in _visible_goals(ask, month)}
    to_date = goal_store.due_and_collected(kind, month.first, ask.as_of, in_currency(ask))
    rows = []
    for doc in docs:
        for group in doc["groups"]:
            key = "" if kind == "book" else group["key"]
            goal = goals.get((key, doc["currency"]))
            got = to_date.get((key, doc["currency"]), (0, 0))[1]
            state = progress(to_cents(goal.amount), got, ask.as_of) if goal else None
            rows.append(
                {
                    "key": group["key"],
                    "currency": doc["currency"],
                    "collected": group["collected"],
                    "billed": group["billed"],
                    "cei": group["cei"],
                    "goal": money(state.goal) if state else None,
                    "collected_month": money(got),
                    "pace": money(state.pace) if state else None,
                    "status": ("ahead" if state.ahead else "behind") if state else None,
                    "gap": money(state.gap) if state else None,
                }
            )
    columns = (
        Column("key", _("group")),
        Column("currency", _("currency")),
        Column("collected", _("collected in the week"), "money"),
        Column("billed", _("billed in the week"), "money"),
        Column("cei", _("CEI %"), "percent"),
        Column("goal", _("month's goal"), "money"),
        Column("collected_month", _("collected in the month"), "money"),
        Column("pace", _("pace"), "money"),
        Column("status", _("status")),
        Column("gap", _("gap to the goal"), "money"),
    )
    data = {
        "from": first.isoformat(),
        "to": ask.as_of.isoformat(),
        "month": month.label,
        "by": kind,
        "groups": rows,
    }
    return Document(
        "weekly",
        _t("The week vs the month's goal"),
        _t("%(first)s to %(last)s") % {"first": first, "last": ask.as_of},
        data,
        (Table(_t("The week"), columns, rows),),
        (
            Chart(
                "bars",
                _t("Collected in the month to date and the goal's pace"),
                tuple(r["key"] for r in rows if r["goal"]),
                (
                    Series(
                        _t("collected"),
                        tuple(from_cents(_c(r["collected_month"])) for r in rows if r["goal"]),
                    ),
                    Series(_t("pace"), tuple(from_cents(_c(r["pace"])) for r in rows if r["goal"])),
                ),
                "money",
                rows[0]["currency"] if len({r["currency"] for r in rows}) == 1 else None,
                _t("Each group's collections from the first of the month and its goal's pace"),
            ),
        )
        if any(r["goal"] for r in rows)
        else (),
    )


def _c(text: str | None) -> int:
    return 0 if text is None else to_cents(Decimal(text))
