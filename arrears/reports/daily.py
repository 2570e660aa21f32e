"""The reports a coordinator reads each day, as documents of the registry: `daily` (the day's
review of the receivables) and `aging-trend` (the aging at each of the last 12 month ends); the
week's `manager-digest` (`reports.digest`) and the attorney's `cases` (`reports.cases`) share its
helpers. docs/metrics.md ("Daily review, aging trend and the manager's digest") defines every
figure; `daily_figures` holds the arithmetic.

Invariants:
- Set-based: the aging lines are one statement for all the days a report compares
  (`aging_days.lines_at`: the snapshots where built, else the open-item deltas); what the run
  and the people did (notices, holds, promises, plans, cases) is one aggregate query per kind,
  grouped in the database; nothing is read per account.
- Amounts are whole cents until each output line turns them into a decimal string.
- One currency per document: a scope holding several is refused unless one is named
  (ValidationError `currency_needed`, as `over-60`), so no two currencies are ever added.
- Scope is given (`Ask.accounts`): a property's manager reads their buildings only, another
  company's manager nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from arrears.core.errors import ValidationError
from arrears.core.fields import MoneyField, from_cents
from arrears.dunning.models import Action, Hold, RunLog
from arrears.ledger.collection import month_ends
from arrears.ledger.models import Account
from arrears.plans.models import Plan, Promise
from arrears.reports import daily_figures as fig
from arrears.reports.aging_days import AccountKey, accounts_in, lines_at
from arrears.reports.document import Chart, Column, Document, Series, Table
from arrears.reports.registry import Ask, register
from arrears.reports.scoped import scope_of

ALL = "ALL"
TREND_POINTS = 13  # the last 12 month ends, and the day itself
WEEK = 7


def money(cents: int) -> str:
    return f"{from_cents(cents):.2f}"


def decimal_money(value: Decimal | None) -> str:
    return f"{value or Decimal(0):.2f}"


def one_currency(ask: Ask) -> tuple[QuerySet[Account] | None, str]:
    """The scope in the one currency the document is drawn in: the one asked for, else the
    scope's only one. ValidationError `currency_needed` for a scope in several."""
    accounts = ask.accounts
    everything = accounts if accounts is not None else Account.objects.all()
    if ask.currency:
        return everything.filter(currency=ask.currency), ask.currency
    held = sorted(set(everything.values_list("currency", flat=True)))
    if len(held) > 1:
        raise ValidationError(
            _("the accounts are in several currencies ({currencies}): name one"),
            code="currency_needed",
            currencies=", ".join(held),
            field="currency",
        )
    default = str(Account._meta.get_field("currency").default)
    return accounts, held[0] if held else default


def key_of(pk: int, account: AccountKey, by: str | None, coordinators: Mapping[int, str]) -> str:
    if by == "property":
        return account.property_id
    if by == "portfolio":
        return account.portfolio
    if by == "coordinator":
        return coordinators.get(pk, "")
    return ALL


def amounts(line: list[int] | tuple[int, ...]) -> dict[str, str]:
    """A line as the aging's JSON prints one: each bucket, the credit, the balance (and here
    the past due)."""
    out = {label: money(line[i]) for i, label in enumerate(fig.LABELS)}
    out["credit"] = money(line[fig.CREDIT])
    out["balance"] = money(fig.balance(line))
    out["past_due"] = money(fig.past_due(line))
    return out


def bucket_columns() -> tuple[Column, ...]:
    return (
        Column("current", _("current"), "money"),
        *(Column(label, label, "money") for label in fig.LABELS[1:]),
        Column("credit", _("credit"), "money"),
        Column("balance", _("balance"), "money"),
    )


def scoped(rows: QuerySet[Any], accounts: QuerySet[Account] | None) -> QuerySet[Any]:
    return rows if accounts is None else rows.filter(account__in=accounts)


def _sum(field: str = "amount") -> Sum:
    return Sum(field, output_field=MoneyField())


