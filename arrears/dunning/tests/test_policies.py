"""The built-in policies: they parse, they are chosen for the right accounts, and their steps fall
on the days the law allows. Pure: no database.

The tenants: Tina Ortiz rents in New York, her brother Greg guarantees the lease; Carmen Ruiz
rents in California. Rent is due on the 1st unless a story says otherwise.
"""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest

from arrears.dunning.calendar import carry_to_business_day, is_california_court_holiday
from arrears.dunning.planning import AccountState, OpenCharge, Party, fee_amount, next_steps
from arrears.dunning.policy import (
    BUILT_IN,
    PolicyError,
    built_in_policies,
    choose_policy,
    parse_policy,
)

NAMES = {"ny-residential", "ca-residential", "post-move-out", "b2b-net30", "student", "patient"}
TINA = Party("P-TINA", "primary", "Tina Ortiz")
GREG = Party("P-GREG", "guarantor", "Greg Ortiz")
CARMEN = Party("P-CARMEN", "primary", "Carmen Ruiz")


def rent(txn_id: str, due: date, amount: str = "1200.00") -> OpenCharge:
    return OpenCharge(txn_id, "RENT", due, due, Decimal(amount))


def account(
    *charges: OpenCharge,
    rent_amount: str | None = "1200.00",
    parties: tuple[Party, ...] = (TINA, GREG),
    kind: str = "residential_lease",
    moved_out: bool = False,
) -> AccountState:
    return AccountState(
        account_id="A-1",
        kind=kind,
        moved_out=moved_out,
        rent=Decimal(rent_amount) if rent_amount else None,
        balance=sum((c.open_amount for c in charges), Decimal(0)),
        open_charges=charges,
        parties=parties,
    )


def policy(name: str):
    return built_in_policies()[name]


def plan(state, name, on, done=(), done_on=None):
    return next_steps(
        state,
        policy(name),
        set(done),
        on,
        done_on=done_on or {},
        is_court_holiday=is_california_court_holiday,
        carry_over=carry_to_business_day,
    )


def steps_of(planned) -> list[tuple[str, str | None]]:
    return [(p.step.key, p.party_id) for p in planned]


def run_daily(state, name, first, last) -> dict[date, list[str]]:
    """Run the cycle every day from `first` to `last`, doing whatever it plans; what was planned
    on which day, by step key."""
    done: set[str] = set()
    done_on: dict[str, date] = {}
    sent: dict[date, list[str]] = {}
    on = first
    while on <= last:
        planned = plan(state, name, on, done, done_on)
        for p in planned:
            done.add(p.key)
            if p.delinquency is not None and p.charge_txn_id is None:
                done_on[f"{state.account_id}:{p.step.key}:{p.delinquency.isoformat()}"] = on
        if planned:
            sent[on] = [p.step.key for p in planned]
        on += timedelta(days=1)
    return sent


def _ny_done_before_demand() -> set[str]:
    return {
        "A-1:reminder:R-03:P-TINA",
        "A-1:late-notice:R-03:P-TINA",
        "A-1:late-notice-guarantor:R-03:P-GREG",
        "A-1:late-fee:R-03",
    }


# -- the files --------------------------------------------------------------------------------


def test_every_built_in_file_parses_and_is_named_after_its_file():
    files = sorted(BUILT_IN.glob("*.toml"))
    assert {f.stem for f in files} == NAMES
    for path in files:
        parsed = parse_policy(path.read_text(encoding="utf-8"), source=path.name)
        assert parsed.name == path.stem
        assert parsed.version >= 1
        assert parsed.description
        assert parsed.steps


def test_step_keys_are_stable_lower_case_words_joined_by_hyphens():
    for p in built_in_policies().values():
        for step in p.steps:
            assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", step.key), (p.name, step.key)


