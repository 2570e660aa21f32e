"""A stacked bar chart as an SVG string, drawn on the server (pure: no Django, no clock).

Each bar is one month's aging, its buckets stacked oldest on top; heights are proportional to
the amounts on one scale shared by every bar. Negative amounts (credit) are not drawn. Every text
put in the SVG is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape

# One colour per bucket, from current (calm) to the oldest (alarming); each at least 3:1 against
# the chart's white (WCAG 1.4.11, non-text contrast), tested in web/tests/test_browser_reach.py.
PALETTE = ("#1f6fb2", "#1b7f79", "#6f7a00", "#b35900", "#c0392b", "#7b241c", "#4a235a")


@dataclass(frozen=True)
class Bar:
    label: str
    amounts: tuple[Decimal, ...]  # one per bucket, current first

    @property
    def total(self) -> Decimal:
        return sum((a for a in self.amounts if a > 0), Decimal(0))


def stacked_svg(
    bars: Sequence[Bar], series: Sequence[str], *, title: str, width: int = 720, height: int = 280
) -> str:
    """The chart as an `<svg>` element; each segment has a <title> with its amount."""
    left, bottom, top, legend = 70, 30, 12, 110
    plot_w, plot_h = width - left - legend, height - bottom - top
    peak = max((b.total for b in bars), default=Decimal(0)) or Decimal(1)
    step = plot_w / max(len(bars), 1)
    bar_w = step * 0.7
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}" class="chart">',
        f"<title>{escape(title)}</title>",
    ]
    for i in range(5):
        share = Decimal(i) / 4
        y = top + plot_h - float(share) * plot_h
        out.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e6eb"/>'
        )
        out.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">'
            f"{peak * share:,.0f}</text>"
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
