"""The account page's actions of correspondence, plans and disputes, the letters page and mail
triage, as Alice (coordinator) works Tina Ortiz's account (A-TINA, 1,200.00 of March rent
unpaid, Greg Ortiz her guarantor) on March 26, 2026; Bob (Elm Court's manager) may only look."""

from __future__ import annotations

import html
import io
from datetime import date

import pytest
from django.test import Client
from pypdf import PdfReader

from arrears.access.models import AuditEntry
from arrears.access.tests.people import TODAY, signed_in
from arrears.correspondence.certified import usps_check_digit
from arrears.correspondence.mail_models import InboundEmail
from arrears.correspondence.models import Outbound
from arrears.disputes.models import Dispute
from arrears.dunning.models import Hold
from arrears.dunning.services import cycle_run, hold_place
from arrears.ledger.models import TimelineEvent, Transaction
from arrears.plans.models import Plan, Promise
from arrears.web.tests.conftest import triage_message

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
TINA = "/accounts/A-TINA"


@pytest.fixture
def alice(people) -> Client:
    return signed_in(people["alice"])


@pytest.fixture
def bob(people) -> Client:
    return signed_in(people["bob"])


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_a_coordinator_logs_a_call_and_the_promise_taken_on_it(alice):
    # when Alice logs a call to Tina at 10:00 her time, in which Tina promised 600.00 by April 3
    response = alice.post(
        f"{TINA}/calls/",
        {
            "party_id": "P-TINA",
            "outcome": "promise",
            "at": "2026-03-26T10:00",
            "note": "will pay Friday",
            "promise_amount": "600.00",
            "promise_on": "2026-04-03",
        },
        **HTMX,
    )
    # then the activity fragment comes back with both on the timeline, and it says so
    body = response.content.decode()
    assert response.status_code == 200
    assert "call to P-TINA: promise — will pay Friday" in body
    assert "Call logged. Promise recorded: 600.00 by 2026-04-03." in body
    event = TimelineEvent.objects.get(kind="call.logged")
    assert (event.actor, event.detail["outcome"], event.detail["conversation"]) == (
        "alice",
        "promise",
        True,
    )
    promise = Promise.objects.get()
    assert (promise.amount, promise.party.party_id, promise.channel) == (600, "P-TINA", "phone")
    audit = AuditEntry.objects.get(verb="call.log")
    assert (audit.username, audit.via, audit.account_id) == ("alice", "web", "A-TINA")
    assert audit.detail["promise"] == {
        "amount": "600.00",
        "promised_on": "2026-04-03",
        "confirmed": False,
    }


def test_a_call_with_the_outcome_promise_asks_for_the_promise(alice):
    response = alice.post(
        f"{TINA}/calls/",
        {"party_id": "P-TINA", "outcome": "promise", "at": "2026-03-26T10:00"},
        **HTMX,
    )
    assert response.status_code == 422
    assert "needs the amount and the date promised" in response.content.decode()
    assert response["HX-Retarget"] == "#messages"
    assert not TimelineEvent.objects.filter(kind="call.logged").exists()


def test_a_call_made_at_night_is_logged_after_the_fact_with_the_guards_warning(alice):
    # when Alice logs a call she placed at 22:30 in Tina's time zone (New York)
    response = alice.post(
        f"{TINA}/calls/",
        {"party_id": "P-TINA", "outcome": "no-answer", "at": "2026-03-26T22:30"},
        **HTMX,
    )
    # then it is recorded (it happened), and the page and the timeline carry the guard's warning
    body = response.content.decode()
    assert response.status_code == 200
    assert "the call was at 10:30 PM in New York; calls are allowed 8 AM – 9 PM" in body
    logged = TimelineEvent.objects.get(kind="call.logged")
    assert logged.detail["warning_rule"] == "hours"
    assert "logged after the fact; the guard warns" in logged.summary
    assert not TimelineEvent.objects.filter(kind="call.refused").exists()


def test_a_call_now_that_the_guard_refuses_is_refused_in_plain_words(alice):
    # given Tina asked in writing that the calls stop
    hold_place(account_id="A-TINA", reason="cease", on=TODAY, actor="alice")
    # when Alice logs a call now
    response = alice.post(f"{TINA}/calls/", {"party_id": "P-TINA", "outcome": "no-answer"}, **HTMX)
    # then the page says why in plain words (no rule's name), and the try is on the timeline
    body = html.unescape(response.content.decode())
    assert response.status_code == 422
    assert "Can't log this call now: the account is on hold (a request to stop contact)." in body
    assert "hold:cease" not in body
    refused = TimelineEvent.objects.get(kind="call.refused")
    assert refused.detail["rule"] == "hold:cease"
    assert not TimelineEvent.objects.filter(kind="call.logged").exists()


