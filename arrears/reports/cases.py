"""`cases`: the attorney's cases, the monthly meeting's agenda (`reports.agenda`) of the as-of
day's month for each firm, as a document of the registry.

Invariants: the scope is given: for the whole book every firm; for a scoped reader the firms with
an open case on an account of the scope, each agenda cut to the scope's accounts (its counts by
status and its recoveries' totals summed again). The agenda reads per firm, as the meeting's own
page does (a handful of firms).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from arrears.ledger.models import Account
from arrears.legal.models import Firm, Referral
from arrears.reports.agenda import Month, agenda
from arrears.reports.document import Column, Document, Table
from arrears.reports.registry import Ask, register


@register(
    "cases",
    _("Attorney's cases"),
    summary=_("each firm's cases, hearings and recoveries of the month (the meeting's agenda)"),
)
def cases_report(ask: Ask) -> Document:
    month = Month.of(ask.as_of)
    if ask.accounts is None:
        names = list(Firm.objects.order_by("name").values_list("name", flat=True))
    else:
        open_at = Referral.objects.filter(account__in=ask.accounts, withdrawn_on__isnull=True)
        names = list(
            Firm.objects.filter(name__in=open_at.values("firm"))
            .order_by("name")
            .values_list("name", flat=True)
        )
    agendas = []
    for name in names:
        found = agenda(firm=name, month=month, today=ask.as_of)
        agendas.append(found if ask.accounts is None else _within(found, ask.accounts))
    tables: list[Table] = []
    for found in agendas:
        tables += _case_tables(found)
    return Document(
        "cases",
        _t("Attorney's cases"),
        _t("%(month)s, as of %(day)s") % {"month": month.key, "day": ask.as_of},
        {"month": month.key, "as_of": ask.as_of.isoformat(), "firms": agendas},
        tuple(tables),
    )


def _within(found: dict[str, Any], accounts: QuerySet[Account]) -> dict[str, Any]:
    """The agenda cut to the accounts of the scope, its counts and recoveries summed again."""
    named = {
        row["account_id"]
        for key in ("cases", "hearings", "recommended_not_sent", "settlements_to_approve")
        for row in found[key]
    }
    mine = set(accounts.filter(account_id__in=named).values_list("account_id", flat=True))

    def kept(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [r for r in rows if r["account_id"] in mine]

    cases = kept(found["cases"])
    by_status: dict[str, int] = {}
    for row in cases:
        by_status[row["status"]] = by_status.get(row["status"], 0) + 1
    lines = kept(found["recoveries"]["cases"])
    recoveries = {
        "cases": lines,
        **{
            k: f"{sum((Decimal(r[k]) for r in lines), Decimal(0)):.2f}"
            for k in ("recovered", "fees", "net")
        },
    }
    return {
        **found,
        "by_status": {s: by_status[s] for s in found["by_status"] if s in by_status},
        "cases": cases,
        "hearings": kept(found["hearings"]),
        "documents_missing": kept(found["documents_missing"]),
        "recommended_not_sent": kept(found["recommended_not_sent"]),
        "settlements_to_approve": kept(found["settlements_to_approve"]),
        "recoveries": recoveries,
    }


def _case_tables(found: dict[str, Any]) -> list[Table]:
    firm = found["firm"]
    case = (Column("case_id", _("case"), "int"), Column("account_id", _("account")))
    recoveries = found["recoveries"]
    return [
        Table(
            _t("Cases of %(firm)s") % {"firm": firm},
            (
                *case,
                Column("debtor", _("debtor")),
                Column("property", _("property")),
                Column("status_label", _("status")),
                Column("referred_on", _("referred on"), "date"),
                Column("balance_referred", _("balance referred"), "money"),
                Column("balance", _("balance"), "money"),
                Column("hearing_on", _("hearing"), "date"),
            ),
            found["cases"],
        ),
        Table(
            _t("Hearings of %(firm)s") % {"firm": firm},
            (
                *case,
                Column("hearing_on", _("hearing"), "date"),
                Column("court", _("court")),
                Column("index_number", _("index number")),
            ),
            found["hearings"],
        ),
        Table(
            _t("Recoveries of %(firm)s") % {"firm": firm},
            (
                *case,
                Column("recovered", _("recovered"), "money"),
                Column("fees", _("fees"), "money"),
                Column("net", _("net"), "money"),
            ),
            recoveries["cases"],
            total={
                "account_id": _t("Total"),
                **{k: recoveries[k] for k in ("recovered", "fees", "net")},
            },
        ),
    ]
