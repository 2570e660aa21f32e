"""Charts as SVG strings, drawn on the server (pure: no Django, no clock): the aging's stacked
bars and the collection rate's bars.

Each bar of the aging is one month's aging, its buckets stacked oldest on top; heights are
proportional to the amounts on one scale shared by every bar, whose axis is marked at round
amounts with the currency's sign ($0, $5,000, $10,000 …: `axis_ticks`). Negative amounts
(credit) are not drawn. Every text put in the SVG is escaped. The axis's marks and the palette
are the reports' charts' (`arrears.reports.charts`), which draw every report's charts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape

from arrears.reports.charts import PALETTE, axis_ticks, tick_label


@dataclass(frozen=True)
class Bar:
    label: str
    amounts: tuple[Decimal, ...]  # one per bucket, current first

    @property
    def total(self) -> Decimal:
        return sum((a for a in self.amounts if a > 0), Decimal(0))


def stacked_svg(
    bars: Sequence[Bar],
    series: Sequence[str],
    *,
    title: str,
    currency: str = "",
    width: int = 720,
    height: int = 280,
) -> str:
    """The chart as an `<svg>` element; each segment has a <title> with its amount, the axis
    round amounts in `currency` (`axis_ticks`, `tick_label`)."""
    left, bottom, top, legend = 70, 30, 12, 110
    plot_w, plot_h = width - left - legend, height - bottom - top
    ticks = axis_ticks(max((b.total for b in bars), default=Decimal(0)))
    peak = ticks[-1]
    step = plot_w / max(len(bars), 1)
    bar_w = step * 0.7
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}" class="chart">',
        f"<title>{escape(title)}</title>",
    ]
    for tick in ticks:
        y = top + plot_h - float(tick / peak) * plot_h
        out.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e6eb"/>'
        )
        out.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">'
            f"{escape(tick_label(tick, currency))}</text>"
        )
    for index, bar in enumerate(bars):
        x = left + index * step + (step - bar_w) / 2
        y = float(top + plot_h)
        for k, amount in enumerate(bar.amounts):
            if amount <= 0:
                continue
            h = float(amount / peak) * plot_h
            y -= h
            name = series[k] if k < len(series) else str(k)
            out.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{PALETTE[k % len(PALETTE)]}"><title>{escape(bar.label)} '
                f"{escape(name)}: {amount:,.2f}</title></rect>"
            )
        out.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{height - 10}" text-anchor="middle" '
            f'font-size="11">{escape(bar.label)}</text>'
        )
    for k, name in enumerate(series):
        y = top + 16 * k
        out.append(
            f'<rect x="{width - legend + 10}" y="{y}" width="12" height="12" '
            f'fill="{PALETTE[k % len(PALETTE)]}"/><text x="{width - legend + 28}" '
            f'y="{y + 10}" font-size="11">{escape(name)}</text>'
        )
    out.append("</svg>")
    return "".join(out)


RATE_COLOUR = "#1f6f8b"  # 5.6:1 on white: a bar's colour meets the 3:1 of non-text contrast


@dataclass(frozen=True)
class RateBar:
    label: str
    rate: Decimal | None  # a fraction (0.9642); None: nothing billed, no bar
    detail: str  # what a bar's <title> adds ("collected $9,642 of $10,000 billed")


def rate_svg(bars: Sequence[RateBar], *, title: str, width: int = 460, height: int = 280) -> str:
    """The collection rate as bars on a 0 % to (at least) 100 % axis marked every 25 %, a
    dashed line at 100 %; each bar has a <title> with its month, rate and `detail`."""
    left, bottom, top = 48, 30, 12
    plot_w, plot_h = width - left - 12, height - bottom - top
    high = max((b.rate for b in bars if b.rate is not None), default=Decimal(1))
    marks = axis_ticks(max(high, Decimal(1)) * 100, most=5)
    peak = marks[-1] / 100
    step = plot_w / max(len(bars), 1)
    bar_w = step * 0.6
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}" class="chart">',
        f"<title>{escape(title)}</title>",
    ]
    for mark in marks:
        y = top + plot_h - float(mark / 100 / peak) * plot_h
        dash = ' stroke-dasharray="4 3" stroke="#4a5263"' if mark == 100 else ' stroke="#e3e6eb"'
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}"{dash}/>')
        out.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">'
            f"{mark:,.0f}%</text>"
        )
    for index, bar in enumerate(bars):
        x = left + index * step + (step - bar_w) / 2
        if bar.rate is not None:  # a month that collected nothing: a sliver, not nothing
            h = max(float(bar.rate / peak) * plot_h, 2.0)
            y = top + plot_h - h
            out.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{RATE_COLOUR}"><title>{escape(bar.label)}: {percent(bar.rate)}, '
                f"{escape(bar.detail)}</title></rect>"
            )
        out.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{height - 10}" text-anchor="middle" '
            f'font-size="11">{escape(bar.label)}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def percent(rate: Decimal | None) -> str:
    """A rate as a percentage with one decimal ("96.4%"), "—" for none."""
    return "—" if rate is None else f"{rate * 100:.1f}%"
