"""Routes of the reports (arrears.reports, read through arrears.access.acts_reports within the
caller's scope): the metrics of a period and the balances over 60 days, the same JSON as
`arrears report metrics --format json` and `arrears report over-60 --format json`; and every
report of the registry by name, `GET /api/reports/{name}`, as its JSON or as a file (CSV, XLSX,
PDF: `reports.formats`, what `arrears report NAME --format F --output FILE` writes).

The two named routes are declared first: Django tries the patterns in order, so
/api/reports/metrics and /api/reports/over-60 answer with their own contracts (and schemas), not
the registry's route.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema

from arrears.access.acts_reports import metrics_read, over_60_read, report_read
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
    format: Literal["json", "csv", "xlsx", "pdf"] = "json"


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
    over the accounts the caller may see: one object, or a list of one per currency (or, with
    `format`, the registry's document as a CSV, XLSX or PDF file)."""
    if query.format != "json":
        return _file(
            request,
            "metrics",
            query.format,
            as_of=day(query.to),
            date_from=day(query.from_),
            by=query.by,
            currency=query.currency,
        )
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
    format: Literal["json", "csv", "xlsx", "pdf"] = "json",
) -> Any:
    """The accounts more than 60 days past due as of a day (today by default), with their
    balance, last contact and stage, over the accounts the caller may see (or, with `format`,
    the registry's document as a CSV, XLSX or PDF file)."""
    if format != "json":
        return _file(request, "over-60", format, as_of=day(as_of), currency=currency)
    return over_60_read(actor=request.user, as_of=day(as_of), currency=currency)


class ReportQuery(Schema):
    as_of: date | None = None  # the day (a period's last day: `to` says the same)
    from_: date | None = Field(None, alias="from")
    to: date | None = None
    by: str | None = Field(None, max_length=20)
    currency: str | None = Field(None, max_length=3)
    format: Literal["json", "csv", "xlsx", "pdf"] = "json"


@router.get("/reports/{name}", response={200: Any, **ERRORS})
def report_named(request: HttpRequest, name: str, query: Query[ReportQuery]) -> Any:
    """The report NAME of the registry over the accounts the caller may see, as of `as_of` (or
    `to`; today by default), of the period from `from` when it takes one, grouped `by`: its JSON
    (`format=json`), or the file of `format` with its content type and file name."""
    as_of = day(query.to or query.as_of)
    doc = report_read(
        actor=request.user,
        name=name,
        as_of=as_of,
        date_from=day(query.from_) if query.from_ else None,
        by=query.by,
        currency=query.currency,
    )
    if query.format == "json":
        return doc.data
    return _response(doc, query.format, as_of)


def _file(request: HttpRequest, name: str, fmt: str, *, as_of: date, **ask: Any) -> HttpResponse:
    """The registry's report NAME as the file of format `fmt`."""
    doc = report_read(actor=request.user, name=name, as_of=as_of, **ask)
    return _response(doc, fmt, as_of)


def _response(doc: Any, fmt: str, as_of: date) -> HttpResponse:
    from arrears.reports import formats

    response = HttpResponse(formats.to_bytes(doc, fmt), content_type=formats.CONTENT_TYPES[fmt])
    filename = formats.file_name(doc, fmt, as_of.isoformat())
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
