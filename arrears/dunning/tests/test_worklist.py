"""The worklist is a to-do list: a line leaves when its reason is dealt with, and a coordinator
sets one aside until a date or dismisses it, always saying why.

The story: Tina Ortiz (3B at Elm Court, Brooklyn) never paid March's 1,200.00; the rent demand
went out on the 11th and expired unpaid, so on the 26th the policy recommends a referral. Omar
Haddad moved into 5A on the 22nd and owes his 3,000.00 rent. Alice is the coordinator.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from arrears.dunning.commitments import plan_create
from arrears.dunning.contact import call_log
from arrears.dunning.services import cycle_run, hold_place
from arrears.dunning.snooze import worklist_dismiss, worklist_snooze
from arrears.dunning.worklist import worklist
from arrears.ledger.models import Account, TimelineEvent
from arrears.legal.services import firm_add, referral_make
from arrears.plans.services import promise_add

pytestmark = pytest.mark.django_db

REFERRAL_DAY = date(2026, 3, 26)


@pytest.fixture
def referred_tina(tina_lease: Callable[..., str], print_letters: Any) -> str:
    """Tina's March unpaid through the 26th: the referral is recommended that day."""
    account = tina_lease()
    for day in (6, 11, 26):
        cycle_run(on=date(2026, 3, day), actor="cycle")
        print_letters(date(2026, 3, day))
    return account


def kinds(on: date) -> set[tuple[str, str]]:
    return {(w.account_id, w.kind) for w in worklist(on=on)}


def test_one_referral_line_per_account_worded_for_a_person(referred_tina):
    # when the coordinator reads the 26th
    lines = [w for w in worklist(on=REFERRAL_DAY) if w.kind == "referral"]
    # then one line, saying who, where and why in plain words
    assert len(lines) == 1
    line = lines[0]
    assert line.reason == "Refer to an attorney? The policy recommends it since 2026-03-26"
    assert (line.about.name, line.about.property_name, line.about.unit) == (
        "Tina Ortiz",
        "Elm Court",
        "3B",
    )
    assert (line.days_late, line.likelihood_percent, line.tab) == (25, 5, "referrals")
    # the rent demand printed for mailing on the 11th is the last contact
    assert (line.about.last_contact_on, line.about.last_contact_channel) == (
        date(2026, 3, 11),
        "letter",
    )
    assert line.about.last_contact_outcome == "printed"
    # and once she is called, the line says when and how it went
    call_log(
        account_id=referred_tina,
        party_id="P-TINA",
        outcome="no-answer",
        at=datetime(2026, 3, 26, 15, 0, tzinfo=ZoneInfo("America/New_York")),
        actor="alice",
    )
    (line,) = [w for w in worklist(on=REFERRAL_DAY) if w.kind == "referral"]
    assert (line.about.last_contact_on, line.about.last_contact_channel) == (REFERRAL_DAY, "call")
    assert line.about.last_contact_outcome == "no-answer"


@pytest.mark.parametrize("deal", ["referred", "held", "promised", "planned", "paid"])
def test_the_referral_line_leaves_once_its_reason_is_dealt_with(deal, referred_tina, load_book):
    # given the referral line on the 26th
    assert (referred_tina, "referral") in kinds(REFERRAL_DAY)
    account = Account.objects.get(account_id=referred_tina)
    # when the coordinator deals with the account
    if deal == "referred":
        firm_add(name="Stone & Reyes", on=REFERRAL_DAY)
        referral_make(account=account, firm="Stone & Reyes", on=REFERRAL_DAY, actor="alice")
    elif deal == "held":
        hold_place(account_id=referred_tina, reason="manual", on=REFERRAL_DAY, actor="alice")
    elif deal == "promised":
        promise_add(
            account_id=referred_tina,
            amount=Decimal("1250.00"),
            promised_on=date(2026, 4, 3),
            on=REFERRAL_DAY,
            actor="alice",
        )
    elif deal == "planned":
        plan_create(
            account_id=referred_tina,
            on=REFERRAL_DAY,
            actor="alice",
            start=date(2026, 4, 1),
            installments=3,
        )
    else:
        load_book(
            transactions=[
                {
                    "txn_id": "T-PAY-03",
                    "account_id": referred_tina,
                    "posted": "2026-03-26",
                    "type": "payment",
                    "amount": "1250.00",
                }
            ]
        )
    # then its line is gone
    assert (referred_tina, "referral") not in kinds(REFERRAL_DAY)


