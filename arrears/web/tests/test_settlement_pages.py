"""A case's settlements and an account's write-offs on the pages (issue 17: every act from the
command line, the pages and the API through one service), on the workspace's cast (`people`):
A-OSCAR (Oakland, 950.00 unpaid) is with Hale & Co; alice is a coordinator, dave the
controller; Otto is an attorney at another firm."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils.html import escape

from arrears.access.models import AuditEntry
from arrears.access.services import user_add
from arrears.access.tests.people import FIRM, OPERATOR, PASSWORD, TODAY, signed_in
from arrears.ledger.models import TimelineEvent, Transaction
from arrears.legal.models import Firm, Referral, Settlement, WriteOff
from arrears.legal.schedule import Due
from arrears.legal.settlements import settlement_offer

pytestmark = pytest.mark.django_db
DUE = TODAY + timedelta(days=15)
REASON = "the tenant left no forwarding address and the firm found no assets"


def _oscar() -> Referral:
    return Referral.objects.get(account__account_id="A-OSCAR", firm=FIRM)


def _offered(amount: str = "700.00") -> Settlement:
    """Carol's settlement of A-OSCAR's case, one installment, waiting for a decision."""
    return settlement_offer(
        case=_oscar(),
        amount=Decimal(amount),
        installments=[Due(DUE, Decimal(amount))],
        actor="carol",
        today=TODAY,
        note="agreed at the courthouse",
    )


@pytest.fixture
def otto(people: Any) -> Any:
    Firm.objects.create(name="Other Firm LLP", created_on=TODAY)
    return user_add(
        username="otto",
        password=PASSWORD,
        role="attorney",
        firm="Other Firm LLP",
        actor=OPERATOR,
        via="system",
    )


def test_a_controller_approves_an_offered_settlement_from_the_case_page(
    people: Any, book_clock: Any
) -> None:
    book_clock(TODAY)
    made = _offered()
    dave = signed_in(people["dave"])
    # given the case's page: the settlement, its installment, the net recovery and the buttons
    page = dave.get(f"/cases/{made.case_id}/").content.decode()
    assert f'id="settlement-{made.pk}"' in page
    assert "offered, waiting for approval" in page
    assert f"700.00 due {DUE.isoformat()}" in page
    assert 'id="case-recovery"' in page
    assert "net 0.00" in page
    assert 'class="inline settlement-approve"' in page
    assert 'class="inline settlement-reject"' in page
    # and no offer form while one is in force
    assert 'class="admin-form settlement-offer"' not in page
    # when he approves it
    done = dave.post(f"/cases/{made.case_id}/settlements/{made.pk}/approve/", follow=True)
    # then the page says so and shows it approved, by him through the web
    assert done.status_code == 200
    text = done.content.decode()
    assert f"Settlement {made.pk} approved." in text
    made.refresh_from_db()
    assert (made.status, made.decided_by) == ("approved", "dave")
    audit = AuditEntry.objects.get(verb="settlement.approve")
    assert (audit.username, audit.via) == ("dave", "web")
    assert 'class="inline settlement-approve"' not in text


def test_a_coordinator_sees_no_approve_button_and_her_post_is_refused(
    people: Any, book_clock: Any
) -> None:
    book_clock(TODAY)
    made = _offered()
    alice = signed_in(people["alice"])
    page = alice.get(f"/cases/{made.case_id}/").content.decode()
    assert f'id="settlement-{made.pk}"' in page
    assert "settlement-approve" not in page
    assert "settlement-reject" not in page
    timeline = TimelineEvent.objects.count()
    # when she posts the approval anyway
    refused = alice.post(f"/cases/{made.case_id}/settlements/{made.pk}/approve/")
    # then she is refused beside the settlements, and nothing is written
    assert refused.status_code == 403
    assert 'id="decide-error"' in refused.content.decode()
    assert "coordinator may not" in refused.content.decode()
    made.refresh_from_db()
    assert (made.status, made.decided_by) == ("offered", "")
    assert not AuditEntry.objects.filter(verb="settlement.approve").exists()
    assert TimelineEvent.objects.count() == timeline
    # and a rejection likewise
    refused = alice.post(
        f"/cases/{made.case_id}/settlements/{made.pk}/reject/", {"reason": "too low"}
    )
    assert refused.status_code == 403
    made.refresh_from_db()
    assert made.status == "offered"


def test_an_offer_whose_installments_do_not_sum_is_shown_beside_the_form_and_writes_nothing(
    people: Any, book_clock: Any
) -> None:
    book_clock(TODAY)
    case = _oscar()
    alice = signed_in(people["alice"])
    assert 'class="admin-form settlement-offer"' in alice.get(f"/cases/{case.pk}/").content.decode()
    form = {
        "amount": "700.00",
        "due_1": DUE.isoformat(),
        "pay_1": "300.00",
        "due_2": (DUE + timedelta(days=30)).isoformat(),
        "pay_2": "300.00",
        "note": "two parts",
    }
    answer = alice.post(f"/cases/{case.pk}/settlements/", form)
    assert answer.status_code == 422
    html = answer.content.decode()
    error = html.split('id="offer-error">')[1].split("</p>")[0]
    assert escape("the installments sum to 600.00, not to the settlement's 700.00") in error
    # the form comes back as typed
    assert 'value="700.00"' in html
    assert 'value="two parts"' in html
    assert not Settlement.objects.exists()
    assert not AuditEntry.objects.filter(verb="settlement.offer").exists()
    # and in Spanish for a reader who reads it
    answer = alice.post(f"/cases/{case.pk}/settlements/", form, HTTP_ACCEPT_LANGUAGE="es")
    assert answer.status_code == 422
    error = answer.content.decode().split('id="offer-error">')[1].split("</p>")[0]
    assert "No se puede ofrecer este acuerdo: las cuotas suman 600.00, no los 700.00" in error
    assert not Settlement.objects.exists()
    # and when they do sum, the settlement is offered and waits for a decision
    done = alice.post(f"/cases/{case.pk}/settlements/", {**form, "pay_2": "400.00"}, follow=True)
    assert done.status_code == 200
    made = Settlement.objects.get()
    assert (made.status, made.amount, made.offered_by) == ("offered", Decimal("700.00"), "alice")
    assert [i.amount for i in made.installments.order_by("line")] == [
        Decimal("300.00"),
        Decimal("400.00"),
    ]
    assert f"Settlement {made.pk} of 700.00 offered: it waits for approval." in (
        done.content.decode()
    )


def test_a_controller_writes_off_from_the_account_page_and_the_summary_shows_it(
    people: Any, book_clock: Any
) -> None:
    book_clock(TODAY)
    alice, dave = signed_in(people["alice"]), signed_in(people["dave"])
    # given the account page: the write-off form for the controller only, no summary yet
    assert "act-writeoff" in dave.get("/accounts/A-OSCAR/").content.decode()
    before = alice.get("/accounts/A-OSCAR/").content.decode()
    assert "act-writeoff" not in before
    assert 'id="writeoffs"' not in before
    # and a coordinator's write-off is refused, writing nothing
    refused = alice.post("/accounts/A-OSCAR/writeoffs/", {"amount": "950.00", "reason": REASON})
    assert refused.status_code == 403
    assert not WriteOff.objects.exists()
    # a mistake is said, and writes nothing
    mistake = dave.post("/accounts/A-OSCAR/writeoffs/", {"amount": "950.00", "reason": ""})
    assert mistake.status_code == 422
    assert "a write-off says why" in mistake.content.decode()
    assert not WriteOff.objects.exists()
    # when the controller writes the balance off
    done = dave.post(
        "/accounts/A-OSCAR/writeoffs/", {"amount": "950.00", "reason": REASON}, follow=True
    )
    # then the page says so and its summary shows it
    assert done.status_code == 200
    page = done.content.decode()
    assert "950.00 written off to bad debt (WO-A-OSCAR-1)." in page
    summary = page.split('id="writeoffs"')[1].split("</section>")[0]
    assert "950.00" in summary
    assert "WO-A-OSCAR-1" in summary
    assert REASON in summary
    credit = Transaction.objects.get(txn_id="WO-A-OSCAR-1")
    assert (credit.code, credit.amount) == ("WO", Decimal("950.00"))
    audit = AuditEntry.objects.get(verb="writeoff.post")
    assert (audit.username, audit.via) == ("dave", "web")
    # and the coordinator, who may not write off, sees it too (the ledger holds a WO credit)
    assert 'id="writeoffs"' in alice.get("/accounts/A-OSCAR/").content.decode()


def test_another_firms_attorney_gets_not_found_on_every_new_route(
    people: Any, otto: Any, book_clock: Any
) -> None:
    book_clock(TODAY)
    made = _offered()
    client = signed_in(otto)
    case = made.case_id
    offer = {"amount": "500.00", "due_1": DUE.isoformat(), "pay_1": "500.00"}
    for url, form in [
        (f"/cases/{case}/settlements/", offer),
        (f"/cases/{case}/settlements/{made.pk}/approve/", {}),
        (f"/cases/{case}/settlements/{made.pk}/reject/", {"reason": "no"}),
        ("/accounts/A-OSCAR/writeoffs/", {"amount": "950.00", "reason": REASON}),
    ]:
        assert client.post(url, form).status_code == 404, url
    assert client.get(f"/cases/{case}/").status_code == 404
    made.refresh_from_db()
    assert made.status == "offered"
    assert Settlement.objects.count() == 1
    assert not WriteOff.objects.exists()
    # and Carol, the case's attorney, sees it and may offer, but not decide
    page = signed_in(people["carol"]).get(f"/cases/{case}/").content.decode()
    assert f'id="settlement-{made.pk}"' in page
    assert "settlement-approve" not in page