@pytest.mark.parametrize(
    ("name", "key", "law"),
    [
        ("ny-residential", "late-notice", "NY RPL §235-e(d)"),
        ("ny-residential", "late-fee", "NY RPL §238-a(2)"),
        ("ny-residential", "rent-demand", "NY RPAPL §711(2), §702"),
        ("ny-residential", "referral", "NY RPAPL §711(2)"),
        ("ca-residential", "three-day-notice", "Cal. Code Civ. Proc. §1161(2)"),
    ],
)
def test_steps_that_follow_a_statute_name_it(name, key, law):
    assert policy(name).step(key).law == law


# -- choosing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("jurisdiction", "kind", "moved_out", "expected"),
    [
        ("US-NY", "residential_lease", False, "ny-residential"),
        ("US-CA", "residential_lease", False, "ca-residential"),
        ("US-NY", "residential_lease", True, "post-move-out"),
        ("US-CA", "residential_lease", True, "post-move-out"),
        ("US-TX", "commercial_lease", True, "post-move-out"),
        ("US-TX", "customer", False, "b2b-net30"),
        ("US-NY", "customer", True, "b2b-net30"),
        ("US-MA", "student", False, "student"),
        ("US-MA", "student", True, "student"),
        ("", "patient", False, "patient"),
        ("US-CA", "patient", True, "patient"),
        ("US-TX", "residential_lease", False, None),  # no Texas policy yet
        ("US-NY", "commercial_lease", False, None),
    ],
)
def test_the_policy_is_chosen_by_jurisdiction_kind_and_state(
    jurisdiction, kind, moved_out, expected
):
    chosen = choose_policy(
        built_in_policies(), jurisdiction=jurisdiction, account_kind=kind, moved_out=moved_out
    )
    assert (chosen.name if chosen else None) == expected


# -- New York -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("monthly_rent", "fee"),
    [("1200.00", "50.00"), ("800.00", "40.00"), ("1000.00", "50.00"), ("2500.00", "50.00")],
)
def test_the_ny_late_fee_is_the_lesser_of_50_dollars_and_5_percent_of_the_rent(monthly_rent, fee):
    step = policy("ny-residential").step("late-fee")
    assert fee_amount(step, Decimal(monthly_rent)) == Decimal(fee)


def test_ny_tina_gets_a_reminder_the_day_after_the_rent_is_due_and_greg_does_not():
    # given March rent unpaid
    state = account(rent("R-03", date(2026, 3, 1)))
    # when the cycle runs on the 1st and on the 2nd
    # then nothing on the due date itself, and a reminder to Tina alone the next day
    assert plan(state, "ny-residential", date(2026, 3, 1)) == []
    planned = plan(state, "ny-residential", date(2026, 3, 2))
    assert steps_of(planned) == [("reminder", "P-TINA")]
    assert planned[0].key == "A-1:reminder:R-03:P-TINA"


def test_ny_no_notice_and_no_fee_while_the_five_days_of_grace_run():
    # given March rent unpaid and the reminder sent
    state = account(rent("R-03", date(2026, 3, 1)))
    done = {"A-1:reminder:R-03:P-TINA"}
    # then nothing on the 5th, nor on Friday the 6th: the five days run from the 2nd (GCL §20),
    # and the 6th is Tina's last day to pay on time
    assert plan(state, "ny-residential", date(2026, 3, 5), done) == []
    assert plan(state, "ny-residential", date(2026, 3, 6), done) == []


def test_ny_certified_notice_to_tina_and_greg_and_the_late_fee_once_five_days_have_passed():
    # given March rent unpaid and the reminder sent
    state = account(rent("R-03", date(2026, 3, 1)))
    done = {"A-1:reminder:R-03:P-TINA"}
    # when the cycle runs on the 7th: rent not received within five days of the 1st
    planned = plan(state, "ny-residential", date(2026, 3, 7), done)
    # then the tenant's notice, the guarantor's letter and the capped fee
    assert steps_of(planned) == [
        ("late-notice", "P-TINA"),
        ("late-notice-guarantor", "P-GREG"),
        ("late-fee", None),
    ]
    notice, guarantor, fee = planned
    assert notice.step.channel == guarantor.step.channel == "certified_letter"
    assert notice.step.template == "ny-late-rent-notice"
    assert guarantor.step.template == "ny-late-rent-notice-guarantor"
    assert notice.amount == guarantor.amount == Decimal("1200.00")
    assert fee.amount == Decimal("50.00")
    assert fee.key == "A-1:late-fee:R-03"
    # and once done, not again
    again = plan(state, "ny-residential", date(2026, 3, 8), done | {p.key for p in planned})
    assert again == []


