"""The workspace in a real browser: Debian's Chromium driven by Playwright, against a live server.

Alice, the coordinator, signs in, opens her worklist, opens Tina's account from it and adds a
note, which appears on the timeline without a page load (htmx). Bob, Elm Court's manager, cannot
reach Oak Terrace's account. Erin, the admin, adds a user from the admin pages and reads the
sign-ins in the audit log. Screenshots of
the main pages are saved under test-artifacts/screens/ (laptop and tablet widths).
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from arrears.access.models import Profile
from arrears.access.tests.people import PASSWORD
from arrears.dunning.reissue import letters_print
from arrears.dunning.services import cycle_run
from arrears.ledger.models import TimelineEvent

CHROMIUM = Path("/usr/bin/chromium")
SCREENS = Path(__file__).resolve().parents[3] / "test-artifacts" / "screens"

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)"
    ),
]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the test's own database calls
    # (fixtures, assertions) are synchronous and safe here.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        yield chromium
        chromium.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-US")
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    yield tab
    context.close()


@pytest.fixture
def day_of_work(people, tmp_path):
    cycle_run(on=date(2026, 3, 11), actor="cycle")
    letters_print(on=date(2026, 3, 11), output=tmp_path / "print", actor="alice", workers=1)
    cycle_run(on=date(2026, 3, 26), actor="cycle")
    return people


def shot(page, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)


def sign_in(page, base: str, who: str, then: str = "/today/") -> None:
    page.goto(base + then)
    assert "/signin/" in page.url
    page.fill("input[name=username]", who)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.signin button[type=submit]")
    page.wait_for_url(base + then)


def test_a_coordinator_works_an_account_from_the_worklist(live_server, page, day_of_work):
    base = live_server.url
    # given Alice signed in, on her worklist
    sign_in(page, base, "alice")
    worklist = page.locator("#worklist")
    assert "A-TINA" in worklist.inner_text()
    assert "referral" in worklist.inner_text()
    shot(page, "today")
    # when she opens Tina's account from it
    worklist.get_by_role("link", name="A-TINA").first.click()
    page.wait_for_url(f"{base}/accounts/A-TINA/")
    assert "Tina Ortiz" in page.locator("#parties").inner_text()
    shot(page, "account")
    # and adds a note (the Note button opens its form)
    page.click("details.act-note > summary")
    page.fill("form.note-form textarea[name=text]", "Called Tina: she will pay on Friday")
    page.click("form.note-form button[type=submit]")
    # then it is on the timeline, swapped in without a page load, and in the book
    page.locator("table.timeline").get_by_text("Called Tina: she will pay on Friday").wait_for()
    page.locator("#messages").get_by_text("Note added.").wait_for()
    assert page.url == f"{base}/accounts/A-TINA/"
    note = TimelineEvent.objects.get(kind="note.added")
    assert (note.actor, note.summary) == ("alice", "Called Tina: she will pay on Friday")
    # when she logs her call to Tina (10:00 Tina's time: reached, a promise of 600 by April 3)
    page.click("details.act-call > summary")
    page.select_option("form.call-form select[name=party_id]", "P-TINA")
    page.select_option("form.call-form select[name=outcome]", "promise")
    page.fill("form.call-form input[name=at]", "2026-03-26T10:00")
    page.fill("form.call-form input[name=note]", "will pay 600 on April 3")
    page.fill("form.call-form input[name=promise_amount]", "600.00")
    page.fill("form.call-form input[name=promise_on]", "2026-04-03")
    page.click("form.call-form button[type=submit]")
    # then the call and the promise taken on it are on the timeline, and in the commitments
    timeline = page.locator("table.timeline")
    timeline.get_by_text("call to P-TINA: promise — will pay 600 on April 3").wait_for()
    timeline.get_by_text("promise by P-TINA to pay 600.00 by 2026-04-03 (phone)").wait_for()
    page.locator("#messages").get_by_text("Promise recorded: 600.00 by 2026-04-03.").wait_for()
    page.locator("table.promises").get_by_text("2026-04-03").wait_for()
    assert page.url == f"{base}/accounts/A-TINA/"
    kinds = list(TimelineEvent.objects.filter(actor="alice").values_list("kind", flat=True))
    assert {"note.added", "call.logged", "promise.made"} <= set(kinds)
    shot(page, "account-call-and-promise")


def test_a_property_manager_cannot_reach_another_buildings_account(live_server, page, people):
    base = live_server.url
    sign_in(page, base, "bob", then="/accounts/A-TINA/")
    assert "Tina Ortiz" in page.content()
    response = page.goto(f"{base}/accounts/A-OSCAR/")
    assert response.status == 404
    assert "Oscar Diaz" not in page.content()
    page.goto(f"{base}/search/?q=oscar")
    assert "A-OSCAR" not in page.locator("main").inner_text()


def test_screenshots_of_the_portfolio_search_and_a_tablet(live_server, browser, page, day_of_work):
    base = live_server.url
    sign_in(page, base, "alice", then="/?as_of=2026-03-26")
    page.locator("#chart svg").first.wait_for()  # loaded by htmx after the table
    shot(page, "portfolio")
    page.goto(f"{base}/search/")
    page.fill("form.search input[name=q]", "ortiz")
    page.locator("#results").get_by_role("link", name="A-TINA").wait_for()  # as you type
    shot(page, "search")
    tablet = browser.new_context(viewport={"width": 820, "height": 1180}, locale="es-ES")
    tab = tablet.new_page()
    sign_in(tab, base, "alice")
    assert "Suspensiones que vencen en 7 días" in tab.content()
    shot(tab, "today-tablet-es")
    tablet.close()


def test_an_admin_adds_a_user_from_the_admin_pages(live_server, page, people):
    base = live_server.url
    # given Erin, the admin, on the users page (through the header's Admin link)
    sign_in(page, base, "erin")
    page.click("header nav a.admin-link")
    page.wait_for_url(f"{base}/admin/users/")
    # when she adds Frank, manager of Oak Terrace, typing his password twice
    form = page.locator("form.user-add-form")
    form.locator("input[name=username]").fill("frank")
    form.locator("select[name=role]").select_option("manager")
    form.locator("input[name=properties][value=OAK]").check()
    form.locator("input[name=password]").fill("hudson-yards-ledger-77")
    form.locator("input[name=password_again]").fill("hudson-yards-ledger-77")
    form.locator("button[type=submit]").click()
    # then the list names him with his building, and he is in the book's users
    page.locator("p.ok").get_by_text("User frank added.").wait_for()
    row = page.locator("#users tr", has_text="frank")
    assert "manager" in row.inner_text()
    assert "OAK" in row.inner_text()
    assert Profile.objects.get(user__username="frank").role == "manager"
    shot(page, "admin-users")


def test_an_admin_reads_the_sign_ins_in_the_audit_log(live_server, page, people):
    base = live_server.url
    # given a wrong password typed for mallory, then Erin signed in
    page.goto(base + "/signin/")
    page.fill("input[name=username]", "mallory")
    page.fill("input[name=password]", "not-her-password")
    page.click("form.signin button[type=submit]")
    assert "The user name or the password is wrong." in page.content()
    sign_in(page, base, "erin")
    # when she opens the audit log from the admin pages and keeps the sign-ins
    page.click("header nav a.admin-link")
    page.click("nav.admin-nav >> text=Audit log")
    page.wait_for_url(f"{base}/admin/audit/")
    page.fill("form.audit-filters input[name=verb]", "signin")
    page.click("form.audit-filters button")
    # then both are there, newest first, with the address they came from
    rows = page.locator("#audit tbody tr")
    assert rows.count() == 2
    assert "erin" in rows.nth(0).inner_text()
    assert "signin.ok" in rows.nth(0).inner_text()
    assert "mallory" in rows.nth(1).inner_text()
    assert "signin.failed" in rows.nth(1).inner_text()
    assert "127.0.0.1" in rows.nth(1).inner_text()
    shot(page, "admin-audit")
