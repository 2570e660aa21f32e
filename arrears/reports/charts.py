"""A report's chart (`document.Chart`) as an SVG string, drawn on the server: the page shows it
inline (no JavaScript), the PDF prints it, the email of a subscription can carry it. Pure: no
database, no clock; the words it adds ("days") are translated in the reader's language.

Invariants:
- Accessible: `role="img"`, `aria-labelledby` naming its <title> (the chart's title) and <desc>
  (its description, in words); each bar and point has a <title> with its exact value.
- Every text put in the SVG (titles, labels, series names) is escaped: a series named
  `<script>` is drawn as those characters.
- An axis is marked at round values from zero (`axis_ticks`: 1, 2, 2.5 or 5 times a power of
  ten) with the chart's unit: money with the currency's sign ("$5,000"), percent ("25%"), a share
  as a percent, days ("30 d"), counts as whole numbers.
- Colours (`PALETTE`) are each at least 3:1 against the white they are drawn on (WCAG 2.1,
  1.4.11 Non-text Contrast), tested in web/tests/test_browser_reach.py.
- A chart with several series has a legend; values of None are gaps (no bar, a broken line),
  a zero is a sliver on the axis, so that it is told apart from a gap.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from html import escape
from math import ceil

from django.utils.translation import gettext as _t

from arrears.reports.document import Chart

# One colour per series (for the aging: current, calm, to the oldest, alarming); each at least
# 3:1 against white (WCAG 1.4.11, non-text contrast).
PALETTE = ("#1f6fb2", "#1b7f79", "#6f7a00", "#b35900", "#c0392b", "#7b241c", "#4a235a")

# The sign an axis writes before an amount; another currency is written by its code.
SIGNS = {"USD": "$", "CAD": "CA$", "AUD": "A$", "EUR": "€", "GBP": "£", "MXN": "MX$"}
ROUND_STEPS = (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10))
GRID = "#e3e6eb"
AXIS = "#4a5263"  # the zero line: 7.6:1 on white


def axis_ticks(peak: Decimal, *, most: int = 5) -> list[Decimal]:
    """The marks of an axis from 0 to at least `peak`: 0 and equal round steps (1, 2, 2.5 or 5
    times a power of ten, never under 1), at most `most` marks in all (`most` ≥ 2). A peak of 0
    or less gives [0, 1], so that a scale is always drawn."""
    if peak <= 0:
        return [Decimal(0), Decimal(1)]
    least = peak / (most - 1)  # the smallest step that reaches the peak in most - 1 steps
    power = Decimal(1).scaleb(least.adjusted())
    step = next(power * m for m in ROUND_STEPS if power * m >= least)
    if step < 1:
        step = Decimal(1)
    elif step != step.to_integral_value():  # 2.5: whole units only
        step = power * 5
    return [step * i for i in range(ceil(peak / step) + 1)]


def tick_label(amount: Decimal, currency: str) -> str:
    """A mark of an amount axis: whole units with the currency's sign ("$5,000", "CHF 20")."""
    sign = SIGNS.get(currency)
    number = f"{amount:,.0f}"
    if amount < 0:
        return f"-{sign}{number[1:]}" if sign else f"{currency} {number}"
    return f"{sign}{number}" if sign else f"{currency} {number}"


def scale(low: Decimal, high: Decimal) -> list[Decimal]:
    """The marks of an axis that holds every value from `low` to `high` and zero: `axis_ticks`
    above zero, the same step below it when a value is negative."""
    if low >= 0:
        return axis_ticks(high)
    marks = axis_ticks(max(high, -low))
    step = marks[1] - marks[0]
    below = ceil(-low / step)
    above = ceil(high / step) if high > 0 else 0
    return [step * i for i in range(-below, above + 1)]


def marker(chart: Chart) -> Callable[[Decimal], str]:
    """How an axis mark is written in the chart's unit."""
    if chart.unit == "money":
        return lambda v: tick_label(v, chart.currency or "")
    if chart.unit == "percent":
        return lambda v: f"{v:,.0f}%"
    if chart.unit == "share":
        return lambda v: f"{v * 100:,.0f}%"
    if chart.unit == "days":
        return lambda v: _t("%(days)s d") % {"days": f"{v:,.0f}"}
    return lambda v: f"{v:,.0f}"


