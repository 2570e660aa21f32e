"""The charts' pure parts: an amount axis marked at round amounts with the currency's sign."""

from __future__ import annotations

from decimal import Decimal

import pytest

from arrears.web.chart import Bar, axis_ticks, stacked_svg, tick_label


@pytest.mark.parametrize(
    ("peak", "marks"),
    [
        ("12345.67", [0, 5000, 10000, 15000]),
        ("862001.40", [0, 250000, 500000, 750000, 1000000]),
        ("1053951.40", [0, 500000, 1000000, 1500000]),
        ("100", [0, 25, 50, 75, 100]),
        ("10", [0, 5, 10]),
        ("7", [0, 2, 4, 6, 8]),
        ("0.40", [0, 1]),
        ("0", [0, 1]),
        ("-50", [0, 1]),
    ],
)
def test_an_axis_is_marked_at_round_amounts_from_zero_past_the_peak(peak, marks):
    ticks = axis_ticks(Decimal(peak))
    assert ticks == [Decimal(m) for m in marks]
    assert len(ticks) <= 5
    assert ticks[-1] >= Decimal(peak)


def test_a_mark_has_the_currencys_sign_and_whole_units():
    assert tick_label(Decimal(0), "USD") == "$0"
    assert tick_label(Decimal("5E+3"), "USD") == "$5,000"
    assert tick_label(Decimal(1000000), "EUR") == "€1,000,000"
    assert tick_label(Decimal(20), "CHF") == "CHF 20"


def test_the_aging_chart_marks_its_axis_in_dollars():
    bars = [Bar("Oct 26", (Decimal("4000"), Decimal("8345.67"))), Bar("Nov 26", (Decimal(1),))]
    svg = stacked_svg(bars, ["current", "1-30"], title="Aging", currency="USD")
    assert [f">{m}</text>" in svg for m in ("$0", "$5,000", "$10,000", "$15,000")] == [True] * 4
    assert "12,345" not in svg  # the peak itself is no mark
