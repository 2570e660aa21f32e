"""The account's record kept up to date, in a real browser (Chromium, as test_browser.py).

Alice, the coordinator, changes Tina's phone from the Parties table and sees it formatted, with
the guard's word on calling her now (10:00 in New York; "now" frozen by ARREARS_NOW); she adds
Tina's signed lease as a PDF and opens it from the timeline; on the letters page she scans a
certified article number with a wrong check digit, sees the error beside the field before
anything is sent, then the right one, and the letter is recorded mailed. Screenshots land in
test-artifacts/screens/.
"""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader, PdfWriter

from arrears.correspondence.certified import usps_check_digit
from arrears.correspondence.models import Outbound
from arrears.ledger.models import Party, TimelineEvent
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


@pytest.fixture
def ten_in_new_york(monkeypatch):
    monkeypatch.setenv("ARREARS_NOW", "2026-03-26T10:00:00-04:00")


def test_a_coordinator_changes_a_phone_and_sees_it_formatted_with_the_guards_word(
    live_server,
    page,  # noqa: F811
    people,
    ten_in_new_york,
):
    base = live_server.url
    sign_in(page, base, "alice", then="/accounts/A-TINA/")
    # given Tina's row, her phone formatted and OK to call at 10:00 her time
    row = page.locator("#party-P-TINA")
    assert "(212) 555-0101" in row.inner_text()
    assert "OK to call now" in row.inner_text()
    # when Alice opens Tina's contact form and types her new number as people type it
    page.get_by_text("Edit contact points of Tina Ortiz").click()
    form = page.locator("#form-party-P-TINA")
    form.locator("input[name=phone]").fill("347.555.0113")
    form.locator("button[type=submit]").click()
    # then the page says so, the number reads (347) 555-0113 and dials +13475550113
    page.get_by_text("Contact points of Tina Ortiz saved").wait_for()
    row = page.locator("#party-P-TINA")
    link = row.get_by_role("link", name="(347) 555-0113")
    assert link.get_attribute("href") == "tel:+13475550113"
    assert "OK to call now" in row.inner_text()
    assert "no consent for autodialled calls" in row.inner_text()
    assert Party.objects.get(party_id="P-TINA").phone == "+13475550113"
    shot(page, "account-party-phone")
    # when she types a time zone that is none, the error is beside the form
    page.get_by_text("Edit contact points of Tina Ortiz").click()
    form = page.locator("#form-party-P-TINA")
    form.locator("input[name=timezone]").fill("Brooklyn")
    form.locator("button[type=submit]").click()
    error = page.locator("#error-party-P-TINA")
    error.wait_for()
    assert "is not a known time zone" in error.inner_text()
    shot(page, "account-party-error")


def lease_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    writer.add_metadata({"/Title": "Lease of 3B at Elm Court, signed"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_coordinator_adds_the_signed_lease_and_opens_it_from_the_timeline(
    live_server,
    page,  # noqa: F811
    people,
    tmp_path,
):
    base = live_server.url
    scan = tmp_path / "lease-signed.pdf"
    scan.write_bytes(lease_pdf())
    sign_in(page, base, "alice", then="/accounts/A-TINA/")
    # when Alice adds the scanned lease from the account page
    page.get_by_text("Add a document to the history").click()
    form = page.locator("form.document-form")
    form.locator("input[name=title]").fill("Signed lease")
    form.locator("input[name=file]").set_input_files(str(scan))
    form.locator("button[type=submit]").click()
    page.get_by_text("Document added: it is on the timeline.").wait_for()
    # then the timeline names it, and its link opens the PDF as archived
    row = page.locator("table.timeline tr", has_text="document added: Signed lease")
    link = row.locator("a.doc")
    shot(page, "account-document-added")
    response = page.request.get(base + link.get_attribute("href"))
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    title = PdfReader(io.BytesIO(response.body())).metadata.title
    assert title == "Lease of 3B at Elm Court, signed"
    event = TimelineEvent.objects.get(kind="document.added")
    assert event.actor == "alice"


def test_a_scanned_article_number_with_a_wrong_check_digit_is_refused_beside_its_field(
    live_server,
    page,  # noqa: F811
    day_of_work,  # noqa: F811
):
    base = live_server.url
    letter = Outbound.objects.filter(channel="certified_letter", status="rendered").first()
    assert letter is not None
    payload = "9407111898765400001"
    right = payload + str(usps_check_digit(payload))
    wrong = payload + str((usps_check_digit(payload) + 1) % 10)
    sign_in(page, base, "alice", then="/letters/?on=2026-03-11")
    field = page.locator(f"#letters tr:has-text('L{letter.pk}') input.article-number")
    # when Alice scans a number whose check digit is wrong (the scanner types it, then Enter)
    field.fill(wrong)
    field.press("Enter")
    # then the error is beside the field, and nothing was sent
    error = page.locator(f"#article-error-{letter.pk}")
    assert "wrong check digit" in error.inner_text()
    assert field.get_attribute("aria-invalid") == "true"
    assert page.url == f"{base}/letters/?on=2026-03-11"
    shot(page, "letters-article-number-error")
    letter.refresh_from_db()
    assert letter.status == "rendered"
    # when she scans the right one
    field.fill(right)
    assert error.inner_text() == ""
    field.press("Enter")
    page.wait_for_load_state()
    # then the letter is recorded mailed with it
    page.locator(f"#letters tr:has-text('L{letter.pk}')").get_by_text(right).wait_for()
    letter.refresh_from_db()
    assert (letter.status, letter.article_number) == ("mailed", right)
    assert letter.mailed_on == date(2026, 3, 11)
    shot(page, "letters-article-number-recorded")