def value_text(chart: Chart, value: Decimal) -> str:
    """A value as a bar's or a point's <title> says it: exact, in the chart's unit."""
    if chart.unit == "money":
        sign = SIGNS.get(chart.currency or "")
        number = f"{value:,.2f}"
        return f"{sign}{number}" if sign else f"{chart.currency or ''} {number}".strip()
    if chart.unit == "percent":
        return f"{value:,.2f}%"
    if chart.unit == "share":
        return f"{value * 100:,.2f}%"
    if chart.unit == "days":
        return _t("%(days)s days") % {"days": f"{value:,.2f}"}
    return f"{value:,}"


def _range(chart: Chart) -> tuple[Decimal, Decimal]:
    """The lowest and highest value the axis must hold (stacked: the sums of each label's
    positive values, and of its negative ones)."""
    if chart.kind == "stacked":
        columns = [
            [v for s in chart.series if (v := s.values[i]) is not None]
            for i in range(len(chart.labels))
        ]
        highs = [sum((v for v in c if v > 0), Decimal(0)) for c in columns]
        lows = [sum((v for v in c if v < 0), Decimal(0)) for c in columns]
        return min(lows, default=Decimal(0)), max(highs, default=Decimal(0))
    values = [v for s in chart.series for v in s.values if v is not None]
    return min([Decimal(0), *values]), max([Decimal(0), *values])


CHAR_PX = 6.2  # the width of a character of 11 px sans-serif, about
TILTED_MOST = 24  # the characters of a tilted label; a longer one is cut, whole in its <title>


def _short(text: str, room: float) -> str:
    """A label cut to the room it has (about 6.2 px a character at 11 px), with an ellipsis."""
    most = max(int(room / CHAR_PX), 3)
    return text if len(text) <= most else text[: most - 1] + "…"


def chart_svg(chart: Chart, *, ident: str, width: int = 720, height: int = 300) -> str:
    """The chart as an `<svg>` element (module docstring); `ident` makes its ids unique on a
    page that shows several charts."""
    several = len(chart.series) > 1
    longest = max((len(s.name) for s in chart.series), default=0)
    legend = min(max(60 + longest * 6.5, 120), 220) if several else 0
    left, bottom, top, right = 72, 34, 14, 14
    plot_w = width - left - right - legend
    count = max(len(chart.labels), 1)
    step = plot_w / count
    # labels too long for their column (dates, long names) are tilted, whole, rather than cut
    tilt = any(len(text) * CHAR_PX > step for text in chart.labels)
    if tilt:
        longest_label = min(max(len(text) for text in chart.labels), TILTED_MOST)
        bottom = min(int(longest_label * CHAR_PX * 0.65) + 22, 110)
    plot_h = height - bottom - top
    # a share (0.84) is marked in percent: its round steps are of percents, not of whole units
    factor = Decimal(100) if chart.unit == "share" else Decimal(1)
    marks = [m / factor for m in scale(*(v * factor for v in _range(chart)))]
    low, high = marks[0], marks[-1]
    span = high - low

    def y_of(value: Decimal) -> float:
        return top + plot_h - float((value - low) / span) * plot_h

    mark = marker(chart)
    title, desc = f"{ident}-title", f"{ident}-desc"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-labelledby="{title} {desc}" '
        f'class="chart report-chart" font-family="sans-serif">',
        f'<title id="{title}">{escape(chart.title)}</title>',
        f'<desc id="{desc}">{escape(chart.description or chart.title)}</desc>',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    for tick in marks:
        y = y_of(tick)
        stroke = AXIS if tick == 0 else GRID
        out.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{stroke}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#1f2430">{escape(mark(tick))}</text>'
        )
    if chart.kind == "line":
        out += _line(chart, left, step, y_of)
    else:
        out += _bars(chart, left, step, y_of)
    for index, text in enumerate(chart.labels):
        x = left + index * step + step / 2
        if tilt:
            y = top + plot_h + 14
            cut = text if len(text) <= TILTED_MOST else text[: TILTED_MOST - 1] + "…"
            whole = f"<title>{escape(text)}</title>" if cut != text else ""
            out.append(
                f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="end" font-size="11" '
                f'transform="rotate(-40 {x:.1f} {y:.1f})" fill="#1f2430">{whole}{escape(cut)}'
                "</text>"
            )
            continue
        short = _short(text, step)
        whole = f"<title>{escape(text)}</title>" if short != text else ""  # what was cut off
        out.append(
            f'<text x="{x:.1f}" y="{height - 12}" text-anchor="middle" font-size="11" '
            f'fill="#1f2430">{whole}{escape(short)}</text>'
        )
    if several:
        for k, series in enumerate(chart.series):
            x, y = width - legend + 8, top + 18 * k
            out.append(
                f'<rect x="{x:.1f}" y="{y}" width="12" height="12" '
                f'fill="{PALETTE[k % len(PALETTE)]}"/><text x="{x + 18:.1f}" y="{y + 10}" '
                f'font-size="11" fill="#1f2430">{escape(_short(series.name, legend - 30))}'
                "</text>"
            )
    out.append("</svg>")
    return "".join(out)