def test_a_promise_is_recorded_and_listed_with_the_commitments(alice):
    # when Alice records Tina's promise of 600.00 by April 3
    response = alice.post(
        f"{TINA}/promises/",
        {"amount": "600.00", "promised_on": "2026-04-03", "party_id": "P-TINA", "channel": "phone"},
        **HTMX,
    )
    # then it is in the book and on the timeline, and the commitments panel lists it
    assert response.status_code == 200, response.content.decode()[:500]
    promise = Promise.objects.get()
    assert (str(promise.amount), promise.promised_on, promise.made_by) == (
        "600.00",
        date(2026, 4, 3),
        "alice",
    )
    assert "promise by P-TINA to pay 600.00 by 2026-04-03" in response.content.decode()
    panel = alice.get(f"{TINA}/commitments/", **HTMX).content.decode()
    assert "2026-04-03" in panel
    assert "600.00" in panel


def test_a_bad_promise_is_refused_beside_the_form_and_changes_nothing(alice):
    response = alice.post(
        f"{TINA}/promises/", {"amount": "six hundred", "promised_on": "2026-04-03"}, **HTMX
    )
    assert response.status_code == 422
    assert "not an amount: six hundred" in response.content.decode()
    assert not Promise.objects.exists()
    assert not AuditEntry.objects.filter(verb="promise.record").exists()


def test_a_plan_is_proposed_created_shown_with_its_installments_and_cancelled(alice):
    # given Tina earns 3,000.00 a month and owes 500.00 a month elsewhere
    proposal = alice.get(
        f"{TINA}/plans/propose/", {"income": "6000", "obligations": "500"}, **HTMX
    ).content.decode()
    assert "1,200.00 in" in proposal
    # when Alice creates a plan of 3 monthly installments from April 1
    response = alice.post(
        f"{TINA}/plans/",
        {"start": "2026-04-01", "installments": "3", "frequency": "monthly", "down": "0"},
        **HTMX,
    )
    assert response.status_code == 200, response.content.decode()[:500]
    plan = Plan.objects.get()
    assert (plan.status, str(plan.amount)) == ("active", "1200.00")
    # then the panel shows each installment and its status
    panel = alice.get(f"{TINA}/commitments/", **HTMX).content.decode()
    assert panel.count('<tr class="due">') == 3
    assert "2026-06-01" in panel
    # and a cancellation needs a reason, then ends it
    assert alice.post(f"{TINA}/plans/{plan.pk}/cancel/", {"reason": ""}, **HTMX).status_code == 422
    alice.post(f"{TINA}/plans/{plan.pk}/cancel/", {"reason": "tenant asked"}, **HTMX)
    plan.refresh_from_db()
    assert (plan.status, plan.end_reason) == ("cancelled", "tenant asked")


def test_a_plan_of_another_account_is_not_found_under_this_one(alice):
    alice.post(f"{TINA}/plans/", {"start": "2026-04-01", "installments": "2"}, **HTMX)
    plan = Plan.objects.get()
    response = alice.post(f"/accounts/A-OSCAR/plans/{plan.pk}/cancel/", {"reason": "x"}, **HTMX)
    assert response.status_code == 404
    plan.refresh_from_db()
    assert plan.status == "active"


def test_a_dispute_on_the_whole_balance_is_opened_then_resolved_upheld(alice):
    response = alice.post(
        f"{TINA}/disputes/",
        {"reason": "rent was paid in cash", "party_id": "P-TINA", "channel": "phone"},
        **HTMX,
    )
    assert response.status_code == 200, response.content.decode()[:500]
    dispute = Dispute.objects.get()
    assert (dispute.whole_balance, str(dispute.amount)) == (True, "1200.00")
    alice.post(
        f"{TINA}/disputes/{dispute.pk}/resolve/", {"outcome": "upheld", "note": "receipt"}, **HTMX
    )
    dispute.refresh_from_db()
    assert (dispute.status, dispute.outcome) == ("resolved", "upheld")
    assert Transaction.objects.filter(account__account_id="A-TINA", type="credit").exists()


