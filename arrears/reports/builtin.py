"""The reports every book has: the metrics of a period (`reports.metrics`) and the balances
more than 60 days past due (`reports.over60`), as documents of the registry."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from arrears.ledger.models import Account
from arrears.ledger.selectors import book_currencies
from arrears.reports.document import Chart, Column, Document, Series, Table
from arrears.reports.metrics import ROLLS, Period, metrics, metrics_json
from arrears.reports.over60 import over_60
from arrears.reports.registry import BYS, Ask, register


def currencies_of(ask: Ask) -> list[str]:
    """The currencies the report is drawn in: the one asked for, else those of the scope."""
    if ask.currency:
        return [ask.currency]
    if ask.accounts is None:
        return book_currencies()
    return sorted(set(ask.accounts.values_list("currency", flat=True)))


def in_currency(ask: Ask) -> Any:
    """The scope narrowed to the currency asked for (None: the whole book, any currency)."""
    if not ask.currency:
        return ask.accounts
    accounts = ask.accounts if ask.accounts is not None else Account.objects.all()
    return accounts.filter(currency=ask.currency)


METRIC_COLUMNS = (
    Column("key", _("group")),
    Column("opening_receivables", _("opening"), "money"),
    Column("billed", _("billed"), "money"),
    Column("collected", _("collected"), "money"),
    Column("closing_receivables", _("closing"), "money"),
    Column("closing_current", _("closing current"), "money"),
    Column("cei", _("CEI %"), "percent"),
    Column("dso_countback", _("DSO count-back"), "days"),
    Column("dso_simple", _("DSO simple"), "days"),
    *(Column(r, r, "rate") for r in ROLLS),
)


@register(
    "metrics",
    _("Collection metrics"),
    period=True,
    bys=BYS,
    summary=_("receivables, billed, collected, CEI, DSO and roll rates of a period"),
)
def metrics_report(ask: Ask) -> Document:
    assert ask.date_from is not None  # registry.check
    period = Period(ask.date_from, ask.as_of)
    docs = metrics(
        period=period,
        by=ask.by,
        accounts=in_currency(ask),
        coordinators=ask.coordinators,
        currencies=currencies_of(ask),
    )
    tables = tuple(
        Table(
            f"{doc['currency']}",
            tuple(METRIC_COLUMNS),
            [{**g, **g["roll_rates"], "key": g["key"] or _t("(none)")} for g in doc["groups"]],
        )
        for doc in docs
    )
    return Document(
        "metrics",
        _t("Collection metrics"),
        _t("%(first)s to %(last)s") % {"first": period.first, "last": period.last},
        metrics_json(docs),
        tables,
        tuple(chart for doc in docs for chart in metric_charts(doc)),
    )


def _number(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _said(labels: list[str], series: list[Series], word: Any) -> str:
    """A chart's figures in words, for its <desc>: "ELM: billed 2000.00, collected 1000.00; …"
    (`word` says a value: a figure, or "none" for a gap)."""
    return "; ".join(
        f"{label}: " + ", ".join(f"{s.name} {word(s.values[i])}" for s in series)
        for i, label in enumerate(labels)
    )


def metric_charts(doc: dict[str, Any]) -> list[Chart]:
    """The charts of one currency's metrics, a bar per group: billed beside collected, the
    CEI, and the two DSOs (docs/metrics.md defines each)."""
    currency = doc["currency"]
    labels = [g["key"] or _t("(none)") for g in doc["groups"]]

    def word(value: Decimal | None) -> str:
        return _t("none") if value is None else str(value)

    def series(key: str, name: str) -> Series:
        return Series(name, tuple(_number(g[key]) for g in doc["groups"]))

    money = [series("billed", _t("billed")), series("collected", _t("collected"))]
    cei = [series("cei", _t("CEI %"))]
    dso = [series("dso_countback", _t("DSO count-back")), series("dso_simple", _t("DSO simple"))]
    period = {"first": doc["from"], "last": doc["to"], "currency": currency}
    return [
        Chart(
            "bars",
            _t("Billed and collected, %(first)s to %(last)s (%(currency)s)") % period,
            tuple(labels),
            tuple(money),
            "money",
            currency,
            _t("Amounts billed and collected in the period, by group: %(figures)s.")
            % {"figures": _said(labels, money, word)},
        ),
        Chart(
            "bars",
            _t("Collection effectiveness index (CEI), %(currency)s") % period,
            tuple(labels),
            tuple(cei),
            "percent",
            currency,
            _t("The share of what could be collected that was, in percent, by group: %(figures)s.")
            % {"figures": _said(labels, cei, word)},
        ),
        Chart(
            "bars",
            _t("Days sales outstanding (DSO), %(currency)s") % period,
            tuple(labels),
            tuple(dso),
            "days",
            currency,
            _t("Days of billing the closing receivables stand for, by group: %(figures)s.")
            % {"figures": _said(labels, dso, word)},
        ),
    ]


@register(
    "over-60",
    _("Balances over 60 days"),
    summary=_("the accounts more than 60 days past due, with their last contact and stage"),
)
def over_60_report(ask: Ask) -> Document:
    doc = over_60(as_of=ask.as_of, accounts=ask.accounts, currency=ask.currency)
    columns = (
        Column("account_id", _("account")),
        Column("property_id", _("property")),
        Column("over_60", _("over 60"), "money"),
        Column("balance", _("balance"), "money"),
        Column("last_contact", _("last contact"), "date"),
        Column("stage", _("stage")),
    )
    table = Table(
        _t("Balances more than 60 days past due"),
        columns,
        doc["accounts"],
        total={"account_id": _t("Total"), "over_60": doc["total_over_60"]},
    )
    return Document(
        "over-60",
        _t("Balances over 60 days"),
        _t("as of %(day)s") % {"day": ask.as_of},
        doc,
        (table,),
    )