@register(
    "daily",
    _("Daily A/R review"),
    bys=("property", "portfolio", "coordinator"),
    summary=_(
        "new delinquencies, the largest movers, the aging against the day before and a week"
        " before, and what the daily run did"
    ),
)
def daily_report(ask: Ask) -> Document:
    accounts, currency = one_currency(ask)
    scope = scope_of(accounts)
    day = ask.as_of
    days = (day - timedelta(days=WEEK), day - timedelta(days=1), day)
    lines = lines_at(days, scope)
    keys = accounts_in(scope)
    coordinators = ask.coordinators or {}
    before = {pk: fig.line_of(v, 1) for pk, v in lines.items()}
    after = {pk: fig.line_of(v, 2) for pk, v in lines.items()}
    names = {pk: k.account_id for pk, k in keys.items()}

    groups: dict[str, list[list[int]]] = defaultdict(lambda: [[0] * fig.WIDTH for _d in days])
    totals = [[0] * fig.WIDTH for _d in days]
    for pk, values in lines.items():
        key = key_of(pk, keys[pk], ask.by, coordinators)
        for i in range(len(days)):
            fig.add(groups[key][i], fig.line_of(values, i))
            fig.add(totals[i], fig.line_of(values, i))
    aging = [
        {"key": key, "day": d.isoformat(), **amounts(groups[key][i])}
        for key in sorted(groups)
        for i, d in enumerate(days)
    ]
    aging_totals = [{"day": d.isoformat(), **amounts(totals[i])} for i, d in enumerate(days)]

    fresh = [
        (pk, fig.past_due(after[pk]), fig.balance(after[pk]))
        for pk in fig.newly_past_due(before, after)
    ]
    fresh.sort(key=lambda r: (-r[1], names[r[0]]))
    new_rows = [
        {
            "account_id": names[pk],
            "property_id": keys[pk].property_id,
            "key": key_of(pk, keys[pk], ask.by, coordinators),
            "past_due": money(due),
            "balance": money(bal),
        }
        for pk, due, bal in fresh
    ]
    up, down = fig.movers(fig.moves(before, after), names)

    def mover(m: fig.Move) -> dict[str, Any]:
        return {
            "account_id": names[m.pk],
            "property_id": keys[m.pk].property_id,
            "balance_before": money(m.balance_before),
            "balance": money(m.balance),
            "past_due_before": money(m.past_due_before),
            "past_due": money(m.past_due),
            "move": money(m.size),
        }

    run = _run_of(day, accounts)
    data = {
        "as_of": day.isoformat(),
        "currency": currency,
        "by": ask.by,
        "days": [d.isoformat() for d in days],
        "new_delinquencies": new_rows,
        "new_delinquencies_total": {
            "count": len(fresh),
            "past_due": money(sum(r[1] for r in fresh)),
        },
        "movers": {"up": [mover(m) for m in up], "down": [mover(m) for m in down]},
        "aging": aging,
        "aging_totals": aging_totals,
        "run": run,
    }
    return Document(
        "daily",
        _t("Daily A/R review"),
        _t("as of %(day)s") % {"day": day},
        data,
        _daily_tables(data, ask.by is not None),
        (_aging_chart(days, totals, currency),),
    )


def _daily_tables(data: dict[str, Any], grouped: bool) -> tuple[Table, ...]:
    group = (Column("key", _("group")),) if grouped else ()
    account = (Column("account_id", _("account")), Column("property_id", _("property")))
    moved = (
        *account,
        Column("balance_before", _("balance the day before"), "money"),
        Column("balance", _("balance"), "money"),
        Column("past_due_before", _("past due the day before"), "money"),
        Column("past_due", _("past due"), "money"),
        Column("move", _("move"), "money"),
    )
    total = data["new_delinquencies_total"]
    return (
        Table(
            _t("New delinquencies"),
            (*account, *group, Column("past_due", _("past due"), "money")),
            data["new_delinquencies"],
            total={"account_id": _t("Total"), "past_due": total["past_due"]},
            note=_t("Past due at the end of the day, not at the end of the day before."),
        ),
        Table(_t("Largest rises"), moved, data["movers"]["up"]),
        Table(_t("Largest falls"), moved, data["movers"]["down"]),
        Table(
            _t("Aging by bucket"),
            (*group, Column("day", _("day"), "date"), *bucket_columns()),
            data["aging"] if grouped else data["aging_totals"],
        ),
        Table(
            _t("What the daily run did"),
            (
                Column("what", _("what")),
                Column("detail", _("detail")),
                Column("count", _("count"), "int"),
                Column("amount", _("amount"), "money"),
            ),
            _run_rows(data["run"]),
        ),
    )