def test_a_dispute_of_a_chosen_charge_holds_that_charge(alice):
    alice.post(f"{TINA}/disputes/", {"reason": "not my charge", "charges": ["T-TINA-03"]}, **HTMX)
    dispute = Dispute.objects.get()
    assert (
        dispute.whole_balance,
        list(dispute.charges.values_list("charge__txn_id", flat=True)),
    ) == (False, ["T-TINA-03"])


def test_a_statement_downloads_as_a_pdf_that_stays_viewable_from_the_timeline(alice):
    # when Alice downloads Tina's statement
    response = alice.post(f"{TINA}/statement/")
    # then it is a PDF of her account, archived and named on the timeline
    assert response["Content-Type"] == "application/pdf"
    assert "A-TINA" in _text(response.content)
    event = TimelineEvent.objects.get(kind="statement.rendered")
    page = alice.get(f"{TINA}/").content.decode()
    assert f"documents/?name={event.detail['document']}" in page
    again = alice.get(f"{TINA}/documents/", {"name": event.detail["document"]})
    assert again.content == response.content


def test_a_notice_is_previewed_as_text_and_pdf_and_sent_now_as_a_letter(alice):
    text = alice.get(
        f"{TINA}/notices/preview/",
        {"notice": "ny-late-rent-notice-guarantor|P-GREG"},
        **HTMX,
    ).content.decode()
    assert "Greg Ortiz" in text
    assert "format=pdf" in text  # the letter's PDF, in a frame
    pdf = alice.get(
        f"{TINA}/notices/preview/",
        {"template": "ny-late-rent-notice-guarantor", "party_id": "P-GREG", "format": "pdf"},
    )
    assert "Greg Ortiz" in _text(pdf.content)
    assert not Outbound.objects.exists()  # a preview sends nothing
    # when she sends it now by letter to Greg
    response = alice.post(
        f"{TINA}/notices/",
        {"notice": "ny-late-rent-notice-guarantor|P-GREG", "channel": "letter"},
        **HTMX,
    )
    assert response.status_code == 200, response.content.decode()[:500]
    assert "Notice queued for the print batch." in response.content.decode()
    letter = Outbound.objects.get()
    assert (letter.status, letter.channel, letter.party.party_id) == ("queued", "letter", "P-GREG")
    assert TimelineEvent.objects.filter(kind="notice.queued").count() == 1


def test_a_notice_the_guard_refuses_shows_its_rule_and_queues_nothing(alice):
    # given a cease-communication hold on the account
    hold_place(account_id="A-TINA", reason="cease", on=TODAY, actor="alice")
    # when Alice sends a notice now
    response = alice.post(
        f"{TINA}/notices/",
        {"template": "ny-late-rent-notice", "channel": "letter", "party_id": "P-TINA"},
        **HTMX,
    )
    # then the page says why, and nothing is queued or audited
    assert response.status_code == 422
    assert "Can't queue this notice now: the account is on hold" in html.unescape(
        response.content.decode()
    )
    assert not Outbound.objects.exists()
    assert not AuditEntry.objects.filter(verb="notice.send").exists()


def test_a_property_manager_may_look_but_not_act(bob):
    # Bob sees Tina's account (Elm Court is his) but has none of the action forms
    page = bob.get(f"{TINA}/").content.decode()
    assert "Tina Ortiz" in page
    assert "call-form" not in page
    assert "promise-form" not in page
    # and a call or a promise posted anyway is refused, and nothing is written
    for path, data in (
        (f"{TINA}/calls/", {"party_id": "P-TINA", "outcome": "no-answer"}),
        (f"{TINA}/promises/", {"amount": "1", "promised_on": "2026-04-01"}),
        (f"{TINA}/notices/", {"template": "ny-late-rent-notice", "channel": "letter"}),
    ):
        assert bob.post(path, data).status_code == 403, path
    assert not TimelineEvent.objects.filter(
        kind__in=["call.logged", "call.refused", "promise.made"]
    ).exists()
    assert not Promise.objects.exists()
    # but he may add a note
    assert bob.post(f"{TINA}/notes/", {"text": "spoke to the super"}).status_code == 302


def test_today_counts_promises_due_plans_breaking_and_disputes_ageing(alice, settings):
    settings.ARREARS_DISPUTE_DAYS = 3
    alice.post(f"{TINA}/promises/", {"amount": "100", "promised_on": "2026-03-26"}, **HTMX)
    alice.post("/accounts/A-OSCAR/disputes/", {"reason": "wrong amount"}, **HTMX)
    Dispute.objects.update(opened_on=date(2026, 3, 10))
    page = alice.get("/today/").content.decode()
    assert '<li id="promises-due"><strong>1</strong>' in page
    assert '<li id="disputes-ageing"><strong>1</strong>' in page
    assert '<li id="plans-breaking"><strong>0</strong>' in page


