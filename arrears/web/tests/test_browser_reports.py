"""A report in a real browser (Chromium, as test_browser.py): the metrics of March 2026 by
property, their charts drawn by the server (no script needed), named for a screen reader, with
a screenshot in test-artifacts/screens/report-metrics.png.

The cast's book (arrears.access.tests.people): in March Tina's lease at Elm Court is billed
1,200.00 and nothing is collected; Oscar's at Oak Terrace is billed nothing (February's 950.00
is open).
"""

from __future__ import annotations

import pytest

from arrears.web.tests.test_browser import CHROMIUM, browser, page, shot, sign_in  # noqa: F401

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)"
    ),
]


def test_the_metrics_of_a_period_show_their_charts(live_server, page, people):  # noqa: F811
    base = live_server.url
    # given Dave, the controller, on the metrics of March by property
    sign_in(page, base, "dave", then="/reports/metrics/?from=2026-03-01&to=2026-03-31&by=property")
    # then the billed-and-collected chart is an image named by its title and described
    chart = page.get_by_role("img", name="Billed and collected, 2026-03-01 to 2026-03-31 (USD)")
    chart.wait_for()
    assert chart.get_attribute("aria-labelledby") == "chart-1-title chart-1-desc"
    described = chart.locator("desc").text_content()
    assert "ELM: billed 1200.00, collected 0.00" in described
    # its axis in round dollars up to Tina's 1,200 (0 to 1,500 by 500), a legend of both series
    texts = chart.locator("text").all_text_contents()
    assert texts[:4] == ["$0", "$500", "$1,000", "$1,500"]
    assert {"ELM", "OAK", "billed", "collected"} <= set(texts)
    # the chart is drawn at a readable size, and the form keeps what was asked
    box = chart.bounding_box()
    assert box["width"] > 500
    assert box["height"] > 200
    assert page.locator("select[name=by]").input_value() == "property"
    assert page.get_by_role("img").count() == 3
    assert "Days sales outstanding (DSO), USD" in page.locator("main").inner_text()
    shot(page, "report-metrics")
