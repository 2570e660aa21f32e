"""The account page fits the account (issue 15, items 3 and 5): its heading and status strip,
and a notice menu of the account's policy only, per party role, by readable names, none chosen;
a letter that would go without a required merge field is refused with the field named."""

from __future__ import annotations

import html
import re
from datetime import date

import pytest
from django.test import Client

from arrears.access.tests.people import signed_in
from arrears.correspondence.models import Outbound
from arrears.ledger.models import Account, AccountParty, Party

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def alice(people) -> Client:
    return signed_in(people["alice"])


def menu(page: str) -> list[str]:
    """The notice menu's options: (value, title)."""
    found = re.search(r'<select name="notice" required>(.*?)</select>', page, re.S)
    assert found, "no notice menu"
    return re.findall(r'<option value="([^"]*)"', found.group(1))


def test_a_new_york_tenants_menu_offers_new_yorks_notices_by_role_none_chosen(alice):
    page = alice.get("/accounts/A-TINA/").content.decode()
    options = menu(page)
    assert options[0] == ""  # "Choose a notice…": nothing preselected
    assert "selected" not in re.search(r'<select name="notice".*?</select>', page, re.S).group(0)
    assert set(options[1:]) == {
        "ny-rent-reminder|P-TINA",
        "ny-late-rent-notice|P-TINA",
        "ny-rent-demand|P-TINA",
        "ny-late-rent-notice-guarantor|P-GREG",
    }
    assert "Fourteen-day rent demand (letter) · statutory" in page
    assert "Notice to guarantor: rent not received (certified letter)" in page


def test_a_california_tenants_menu_offers_californias(alice):
    options = menu(alice.get("/accounts/A-OSCAR/").content.decode())
    assert options[1:]
    assert all(o.startswith("ca-") for o in options[1:]), options


def test_a_business_customers_menu_offers_the_b2b_notices_only(alice):
    # given a business customer on net-30 terms
    account = Account.objects.create(
        account_id="B-ACME", kind="customer", opened_on=date(2025, 1, 1)
    )
    party = Party.objects.create(party_id="P-ACME", name="Acme Supply", email="ap@acme.test")
    AccountParty.objects.create(account=account, party=party, role="primary")
    page = alice.get("/accounts/B-ACME/").content.decode()
    options = menu(page)[1:]
    assert options
    assert all(o.startswith("b2b-") for o in options), options
    assert "Final notice before referral (certified letter)" in html.unescape(page)
    assert "b2b-final-notice</option>" not in page  # by its title, not its name


def test_a_letter_without_a_required_field_is_refused_naming_it(alice, settings):
    # given no company phone: the California 3-day notice must print it (CCP §1161(2))
    settings.ARREARS_COMPANY = {**settings.ARREARS_COMPANY, "phone": ""}
    response = alice.post(
        "/accounts/A-OSCAR/notices/",
        {"notice": "ca-3-day-notice-pay-or-quit|P-OSCAR", "channel": "", "confirm": "1"},
        **HTMX,
    )
    body = html.unescape(response.content.decode())
    assert response.status_code == 422
    assert "the letter would go out without the company's phone number" in body
    assert "company.phone" not in body
    assert not Outbound.objects.exists()
    # the preview says the same, and queues nothing
    preview = alice.get(
        "/accounts/A-OSCAR/notices/preview/",
        {"notice": "ca-3-day-notice-pay-or-quit|P-OSCAR"},
        **HTMX,
    )
    assert "the company's phone number" in html.unescape(preview.content.decode())


def test_a_notice_sent_as_the_policy_sends_it_goes_by_the_steps_channel(alice):
    response = alice.post(
        "/accounts/A-TINA/notices/",
        {"notice": "ny-late-rent-notice|P-TINA", "channel": "", "confirm": "1"},
        **HTMX,
    )
    assert response.status_code == 200, response.content.decode()[:300]
    queued = Outbound.objects.get()
    assert (queued.channel, queued.template) == ("certified_letter", "ny-late-rent-notice")


def test_the_page_heading_is_the_tenants_name_and_the_strip_says_the_deposit(alice):
    Account.objects.filter(account_id="A-TINA").update(extra={"deposit_held": "1,200.00"})
    page = alice.get("/accounts/A-TINA/").content.decode()
    assert "<h1>Tina Ortiz</h1>" in page
    assert "Deposit held: 1,200.00" in page
    assert '<section class="standing"' in page