def test_the_letters_page_prints_the_batch_and_records_certified_numbers(alice, bob):
    # given the day's run queued certified notices to Tina (and Greg)
    cycle_run(on=date(2026, 3, 11), actor="cycle")
    cycle_run(on=TODAY, actor="cycle")
    letters = Outbound.objects.filter(channel__in=["letter", "certified_letter"])
    certified = letters.filter(channel="certified_letter").order_by("id").first()
    assert certified is not None
    day = certified.run_on.isoformat()
    # Bob sees Elm Court's letters only, and may not print
    bob_page = bob.get("/letters/", {"on": day}).content.decode()
    assert "A-TINA" in bob_page
    assert "A-OSCAR" not in bob_page
    assert bob.post("/letters/batch/", {"on": "2026-03-26"}).status_code == 403
    # when Alice prints the batch
    response = alice.post("/letters/batch/", {"on": "2026-03-26"}, **HTMX)
    assert "letters printed" in response.content.decode()
    page = alice.get("/letters/", {"on": "2026-03-26"}).content.decode()
    assert "manifest-2026-03-26" in page
    # then a wrong check digit is refused with its reason, and nothing is recorded mailed
    letter = certified
    payload = "9407111898765432101"
    good = payload + str(usps_check_digit(payload))
    bad = payload + str((usps_check_digit(payload) + 1) % 10)
    refused = alice.post(
        "/letters/mailed/", {"lines": f"L{letter.pk} {bad}", "on": "2026-03-26"}, **HTMX
    )
    assert refused.status_code == 422
    assert "check digit" in refused.content.decode()
    letter.refresh_from_db()
    assert letter.status == "rendered"
    # and the right number records the mailing
    alice.post("/letters/mailed/", {"lines": f"L{letter.pk} {good}", "on": "2026-03-26"}, **HTMX)
    letter.refresh_from_db()
    assert (letter.status, letter.article_number) == ("mailed", good)
    # a return is recorded too
    alice.post("/letters/returned/", {"letter": f"L{letter.pk}", "reason": "moved"}, **HTMX)
    letter.refresh_from_db()
    assert letter.status == "returned"


def test_mail_in_triage_is_filed_on_an_account_by_a_coordinator_only(alice, bob):
    row = triage_message()
    assert "About my rent" in alice.get("/mail/triage/").content.decode()
    assert bob.get("/mail/triage/").status_code == 403
    # an unknown account is refused beside the form
    assert (
        alice.post(f"/mail/triage/{row.pk}/assign/", {"account_id": "NOPE"}, **HTMX).status_code
        == 422
    )
    alice.post(f"/mail/triage/{row.pk}/assign/", {"account_id": "A-TINA"})
    row.refresh_from_db()
    assert (row.status, row.account.account_id) == ("filed", "A-TINA")
    assert InboundEmail.objects.filter(status="triage").count() == 0
    assert Hold.objects.count() == 0


def test_the_new_forms_and_panels_speak_spanish(alice):
    page = alice.get(f"{TINA}/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Registrar llamada" in page
    assert "Registrar promesa" in page
    panel = alice.get(f"{TINA}/commitments/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Planes de pago" in panel
    hold_place(account_id="A-TINA", reason="cease", on=TODAY, actor="alice")
    refused = alice.post(
        f"{TINA}/calls/",
        {"party_id": "P-TINA", "outcome": "no-answer"},
        HTTP_ACCEPT_LANGUAGE="es",
        **HTMX,
    )
    assert "No se puede registrar esta llamada ahora" in refused.content.decode()


def test_a_manager_sees_the_commitments_but_none_of_their_forms(bob, alice):
    alice.post(f"{TINA}/promises/", {"amount": "50", "promised_on": "2026-04-01"}, **HTMX)
    panel = bob.get(f"{TINA}/commitments/", **HTMX).content.decode()
    assert "2026-04-01" in panel
    for form in ("plan-form", "propose-form", "dispute-form", "resolve-form"):
        assert form not in panel, form
    assert bob.get(f"{TINA}/plans/propose/", {"income": "5000"}).status_code == 403
