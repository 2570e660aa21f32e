"""The groups of the outcome reports (`reports.outcomes`): what each event's row is grouped by in
SQL, and how that turns into a group's key.

Invariants:
- A key is a property's id, a portfolio's code, a coordinator's user name, a dunning policy's
  name, a calendar month (`YYYY-MM`) or `ALL` (no grouping); `""` is the group of the accounts
  with no property, portfolio, coordinator or policy (a table shows it as "(none)").
- Property, portfolio and month are grouped in SQL by the key itself; coordinator and policy by
  the account (its pk), then folded in Python by a map of account to key read once per report
  (the coordinators given by the access part, the policies by `policy_names`): never a query per
  account.
- The documents' shared pieces (below) turn the sums into the JSON's strings once per group:
  amounts with two decimals, rates with four (`formulas.share`), null without a denominator.
- A month is the calendar month of the event's own date (a charge's due date, a promise's
  settling, a dispute's opening …), so the months of a period partition its events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _t

from arrears.core import sql
from arrears.core.fields import from_cents
from arrears.dunning.models import PolicyOverride
from arrears.dunning.policy import Policy, choose_policy, jurisdiction_of
from arrears.dunning.services import company_policies
from arrears.ledger.models import Account, Property
from arrears.reports import formulas
from arrears.reports.builtin import currencies_of
from arrears.reports.document import Chart, Series
from arrears.reports.registry import Ask
from arrears.reports.scoped import Scope
from arrears.reports.sqldates import month_of

BYS = ("property", "portfolio", "coordinator", "policy", "month")
ALL = "ALL"


def joins(alias: str) -> str:
    """The account (`a`) and property (`p`) of the event rows aliased `alias`."""
    return (
        f" JOIN {sql.table(Account)} a ON a.id = {alias}.account_id"
        f" LEFT JOIN {sql.table(Property)} p ON p.id = a.property_id"
    )


def cents(column: str) -> str:
    """A decimal column (two places) as whole cents: a sum of them is exact on SQLite too, which
    keeps a `DecimalField` as a floating-point number."""
    return f"CAST(ROUND(COALESCE({column}, 0) * 100) AS BIGINT)"


def key_sql(by: str | None, day: str) -> str:
    """What the rows are grouped by in SQL for `by`; `day` is the event's date column."""
    return {
        None: f"'{ALL}'",
        "property": "COALESCE(p.property_id, '')",
        "portfolio": "COALESCE(p.portfolio, '')",
        "coordinator": "a.id",
        "policy": "a.id",
        "month": month_of(day),
    }[by]


def namer(ask: Ask, scope: Scope) -> Callable[[Any], str]:
    """The group's key of a row's SQL key (`key_sql`): an account's coordinator or policy, else
    the key itself."""
    if ask.by == "coordinator":
        coordinators = ask.coordinators or {}
        return lambda pk: coordinators.get(pk, "")
    if ask.by == "policy":
        policies = policy_names(scope, ask.as_of)
        return lambda pk: policies.get(pk, "")
    return lambda key: str(key)


def first_keys(ask: Ask) -> list[str]:
    """The groups every report shows even when nothing happened in them: `ALL` without a
    grouping, every month of the period by month (a chart's axis has no hole); none else."""
    if ask.by is None:
        return [ALL]
    if ask.by == "month":
        assert ask.date_from is not None  # registry.check: these reports take a period
        return [f"{s.first:%Y-%m}" for s in formulas.month_spans(ask.date_from, ask.as_of)]
    return []


def fold(
    rows: Iterable[tuple[Any, ...]], name: Callable[[Any], str], width: int, keys: list[str]
) -> dict[str, list[int]]:
    """Rows of (SQL key, `width` whole numbers) summed per group's key, the groups `keys`
    first (at zero)."""
    out: dict[str, list[int]] = {key: [0] * width for key in keys}
    for raw, *values in rows:
        line = out.setdefault(name(raw), [0] * width)
        for i, value in enumerate(values):
            line[i] += int(value or 0)
    return out


