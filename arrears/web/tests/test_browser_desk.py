"""The coordinator's desk in a real browser (Chromium, as test_browser.py; issue 15, items 3-5):
the account page says where Tina's account stands, each of its actions opens one form, and every
form says what came of it (a success, a refusal or a question) in the page's message region, in
English and in Spanish; the letters and mail triage pages too. Screenshots land in
test-artifacts/screens/."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from arrears.correspondence.models import Outbound
from arrears.ledger.models import Party, TimelineEvent
from arrears.legal.models import Referral
from arrears.plans.models import Plan, Promise
from arrears.web.tests.conftest import triage_message
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
ZONES = [
    "Pacific/Honolulu",
    "America/Los_Angeles",
    "America/Chicago",
    "America/New_York",
    "America/Sao_Paulo",
    "Atlantic/Azores",
    "Europe/London",
    "Europe/Paris",
    "Europe/Athens",
    "Asia/Dubai",
    "Asia/Karachi",
    "Asia/Dhaka",
    "Asia/Bangkok",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
]


def night_zone() -> str:
    """A zone where it is night now (before 7 AM or after 10 PM: never on the edge of a minute)."""
    now = timezone.now()
    for zone in ZONES:
        hour = now.astimezone(ZoneInfo(zone)).hour
        if hour < 7 or hour >= 22:
            return zone
    raise AssertionError("no zone at night")  # seventeen zones cover the day


def said(tab, text: str) -> str:
    """Wait for `text` in the message region; its whole text."""
    region = tab.locator("#messages")
    region.get_by_text(text, exact=False).first.wait_for()
    return region.inner_text()


def open_form(tab, act: str) -> None:
    tab.click(f"details.act-{act} > summary")


def test_the_account_page_says_where_tinas_account_stands(live_server, page, day_of_work):  # noqa: F811
    base = live_server.url
    # given Alice on Tina's account after the runs of March 11 and 26
    sign_in(page, base, "alice", "/accounts/A-TINA/")
    # then the heading is Tina's name, and the strip says the stage and why it is worked
    assert page.locator("h1").inner_text() == "Tina Ortiz"
    strip = page.locator("section.standing").inner_text()
    assert "ny-residential" in strip
    assert "referral to an attorney recommended on 2026-03-26" in strip
    # and each action is a button opening one form, none open
    buttons = page.locator("section.desk-actions > details > summary").all_inner_texts()
    assert buttons == [
        "Call",
        "Promise",
        "Plan",
        "Hold",
        "Dispute",
        "Notice",
        "Refer",
        "Move-out",
        "Payment",
        "Note",
        "Statement",
    ]
    assert page.locator("section.desk-actions > details[open]").count() == 0
    # the hold's reason and the notice are chosen, never preselected
    open_form(page, "hold")
    assert page.locator("form.hold-form select[name=reason]").input_value() == ""
    open_form(page, "notice")
    menu = page.locator("form.notice-form select[name=notice]")
    assert menu.input_value() == ""
    groups = menu.locator("optgroup")
    assert groups.count() == 2  # Tina's notices, Greg's
    tina = groups.nth(0).locator("option").all_inner_texts()
    greg = groups.nth(1).locator("option").all_inner_texts()
    assert "Fourteen-day rent demand (letter) · statutory" in tina
    assert all("guarantor" not in t for t in tina)
    assert greg == ["Notice to guarantor: rent not received (certified letter)"]
    shot(page, "account-standing")
    page.set_viewport_size({"width": 800, "height": 900})
    shot(page, "account-standing-800")


def test_each_form_of_the_account_page_says_what_came_of_it(live_server, page, day_of_work):  # noqa: F811
    base = live_server.url
    sign_in(page, base, "alice", "/accounts/A-TINA/")
    # a call made now, at night where Tina is: refused in plain words, no rule's name
    Party.objects.filter(party_id="P-TINA").update(timezone=night_zone())
    open_form(page, "call")
    page.select_option("form.call-form select[name=outcome]", "no-answer")
    page.click("form.call-form button[type=submit]")
    text = said(page, "Can't log this call now: it is ")
    assert "calls are allowed 8 AM – 9 PM" in text
    assert "hours" not in text
    assert "--" not in text
    shot(page, "account-call-refused")
    # the same call, made at 10:00 her time: logged, and the form closes
    page.fill("form.call-form input[name=at]", "2026-03-26T10:00")
    page.click("form.call-form button[type=submit]")
    said(page, "Call logged.")
    assert page.locator("section.desk-actions > details[open]").count() == 0
    # a promise above the balance is asked about, and saved when she says so
    open_form(page, "promise")
    page.fill("form.promise-form input[name=amount]", "2000")
    page.fill("form.promise-form input[name=promised_on]", "2026-04-03")
    page.click("form.promise-form button[type=submit]")
    text = said(page, "Please check this promise before it is saved")
    assert "2,000.00 is more than the balance of 1,250.00" in text
    assert not Promise.objects.exists()
    shot(page, "account-promise-question")
    page.locator("#messages form.confirm button").click()
    said(page, "Promise recorded: 2,000.00 by 2026-04-03.")
    assert Promise.objects.get().amount == 2000
    assert "Promise: 2,000.00 by 2026-04-03" in page.locator("section.standing").inner_text()
    # a hold without an end before its start is refused; a manual hold is placed
    open_form(page, "hold")
    page.select_option("form.hold-form select[name=reason]", "manual")
    page.fill("form.hold-form input[name=until]", "2026-03-01")
    page.click("form.hold-form button[type=submit]")
    said(page, "before it starts")
    page.fill("form.hold-form input[name=until]", "2026-04-30")
    page.click("form.hold-form button[type=submit]")
    said(page, "Hold placed: manual.")
    assert (
        "Hold: manual on the account until 2026-04-30"
        in page.locator("section.standing").inner_text()
    )
    # a note of blanks is refused; a note is added
    open_form(page, "note")
    page.fill("form.note-form textarea[name=text]", "   ")
    page.click("form.note-form button[type=submit]")
    said(page, "note")
    page.fill("form.note-form textarea[name=text]", "Tina asked for a plan")
    page.click("form.note-form button[type=submit]")
    said(page, "Note added.")
    # a referral to a firm: made, and made again refused
    for expected in ("Referred to Hale & Co.", "already referred to Hale & Co"):
        open_form(page, "refer")
        page.fill("form.refer-form input[name=firm]", "Hale & Co")
        page.fill("form.refer-form input[name=override]", "the firm has the lease")
        page.click("form.refer-form button[type=submit]")
        said(page, expected)
    assert Referral.objects.filter(account__account_id="A-TINA").count() == 1
    # a dispute with no reason given is refused; with one, opened
    open_form(page, "dispute")
    page.fill("form.dispute-form input[name=reason]", "  ")
    page.click("form.dispute-form button[type=submit]")
    said(page, "reason")
    page.fill("form.dispute-form input[name=reason]", "The late fee is wrong")
    page.check("form.dispute-form input[name=charges] >> nth=1")
    page.click("form.dispute-form button[type=submit]")
    said(page, "Dispute opened")
    # a plan of far too many installments is refused; one of three is created
    open_form(page, "plan")
    page.fill("form.plan-form input[name=start]", "2026-04-01")
    page.fill("form.plan-form input[name=installments]", "600")
    page.click("form.plan-form button[type=submit]")
    page.locator("#messages p.error").wait_for()
    page.fill("form.plan-form input[name=installments]", "3")
    page.click("form.plan-form button[type=submit]")
    said(page, "Payment plan created.")
    assert Plan.objects.filter(status="active").count() == 1
    shot(page, "account-after-the-forms")


def test_a_statutory_notice_is_previewed_and_confirmed_before_it_is_queued(
    live_server,
    page,  # noqa: F811
    day_of_work,  # noqa: F811
):
    base = live_server.url
    sign_in(page, base, "alice", "/accounts/A-TINA/")
    before = Outbound.objects.count()
    open_form(page, "notice")
    page.select_option("form.notice-form select[name=notice]", "ny-rent-demand|P-TINA")
    # the preview shows the letter's PDF in a frame, and queues nothing
    page.click("form.notice-form button[formmethod=get]")
    frame = page.locator("#notice-preview iframe.letter-preview")
    frame.wait_for()
    pdf = page.request.get(base + frame.get_attribute("src"))
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")
    assert Outbound.objects.count() == before
    shot(page, "account-notice-preview")
    # queuing it asks first: a statutory notice, and its deadline
    page.click("form.notice-form button:not([formmethod])")
    said(page, "This is a statutory notice (NY RPAPL §711(2), §702); the deadline will be")
    assert page.locator("#messages form.confirm button").inner_text() == "Send it"
    assert Outbound.objects.count() == before
    page.locator("#messages form.confirm button").click()
    said(page, "Notice queued for the print batch.")
    assert Outbound.objects.count() == before + 1
    queued = Outbound.objects.order_by("id").last()
    assert (queued.template, queued.channel) == ("ny-rent-demand", "letter")


def test_the_forms_speak_spanish(live_server, browser, day_of_work):  # noqa: F811
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="es-US")
    page = context.new_page()  # noqa: F811
    page.set_default_timeout(10_000)
    base = live_server.url
    sign_in(page, base, "alice", "/accounts/A-TINA/")
    page.select_option("form.lang select", "es")
    page.wait_for_load_state("networkidle")
    page.goto(base + "/accounts/A-TINA/")
    assert "Registrar llamada" in page.content()
    Party.objects.filter(party_id="P-TINA").update(timezone=night_zone())
    page.click("details.act-call > summary")
    page.select_option("form.call-form select[name=outcome]", "no-answer")
    page.click("form.call-form button[type=submit]")
    text = said(page, "No se puede registrar esta llamada ahora: son las ")
    assert "se permiten llamadas de 8 AM a 9 PM" in text
    page.click("details.act-note > summary")
    page.fill("form.note-form textarea[name=text]", "Llamar el lunes")
    page.click("form.note-form button[type=submit]")
    said(page, "Nota agregada.")
    shot(page, "account-es")
    context.close()


def test_the_letters_and_mail_triage_pages_say_what_came_of_their_forms(
    live_server,
    page,  # noqa: F811
    day_of_work,  # noqa: F811
):
    base = live_server.url
    sign_in(page, base, "alice", "/letters/?on=2026-03-11")
    # a letter returned that is not one: refused, in the message region
    page.fill("form.returned-form input[name=letter]", "L999999")
    page.click("form.returned-form button[type=submit]")
    page.locator("#messages p.error").wait_for()
    # a letter returned: said so after the page reloads
    letter = Outbound.objects.filter(channel="letter", status="rendered").first()
    page.fill("form.returned-form input[name=letter]", f"L{letter.pk}")
    page.click("form.returned-form button[type=submit]")
    said(page, f"Letter L{letter.pk} recorded returned.")
    shot(page, "letters-message")
    # mail triage: an unknown account refused, a known one filed
    triage_message()
    page.goto(base + "/mail/triage/")
    page.fill("form.assign-form input[name=account_id]", "A-NOBODY")
    page.click("form.assign-form button[type=submit]")
    page.locator("#messages p.error").wait_for()
    page.fill("form.assign-form input[name=account_id]", "A-TINA")
    page.click("form.assign-form button[type=submit]")
    said(page, "filed on A-TINA")
    assert TimelineEvent.objects.filter(account__account_id="A-TINA").exists()


def test_an_admin_form_says_what_came_of_it(live_server, page, people):  # noqa: F811
    base = live_server.url
    sign_in(page, base, "erin", "/admin/users/")
    form = page.locator("form.user-add-form")
    form.locator("input[name=username]").fill("frank")
    form.locator("select[name=role]").select_option("coordinator")
    form.locator("input[name=password]").fill("hudson-yards-ledger-77")
    form.locator("input[name=password_again]").fill("hudson-yards-ledger-78")
    form.locator("button[type=submit]").click()
    # a refusal beside its field
    page.locator("form.user-add-form .error[role=alert]").first.wait_for()
    form = page.locator("form.user-add-form")
    form.locator("input[name=password]").fill("hudson-yards-ledger-77")
    form.locator("input[name=password_again]").fill("hudson-yards-ledger-77")
    form.locator("button[type=submit]").click()
    page.locator("p.ok[role=status]").get_by_text("User frank added.").wait_for()
