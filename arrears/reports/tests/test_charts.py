"""A report's chart as SVG (arrears.reports.charts): well-formed XML a screen reader can name,
its axis at round values in its unit, a legend for several series, every text escaped, and
colours that stand out from the white they are drawn on."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest

from arrears.reports.charts import PALETTE, axis_ticks, chart_svg, scale, tick_label
from arrears.reports.document import Chart, Series

SVG = "{http://www.w3.org/2000/svg}"
D = Decimal


def parsed(chart: Chart) -> ET.Element:
    return ET.fromstring(chart_svg(chart, ident="c1"))


def texts(root: ET.Element) -> list[str]:
    """The text of every <text> (the axis marks, the labels, the legend), without the <title>
    a label keeps its whole text in."""
    return [(t.text or "") + "".join(c.tail or "" for c in t) for t in root.iter(f"{SVG}text")]


def test_a_bar_chart_is_named_by_its_title_and_described_in_words():
    chart = Chart(
        "bars",
        "Billed and collected",
        ("ELM", "OAK"),
        (Series("billed", (D("2000.00"), D("1000.00"))), Series("collected", (D("1000"), D(0)))),
        "money",
        "USD",
        "ELM billed 2,000.00 and collected 1,000.00",
    )
    root = parsed(chart)
    assert root.get("role") == "img"
    title_id, desc_id = root.get("aria-labelledby", "").split()
    ids = {e.get("id"): "".join(e.itertext()) for e in root.iter() if e.get("id")}
    assert ids[title_id] == "Billed and collected"
    assert ids[desc_id] == "ELM billed 2,000.00 and collected 1,000.00"
    # the axis: 0 to 2,000 in round dollars (axis_ticks: a step of 500 reaches 2,000 in 4)
    marks = texts(root)
    assert marks[:5] == ["$0", "$500", "$1,000", "$1,500", "$2,000"]
    # the labels under the bars and, with two series, a legend naming both
    assert {"ELM", "OAK", "billed", "collected"} <= set(marks)
    # a bar for each value, with its exact value in its <title>
    bars = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    said = ["".join(r.find(f"{SVG}title").itertext()) for r in bars]
    assert said == [
        "ELM, billed: $2,000.00",
        "ELM, collected: $1,000.00",
        "OAK, billed: $1,000.00",
        "OAK, collected: $0.00",
    ]
    # the 2,000 bar is twice the height of the 1,000 ones
    heights = [float(r.get("height")) for r in bars]
    assert heights[0] == pytest.approx(2 * heights[1], abs=0.2)
    # OAK collected 0.00: a sliver of 2 px on the axis, told apart from a gap
    assert heights[3] == 2


def test_a_hostile_series_name_and_label_are_drawn_as_text_not_markup():
    chart = Chart(
        "stacked",
        "<b>title</b>",
        ("<script>alert(1)</script>",),
        (Series("<script>alert('x')</script>", (D(5),)), Series('"&', (D(3),))),
        "count",
        description="a & b < c",
    )
    svg = chart_svg(chart, ident="c1")
    assert "<script>" not in svg
    assert "<b>" not in svg
    root = ET.fromstring(svg)  # still well-formed XML
    assert root.find(f"{SVG}script") is None
    assert "<script>alert('x')</script>" in texts(root)
    assert "".join(root.find(f"{SVG}desc").itertext()) == "a & b < c"
    # stacked: 5 + 3 = 8 on an axis of 0, 2, 4, 6, 8 counts
    assert texts(root)[:5] == ["0", "2", "4", "6", "8"]


@pytest.mark.parametrize(
    ("unit", "peak", "marks"),
    [
        ("percent", "30.0000", ["0%", "10%", "20%", "30%"]),
        ("share", "0.84", ["0%", "25%", "50%", "75%", "100%"]),
        ("days", "117.90", ["0 d", "50 d", "100 d", "150 d"]),
        ("count", "7", ["0", "2", "4", "6", "8"]),
    ],
)
def test_each_unit_marks_its_axis_in_its_own_words(unit, peak, marks):
    chart = Chart("bars", "t", ("ALL",), (Series("s", (D(peak),)),), unit)
    assert texts(parsed(chart))[: len(marks)] == marks


def test_a_line_is_broken_where_a_value_is_missing_and_negative_values_go_below_zero():
    chart = Chart(
        "line",
        "CEI by month",
        ("Jan", "Feb", "Mar", "Apr"),
        (Series("CEI", (D(40), D(-10), None, D(90))),),
        "percent",
    )
    root = parsed(chart)
    # one run Jan-Feb; April alone after the gap: a dot, no line
    lines = list(root.iter(f"{SVG}polyline"))
    assert len(lines) == 1
    assert len(lines[0].get("points").split()) == 2
    assert len(list(root.iter(f"{SVG}circle"))) == 3
    # -10 needs a mark below zero, of the same step as above (25: 0 to 100 in 4)
    assert texts(root)[:6] == ["-25%", "0%", "25%", "50%", "75%", "100%"]
    # one series: no legend
    assert "CEI" not in texts(root)


def test_the_scale_holds_zero_and_both_ends():
    assert scale(D(0), D(12345)) == [D(0), D(5000), D(10000), D(15000)]
    assert scale(D(-600), D(1200)) == [D(-500) * 2, D(-500), D(0), D(500), D(1000), D(1500)]
    # axis_ticks(5) steps by 2 (5 / 4 = 1.25, the next round step): 6 below zero holds -5
    assert axis_ticks(D(5)) == [D(0), D(2), D(4), D(6)]
    assert scale(D(-5), D(0)) == [D(-6), D(-4), D(-2), D(0)]


def test_an_amount_mark_has_the_currencys_sign_also_below_zero():
    assert tick_label(D(-500), "USD") == "-$500"
    assert tick_label(D(-500), "CHF") == "CHF -500"
    assert tick_label(D(5000), "EUR") == "€5,000"


def _luminance(colour: str) -> float:
    # WCAG 2.1 relative luminance: https://www.w3.org/TR/WCAG21/#dfn-relative-luminance
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_every_colour_has_a_contrast_of_at_least_3_to_1_on_white():
    # WCAG 2.1 SC 1.4.11 (non-text contrast): (L1 + 0.05) / (L2 + 0.05) >= 3 against white (1.0)
    for colour in PALETTE:
        assert (1.05) / (_luminance(colour) + 0.05) >= 3, colour


def test_labels_too_long_for_their_column_are_tilted_whole_not_cut() -> None:
    # 13 month ends on a 720 px chart: about 49 px a column, 7 characters; "2026-01-31" has 10
    days = (*(f"2026-{m:02d}-28" for m in range(1, 13)), "2026-12-05")
    chart = Chart("bars", "Aging", days, (Series("91+", tuple(D(m) for m in range(13))),))
    root = parsed(chart)
    labels = [t for t in root.iter(f"{SVG}text") if "rotate(-40" in t.get("transform", "")]
    assert [t.text for t in labels] == list(days)
    # short labels stay level
    level = Chart("bars", "By property", ("ELM", "OAK"), (Series("x", (D(1), D(2))),))
    assert "rotate(" not in chart_svg(level, ident="c2")


def test_a_chart_with_nothing_on_its_axis_is_not_drawn() -> None:
    from arrears.reports.charts import charts_svg

    empty = Chart("bars", "Nothing", (), (Series("x", ()),))
    full = Chart("bars", "Something", ("ELM",), (Series("x", (D(1),)),))
    drawn = charts_svg([empty, full])
    assert [chart for chart, _svg in drawn] == [full]
    assert 'id="chart-1-title">Something<' in drawn[0][1]
