"""The daily collection run, story by story, on a real book (both databases).

Tina Ortiz rents 3B at Elm Court, Brooklyn (NY policy); her brother Greg guarantees the lease.
Carmen Ruiz rents at Sunset Gardens, Los Angeles (CA policy). Rent is due on the 1st. Alice is the
coordinator. Every story asserts on the database (Action, Transaction) and on the timeline row.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from arrears.dunning.services import cycle_run
from arrears.dunning.tests.cycle_reads import (
    MARCH_5,
    MARCH_6,
    MARCH_7,
    MARCH_10,
    MARCH_11,
    MARCH_25,
    MARCH_26,
    done,
    late_fees,
    timeline,
)
from arrears.ledger.selectors import aging_report


def test_rent_due_on_the_1st_is_not_noticed_by_the_6th_and_is_certified_to_tina_and_greg_the_7th(
    tina_lease,
):
    # given: March's rent of 1,200.00, due on the 1st, is unpaid
    account = tina_lease()

    # when: the cycle runs on the 5th and on the 6th, the last of the five days that run from
    # the day after the due date (GCL §20)
    early = cycle_run(on=MARCH_5)
    last_day = cycle_run(on=MARCH_6)

    # then: a reminder at most, no late notice yet
    assert {a["step"] for a in early.actions} == {"reminder"}
    assert last_day.actions == []
    assert done(account, "late-notice") == []
    assert done(account, "late-notice-guarantor") == []

    # when: it runs on the 7th
    result = cycle_run(on=MARCH_7)

    # then: a certified letter to Tina (tenant) and one to Greg (guarantor), each its own
    notices = done(account, "late-notice") + done(account, "late-notice-guarantor")
    assert [
        (a.party.party_id, a.role, a.channel, a.status, a.amount, a.run_on) for a in notices
    ] == [
        ("P-TINA", "primary", "certified_letter", "queued", Decimal("1200.00"), MARCH_7),
        ("P-GREG", "guarantor", "certified_letter", "queued", Decimal("1200.00"), MARCH_7),
    ]
    assert [a.template for a in notices] == [
        "ny-late-rent-notice",
        "ny-late-rent-notice-guarantor",
    ]
    assert {
        (a["party_id"], a["role"], a["channel"])
        for a in result.actions
        if a["step"].startswith("late-notice")
    } == {
        ("P-TINA", "primary", "certified_letter"),
        ("P-GREG", "guarantor", "certified_letter"),
    }
    rows = [e for e in timeline(account, "notice.queued") if e.on == MARCH_7]
    assert [(e.detail["step"], e.detail["party_id"], e.actor) for e in rows] == [
        ("late-notice", "P-TINA", "cycle"),
        ("late-notice-guarantor", "P-GREG", "cycle"),
    ]
    assert rows[0].detail["law"] == "NY RPL §235-e(d)"
    assert rows[0].detail["key"] == notices[0].key


@pytest.mark.parametrize(
    ("monthly_rent", "fee"),
    [
        ("1200.00", "50.00"),  # 5% is 60.00: the $50 cap
        ("1000.00", "50.00"),  # 5% is exactly 50.00
        ("800.00", "40.00"),  # 5% is less than $50
        ("999.80", "49.99"),  # 5% is 49.99
        # 5% is 40.505: 40.51 would be more than 5% of the rent
        pytest.param("810.10", "40.50"),
    ],
)
def test_the_late_fee_is_capped_at_50_dollars_or_5_percent_and_posted_on_the_7th(
    tina_lease, monthly_rent, fee
):
    # given: Tina's March rent is unpaid
    account = tina_lease(rent=monthly_rent)

    # when: the cycle runs every day from the 2nd to the 6th
    for day in range(2, 7):
        cycle_run(on=date(2026, 3, day))

    # then: no fee within the five days after the due date (NY RPL §238-a(2), GCL §20)
    assert late_fees(account) == []
    assert done(account, "late-fee") == []

    # when: it runs on the 7th
    cycle_run(on=MARCH_7)

    # then: one LATE charge, capped, posted and due on the 7th, in the account's aging
    (charge,) = late_fees(account)
    assert (charge.type, charge.amount, charge.posted_on, charge.due_on) == (
        "charge",
        Decimal(fee),
        MARCH_7,
        MARCH_7,
    )
    assert charge.amount <= min(Decimal("50.00"), Decimal(monthly_rent) * Decimal("0.05"))
    (action,) = done(account, "late-fee")
    assert (action.status, action.amount, action.charge_id) == ("done", Decimal(fee), charge.pk)
    (row,) = timeline(account, "fee.done")
    assert (row.on, row.detail["amount"], row.detail["law"]) == (MARCH_7, fee, "NY RPL §238-a(2)")
    (report,) = aging_report(as_of=MARCH_7)
    (line,) = [r for r in report.rows if r.key["account_id"] == account]
    assert line.line.buckets[0] == Decimal(fee)  # current: due today
    assert line.line.buckets[1] == Decimal(monthly_rent)  # 1-30: March's rent
    assert line.line.balance == Decimal(monthly_rent) + Decimal(fee)

    # when: the cycle goes on running for the rest of March
    for day in range(8, 32):
        cycle_run(on=date(2026, 3, day))

    # then: still one fee for March
    assert len(late_fees(account)) == 1


def test_an_imported_late_fee_for_march_means_the_cycle_posts_none(tina_lease):
    # given: the property manager's system already charged Tina March's late fee, on the 6th (a
    # day early by GCL §20: the analysis flags it, and the cycle must not charge a second one)
    imported = {
        "txn_id": "T-LATE-03",
        "account_id": "A-TINA",
        "posted": "2026-03-06",
        "type": "charge",
        "code": "LATE",
        "amount": "50.00",
        "due": "2026-03-06",
    }
    account = tina_lease(transactions=[imported])

    # when
    result = cycle_run(on=MARCH_7)

    # then: the notices go out, but no second fee
    assert "late-fee" not in {a["step"] for a in result.actions}
    assert [t.txn_id for t in late_fees(account)] == ["T-LATE-03"]
    assert done(account, "late-fee") == []
    assert timeline(account, "fee.done") == []
    assert len(done(account, "late-notice")) == 1


def test_rent_due_on_the_28th_gets_its_own_late_fee_every_month(load_book):
    # given: Tina's lease has rent due on the 28th; January's and February's are unpaid
    rent = {"account_id": "A-TINA", "type": "charge", "code": "RENT", "amount": "1200.00"}
    load_book(
        properties=[
            {
                "property_id": "ELM",
                "name": "Elm Court",
                "address": "12 Elm Street",
                "state": "NY",
                "country": "US",
            }
        ],
        parties=[
            {
                "party_id": "P-TINA",
                "name": "Tina Ortiz",
                "email": "tina@example.org",
                "address": "12 Elm Street, Apt 3B",
                "state": "NY",
                "country": "US",
            }
        ],
        accounts=[
            {
                "account_id": "A-TINA",
                "property_id": "ELM",
                "kind": "residential_lease",
                "opened": "2025-12-28",
                "rent": "1200.00",
            }
        ],
        account_parties=[{"account_id": "A-TINA", "party_id": "P-TINA", "role": "primary"}],
        transactions=[
            {**rent, "txn_id": "T-RENT-01", "posted": "2026-01-28", "due": "2026-01-28"},
            {**rent, "txn_id": "T-RENT-02", "posted": "2026-02-28", "due": "2026-02-28"},
        ],
    )

    # when: the cycle runs on the day after each grace period (Jan 28 + 5 is Monday, Feb 2;
    # Feb 28 + 5 is Thursday, Mar 5)
    cycle_run(on=date(2026, 2, 2))
    cycle_run(on=date(2026, 2, 3))
    cycle_run(on=date(2026, 3, 5))
    cycle_run(on=date(2026, 3, 6))

    # then: a fee for January's rent and one for February's, each the day after its grace
    assert [(t.posted_on, t.amount) for t in late_fees("A-TINA")] == [
        (date(2026, 2, 3), Decimal("50.00")),
        (date(2026, 3, 6), Decimal("50.00")),
    ]


def test_the_14_day_demand_names_the_rent_only_and_its_deadline_is_14_days_later(tina_lease):
    # given: March's rent unpaid, and the 50.00 late fee posted on the 7th
    account = tina_lease()
    cycle_run(on=MARCH_7)
    assert [t.amount for t in late_fees(account)] == [Decimal("50.00")]

    # when: the cycle runs on the 10th (day 9), then on the 11th (day 10)
    before = cycle_run(on=MARCH_10)
    result = cycle_run(on=MARCH_11)

    # then: the demand of the 11th names 1,200.00 (rent, not the fee), due by the 25th
    assert "rent-demand" not in {a["step"] for a in before.actions}
    (demand,) = done(account, "rent-demand")
    assert (demand.party.party_id, demand.channel, demand.template) == (
        "P-TINA",
        "letter",
        "ny-rent-demand",
    )
    assert (demand.amount, demand.deadline, demand.run_on) == (
        Decimal("1200.00"),
        MARCH_25,
        MARCH_11,
    )
    (entry,) = [a for a in result.actions if a["step"] == "rent-demand"]
    assert (entry["amount"], entry["deadline"]) == ("1200.00", "2026-03-25")
    (row,) = [e for e in timeline(account, "notice.queued") if e.detail["step"] == "rent-demand"]
    assert (row.on, row.detail["amount"], row.detail["deadline"]) == (
        MARCH_11,
        "1200.00",
        "2026-03-25",
    )
    assert row.detail["law"] == "NY RPAPL §711(2), §702"


def test_a_referral_is_recommended_when_the_demand_expires_unpaid(tina_lease, print_letters):
    # given: the demand went out on the 11th (printed for mailing that day), due by the 25th,
    # and nothing was paid
    account = tina_lease()
    cycle_run(on=MARCH_7)
    cycle_run(on=MARCH_11)
    print_letters(MARCH_11)
    (demand,) = done(account, "rent-demand")
    assert demand.deadline == MARCH_25

    # when: the cycle runs on the deadline, then 15 days (after_days) after the demand
    on_deadline = cycle_run(on=MARCH_25)
    result = cycle_run(on=MARCH_26)

    # then: a referral is recommended on the 26th, not before
    assert "referral" not in {a["step"] for a in on_deadline.actions}
    assert [a for a in result.actions if a["step"] == "referral"] == [
        {
            "account_id": account,
            "party_id": None,
            "role": None,
            "step": "referral",
            "channel": None,
            "template": None,
        }
    ]
    (referral,) = done(account, "referral")
    assert (referral.action, referral.status, referral.run_on) == (
        "recommend_referral",
        "done",
        MARCH_26,
    )
    (row,) = timeline(account, "recommend_referral.done")
    assert row.on == MARCH_26
    assert "referral to the attorney recommended" in row.summary


def test_carmen_gets_the_3_day_notice_counted_in_court_days_over_labor_day_weekend(carmen_lease):
    # given: September 2026's rent, due Tuesday the 1st, is unpaid; Monday the 7th is Labor Day

    # when: the cycle runs on Sunday the 6th, day 5
    result = cycle_run(on=date(2026, 9, 6))

    # then: the notice expires on Thursday the 10th (Tue 8, Wed 9, Thu 10), not Wednesday the 9th
    (entry,) = [a for a in result.actions if a["step"] == "three-day-notice"]
    assert entry.pop("document").startswith("letters/2026/09/06/A-CARMEN-three-day-notice-")
    assert entry == {
        "account_id": carmen_lease,
        "party_id": "P-CARMEN",
        "role": "primary",
        "step": "three-day-notice",
        "channel": "letter",
        "template": "ca-3-day-notice-pay-or-quit",
        "amount": "2400.00",
        "deadline": "2026-09-10",
    }
    (notice,) = done(carmen_lease, "three-day-notice")
    assert (notice.deadline, notice.amount, notice.policy) == (
        date(2026, 9, 10),
        Decimal("2400.00"),
        "ca-residential",
    )
    (row,) = [
        e for e in timeline(carmen_lease, "notice.queued") if e.detail["step"] == "three-day-notice"
    ]
    assert (row.detail["deadline"], row.detail["law"]) == (
        "2026-09-10",
        "Cal. Code Civ. Proc. §1161(2)",
    )
    assert late_fees(carmen_lease) == []  # the CA policy charges no late fee
