"""Case tracking in a real browser (Chromium, as test_browser.py; issue 17, item 4): Paula, Hale &
Co's paralegal, signs in and lands on her firm's cases, opens A-OSCAR's case, marks it filed with
its index number and sees it in the history; Carol, the firm's attorney, sets a hearing; Alice,
the coordinator, finds the hearing on her Today page. Screenshots land in test-artifacts/screens/.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from arrears.access.services import user_add
from arrears.access.tests.people import FIRM, OPERATOR, PASSWORD, TODAY
from arrears.legal.models import CaseEvent, Referral
from arrears.web.tests.test_browser import CHROMIUM, browser, page, shot  # noqa: F401

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)"
    ),
]


def _sign_in(page, base: str, who: str, lands: str) -> None:  # noqa: F811
    page.context.clear_cookies()
    page.goto(base + "/signin/")
    page.fill("input[name=username]", who)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.signin button[type=submit]")
    page.wait_for_url(base + lands)


def test_a_paralegal_files_the_case_and_the_coordinator_sees_the_hearing_on_today(
    live_server,
    page,  # noqa: F811
    people,
):
    base = live_server.url
    user_add(
        username="paula",
        password=PASSWORD,
        role="paralegal",
        firm=FIRM,
        actor=OPERATOR,
        via="system",
    )
    case = Referral.objects.get(account__account_id="A-OSCAR", firm=FIRM)
    # given Paula signed in: she lands on her firm's cases
    _sign_in(page, base, "paula", "/cases/")
    assert (
        page.locator("header nav").get_by_role("link", name="Cases").get_attribute("aria-current")
        == "page"
    )
    row = page.locator(f"#case-{case.pk}")
    assert "A-OSCAR" in row.inner_text()
    shot(page, "cases")
    # when she opens the case and marks it filed, with its index number and court
    row.get_by_role("link", name=f"Case {case.pk}").click()
    page.wait_for_url(f"{base}/cases/{case.pk}/")
    form = page.locator("form.case-update")
    assert form.locator("option[value=judgment]").count() == 0  # nothing about money
    form.locator("select[name=status]").select_option("filed")
    form.locator("input[name=index_number]").fill("RG-26-1001")
    form.locator("input[name=court]").fill("Alameda County Superior Court")
    form.locator("input[name=note]").fill("filed by e-filing")
    form.locator("button[type=submit]").click()
    # then the page says so and the history shows the filing, by her
    page.locator("p.ok").get_by_text("filed on 2026-03-26 recorded", exact=False).wait_for()
    history = page.locator("#case-events tbody tr").last.inner_text()
    assert "filed" in history
    assert "RG-26-1001" in history
    assert "paula" in history
    assert "RG-26-1001" in page.locator("#case-facts").inner_text()
    shot(page, "case")
    assert CaseEvent.objects.filter(case=case, status="filed", actor="paula").count() == 1
    # when Carol, the attorney, sets the hearing three days ahead
    hearing = TODAY + timedelta(days=3)
    _sign_in(page, base, "carol", "/cases/")
    page.goto(f"{base}/cases/{case.pk}/")
    form = page.locator("form.case-update")
    form.locator("select[name=status]").select_option("hearing")
    form.locator("input[name=on]").fill(hearing.isoformat())
    form.locator("button[type=submit]").click()
    page.locator("p.ok").get_by_text("hearing scheduled", exact=False).wait_for()
    # then Alice, the coordinator, finds it on her Today page, under Hearings ahead
    _sign_in(page, base, "alice", "/today/")
    page.locator("#tab-hearings").click()
    line = page.locator("#worklist tr[data-kind=hearing]")
    text = line.inner_text()
    assert f"Hearing on {hearing.isoformat()} at Alameda County Superior Court" in text
    assert f"index RG-26-1001, case {case.pk}" in text
    shot(page, "today-hearing")
    # and from the line she opens the case
    line.get_by_role("link", name="Open the case").click()
    page.wait_for_url(f"{base}/cases/{case.pk}/")