def test_ny_late_fee_on_an_800_dollar_rent_is_40_dollars():
    state = account(rent("R-03", date(2026, 3, 1), "800.00"), rent_amount="800.00")
    planned = plan(state, "ny-residential", date(2026, 3, 7))
    fees = [p for p in planned if p.step.action == "fee"]
    assert [f.amount for f in fees] == [Decimal("40.00")]


def test_ny_each_month_of_arrears_gets_its_own_notice_and_fee():
    # given February's notice and fee done, and March's rent unpaid too
    state = account(rent("R-02", date(2026, 2, 1)), rent("R-03", date(2026, 3, 1)))
    done = {
        "A-1:reminder:R-03:P-TINA",
        "A-1:late-notice:R-02:P-TINA",
        "A-1:late-notice-guarantor:R-02:P-GREG",
        "A-1:late-fee:R-02",
    }
    # when the cycle runs on March 7
    planned = plan(state, "ny-residential", date(2026, 3, 7), done)
    # then March gets its own notice, letter and fee (beside February's overdue rent demand)
    assert [(p.step.key, p.charge_txn_id) for p in planned if p.step.per == "charge"] == [
        ("late-notice", "R-03"),
        ("late-notice-guarantor", "R-03"),
        ("late-fee", "R-03"),
    ]


def test_ny_a_missed_run_still_sends_the_late_notice_but_no_longer_the_fee():
    # given the cycle did not run from March 7 to March 20
    state = account(rent("R-03", date(2026, 3, 1)))
    planned = plan(state, "ny-residential", date(2026, 3, 21), {"A-1:reminder:R-03:P-TINA"})
    # then the §235-e(d) notice still goes out (it is due until the 29th); a fee 20 days after
    # the rent was due is no longer charged (within_days: 10)
    assert [p.step.key for p in planned] == ["late-notice", "late-notice-guarantor", "rent-demand"]


def test_ny_rent_demand_names_the_rent_only_even_with_a_late_fee_open():
    # given March rent and its late fee unpaid, and everything before the demand done
    late_fee = OpenCharge("F-03", "LATE", date(2026, 3, 7), date(2026, 3, 7), Decimal("50.00"))
    state = account(rent("R-03", date(2026, 3, 1)), late_fee)
    assert state.balance == Decimal("1250.00")
    # when the cycle runs on the 11th: day 10 after the due date
    planned = plan(state, "ny-residential", date(2026, 3, 11), done=_ny_done_before_demand())
    # then a 14-day demand to Tina for the rent alone (RPAPL §711(2), §702)
    assert steps_of(planned) == [("rent-demand", "P-TINA")]
    demand = planned[0]
    assert demand.amount == Decimal("1200.00")
    assert demand.deadline == date(2026, 3, 25)
    assert demand.key == "A-1:rent-demand:2026-03-01:P-TINA"


def test_ny_attorney_referral_is_recommended_once_the_demand_has_expired():
    state = account(rent("R-03", date(2026, 3, 1)))
    done = _ny_done_before_demand() | {"A-1:rent-demand:2026-03-01:P-TINA"}
    done_on = {"A-1:rent-demand:2026-03-01": date(2026, 3, 11)}
    # 14 days after the demand: still running (the coordinator's call before it expires is all)
    still = plan(state, "ny-residential", date(2026, 3, 25), done, done_on)
    assert steps_of(still) == [("call-before-rent-demand-expires", "P-TINA")]
    # 15 days after: expired unpaid
    planned = plan(state, "ny-residential", date(2026, 3, 26), done, done_on)
    assert steps_of(planned) == [("referral", None)]
    assert planned[0].step.action == "recommend_referral"


