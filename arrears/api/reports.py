"""Routes of the reports (arrears.reports, read through arrears.access.acts_reports within the
caller's scope): the metrics of a period and the balances over 60 days, the same JSON as
`arrears report metrics --format json` and `arrears report over-60 --format json`."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from arrears.access.acts_reports import metrics_read, over_60_read
from arrears.api.common import ERRORS, day

router = Router(tags=["reports"])


class RollRatesOut(Schema):
    current_1_30: str | None = Field(None, alias="current->1-30")
    r1_30_31_60: str | None = Field(None, alias="1-30->31-60")
    r31_60_61_90: str | None = Field(None, alias="31-60->61-90")
    r61_90_91: str | None = Field(None, alias="61-90->91+")


class MetricsGroupOut(Schema):
    key: str
    opening_receivables: str
    billed: str
    collected: str
    closing_receivables: str
    closing_current: str
    cei: str | None  # percent, 4 places; null when there was nothing to collect
    dso_countback: str | None  # days, 2 places
    dso_simple: str | None
    roll_rates: RollRatesOut  # shares, 4 places; null when the bucket started empty


class MetricsOut(Schema):
    from_: str = Field(..., alias="from")
    to: str
    currency: str
    groups: list[MetricsGroupOut]


class MetricsQuery(Schema):
    from_: date = Field(..., alias="from")
    to: date
    by: Literal["property", "portfolio", "coordinator"] | None = None
    currency: str | None = Field(None, max_length=3)


class Over60AccountOut(Schema):
    account_id: str
    property_id: str
    over_60: str
    balance: str
    last_contact: str | None
    stage: str


class Over60Out(Schema):
    as_of: str
    accounts: list[Over60AccountOut]
    total_over_60: str


@router.get(
    "/reports/metrics",
    response={200: MetricsOut | list[MetricsOut], **ERRORS},
    by_alias=True,
)
def report_metrics(request: HttpRequest, query: Query[MetricsQuery]) -> Any:
    """Receivables, billed, collected, CEI, DSO and roll rates of a period (docs/metrics.md),
    over the accounts the caller may see: one object, or a list of one per currency."""
    return metrics_read(
        actor=request.user,
        date_from=day(query.from_),
        date_to=day(query.to),
        by=query.by,
        currency=query.currency,
    )


@router.get("/reports/over-60", response={200: Over60Out, **ERRORS})
def report_over_60(
    request: HttpRequest,
    as_of: date | None = None,
    currency: str | None = Query(None, max_length=3),
) -> Any:
    """The accounts more than 60 days past due as of a day (today by default), with their
    balance, last contact and stage, over the accounts the caller may see."""
    return over_60_read(actor=request.user, as_of=day(as_of), currency=currency)
