"""The reports by name: what `arrears report NAME`, the pages at /reports/NAME/, the API's
/api/reports/NAME and a subscription all read. Each report is a function of an `Ask` (the day or
period, the grouping, the reader's scope) that returns a `Document`.

Invariants:
- A report reads; it writes nothing.
- Scope is given, not decided here: `Ask.accounts` is what the reader may see (None: the whole
  book), decided by `arrears.access.acts_reports`, which sits above this part.
- A report module registers itself on import; `load()` imports every one of them (`MODULES`), so
  a name is known wherever the registry is read.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from arrears.core.errors import ValidationError
from arrears.ledger.models import Account
from arrears.reports.document import Document

BYS = ("property", "portfolio", "coordinator")

# Every module that registers reports.
MODULES = (
    "arrears.reports.builtin",
    "arrears.reports.daily",
    "arrears.reports.digest",
    "arrears.reports.cases",
    "arrears.reports.outcomes",
    "arrears.reports.forecast",
    "arrears.reports.works",
)


@dataclass(frozen=True)
class Ask:
    as_of: date  # the day the report is as of (a period's last day)
    date_from: date | None = None  # a period's first day, for the reports that take one
    by: str | None = None  # one of the spec's `bys`
    currency: str | None = None
    accounts: QuerySet[Account] | None = None  # the reader's scope; None: the whole book
    coordinators: Mapping[int, str] | None = None  # account pk -> coordinator, when by is one
    reader: str | None = None  # the reader's user name (None: the operator)


@dataclass(frozen=True)
class Spec:
    name: str
    title: Any  # lazy text
    build: Callable[[Ask], Document]
    period: bool = False  # takes --from (and its --to is the as-of day)
    bys: tuple[str, ...] = ()
    summary: Any = ""  # a line for the index and --help


REPORTS: dict[str, Spec] = {}


def register(
    name: str, title: Any, *, period: bool = False, bys: tuple[str, ...] = (), summary: Any = ""
) -> Callable[[Callable[[Ask], Document]], Callable[[Ask], Document]]:
    """Register the decorated function as the report NAME."""

    def wrap(build: Callable[[Ask], Document]) -> Callable[[Ask], Document]:
        REPORTS[name] = Spec(name, title, build, period, bys, summary)
        return build

    return wrap


def load() -> dict[str, Spec]:
    for module in MODULES:
        importlib.import_module(module)
    return REPORTS


def spec(name: str) -> Spec:
    found = load().get(name)
    if found is None:
        raise ValidationError(
            _("no report is named {name} (known: {known})"),
            code="unknown_report",
            name=name,
            known=", ".join(sorted(REPORTS)),
            field="report",
        )
    return found


def check(found: Spec, ask: Ask) -> None:
    """Refuse an ask the report cannot answer: a grouping it has not, a period it needs."""
    if ask.by is not None and ask.by not in found.bys:
        raise ValidationError(
            _("the report {name} is not grouped by {by} (it is by: {bys})"),
            code="report_by",
            name=found.name,
            by=ask.by,
            bys=", ".join(found.bys) or "-",
            field="by",
        )
    if found.period and ask.date_from is None:
        raise ValidationError(
            _("the report {name} needs a period: --from D1 --to D2"),
            code="report_period",
            name=found.name,
            field="from",
        )
    if ask.date_from is not None and ask.date_from > ask.as_of:
        raise ValidationError(
            _("the period ends ({to}) before it starts ({start})"),
            code="period_reversed",
            start=ask.date_from.isoformat(),
            to=ask.as_of.isoformat(),
            field="to",
        )
