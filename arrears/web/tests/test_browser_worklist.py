"""A coordinator works her Today list from the top, in Chromium, without the command line.

Elm Court has three tenants behind on March's rent: Tina Ortiz (3B), Rosa Mendez (4C) and Sam
Patel (2A). Their rent demands went out on March 11 and expired unpaid; on the 26th the policy
recommends a referral of each. Alice calls Tina, who promises to pay: once the promise is
recorded, Tina's line leaves. She refers Rosa to Hale & Co: Rosa's line leaves. Sam's manager
asked her to wait for his tax refund: she snoozes his line until the 28th, and it is back that
day.
"""

from __future__ import annotations

from datetime import date

import pytest

from arrears.dunning.models import WorklistSnooze
from arrears.dunning.reissue import letters_print
from arrears.dunning.services import cycle_run
from arrears.ledger.services import book_import
from arrears.legal.models import Referral
from arrears.plans.models import Promise
from arrears.web.tests.test_browser import CHROMIUM, browser, page, shot, sign_in  # noqa: F401

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)"
    ),
]

NEIGHBOURS = {
    "parties": [
        {
            "party_id": "P-ROSA",
            "name": "Rosa Mendez",
            "phone": "+17185550120",
            "address": "12 Elm Street, Apt 4C",
            "city": "Brooklyn",
            "state": "NY",
            "postal_code": "11201",
            "country": "US",
        },
        {
            "party_id": "P-SAM",
            "name": "Sam Patel",
            "phone": "+17185550121",
            "address": "12 Elm Street, Apt 2A",
            "city": "Brooklyn",
            "state": "NY",
            "postal_code": "11201",
            "country": "US",
        },
    ],
    "accounts": [
        {
            "account_id": "A-ROSA",
            "property_id": "ELM",
            "unit": "4C",
            "kind": "residential_lease",
            "opened": "2025-02-01",
            "rent": "1400.00",
        },
        {
            "account_id": "A-SAM",
            "property_id": "ELM",
            "unit": "2A",
            "kind": "residential_lease",
            "opened": "2025-04-01",
            "rent": "1100.00",
        },
    ],
    "account_parties": [
        {"account_id": "A-ROSA", "party_id": "P-ROSA", "role": "primary"},
        {"account_id": "A-SAM", "party_id": "P-SAM", "role": "primary"},
    ],
    "transactions": [
        {
            "txn_id": "T-ROSA-03",
            "account_id": "A-ROSA",
            "posted": "2026-03-01",
            "type": "charge",
            "code": "RENT",
            "amount": "1400.00",
            "due": "2026-03-01",
        },
        {
            "txn_id": "T-SAM-03",
            "account_id": "A-SAM",
            "posted": "2026-03-01",
            "type": "charge",
            "code": "RENT",
            "amount": "1100.00",
            "due": "2026-03-01",
        },
    ],
}


@pytest.fixture
def three_referrals(people, tmp_path):
    from arrears.access.tests.people import write_book

    book_import(write_book(tmp_path / "neighbours", NEIGHBOURS))
    cycle_run(on=date(2026, 3, 11), actor="cycle")
    letters_print(on=date(2026, 3, 11), output=tmp_path / "print", actor="alice", workers=1)
    cycle_run(on=date(2026, 3, 26), actor="cycle")
    return people


def line(tab, account_id: str):
    return tab.locator(f'#worklist tr[data-account="{account_id}"][data-kind="referral"]')


def test_a_coordinator_clears_her_referrals_from_the_today_page(live_server, page, three_referrals):  # noqa: F811
    base = live_server.url
    # given Alice on her Today page, on the tab of referrals to decide
    sign_in(page, base, "alice")
    page.click("#tab-referrals")
    page.wait_for_url(f"{base}/today/?tab=referrals&as_of=2026-03-26")
    for account in ("A-TINA", "A-ROSA", "A-SAM"):
        assert line(page, account).count() == 1
    assert "Tina Ortiz" in line(page, "A-TINA").inner_text()
    assert "Elm Court, 3B" in line(page, "A-TINA").inner_text()
    shot(page, "today-worklist")

    # when she calls Tina (reached at 11:00 her time) from Tina's line, and Tina promises
    # 600.00 by April 3: both in the call's form
    tina = line(page, "A-TINA")
    tina.locator("summary").click()
    shot(page, "today-worklist-line-actions")
    tina.locator("form.line-call select[name=outcome]").select_option("promise")
    tina.locator("form.line-call input[name=at]").fill("2026-03-26T11:00")
    tina.locator("form.line-call input[name=promise_amount]").fill("600.00")
    tina.locator("form.line-call input[name=promise_on]").fill("2026-04-03")
    tina.locator("form.line-call button[type=submit]").click()
    page.wait_for_url(f"{base}/today/?tab=referrals&as_of=2026-03-26")
    # then Tina's line has left the list, and the page says what was done
    assert line(page, "A-TINA").count() == 0
    assert "Call logged" in page.locator("#messages").inner_text()
    assert Promise.objects.get(account__account_id="A-TINA").amount == 600

    # when she refers Rosa to Hale & Co
    rosa = line(page, "A-ROSA")
    rosa.locator("summary").click()
    rosa.locator("form.line-refer input[name=firm]").fill("Hale & Co")
    # (her line names what the case file lacks, and asks the reason to send it without)
    assert "Proof of service of the 14-day rent demand" in rosa.inner_text()
    rosa.locator("form.line-refer input[name=override]").fill("the owner sends the lease")
    rosa.locator("form.line-refer button[type=submit]").click()
    page.wait_for_url(f"{base}/today/?tab=referrals&as_of=2026-03-26")
    # then Rosa's line has left too, as the page says
    assert line(page, "A-ROSA").count() == 0
    assert "Referred to Hale & Co." in page.locator("#messages").inner_text()
    assert Referral.objects.filter(account__account_id="A-ROSA", firm="Hale & Co").exists()

    # when she snoozes Sam's line until the 28th, saying why
    sam = line(page, "A-SAM")
    sam.locator("summary").click()
    sam.locator("form.line-snooze input[name=until]").fill("2026-03-28")
    sam.locator("form.line-snooze input[name=reason]").fill("the manager waits for his refund")
    sam.locator("form.line-snooze button[type=submit]").click()
    page.wait_for_url(f"{base}/today/?tab=referrals&as_of=2026-03-26")
    # then the tab is empty today, and the page says until when
    assert line(page, "A-SAM").count() == 0
    assert "Snoozed until 2026-03-28" in page.locator("#messages").inner_text()
    assert "Nothing on the worklist for 2026-03-26." in page.locator("main").inner_text()
    assert WorklistSnooze.objects.get().until == date(2026, 3, 28)
    # and Sam's line is back on the 28th
    page.fill("form.as-of input[name=as_of]", "2026-03-28")
    page.click("form.as-of button")
    page.wait_for_url(f"{base}/today/?as_of=2026-03-28&tab=referrals")
    assert line(page, "A-SAM").count() == 1
    shot(page, "today-worklist-snoozed-back")
