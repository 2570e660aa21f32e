"""`manager-digest`: the week of each of the reader's buildings (docs/metrics.md, "Daily
review, aging trend and the manager's digest"), against the end of the day a week before.

Invariants: as `reports.daily`'s (whose helpers it shares): the aging lines of the two days are
one statement (`aging_days.lines_at`), each kind of activity one aggregate grouped by building;
one currency per document; the scope is given (a manager's buildings, another company's manager
none).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from arrears.dunning.models import Action
from arrears.ledger.models import Account
from arrears.legal.models import CaseEvent
from arrears.plans.models import Plan, Promise
from arrears.reports import daily_figures as fig
from arrears.reports.aging_days import accounts_in, lines_at
from arrears.reports.daily import WEEK, money, one_currency, scoped
from arrears.reports.document import Chart, Column, Document, Series, Table
from arrears.reports.registry import Ask, register
from arrears.reports.scoped import scope_of

LARGEST = 3  # the largest balances listed per building
SENT = ("queued", "task", "done", "closed")  # a notice the run sent or queued (not refused)


@register(
    "manager-digest",
    _("Weekly digest of your buildings"),
    summary=_(
        "each of your buildings: balance and past due against a week ago, new delinquencies,"
        " notices, promises, plans, cases and the largest balances"
    ),
)
def manager_digest_report(ask: Ask) -> Document:
    data = manager_digest_data(ask)
    buildings = data["properties"]
    columns = (
        Column("property_id", _("property")),
        Column("name", _("name")),
        Column("balance_week_ago", _("balance a week ago"), "money"),
        Column("balance", _("balance"), "money"),
        Column("past_due_week_ago", _("past due a week ago"), "money"),
        Column("past_due", _("past due"), "money"),
        Column("new_delinquencies", _("new delinquencies"), "int"),
        Column("notices", _("notices sent"), "int"),
        Column("promises_made", _("promises made"), "int"),
        Column("promises_kept", _("promises kept"), "int"),
        Column("promises_broken", _("promises broken"), "int"),
        Column("plans_started", _("plans started"), "int"),
        Column("plans_broken", _("plans broken"), "int"),
        Column("cases", _("cases referred or changed"), "int"),
    )
    largest = [{"property_id": b["property_id"], **row} for b in buildings for row in b["largest"]]
    tables = (
        Table(_t("Your buildings this week"), columns, buildings, total=data["totals"]),
        Table(
            _t("Largest balances"),
            (
                Column("property_id", _("property")),
                Column("account_id", _("account")),
                Column("balance", _("balance"), "money"),
                Column("past_due", _("past due"), "money"),
            ),
            largest,
        ),
        Table(
            _t("Cases referred or changed"),
            (
                Column("property_id", _("property")),
                Column("account_id", _("account")),
                Column("case_id", _("case"), "int"),
                Column("firm", _("firm")),
                Column("on", _("day"), "date"),
                Column("status", _("status")),
            ),
            data["case_changes"],
        ),
    )
    chart = Chart(
        "bars",
        _t("Past due by building, a week ago and now"),
        tuple(b["property_id"] for b in buildings),
        (
            Series(_t("a week ago"), tuple(Decimal(b["past_due_week_ago"]) for b in buildings)),
            Series(_t("now"), tuple(Decimal(b["past_due"]) for b in buildings)),
        ),
        unit="money",
        currency=data["currency"],
        description=_t("The past due of each building a week before the day and on the day."),
    )
    return Document(
        "manager-digest",
        _t("Weekly digest of your buildings"),
        _t("%(first)s to %(last)s") % {"first": data["from"], "last": data["to"]},
        data,
        tables,
        (chart,),
    )


def manager_digest_data(ask: Ask) -> dict[str, Any]:
    """The digest's JSON: per building of the scope (a building with an account in it), the
    week from `as_of` - 6 to `as_of` against the end of the day a week before."""
    accounts, currency = one_currency(ask)
    scope = scope_of(accounts)
    day, first = ask.as_of, ask.as_of - timedelta(days=WEEK - 1)
    week_ago = day - timedelta(days=WEEK)
    lines = lines_at((week_ago, day), scope)
    keys = accounts_in(scope)
    then = {pk: fig.line_of(v, 0) for pk, v in lines.items()}
    now = {pk: fig.line_of(v, 1) for pk, v in lines.items()}
    props: dict[str, dict[str, Any]] = {}
    for account in keys.values():
        props.setdefault(account.property_id, {"name": account.property_name})
    sums: dict[str, list[int]] = {p: [0, 0, 0, 0, 0] for p in props}
    for pk in lines:
        row = sums[keys[pk].property_id]
        row[0] += fig.balance(then[pk])
        row[1] += fig.balance(now[pk])
        row[2] += fig.past_due(then[pk])
        row[3] += fig.past_due(now[pk])
    for pk in fig.newly_past_due(then, now):
        sums[keys[pk].property_id][4] += 1
    counts = _week_counts(first, day, accounts)
    changes = _case_changes(first, day, accounts)
    cases: dict[str, set[int]] = defaultdict(set)
    for change in changes:
        cases[change["property_id"]].add(change["case_id"])
    largest: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
    for pk, line in now.items():
        if fig.balance(line) > 0:
            largest[keys[pk].property_id].append((pk, fig.balance(line), fig.past_due(line)))
    buildings = []
    for prop in sorted(props):
        s = sums[prop]
        top = sorted(largest[prop], key=lambda r: (-r[1], keys[r[0]].account_id))[:LARGEST]
        buildings.append(
            {
                "property_id": prop,
                "name": props[prop]["name"],
                "balance_week_ago": money(s[0]),
                "balance": money(s[1]),
                "past_due_week_ago": money(s[2]),
                "past_due": money(s[3]),
                "new_delinquencies": s[4],
                **{kind: counts[kind].get(prop, 0) for kind in WEEK_COUNTS},
                "cases": len(cases[prop]),
                "largest": [
                    {"account_id": keys[pk].account_id, "balance": money(b), "past_due": money(p)}
                    for pk, b, p in top
                ],
            }
        )
    total: dict[str, Any] = {"property_id": _t("Total")}
    for field in ("balance_week_ago", "balance", "past_due_week_ago", "past_due"):
        total[field] = f"{sum((Decimal(b[field]) for b in buildings), Decimal(0)):.2f}"
    for field in ("new_delinquencies", *WEEK_COUNTS, "cases"):
        total[field] = sum(b[field] for b in buildings)
    return {
        "from": first.isoformat(),
        "to": day.isoformat(),
        "week_ago": week_ago.isoformat(),
        "currency": currency,
        "properties": buildings,
        "totals": total,
        "case_changes": changes,
    }


WEEK_COUNTS = (
    "notices",
    "promises_made",
    "promises_kept",
    "promises_broken",
    "plans_started",
    "plans_broken",
)


def _week_counts(
    first: date, last: date, accounts: QuerySet[Account] | None
) -> dict[str, dict[str, int]]:
    """Per kind (WEEK_COUNTS), per building: how many in [first, last] (a query each)."""
    promises = scoped(Promise.objects.all(), accounts)
    plans = scoped(Plan.objects.all(), accounts)
    week = {"gte": first, "lte": last}

    def within(field: str) -> dict[str, date]:
        return {f"{field}__{op}": d for op, d in week.items()}

    chosen = {
        "notices": scoped(
            Action.objects.filter(action="notice", status__in=SENT, **within("run_on")),
            accounts,
        ),
        "promises_made": promises.filter(**within("made_on")),
        "promises_kept": promises.filter(status="kept", **within("settled_on")),
        "promises_broken": promises.filter(status="broken", **within("settled_on")),
        "plans_started": plans.filter(**within("made_on")),
        "plans_broken": plans.filter(status="broken", **within("ended_on")),
    }
    return {
        kind: {
            prop or "": n
            for prop, n in rows.values_list("account__property__property_id")
            .annotate(n=Count("pk"))
            .order_by()
        }
        for kind, rows in chosen.items()
    }


def _case_changes(
    first: date, last: date, accounts: QuerySet[Account] | None
) -> list[dict[str, Any]]:
    """The cases' events of the week (a referral is its case's first: `legal.services`), by the
    day each happened (`CaseEvent.on`; the day it was recorded is not the book's)."""
    events = CaseEvent.objects.filter(on__gte=first, on__lte=last)
    if accounts is not None:
        events = events.filter(case__account__in=accounts)
    return [
        {
            "property_id": prop or "",
            "account_id": account_id,
            "case_id": case_id,
            "firm": firm,
            "on": on.isoformat(),
            "status": status,
        }
        for prop, account_id, case_id, firm, on, status in events.order_by(
            "case__account__property__property_id", "case__account__account_id", "on", "pk"
        ).values_list(
            "case__account__property__property_id",
            "case__account__account_id",
            "case_id",
            "case__firm",
            "on",
            "status",
        )
    ]