def policy_names(scope: Scope, on: date) -> dict[int, str]:
    """Each account's dunning policy on `on`, by name ("" for none), resolved as the daily run
    and `dunning.selectors.account_policy` resolve it (`dunning.policy.choose_policy`: its own
    override, else the most specific match of its property's jurisdiction, its kind and whether
    it has moved out by then): one query for the accounts, one choice per distinct set of facts."""
    account, prop, override = sql.table(Account), sql.table(Property), sql.table(PolicyOverride)
    rows = sql.rows(
        f"SELECT a.id, a.kind, a.closed_on, p.country, p.state, o.policy FROM {account} a"
        f" LEFT JOIN {prop} p ON p.id = a.property_id"
        f" LEFT JOIN {override} o ON o.account_id = a.id WHERE 1 = 1{scope.on('a.id')}",
        scope.params,
    )
    policies = company_policies()
    chosen: dict[tuple[Any, ...], Policy | None] = {}
    out = {}
    for pk, kind, closed_on, country, state, own in rows:
        moved_out = closed_on is not None and _day(closed_on) <= on
        facts = (jurisdiction_of(country, state), kind, moved_out, own)
        if facts not in chosen:
            chosen[facts] = choose_policy(
                policies,
                jurisdiction=facts[0],
                account_kind=kind,
                moved_out=moved_out,
                override=own,
            )
        policy = chosen[facts]
        if policy is not None:
            out[pk] = policy.name
    return out


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


# -- the documents' shared pieces --------------------------------------------------------------


def money(value: int) -> str:
    return f"{from_cents(value):.2f}"


def share(part: int, whole: int) -> str | None:
    return formulas.rate_text(formulas.share(part, whole))


def period(ask: Ask) -> tuple[date, date]:
    assert ask.date_from is not None  # registry.check: each of these takes a period
    return ask.date_from, ask.as_of


def subtitle(ask: Ask) -> str:
    first, last = period(ask)
    return _t("%(first)s to %(last)s") % {"first": first, "last": last}


def by_currency(
    ask: Ask,
    rows: list[tuple[Any, ...]],
    name: Callable[[Any], str],
    width: int,
) -> dict[str, dict[str, list[int]]]:
    """Rows of (currency, SQL key, `width` whole numbers) folded per currency and group: the
    currencies asked for (or the scope's) first, each with the groups every report shows."""
    currencies = currencies_of(ask) or [str(Account._meta.get_field("currency").default)]
    split: dict[str, list[tuple[Any, ...]]] = {c: [] for c in currencies}
    for currency, *rest in rows:
        split.setdefault(currency, []).append(tuple(rest))
    return {c: fold(split[c], name, width, first_keys(ask)) for c in sorted(split)}


def document_data(ask: Ask, groups: list[dict[str, Any]], currency: str | None) -> dict[str, Any]:
    first, last = period(ask)
    head: dict[str, Any] = {"from": first.isoformat(), "to": last.isoformat()}
    if currency is not None:
        head["currency"] = currency
    return {**head, "groups": groups}


def shown(key: str) -> str:
    return key or _t("(none)")


def table_rows(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**g, "key": shown(g["key"])} for g in groups]


def bars(
    title: str, groups: list[dict[str, Any]], series: tuple[tuple[str, str], ...], what: str
) -> Chart:
    """Bars per group of the rates named in `series` ((label, the group's field) each)."""
    return Chart(
        "bars",
        title,
        tuple(shown(g["key"]) for g in groups),
        tuple(
            Series(label, tuple(None if g[f] is None else Decimal(g[f]) for g in groups))
            for label, f in series
        ),
        unit="share",
        description=what,
    )


def several(docs: list[dict[str, Any]]) -> Any:
    """One object for one currency, a list of one per currency otherwise (as the metrics)."""
    return docs[0] if len(docs) == 1 else docs