def test_ny_story_march_rent_never_paid():
    state = account(rent("R-03", date(2026, 3, 1)))
    sent = run_daily(state, "ny-residential", date(2026, 2, 20), date(2026, 4, 30))
    assert sent == {
        date(2026, 3, 2): ["reminder"],
        date(2026, 3, 7): ["late-notice", "late-notice-guarantor", "late-fee"],
        date(2026, 3, 11): ["rent-demand"],
        date(2026, 3, 23): ["call-before-rent-demand-expires"],  # two days before its last day
        date(2026, 3, 26): ["referral"],
    }


# -- California ---------------------------------------------------------------------------------


def test_ca_three_day_notice_before_labor_day_expires_on_thursday():
    # given rent due on Sunday, Aug 30, 2026, unpaid, and the reminder sent
    state = account(rent("R-08", date(2026, 8, 30), "2400.00"), parties=(CARMEN,))
    done = {"A-1:reminder:R-08:P-CARMEN"}
    # when the cycle runs on Friday, Sep 4: day 5 after the due date
    planned = plan(state, "ca-residential", date(2026, 9, 4), done)
    # then the weekend and Labor Day are not counted: Tue 8, Wed 9, Thu 10
    assert steps_of(planned) == [("three-day-notice", "P-CARMEN")]
    assert planned[0].deadline == date(2026, 9, 10)
    assert planned[0].step.deadline_rule == "court_days"


def test_ca_three_day_notice_across_thanksgiving_expires_the_next_wednesday():
    # given rent due on Friday, Nov 20, 2026, unpaid, and the reminder sent
    state = account(rent("R-11", date(2026, 11, 20), "2400.00"), parties=(CARMEN,))
    done = {"A-1:reminder:R-11:P-CARMEN"}
    # when the cycle runs on Wednesday, Nov 25
    planned = plan(state, "ca-residential", date(2026, 11, 25), done)
    # then Thanksgiving, the day after and the weekend are not counted: Mon 30, Tue 1, Wed 2
    assert planned[0].deadline == date(2026, 12, 2)


def test_ca_three_day_notice_demands_rent_only():
    late_fee = OpenCharge("F-08", "LATE", date(2026, 9, 1), date(2026, 9, 1), Decimal("75.00"))
    state = account(rent("R-08", date(2026, 8, 30), "2400.00"), late_fee, parties=(CARMEN,))
    planned = plan(state, "ca-residential", date(2026, 9, 4), {"A-1:reminder:R-08:P-CARMEN"})
    assert planned[0].amount == Decimal("2400.00")


def test_ca_three_day_notice_leaves_out_rent_not_yet_due():
    # given November's rent unpaid and December's already posted, due Dec 20
    state = account(
        rent("R-11", date(2026, 11, 20), "2400.00"),
        rent("R-12", date(2026, 12, 20), "2400.00"),
        parties=(CARMEN,),
    )
    planned = plan(state, "ca-residential", date(2026, 11, 25), {"A-1:reminder:R-11:P-CARMEN"})
    # then the notice demands November's rent only: rent not yet due makes it defective
    assert planned[0].amount == Decimal("2400.00")


def test_ca_referral_is_recommended_after_the_longest_three_court_days():
    state = account(rent("R-11", date(2026, 11, 20), "2400.00"), parties=(CARMEN,))
    done = {"A-1:reminder:R-11:P-CARMEN", "A-1:three-day-notice:2026-11-20:P-CARMEN"}
    done_on = {"A-1:three-day-notice:2026-11-20": date(2026, 11, 25)}
    # the notice runs to the end of Wed Dec 2 (the coordinator's call before it expires is all)
    still = plan(state, "ca-residential", date(2026, 12, 2), done, done_on)
    assert steps_of(still) == [("call-before-three-day-notice-expires", "P-CARMEN")]
    assert steps_of(plan(state, "ca-residential", date(2026, 12, 3), done, done_on)) == [
        ("referral", None)
    ]


