"""The portfolio's collection-rate chart: the months' rates (`ledger.collection`) drawn as an SVG
(`chart.rate_svg`) with the same figures as rows of a table for screen readers."""

from __future__ import annotations

from typing import Any

from django.utils import dateformat
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from arrears.ledger.collection import MonthRate
from arrears.web.chart import RateBar, percent, rate_svg, tick_label
from arrears.web.templatetags.amounts import amount


def rate_chart(rates: list[MonthRate], currency: str) -> dict[str, Any]:
    """{"rate": the SVG, "rate_title": its title, "rate_rows": (month, billed, collected, rate)
    for each month}, the month named in the user's language; {} without rates."""
    if not rates:
        return {}
    title = _("Collection rate by month: collected ÷ billed (%(currency)s)") % {
        "currency": currency
    }
    bars = [
        RateBar(
            dateformat.format(r.month, "M"),
            r.rate,
            _("collected %(collected)s of %(billed)s billed")
            % {
                "collected": tick_label(r.collected, currency),
                "billed": tick_label(r.billed, currency),
            },
        )
        for r in rates
    ]
    rows = [
        (dateformat.format(r.month, "F Y"), amount(r.billed), amount(r.collected), percent(r.rate))
        for r in rates
    ]
    svg = rate_svg(bars, title=title)
    return {"rate": mark_safe(svg), "rate_title": title, "rate_rows": rows}  # noqa: S308 - escaped by rate_svg
