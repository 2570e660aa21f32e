"""Planning, database-free: a delinquency keeps its start while the account stays past due."""

from datetime import date
from decimal import Decimal

from arrears.dunning.calendar import carry_to_business_day
from arrears.dunning.planning import (
    AccountState,
    OpenCharge,
    Party,
    delinquency_start,
    next_steps,
    past_due_throughout,
)
from arrears.dunning.policy import built_in_policies

MARCH, APRIL = date(2026, 3, 1), date(2026, 4, 1)
RENT = Decimal("1200.00")


def test_a_partial_payment_that_clears_march_while_april_is_late_does_not_end_the_delinquency():
    # given March rent paid on April 10, when April's rent was already past due
    charges = [(MARCH, [(MARCH, RENT), (date(2026, 4, 10), -RENT)]), (APRIL, [(APRIL, RENT)])]
    # then the account was past due every day since March 1
    assert past_due_throughout(charges, MARCH, date(2026, 4, 20))


def test_paying_march_before_april_falls_due_ends_the_delinquency():
    # given March rent paid on March 20, before April's rent was due
    charges = [(MARCH, [(MARCH, RENT), (date(2026, 3, 20), -RENT)]), (APRIL, [(APRIL, RENT)])]
    # then on March 20 nothing was past due: a new delinquency starts with April
    assert not past_due_throughout(charges, MARCH, date(2026, 4, 20))


def test_tina_gets_one_rent_demand_for_a_delinquency_that_a_partial_payment_did_not_cure():
    # given Tina's March rent paid on April 10 and April's still open, and the March demand done
    april_rent = OpenCharge("R-04", "RENT", APRIL, APRIL, RENT)
    tina = Party("P-TINA", "primary", "Tina Alvarez")
    state = AccountState(
        "A-1",
        "residential_lease",
        moved_out=False,
        rent=RENT,
        balance=RENT,
        open_charges=(april_rent,),
        parties=(tina,),
        delinquent_since=MARCH,
    )
    policy = built_in_policies()["ny-residential"]
    done = {"A-1:rent-demand:2026-03-01:P-TINA", "A-1:referral:2026-03-01"}
    # when the cycle runs on April 11, day 10 of April's rent
    planned = next_steps(
        state,
        policy,
        done,
        date(2026, 4, 11),
        done_on={"A-1:rent-demand:2026-03-01": date(2026, 3, 11)},
        carry_over=carry_to_business_day,
    )
    # then the delinquency is still the one that began on March 1: no second demand
    assert delinquency_start(state, date(2026, 4, 11)) == MARCH
    assert [p.step.key for p in planned if p.step.per == "delinquency"] == []
