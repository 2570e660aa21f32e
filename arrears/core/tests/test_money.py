"""The money rules: a split never loses or makes a cent, a cap never rounds up."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrears.core.money import CENT, allocate, fee_cap

amounts = st.decimals(min_value=Decimal("-1000000"), max_value=Decimal("1000000"), places=2)
weights = st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=30).filter(any)


@given(total=amounts, parts=weights)
def test_allocate_parts_sum_to_the_total_and_follow_the_weights(total, parts):
    # when
    shares = allocate(total, parts)

    # then: nothing lost or made, every share in whole cents, none more than a cent from exact
    assert sum(shares) == total
    assert all(share == share.quantize(CENT) for share in shares)
    weight_sum = sum(parts)
    for share, weight in zip(shares, parts, strict=True):
        assert abs(share - total * weight / weight_sum) < CENT
        if weight == 0:
            assert share == 0


def test_allocate_gives_the_leftover_cents_to_the_earlier_parts():
    assert allocate(Decimal("1000.00"), [1, 1, 1]) == [
        Decimal("333.34"),
        Decimal("333.33"),
        Decimal("333.33"),
    ]


@pytest.mark.parametrize("weights", [[], [0, 0], [1, -1]])
def test_allocate_refuses_weights_that_split_nothing(weights):
    with pytest.raises(ValueError, match="weight"):
        allocate(Decimal("10.00"), weights)


@given(rent=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000"), places=2))
def test_new_york_late_fee_cap_is_the_lesser_of_50_and_5_percent_never_rounded_up(rent):
    # when
    cap = fee_cap(Decimal("50.00"), Decimal(5), rent)

    # then
    assert cap is not None
    assert cap <= Decimal("50.00")
    assert cap <= rent * Decimal("0.05")
    assert cap == cap.quantize(CENT)
    assert min(Decimal("50.00"), rent * Decimal("0.05")) - cap < CENT


def test_fee_cap_of_810_10_is_40_50_not_40_51():
    # 5% of 810.10 is 40.505: rounding half up would charge a cent over the RPL §238-a(2) cap.
    assert fee_cap(Decimal("50.00"), Decimal(5), Decimal("810.10")) == Decimal("40.50")


def test_fee_cap_without_a_rent_is_the_fixed_fee_or_none():
    assert fee_cap(Decimal("25.00"), Decimal(5), None) == Decimal("25.00")
    assert fee_cap(None, Decimal(5), None) is None
    assert fee_cap(None, None, Decimal("1000.00")) is None