def test_ca_story_november_rent_never_paid():
    state = account(rent("R-11", date(2026, 11, 20), "2400.00"), parties=(CARMEN,))
    sent = run_daily(state, "ca-residential", date(2026, 11, 1), date(2026, 12, 31))
    assert sent == {
        date(2026, 11, 21): ["reminder"],
        date(2026, 11, 25): ["three-day-notice"],
        date(2026, 12, 1): ["call-before-three-day-notice-expires"],  # the day before its last
        date(2026, 12, 3): ["referral"],
    }


# -- after move-out ---------------------------------------------------------------------------


def test_post_move_out_demand_then_final_20_day_notice_then_referral():
    # given Tina has moved out owing the last month's rent and a cleaning charge
    cleaning = OpenCharge("C-1", "MAINT", date(2026, 4, 15), date(2026, 4, 15), Decimal("300.00"))
    state = account(rent("R-04", date(2026, 4, 1)), cleaning, moved_out=True)
    # then a demand to Tina and Greg, each their own letter
    first = plan(state, "post-move-out", date(2026, 4, 20))
    assert steps_of(first) == [
        ("demand-letter", "P-TINA"),
        ("demand-letter-guarantor", "P-GREG"),
    ]
    assert first[0].amount == Decimal("1500.00")
    # and 30 days later the final notice with 20 days to pay
    done = {p.key for p in first}
    done_on = {"A-1:demand-letter:2026-04-01": date(2026, 4, 20)}
    assert plan(state, "post-move-out", date(2026, 5, 19), done, done_on) == []
    final = plan(state, "post-move-out", date(2026, 5, 20), done, done_on)
    assert steps_of(final) == [("final-notice", "P-TINA"), ("final-notice-guarantor", "P-GREG")]
    assert final[0].deadline == date(2026, 6, 9)
    # and once the 20 days are over, a referral is recommended
    done |= {p.key for p in final}
    done_on["A-1:final-notice:2026-04-01"] = date(2026, 5, 20)
    assert plan(state, "post-move-out", date(2026, 6, 9), done, done_on) == []
    last = plan(state, "post-move-out", date(2026, 6, 10), done, done_on)
    assert [(p.step.key, p.step.action) for p in last] == [("referral", "recommend_referral")]


def test_post_move_out_does_nothing_while_the_tenant_lives_there():
    state = account(rent("R-04", date(2026, 4, 1)))
    assert plan(state, "post-move-out", date(2026, 5, 1)) == []


# -- business, student, patient -------------------------------------------------------------


def test_b2b_reminds_three_days_before_the_invoice_is_due():
    invoice = OpenCharge("INV-7", "SERV", date(2026, 6, 30), date(2026, 5, 31), Decimal("900.00"))
    state = account(invoice, rent_amount=None, parties=(CARMEN,), kind="customer")
    assert plan(state, "b2b-net30", date(2026, 6, 26)) == []
    assert steps_of(plan(state, "b2b-net30", date(2026, 6, 27))) == [
        ("reminder-before-due", "P-CARMEN")
    ]


def test_b2b_ladder_runs_at_1_15_30_45_60_and_90_days_past_due():
    # given an invoice due on Jan 1, 2026, never paid
    invoice = OpenCharge("INV-7", "SERV", date(2026, 1, 1), date(2025, 12, 2), Decimal("900.00"))
    state = account(invoice, rent_amount=None, parties=(CARMEN,), kind="customer")
    # when the cycle runs every day until May
    sent = run_daily(state, "b2b-net30", date(2025, 12, 2), date(2026, 5, 1))
    # then
    assert sent == {
        date(2025, 12, 29): ["reminder-before-due"],
        date(2026, 1, 2): ["overdue-1"],
        date(2026, 1, 16): ["statement-15"],
        date(2026, 1, 31): ["statement-30"],
        date(2026, 2, 15): ["statement-45"],
        date(2026, 3, 2): ["final-notice-60"],
        date(2026, 4, 1): ["agency-referral"],
    }


