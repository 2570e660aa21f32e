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


# Every report of the registry, on the cast's book: a period report over March 2026, the others
# as of May 15 (both accounts over 60 days then). Each page loads without a script error, every
# chart it draws is an image named by its title and described in words, at a readable size, and
# is kept as a screenshot (test-artifacts/screens/report-NAME.png).
PERIOD = "from=2026-03-01&to=2026-03-31"
AS_OF = "as_of=2026-05-15"


def _report_names() -> list[str]:
    from arrears.reports.registry import load

    return sorted(load())


@pytest.mark.parametrize("name", _report_names())
def test_every_report_page_draws_its_charts_named_and_described(
    live_server,
    page,  # noqa: F811
    people,
    name,
):
    from arrears.reports.registry import spec

    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    query = PERIOD if spec(name).period else AS_OF
    sign_in(page, live_server.url, "dave", then=f"/reports/{name}/?{query}")
    page.locator("main h1").wait_for()
    assert page.locator("main h1").inner_text() == str(spec(name).title)
    assert errors == []
    for chart in page.locator("main svg[role=img]").all():
        title_id, desc_id = chart.get_attribute("aria-labelledby").split()
        assert chart.locator(f"title#{title_id}").text_content().strip()
        assert chart.locator(f"desc#{desc_id}").text_content().strip()
        box = chart.bounding_box()
        assert box["width"] > 300
    shot(page, f"report-{name}")
