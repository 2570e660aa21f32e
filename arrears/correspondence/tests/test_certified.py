"""Certified-mail article numbers: the USPS Mod-10 check digit (Publication 199), recomputed here
independently, left to right, from the published rule."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrears.correspondence.certified import article_number_problem, usps_check_digit


def published_rule(payload: str) -> str:
    # Weight 3 for the digits in odd positions counted from the right of the payload (the digit
    # next to the check digit is position 1), weight 1 for the others; the check digit brings the
    # sum up to a multiple of ten.
    n = len(payload)
    odd = sum(int(payload[i]) for i in range(n) if (n - i) % 2 == 1)
    even = sum(int(payload[i]) for i in range(n) if (n - i) % 2 == 0)
    total = odd * 3 + even
    return str(-total % 10)


def test_a_22_digit_article_number_with_its_check_digit_is_valid():
    payload = "940011189922310001234"  # 21 digits
    number = payload + published_rule(payload)
    assert article_number_problem(number) == ""
    assert article_number_problem(" ".join([number[:4], number[4:8], number[8:]])) == ""


def test_a_20_digit_article_number_with_its_check_digit_is_valid():
    payload = "7019070000001234567"  # 19 digits
    assert article_number_problem(payload + published_rule(payload)) == ""


def test_a_wrong_check_digit_is_refused_with_the_expected_one():
    payload = "940011189922310001234"
    good = published_rule(payload)
    bad = str((int(good) + 3) % 10)
    problem = article_number_problem(payload + bad)
    assert "check digit" in problem
    assert f"gives {good}" in problem


@pytest.mark.parametrize(
    "text",
    [
        "",
        "12345",
        "9400 1118 9922 3100 0123 4",
        "94001118992231000123456",
        "9400111899223100012A45",
    ],
)
def test_wrong_lengths_and_letters_are_refused(text):
    assert article_number_problem(text) != ""


@given(st.text(alphabet="0123456789", min_size=19, max_size=21))
def test_the_check_digit_matches_the_published_rule(payload):
    assert str(usps_check_digit(payload)) == published_rule(payload)
