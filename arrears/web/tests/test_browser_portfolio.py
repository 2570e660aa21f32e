"""The portfolio in a real browser (Chromium, as test_browser.py): the aging chart's axis in round
dollars and the collection rate's chart beside it, with a screenshot in test-artifacts/screens/."""

from __future__ import annotations

import pytest

from arrears.web.tests.test_browser import CHROMIUM, browser, page, shot, sign_in  # noqa: F401
from arrears.web.tests.test_collection_rate import entries  # noqa: F401

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)"
    ),
]


def test_the_portfolio_shows_the_collection_rate_beside_the_aging(
    live_server,
    page,  # noqa: F811
    entries,  # noqa: F811
):
    base = live_server.url
    # given Alice on the portfolio as of March 26
    sign_in(page, base, "alice", then="/?as_of=2026-03-26")
    # when the charts have loaded (htmx, after the table)
    rate = page.get_by_role("img", name="Collection rate by month: collected ÷ billed (USD)")
    rate.wait_for()
    aging = page.get_by_role("img", name="Aging at each month end (USD)")
    # then the two stand side by side, the aging's axis in round dollars
    assert abs(rate.bounding_box()["y"] - aging.bounding_box()["y"]) < 40
    assert rate.bounding_box()["x"] > aging.bounding_box()["x"]
    axis = aging.locator("text").all_text_contents()
    assert "$0" in axis
    assert "$500" in axis
    # and the rate's figures are in the page for a screen reader
    table = page.locator("figure.chart.rate table")
    assert "March 2026" in table.inner_text()
    assert "39.6%" in table.inner_text()
    # the total: Tina's 1,200.00 less her 100.00 credit, and Oscar's 950.00 less his 475.00
    assert "1,575.00" in page.locator("table.aging tfoot").inner_text()
    shot(page, "portfolio-collection-rate")
