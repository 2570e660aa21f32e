"""Report subscriptions in a real browser (Chromium, as test_browser.py): Dave, the controller,
subscribes himself and Bob to the balances over 60 days on the subscriptions page, sees it listed
with its next send, and pauses it; Bob sees it too, with no button (it goes to Dave as well).
Screenshots land in test-artifacts/screens/."""

from __future__ import annotations

import pytest

from arrears.access.models import AuditEntry
from arrears.reports.models import Subscription
from arrears.web.tests.test_browser import CHROMIUM, browser, page, shot, sign_in  # noqa: F401

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)"
    ),
]


def test_a_controller_subscribes_on_the_page_and_pauses_it(
    live_server,
    browser,  # noqa: F811
    page,  # noqa: F811
    people,
):
    base = live_server.url
    # given Dave on the subscriptions page, with none yet
    sign_in(page, base, "dave", then="/reports/subscriptions/")
    assert "No subscription yet." in page.inner_text("main")
    # when he subscribes Bob and himself to the over-60, monthly on the 1st, as PDF
    page.select_option("select[name=report]", "over-60")
    page.fill("input[name=to]", "dave, bob")
    page.select_option("select[name=every]", "monthly:1")
    page.select_option("select[name=format]", "pdf")
    page.click("#subscription-form button[type=submit]")
    page.wait_for_url(base + "/reports/subscriptions/")
    # then it is listed, with its next send (the next 1st: March 26th's book, so April 1st)
    made = Subscription.objects.get()
    row = page.locator(f"#subscription-{made.pk}")
    assert "bob, dave" in row.inner_text()
    assert "2026-04-01" in row.inner_text()
    shot(page, "subscriptions")
    # when he pauses it
    row.get_by_role("button", name="Pause").click()
    page.wait_for_url(base + "/reports/subscriptions/")
    # then it is paused, with no next send, and both acts audited as Dave's on the web
    assert "paused" in page.locator(f"#subscription-{made.pk}").inner_text()
    made.refresh_from_db()
    assert not made.active
    verbs = AuditEntry.objects.filter(username="dave", via="web", verb__startswith="subscription")
    assert sorted(verbs.values_list("verb", flat=True)) == [
        "subscription.add",
        "subscription.change",
    ]
