"""The periods page in a real browser (Chromium, as test_browser.py): Dave, the controller, closes
February from the header's Periods link, is told why a reopening without a reason is refused,
and reopens it saying why (issue 13, item 8). A screenshot lands in test-artifacts/screens/."""

from __future__ import annotations

import pytest

from arrears.access.models import AuditEntry
from arrears.ledger.models import PeriodEvent
from arrears.web.tests.test_browser import CHROMIUM, browser, page, shot, sign_in  # noqa: F401

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)"
    ),
]


def test_a_controller_closes_february_and_reopens_it_saying_why(live_server, page, people):  # noqa: F811
    base = live_server.url
    # given Dave on his worklist, who follows the header's Periods link
    sign_in(page, base, "dave")
    page.locator("header nav").get_by_role("link", name="Periods").click()
    page.wait_for_url(f"{base}/periods/")
    assert "No month is closed." in page.locator("#where").inner_text()
    # when he closes the month the form offers (February, the last that has ended)
    close = page.locator("form.period-close-form")
    assert close.locator("input[name=month]").input_value() == "2026-02"
    close.locator("button[type=submit]").click()
    # then it says so, and the history shows who closed it
    page.locator("p.ok").get_by_text("2026-02 closed.").wait_for()
    assert "closed through 2026-02-28" in page.locator("#where").inner_text()
    assert "dave" in page.locator("#periods tbody tr").first.inner_text()
    shot(page, "periods")
    # when he asks to reopen it without saying why
    reopen = page.locator("form.period-reopen-form")
    reopen.locator("button[type=submit]").click()
    # then the reason is asked for beside its field, and nothing changed
    page.locator("form.period-reopen-form .error").get_by_text("say why", exact=False).wait_for()
    assert PeriodEvent.objects.count() == 1
    # when he gives the reason
    reopen = page.locator("form.period-reopen-form")
    reopen.locator("input[name=reason]").fill("Oscar's February check came back")
    reopen.locator("button[type=submit]").click()
    # then February is open again, and both acts are on the audit log
    page.locator("p.ok").get_by_text("2026-02 reopened.").wait_for()
    assert "No month is closed." in page.locator("#where").inner_text()
    verbs = list(
        AuditEntry.objects.filter(username="dave", verb__startswith="period.")
        .order_by("id")
        .values_list("verb", "via")
    )
    assert verbs == [("period.close", "web"), ("period.reopen", "web")]
