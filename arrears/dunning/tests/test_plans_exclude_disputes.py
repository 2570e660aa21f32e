"""A plan made while part of the balance is in dispute covers only the undisputed amount
(15 USC §1692g(b): collection of a disputed amount stops until it is verified), and says so on
the plan, its timeline row, its agreement, and through the command line.

Tina's lease at Elm Court: March's rent of 1,200.00 and a 50.00 late fee of March 7, both unpaid;
on March 9 she disputes the fee, and Alice agrees a plan with her.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from arrears.cli import main
from arrears.core.pdf import pdf_text
from arrears.disputes.services import dispute_open
from arrears.dunning.commitments import plan_create
from arrears.ledger.models import TimelineEvent
from arrears.plans.agreement import agreement_pdf
from arrears.plans.models import Plan
from arrears.plans.services import DisputedBalanceError

pytestmark = pytest.mark.django_db

MARCH_9 = date(2026, 3, 9)
APRIL_1 = date(2026, 4, 1)
LATE_FEE = {
    "txn_id": "T-LATE-03",
    "account_id": "A-TINA",
    "posted": "2026-03-07",
    "type": "charge",
    "code": "LATE",
    "amount": "50.00",
    "due": "2026-03-07",
}


@pytest.fixture
def disputed_fee(tina_lease) -> str:
    account = tina_lease(transactions=[LATE_FEE])
    dispute_open(
        account_id=account,
        charges=["T-LATE-03"],
        reason="I paid on the 5th",
        on=MARCH_9,
        actor="alice",
        party_id="P-TINA",
    )
    return account


def test_a_plan_made_while_50_is_in_dispute_covers_the_balance_less_50(disputed_fee):
    # when Alice agrees a plan of three on the balance (1,250.00)
    plan = plan_create(
        account_id=disputed_fee, on=MARCH_9, actor="alice", start=APRIL_1, installments=3
    )
    # then it covers 1,200.00, the 50.00 in dispute left out, and its record says so
    assert plan.amount == Decimal("1200.00")
    assert sum(i.amount for i in plan.installments.all()) == Decimal("1200.00")
    plan.refresh_from_db()
    assert (plan.disputed_excluded, len(plan.disputes)) == (Decimal("50.00"), 1)
    event = TimelineEvent.objects.get(kind="plan.created")
    assert "50.00 in dispute (dispute" in event.summary
    assert event.detail["disputed_excluded"] == "50.00"
    # and so does its agreement, in English and in Spanish
    english = " ".join(pdf_text(agreement_pdf(plan, "en")).split())
    assert "1,200.00" in english
    assert "does not cover 50.00 that is in dispute" in english
    spanish = " ".join(pdf_text(agreement_pdf(plan, "es")).split())
    assert "no incluye 50.00 que está en disputa" in spanish


def test_a_plan_on_the_disputed_charge_alone_is_refused_with_the_reason(disputed_fee):
    # when Alice tries a plan on the disputed fee alone
    with pytest.raises(DisputedBalanceError) as refused:
        plan_create(
            account_id=disputed_fee,
            on=MARCH_9,
            actor="alice",
            start=APRIL_1,
            installments=2,
            charges=["T-LATE-03"],
        )
    # then nothing undisputed is left to plan, and the refusal says so
    assert "is in dispute" in refused.value.message
    assert refused.value.code == "disputed"
    assert not Plan.objects.exists()


def test_a_plan_while_the_whole_balance_is_disputed_is_refused(tina_lease):
    # given Tina disputes the whole balance
    account = tina_lease()
    dispute_open(account_id=account, reason="I paid in cash", on=MARCH_9, actor="alice")
    # when / then: no plan until the dispute is answered
    with pytest.raises(DisputedBalanceError, match="the whole balance of A-TINA is in dispute"):
        plan_create(account_id=account, on=MARCH_9, actor="alice", start=APRIL_1, installments=2)
    assert not Plan.objects.exists()


def test_the_command_line_plan_shows_what_was_left_out(disputed_fee, capsys, monkeypatch):
    # given
    monkeypatch.setenv("ARREARS_TODAY", MARCH_9.isoformat())
    capsys.readouterr()
    # when
    assert (
        main(
            [
                "plan",
                "create",
                disputed_fee,
                "--start",
                "2026-04-01",
                "--installments",
                "2",
                "--format",
                "json",
            ]
        )
        == 0
    )
    # then
    doc = json.loads(capsys.readouterr().out)
    assert (doc["amount"], doc["disputed_excluded"]) == ("1200.00", "50.00")
