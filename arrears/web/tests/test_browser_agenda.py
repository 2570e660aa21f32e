"""The monthly meeting in a real browser (Chromium, as test_browser.py; issue 17, item 6): Carol,
Hale & Co's attorney, opens the month's agenda from her Cases page, finds A-OSCAR's case with its
filing under "since the last meeting", writes the minutes for it and sees them on the account's
timeline; the agenda's PDF downloads. Screenshots land in test-artifacts/screens/.
"""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from arrears.access.tests.people import FIRM, TODAY
from arrears.ledger.models import TimelineEvent
from arrears.legal.models import Meeting, Referral
from arrears.legal.services import case_update
from arrears.web.tests.test_browser import CHROMIUM, browser, page, shot  # noqa: F401
from arrears.web.tests.test_browser_cases import _sign_in

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)"
    ),
]


def test_the_attorney_reads_the_agenda_and_records_the_minutes(
    live_server,
    page,  # noqa: F811
    people,
):
    base = live_server.url
    case = Referral.objects.get(account__account_id="A-OSCAR", firm=FIRM)
    case_update(
        case=case,
        status="filed",
        on=TODAY,
        actor="carol",
        today=TODAY,
        index_number="RG-26-2002",
        court="Alameda County Superior Court",
    )
    month = f"{TODAY:%Y-%m}"
    # given Carol signed in, on her firm's cases
    _sign_in(page, base, "carol", "/cases/")
    # when she opens the monthly meeting's agenda for the month
    page.locator("#agenda-link").click()
    page.wait_for_url(f"{base}/cases/agenda/*")
    page.locator("form.agenda-filter input[name=month]").fill(month)
    page.locator("form.agenda-filter button").click()
    row = page.locator(f"#agenda-case-{case.pk}")
    # then A-OSCAR's case is there once, its filing since the last meeting
    assert page.locator("[id^=agenda-case-]").count() == 1
    assert "A-OSCAR" in row.inner_text()
    assert "filed" in row.inner_text()
    shot(page, "agenda")
    # and the PDF downloads and says the same
    with page.expect_download() as download:
        page.get_by_role("link", name="The agenda as PDF").click()
    pdf = PdfReader(io.BytesIO(download.value.path().read_bytes()))
    text = "\n".join(p.extract_text() for p in pdf.pages)
    assert f"Hale & Co: monthly meeting, {month}" in text
    assert "RG-26-2002" in text
    # when she writes the minutes for the case and records them
    page.locator(f"#minutes-{case.pk}").fill("the tenant asks for a payment plan; we agree")
    page.get_by_role("button", name="Record the minutes").click()
    # then the page says so, and the note is on the account's timeline, the meeting kept
    page.locator("p.ok").get_by_text("are on their timelines", exact=False).wait_for()
    note = TimelineEvent.objects.get(account=case.account, kind="case.minutes")
    assert "we agree" in note.summary
    assert Meeting.objects.get(firm=FIRM, month=month).recorded_by == "carol"
