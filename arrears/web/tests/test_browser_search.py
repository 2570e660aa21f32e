"""Search in a real browser (Chromium, as test_browser.py): Alice types "garcia" in the header's
box, picks José García from its suggestions and lands on his account; a unit typed exactly opens
its account; the results show balance and stage. Screenshots land in test-artifacts/screens/."""

from __future__ import annotations

import pytest

from arrears.web.tests.test_browser import CHROMIUM, browser, page, shot, sign_in  # noqa: F401
from arrears.web.tests.test_search import garcias  # noqa: F401

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)"
    ),
]


def test_garcia_typed_in_the_header_suggests_jose_garcia_and_opens_his_account(
    live_server,
    page,  # noqa: F811
    garcias,  # noqa: F811
):
    base = live_server.url
    # given Alice on her worklist
    sign_in(page, base, "alice")
    # when she types "garcia" (no accent) in the header's box
    page.locator("form.quick-search input[name=q]").press_sequentially("garcia", delay=40)
    # then the three Garcías are suggested, however their names are spelled
    suggestions = page.locator("#quick-suggestions")
    suggestions.get_by_role("link", name="José García").wait_for()
    assert "MARÍA GARCÍA" in suggestions.inner_text()
    assert "Ana Garcia" in suggestions.inner_text()
    shot(page, "search-suggestions")
    # when she goes down to José's line with the arrow key and opens it
    page.keyboard.press("ArrowDown")
    focused = page.evaluate("document.activeElement.textContent")
    assert "José García" in focused
    page.keyboard.press("Enter")
    # then his account opens
    page.wait_for_url(f"{base}/accounts/A-JOSE/")


def test_a_unit_typed_exactly_opens_its_account_and_a_name_lists_balance_and_stage(
    live_server,
    page,  # noqa: F811
    garcias,  # noqa: F811
):
    base = live_server.url
    sign_in(page, base, "alice")
    # when she types José's unit and presses Enter (the header's box is a plain form)
    box = page.locator("form.quick-search input[name=q]")
    box.fill("7a")
    box.press("Enter")
    # then his account opens
    page.wait_for_url(f"{base}/accounts/A-JOSE/")
    # when she searches for the Garcías on the search page
    page.goto(f"{base}/search/?q=garcia")
    rows = page.locator("table.hits tbody tr")
    assert rows.count() == 3
    jose = rows.filter(has_text="A-JOSE").inner_text()
    assert "1,500.00 USD" in jose
    assert "no step yet" in jose  # owing, and no run has taken a step yet
    ana = rows.filter(has_text="A-ANA").inner_text()
    assert "-200.00 USD" in ana
    assert "current" in ana
    shot(page, "search-results")
