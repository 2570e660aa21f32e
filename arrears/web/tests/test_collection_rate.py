"""The collection rate by month (collected ÷ billed), computed on a small book by hand, and its
chart beside the aging's: an accessible SVG with the figures in a table for screen readers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from arrears.access.tests.people import write_book
from arrears.ledger.collection import (
    CHARGE,
    PAYMENT,
    PAYMENT_REVERSAL,
    MonthRate,
    collection_rates,
    last_months,
)
from arrears.ledger.services import book_import
from arrears.web.selectors import collection_trend

D = Decimal


def test_the_last_twelve_months_end_with_the_days_month():
    months = last_months(date(2026, 3, 26))
    assert (months[0], months[-1], len(months)) == (date(2025, 4, 1), date(2026, 3, 1), 12)


def test_a_rate_is_collected_less_returned_over_billed():
    jan, feb, mar = date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)
    sums = {
        (jan, CHARGE): D("2000.00"),
        (jan, PAYMENT): D("1500.00"),
        (feb, CHARGE): D("3000.00"),
        (feb, PAYMENT): D("3100.00"),
        (feb, PAYMENT_REVERSAL): D("100.00"),
        (mar, PAYMENT): D("50.00"),
    }
    assert collection_rates(sums, [jan, feb, mar]) == [
        MonthRate(jan, D("2000.00"), D("1500.00"), D("0.7500")),
        MonthRate(feb, D("3000.00"), D("3000.00"), D("1.0000")),
        MonthRate(mar, D("0"), D("50.00"), None),  # nothing billed: no rate
    ]


# Tina (Elm) and Oscar (Oak) of the people's book owe March's 1,200.00 and February's 950.00.
# Their other entries of the months, hand-counted below.
ENTRIES: dict[str, list[dict[str, str]]] = {
    "transactions": [
        {
            "txn_id": "T-T-02",
            "account_id": "A-TINA",
            "posted": "2026-02-01",
            "type": "charge",
            "code": "RENT",
            "amount": "1200.00",
            "due": "2026-02-01",
        },
        {
            "txn_id": "T-T-02P",
            "account_id": "A-TINA",
            "posted": "2026-02-03",
            "type": "payment",
            "amount": "1200.00",
        },
        {
            "txn_id": "T-T-03P",
            "account_id": "A-TINA",
            "posted": "2026-03-05",
            "type": "payment",
            "amount": "300.00",
        },
        {
            "txn_id": "T-T-03R",
            "account_id": "A-TINA",
            "posted": "2026-03-09",
            "type": "reversal",
            "amount": "300.00",
            "reverses": "T-T-03P",
        },
        {
            "txn_id": "T-T-03C",
            "account_id": "A-TINA",
            "posted": "2026-03-10",
            "type": "credit",
            "amount": "100.00",
        },
        {
            "txn_id": "T-O-03P",
            "account_id": "A-OSCAR",
            "posted": "2026-03-12",
            "type": "payment",
            "amount": "475.00",
        },
    ]
}
# February: billed 1,200.00 (Tina) + 950.00 (Oscar) = 2,150.00; collected 1,200.00:
#   1,200.00 / 2,150.00 = 0.55814 → 0.5581.
# March: billed 1,200.00 (Tina); collected 300.00 - 300.00 returned + 475.00 = 475.00 (the
#   credit of 100.00 is not money collected): 475.00 / 1,200.00 = 0.39583 → 0.3958.


@pytest.fixture
def entries(people: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    book_import(write_book(tmp_path / "entries", ENTRIES))
    return people


@pytest.mark.django_db
def test_the_rates_of_a_small_book_are_the_hand_counted_ones(entries):
    rates = collection_trend(user=entries["alice"], as_of=date(2026, 3, 26))
    assert list(rates) == ["USD"]
    by_month = {r.month: r for r in rates["USD"]}
    assert len(by_month) == 12
    assert by_month[date(2026, 2, 1)] == MonthRate(
        date(2026, 2, 1), D("2150.00"), D("1200.00"), D("0.5581")
    )
    assert by_month[date(2026, 3, 1)] == MonthRate(
        date(2026, 3, 1), D("1200.00"), D("475.00"), D("0.3958")
    )
    assert by_month[date(2026, 1, 1)].rate is None  # nothing billed before February
    # bob sees Elm Court only: Tina's March is 0 collected of 1,200.00
    elm = collection_trend(user=entries["bob"], as_of=date(2026, 3, 26))["USD"]
    assert (elm[-1].billed, elm[-1].collected, elm[-1].rate) == (D("1200.00"), D("0.00"), D(0))
    assert elm[-2].rate == D("1.0000")  # February: Tina paid her 1,200.00


@pytest.mark.django_db
def test_the_rate_chart_stands_beside_the_aging_and_reads_out_its_figures(entries):
    client = Client()
    client.force_login(entries["alice"])
    html = client.get("/portfolio/chart/", {"as_of": "2026-03-26"}).content.decode()
    # beside the aging chart, in the same row
    assert html.count('<figure class="chart') == 2
    rate = html[html.index('<figure class="chart rate">') :]
    # an image with its name, each bar with its month and figures
    assert 'role="img"' in rate
    assert 'aria-label="Collection rate by month: collected ÷ billed (USD)"' in rate
    assert "<title>Mar: 39.6%, collected $475 of $1,200 billed</title>" in rate
    # and the same figures as a table for screen readers
    assert (
        '<th scope="row">February 2026</th><td>2,150.00</td><td>1,200.00</td><td>55.8%</td>' in rate
    )
    assert '<th scope="row">March 2026</th><td>1,200.00</td><td>475.00</td><td>39.6%</td>' in rate
