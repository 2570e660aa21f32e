"""Derived holds, database-free: planning marks the steps about disputed amounts, and the guard
refuses a step with the rule of the hold the run derived for it, after the holds placed by hand."""

from datetime import UTC, date, datetime
from decimal import Decimal

from arrears.dunning.calendar import carry_to_business_day
from arrears.dunning.guard import ActiveHold, guard_check
from arrears.dunning.planning import AccountState, OpenCharge, Party, next_steps
from arrears.dunning.policy import built_in_policies

MARCH = date(2026, 3, 1)
RENT = OpenCharge("R-03", "RENT", MARCH, MARCH, Decimal("1200.00"))
FEE = OpenCharge("F-03", "LATE", date(2026, 3, 6), date(2026, 3, 6), Decimal("50.00"))
TINA = Party("P-TINA", "primary", "Tina Ortiz")
NY = built_in_policies()["ny-residential"]


def state(**disputes) -> AccountState:
    return AccountState(
        "A-TINA",
        "residential_lease",
        moved_out=False,
        rent=RENT.open_amount,
        balance=Decimal("1250.00"),
        open_charges=(RENT, FEE),
        parties=(TINA,),
        **disputes,
    )


def marked(s: AccountState, on: date) -> dict[str, tuple[str, Decimal | None]]:
    return {
        p.step.key: (p.disputed, p.amount)
        for p in next_steps(s, NY, set(), on, carry_over=carry_to_business_day)
    }


def test_a_disputed_fee_leaves_the_rent_demand_its_course_for_the_rent():
    steps = marked(state(disputed={"F-03": Decimal("50.00")}), date(2026, 3, 11))
    assert steps["rent-demand"] == ("", Decimal("1200.00"))


def test_a_disputed_rent_marks_its_notices_its_fee_and_the_rent_demand():
    on = date(2026, 3, 11)
    steps = marked(state(disputed={"R-03": Decimal("1200.00")}), on)
    assert steps["late-notice"][0] == "charge R-03 is disputed"
    assert steps["late-fee"][0] == "charge R-03 is disputed"
    assert steps["rent-demand"] == (
        "everything past due that it is about is disputed",
        Decimal("0.00"),
    )


def test_a_dispute_on_the_whole_balance_marks_every_step():
    steps = marked(state(disputed_whole=True), date(2026, 3, 11))
    assert {why for why, _ in steps.values()} == {"the whole balance is disputed"}


AT = datetime(2026, 3, 11, 16, 0, tzinfo=UTC)


def test_the_guard_refuses_with_the_derived_rule_after_the_holds_placed_by_hand():
    plan = [("plan", "plan 7 in good standing")]
    refused = guard_check(action="fee", channel=None, at=AT, holds=(), derived=plan)
    assert (refused.allowed, refused.rule, refused.reason) == (
        False,
        "plan",
        "plan 7 in good standing",
    )
    stay = guard_check(
        action="fee", channel=None, at=AT, holds=(ActiveHold("bankruptcy"),), derived=plan
    )
    assert stay.rule == "hold:bankruptcy"
    assert guard_check(action="fee", channel=None, at=AT, holds=()).allowed