@pytest.mark.parametrize("name", ["student", "patient"])
def test_student_and_patient_statements_at_30_60_and_90_days(name):
    charge = OpenCharge("T-1", "TUITION", date(2026, 1, 15), date(2026, 1, 1), Decimal("4000.00"))
    state = account(charge, rent_amount=None, kind=name)
    sent = run_daily(state, name, date(2026, 1, 1), date(2026, 6, 30))
    assert {on: sorted(set(keys)) for on, keys in sent.items()} == {
        # the monthly statement on the 1st of each month while something is owed, once a month
        **{date(2026, month, 1): ["monthly-statement"] for month in range(1, 7)},
        date(2026, 2, 14): ["statement-30"],
        date(2026, 3, 16): ["statement-60"],
        date(2026, 4, 15): ["statement-90"],
    }


def test_student_statements_go_to_the_student_alone():
    charge = OpenCharge("T-1", "TUITION", date(2026, 1, 15), date(2026, 1, 1), Decimal("4000.00"))
    state = account(charge, rent_amount=None, kind="student")
    planned = plan(state, "student", date(2026, 2, 14))
    # (February's monthly statement not yet sent: it catches up, to the student alone too)
    assert steps_of(planned) == [("statement-30", "P-TINA"), ("monthly-statement", "P-TINA")]


def test_patient_statements_go_to_the_patient_and_the_guarantor():
    charge = OpenCharge("V-1", "VISIT", date(2026, 1, 15), date(2026, 1, 1), Decimal("640.00"))
    state = account(charge, rent_amount=None, kind="patient")
    planned = plan(state, "patient", date(2026, 2, 14))
    assert steps_of(planned) == [
        ("statement-30", "P-TINA"),
        ("statement-30", "P-GREG"),
        ("monthly-statement", "P-TINA"),
        ("monthly-statement", "P-GREG"),
    ]


def test_a_monthly_statement_is_keyed_by_month_catches_up_a_missed_day_and_goes_once():
    # given a patient owing 300.00 on a charge due March 20, and the patient policy
    charge = OpenCharge("V-1", "VISIT", date(2026, 3, 20), date(2026, 3, 1), Decimal("300.00"))
    state = account(charge, rent_amount=None, kind="patient")
    # when the run missed April 1 and runs on April 3
    planned = [
        p for p in plan(state, "patient", date(2026, 4, 3)) if p.step.key == "monthly-statement"
    ]
    # then April's statement goes to the patient and the guarantor, keyed by the month, with no
    # delinquency (a statement is not a rung of the ladder)
    assert [p.key for p in planned] == [
        "A-1:monthly-statement:2026-04:P-TINA",
        "A-1:monthly-statement:2026-04:P-GREG",
    ]
    assert {p.delinquency for p in planned} == {None}
    assert planned[0].amount == Decimal("300.00")
    # and once done, not again that month; May 1 has May's
    done = {p.key for p in planned}
    assert not [
        p
        for p in plan(state, "patient", date(2026, 4, 30), done)
        if p.step.key == "monthly-statement"
    ]
    may = [
        p.key
        for p in plan(state, "patient", date(2026, 5, 1), done)
        if p.step.key == "monthly-statement"
    ]
    assert may == ["A-1:monthly-statement:2026-05:P-TINA", "A-1:monthly-statement:2026-05:P-GREG"]
    # and nothing owed, no statement
    paid = account(rent_amount=None, kind="patient")
    assert plan(paid, "patient", date(2026, 5, 1)) == []


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("day_of_month = 31", "day_of_month is a day from 1 to 28"),
        ('day_of_month = "1"', "day_of_month is a day from 1 to 28"),
        ("day_of_month = 1\ndays_past_due = 5", "day_of_month is a trigger of its own"),
    ],
)
def test_a_monthly_step_needs_a_day_every_month_has(extra, message):
    text = f"""
name = "bad"
[[steps]]
key = "monthly"
action = "notice"
channel = "letter"
template = "monthly-statement"
{extra}
"""
    with pytest.raises(PolicyError, match=message):
        parse_policy(text)
