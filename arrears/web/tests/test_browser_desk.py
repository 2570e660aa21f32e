"""The coordinator's desk in a real browser (Chromium, as test_browser.py; issue 15, items 3-5):
the account page says where Tina's account stands, each of its actions opens one form, and every
form says what came of it (a success, a refusal) in a message region, in English and in Spanish.
Screenshots land in test-artifacts/screens/."""

from __future__ import annotations

import pytest

from arrears.web.tests.test_browser import (  # noqa: F401
    CHROMIUM,
    browser,
    day_of_work,
    page,
    shot,
    sign_in,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)"
    ),
]


def test_the_account_page_says_where_tinas_account_stands(live_server, page, day_of_work):  # noqa: F811
    base = live_server.url
    # given Alice on Tina's account after the runs of March 11 and 26
    sign_in(page, base, "alice", "/accounts/A-TINA/")
    # then the heading is Tina's name, and the strip says the stage and the next step
    assert page.locator("h1").inner_text() == "Tina Ortiz"
    strip = page.locator("section.standing").inner_text()
    assert "ny-residential" in strip
    assert "referral to an attorney recommended on 2026-03-26" in strip
    shot(page, "account-standing")