def _bars(chart: Chart, left: float, step: float, y_of: Callable[[Decimal], float]) -> list[str]:
    """Side by side (bars) or one on the other (stacked), from the zero line."""
    out = []
    zero = y_of(Decimal(0))
    stacked = chart.kind == "stacked"
    lanes = 1 if stacked else max(len(chart.series), 1)
    bar_w = min(step * 0.74 / lanes, 56.0)  # a lone bar in a wide chart stays a bar, not a wall
    group = bar_w * lanes
    for index, label in enumerate(chart.labels):
        start = left + index * step + (step - group) / 2
        up = down = Decimal(0)  # the stack's tops above and below zero
        for k, series in enumerate(chart.series):
            value = series.values[index] if index < len(series.values) else None
            if value is None:
                continue
            if stacked:
                base = up if value >= 0 else down
                y1, y2 = y_of(base), y_of(base + value)
                if value >= 0:
                    up += value
                else:
                    down += value
                x = start
            else:
                y1, y2 = zero, y_of(value)
                x = start + k * bar_w
            y, h = min(y1, y2), abs(y2 - y1)
            if h < 2:  # zero, or too small to see: a sliver on the axis, not a gap (None)
                h = 2.0
                y = zero - h if value >= 0 else zero
            out.append(
                f'<rect x="{x + 1:.1f}" y="{y:.1f}" width="{max(bar_w - 2, 1):.1f}" '
                f'height="{h:.1f}" fill="{PALETTE[k % len(PALETTE)]}"><title>'
                f"{escape(label)}, {escape(series.name)}: {escape(value_text(chart, value))}"
                "</title></rect>"
            )
    return out


def _line(chart: Chart, left: float, step: float, y_of: Callable[[Decimal], float]) -> list[str]:
    """A polyline per series, broken where a value is None, a dot with its value at each point."""
    out = []
    for k, series in enumerate(chart.series):
        colour = PALETTE[k % len(PALETTE)]
        runs: list[list[str]] = [[]]
        dots = []
        for index, value in enumerate(series.values[: len(chart.labels)]):
            if value is None:
                runs.append([])
                continue
            x, y = left + index * step + step / 2, y_of(value)
            runs[-1].append(f"{x:.1f},{y:.1f}")
            dots.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"><title>'
                f"{escape(chart.labels[index])}, {escape(series.name)}: "
                f"{escape(value_text(chart, value))}</title></circle>"
            )
        for run in runs:
            if len(run) > 1:
                out.append(
                    f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" '
                    'stroke-width="2"/>'
                )
        out += dots
    return out


def charts_svg(charts: Sequence[Chart], *, prefix: str = "chart") -> list[tuple[Chart, str]]:
    """Each chart of a document with its SVG, with ids unique on the page (`prefix`-1, -2 …);
    a chart with nothing on its axis (no group, no day) is not drawn: its table says "Nothing
    to report"."""
    drawn = [c for c in charts if c.labels]
    return [(c, chart_svg(c, ident=f"{prefix}-{n}")) for n, c in enumerate(drawn, 1)]