def _aging_chart(days: tuple[date, ...], totals: list[list[int]], currency: str) -> Chart:
    return Chart(
        "stacked",
        _t("Aging by bucket a week before, the day before and on the day"),
        tuple(d.isoformat() for d in days),
        tuple(
            Series(label, tuple(from_cents(totals[i][b]) for i in range(len(days))))
            for b, label in enumerate(fig.LABELS)
        ),
        unit="money",
        currency=currency,
        description=_t("Open charges by bucket on %(days)s, stacked.")
        % {"days": ", ".join(d.isoformat() for d in days)},
    )


def _run_of(day: date, accounts: QuerySet[Account] | None) -> dict[str, Any]:
    """What the daily run (and the people) did on `day` over the scope: one aggregate per kind."""
    actions = scoped(Action.objects.filter(run_on=day), accounts)
    notices = [
        {"channel": channel, "status": status, "count": n}
        for channel, status, n in actions.filter(action="notice")
        .values_list("channel", "status")
        .annotate(n=Count("pk"))
        .order_by("channel", "status")
    ]
    others = {
        (kind, status): (n, amount)
        for kind, status, n, amount in actions.exclude(action="notice")
        .values_list("action", "status")
        .annotate(n=Count("pk"), amount=_sum())
        .order_by("action", "status")
    }
    holds = scoped(Hold.objects.all(), accounts)
    placed = [
        {"reason": reason, "count": n}
        for reason, n in holds.filter(placed_on=day)
        .values_list("reason")
        .annotate(n=Count("pk"))
        .order_by("reason")
    ]
    promises = scoped(Promise.objects.all(), accounts)
    plans = scoped(Plan.objects.all(), accounts)

    def counted(rows: QuerySet[Any]) -> dict[str, Any]:
        got = rows.aggregate(n=Count("pk"), amount=_sum())
        return {"count": got["n"], "amount": decimal_money(got["amount"])}

    return {
        "ran": RunLog.objects.filter(run_on=day, dry_run=False, finished_at__isnull=False).exists(),
        "notices": notices,
        "actions": [
            {"action": kind, "status": status, "count": n, "amount": decimal_money(amount)}
            for (kind, status), (n, amount) in sorted(others.items())
        ],
        "holds_placed": placed,
        "holds_released": holds.filter(released_on=day).count(),
        "promises": {
            "due": counted(promises.filter(promised_on=day)),
            "kept": counted(promises.filter(status="kept", settled_on=day)),
            "broken": counted(promises.filter(status="broken", settled_on=day)),
        },
        "plans": {
            "started": counted(plans.filter(made_on=day)),
            "completed": counted(plans.filter(status="completed", ended_on=day)),
            "broken": counted(plans.filter(status="broken", ended_on=day)),
        },
    }