def test_a_hold_on_the_guarantor_alone_leaves_the_tenants_line(referred_tina):
    hold_place(
        account_id=referred_tina,
        reason="deceased",
        party_id="P-GREG",
        on=REFERRAL_DAY,
        actor="alice",
    )
    assert (referred_tina, "referral") in kinds(REFERRAL_DAY)


def test_a_new_large_delinquency_and_a_deadline_leave_when_promised(
    tina_lease, omar_lease, print_letters
):
    # given Omar's 3,000.00 unpaid since the 22nd, and Tina's demand expiring on the 25th
    tina_lease()
    omar_lease(
        opened="2026-03-22",
        transactions=[
            {
                "txn_id": "O-RENT-03",
                "posted": "2026-03-22",
                "code": "RENT",
                "amount": "3000.00",
                "due": "2026-03-22",
            },
        ],
    )
    for day in (6, 11):
        cycle_run(on=date(2026, 3, day), actor="cycle")
        print_letters(date(2026, 3, day))
    on = date(2026, 3, 23)
    assert {("A-OMAR", "new_delinquency"), ("A-TINA", "deadline")} <= kinds(on)
    # when both promise to pay
    for account, amount in (("A-OMAR", "3000.00"), ("A-TINA", "1250.00")):
        promise_add(
            account_id=account,
            amount=Decimal(amount),
            promised_on=date(2026, 3, 30),
            on=on,
            actor="alice",
        )
    # then both lines leave
    assert not {("A-OMAR", "new_delinquency"), ("A-TINA", "deadline")} & kinds(on)


def test_a_snoozed_line_comes_back_on_its_date(referred_tina, book_clock):
    # given the referral line, snoozed by Alice on the 26th until the 30th
    (line,) = [w for w in worklist(on=REFERRAL_DAY) if w.kind == "referral"]
    row = worklist_snooze(
        account_id=referred_tina,
        kind="referral",
        until=date(2026, 3, 30),
        reason="the manager asked to wait for her tax refund",
        on=REFERRAL_DAY,
        actor="alice",
        ref=line.ref,
    )
    # then it is off the list until the 29th, back on the 30th, and the timeline says so
    assert (referred_tina, "referral") not in kinds(date(2026, 3, 29))
    assert (referred_tina, "referral") in kinds(date(2026, 3, 30))
    event = TimelineEvent.objects.get(kind="worklist.snoozed")
    assert event.actor == "alice"
    assert event.summary == (
        "referral line snoozed until 2026-03-30: the manager asked to wait for her tax refund"
    )
    assert (row.until, row.ref, row.by) == (date(2026, 3, 30), event.detail["ref"], "alice")


def test_a_dismissed_line_stays_away_until_its_reason_recurs(omar_lease, load_book, book_clock):
    # given Omar's new delinquency since the 22nd, dismissed on the 24th
    omar_lease(
        opened="2026-03-22",
        transactions=[
            {
                "txn_id": "O-RENT-03",
                "posted": "2026-03-22",
                "code": "RENT",
                "amount": "3000.00",
                "due": "2026-03-22",
            },
        ],
    )
    (line,) = [w for w in worklist(on=date(2026, 3, 24)) if w.account_id == "A-OMAR"]
    worklist_dismiss(
        account_id="A-OMAR",
        kind="new_delinquency",
        reason="the housing authority pays his share on the 28th",
        on=date(2026, 3, 24),
        actor="alice",
        ref=line.ref,
    )
    assert ("A-OMAR", "new_delinquency") not in kinds(date(2026, 3, 25))
    assert TimelineEvent.objects.filter(kind="worklist.dismissed", actor="alice").count() == 1
    # when he pays, then falls behind again on April's rent
    load_book(
        transactions=[
            {
                "txn_id": "O-PAY-03",
                "account_id": "A-OMAR",
                "posted": "2026-03-28",
                "type": "payment",
                "amount": "3000.00",
            },
            {
                "txn_id": "O-RENT-04",
                "account_id": "A-OMAR",
                "posted": "2026-04-01",
                "type": "charge",
                "code": "RENT",
                "amount": "3000.00",
                "due": "2026-04-01",
            },
        ]
    )
    # then the new delinquency is a new line
    assert ("A-OMAR", "new_delinquency") in kinds(date(2026, 4, 3))
