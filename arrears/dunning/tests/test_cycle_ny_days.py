"""The daily run counts New York's days on a real book (both databases): the RPL §235-e(d)
notice and the RPL §238-a(2) fee wait out five days counted without the due date (GCL §20) and
carried past a weekend and a holiday (GCL §25-a); the RPAPL §711(2) demand names a business day.

Tina Ortiz rents 3B at Elm Court, Brooklyn; her brother Greg guarantees the lease. She paid
March's rent; September's, due Tuesday, September 1, 2026, is the story. Sunday the 6th is the
fifth day, Monday the 7th is Labor Day: her last day to pay on time is Tuesday the 8th.
"""

from __future__ import annotations

from datetime import date

from arrears.dunning.models import Action
from arrears.dunning.services import cycle_run
from arrears.dunning.tests.conftest import ELM_COURT, TINA
from arrears.ledger.models import TimelineEvent, Transaction

GRACE_STEPS = {"late-notice", "late-notice-guarantor", "late-fee"}
MARCH_PAID = {
    "txn_id": "T-PAY-03",
    "account_id": "A-TINA",
    "posted": "2026-03-01",
    "type": "payment",
    "amount": "1200.00",
}


def rent(month: int) -> dict[str, str]:
    due = f"2026-{month:02d}-01"
    return {
        "txn_id": f"T-RENT-{month:02d}",
        "account_id": "A-TINA",
        "posted": due,
        "type": "charge",
        "code": "RENT",
        "amount": "1200.00",
        "due": due,
    }


def grace_steps_done(account: str) -> list[tuple[str, str | None, date]]:
    return [
        (a.step, a.party.party_id if a.party else None, a.run_on)
        for a in Action.objects.filter(account__account_id=account, step__in=GRACE_STEPS)
        .exclude(status="refused")
        .select_related("party")
        .order_by("id")
    ]


def late_fees(account: str) -> list[tuple[date, str]]:
    return [
        (t.posted_on, f"{t.amount:.2f}")
        for t in Transaction.objects.filter(account__account_id=account, code="LATE")
    ]


def test_rent_due_before_labor_day_gets_no_notice_and_no_fee_until_wednesday_the_9th(
    tina_lease,
):
    # given: September's rent unpaid
    account = tina_lease(transactions=[MARCH_PAID, rent(9)])

    # when: the cycle runs on the 6th, the 7th (Labor Day) and the 8th
    for day in (6, 7, 8):
        result = cycle_run(on=date(2026, 9, day))
        # then: nothing about the grace: the rent is not yet late by the statutes' count
        assert not {a["step"] for a in result.actions} & GRACE_STEPS, day
    assert grace_steps_done(account) == []
    assert late_fees(account) == []

    # when: it runs on Wednesday the 9th
    cycle_run(on=date(2026, 9, 9))

    # then: Tina's certified notice, Greg's letter and the capped fee, all on the 9th
    nine = date(2026, 9, 9)
    assert grace_steps_done(account) == [
        ("late-notice", "P-TINA", nine),
        ("late-notice-guarantor", "P-GREG", nine),
        ("late-fee", None, nine),
    ]
    assert late_fees(account) == [(nine, "50.00")]
    fee_row = TimelineEvent.objects.get(account__account_id=account, kind="fee.done")
    assert (fee_row.on, fee_row.detail["law"]) == (nine, "NY RPL §238-a(2)")


def test_rent_paid_on_the_last_day_of_grace_gets_neither_notice_nor_fee(tina_lease, load_book):
    # given: September's rent unpaid, the cycle running every day from the 2nd to the 7th
    account = tina_lease(transactions=[MARCH_PAID, rent(9)])
    for day in range(2, 8):
        cycle_run(on=date(2026, 9, day))

    # when: Tina pays on Tuesday the 8th, her last day, and the cycle runs on through the 20th
    load_book(
        transactions=[
            {
                "txn_id": "T-PAY-09",
                "account_id": "A-TINA",
                "posted": "2026-09-08",
                "type": "payment",
                "amount": "1200.00",
            }
        ]
    )
    for day in range(8, 21):
        cycle_run(on=date(2026, 9, day))

    # then: no late notice, no letter to Greg and no fee: she paid on time
    assert grace_steps_done(account) == []
    assert late_fees(account) == []
    assert not TimelineEvent.objects.filter(account__account_id=account, kind="fee.done")


def test_the_rent_demand_served_on_december_11_names_monday_the_28th_not_christmas(tina_lease):
    # given: December's rent unpaid
    account = tina_lease(transactions=[MARCH_PAID, rent(12)])

    # when: the cycle runs on Friday, December 11, day 10
    result = cycle_run(on=date(2026, 12, 11))

    # then: the 14-day demand's deadline is carried from Christmas over the weekend (GCL §25-a)
    (entry,) = [a for a in result.actions if a["step"] == "rent-demand"]
    assert entry["deadline"] == "2026-12-28"
    demand = Action.objects.get(account__account_id=account, step="rent-demand")
    assert demand.deadline == date(2026, 12, 28)
    row = TimelineEvent.objects.get(
        account__account_id=account, kind="notice.queued", detail__step="rent-demand"
    )
    assert row.detail["deadline"] == "2026-12-28"


def test_rent_from_2019_still_open_is_counted_by_its_own_years_holidays(load_book):
    # given: a lease of 2019 whose July 2019 rent was never paid (the run of 2026 reads it too)
    load_book(
        properties=[ELM_COURT],
        parties=[TINA],
        accounts=[
            {
                "account_id": "A-OLD",
                "property_id": "ELM",
                "unit": "1A",
                "kind": "residential_lease",
                "opened": "2019-06-01",
                "rent": "1000.00",
            }
        ],
        account_parties=[{"account_id": "A-OLD", "party_id": "P-TINA", "role": "primary"}],
        transactions=[
            {
                "txn_id": "T-2019-07",
                "account_id": "A-OLD",
                "posted": "2019-07-01",
                "type": "charge",
                "code": "RENT",
                "amount": "1000.00",
                "due": "2019-07-01",
            }
        ],
    )

    # when: the run of March 2, 2026 (it failed with "holidays before 2021 are not modelled")
    result = cycle_run(on=date(2026, 3, 2))

    # then: it plans the account's steps; the 2019 notice's window (23 days) is long gone
    assert "late-notice" not in {a["step"] for a in result.actions if a["account_id"] == "A-OLD"}
    assert {a["account_id"] for a in result.actions} == {"A-OLD"}