def _run_rows(run: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        {"what": _t("notice"), "detail": f"{n['channel']} {n['status']}", "count": n["count"]}
        for n in run["notices"]
    ]
    rows += [
        {
            "what": a["action"],
            "detail": a["status"],
            "count": a["count"],
            "amount": a["amount"],
        }
        for a in run["actions"]
    ]
    rows += [
        {"what": _t("hold placed"), "detail": h["reason"], "count": h["count"]}
        for h in run["holds_placed"]
    ]
    rows.append({"what": _t("holds released"), "detail": "", "count": run["holds_released"]})
    for kind, label in (
        ("due", _t("due")),
        ("kept", pgettext("a promise's state", "kept")),
        ("broken", pgettext("a promise's state", "broken")),
    ):
        rows.append({"what": _t("promises"), "detail": label, **run["promises"][kind]})
    for kind, label in (
        ("started", _t("started")),
        ("completed", pgettext("a plan's state", "completed")),
        ("broken", pgettext("a plan's state", "broken")),
    ):
        rows.append({"what": _t("plans"), "detail": label, **run["plans"][kind]})
    return rows


@register(
    "aging-trend",
    _("Aging trend"),
    bys=("property", "portfolio"),
    summary=_("the aging by bucket at each of the last 12 month ends, and the share over 60 days"),
)
def aging_trend_report(ask: Ask) -> Document:
    data = aging_trend_data(ask)
    labels = tuple(data["days"])
    points = data["points"]
    charts = (
        Chart(
            "stacked",
            _t("Aging at each month end"),
            labels,
            tuple(Series(label, tuple(Decimal(p[label]) for p in points)) for label in fig.LABELS),
            unit="money",
            currency=data["currency"],
            description=_t("Open charges by bucket at each month end, stacked."),
        ),
        Chart(
            "line",
            _t("Share more than 60 days past due"),
            labels,
            (
                Series(
                    _t("over 60 days"),
                    tuple(
                        None if p["over_60_share"] is None else Decimal(p["over_60_share"])
                        for p in points
                    ),
                ),
            ),
            unit="share",
            description=_t("The open charges more than 60 days past due over all open charges."),
        ),
    )
    point_columns = (
        Column("day", _("day"), "date"),
        *bucket_columns(),
        Column("over_60_share", _("share over 60 days"), "rate"),
    )
    tables = [Table(_t("Aging at each month end"), point_columns, points)]
    for group in data["groups"]:
        tables.append(
            Table(
                _t("Aging at each month end: %(group)s") % {"group": group["key"] or "-"},
                point_columns,
                group["points"],
            )
        )
    return Document(
        "aging-trend",
        _t("Aging trend"),
        _t("%(first)s to %(last)s") % {"first": labels[0], "last": labels[-1]},
        data,
        tuple(tables),
        charts,
    )


def aging_trend_data(ask: Ask, *, from_snapshots: bool = True) -> dict[str, Any]:
    """The trend's JSON: the scope's aging at each point (`points`) and, with `by`, each
    group's (`groups`). The same from the snapshots and from the book (a test holds them so)."""
    accounts, currency = one_currency(ask)
    scope = scope_of(accounts)
    days = month_ends(ask.as_of, TREND_POINTS)
    lines = lines_at(days, scope, from_snapshots=from_snapshots)
    keys = accounts_in(scope) if ask.by else {}
    totals = [[0] * fig.WIDTH for _d in days]
    groups: dict[str, list[list[int]]] = defaultdict(lambda: [[0] * fig.WIDTH for _d in days])
    for pk, values in lines.items():
        for i in range(len(days)):
            fig.add(totals[i], fig.line_of(values, i))
            if ask.by:
                fig.add(groups[key_of(pk, keys[pk], ask.by, {})][i], fig.line_of(values, i))

    def points(lines_of: list[list[int]]) -> list[dict[str, Any]]:
        return [
            {
                "day": d.isoformat(),
                **amounts(lines_of[i]),
                "over_60_share": _rate(fig.share_over_60(lines_of[i])),
            }
            for i, d in enumerate(days)
        ]

    return {
        "as_of": ask.as_of.isoformat(),
        "currency": currency,
        "by": ask.by,
        "buckets": list(fig.LABELS),
        "days": [d.isoformat() for d in days],
        "points": points(totals),
        "groups": [{"key": key, "points": points(groups[key])} for key in sorted(groups)],
    }


def _rate(value: Decimal | None) -> str | None:
    return None if value is None else f"{value}"
