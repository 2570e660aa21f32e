"""USPS certified-mail article numbers (Intelligent Mail package barcode tracking numbers). Pure.

An article number is 20 or 22 digits (22 for the common 92/93/94/95… numbers, 20 for the older
ones), the last of which is a check digit computed by the USPS "Mod 10" rule of Publication 199
(Intelligent Mail Package Barcode): starting from the digit just left of the check digit and
moving left, digits in odd positions are weighted 3 and the others 1; the check digit is what
brings the weighted sum up to the next multiple of 10.
"""

from __future__ import annotations

LENGTHS = (20, 22)


def usps_check_digit(payload: str) -> int:
    """The Mod-10 check digit of the digits before it (ValueError if not all digits)."""
    if not payload.isdigit():
        raise ValueError(f"not all digits: {payload!r}")
    total = 0
    for position, digit in enumerate(reversed(payload), start=1):
        total += int(digit) * (3 if position % 2 else 1)
    return (10 - total % 10) % 10


def normalize_article_number(text: str) -> str:
    """The digits of an article number as written (spaces and dashes dropped)."""
    return "".join(ch for ch in text if ch not in " -\t")


def article_number_problem(text: str) -> str:
    """Why `text` is not a valid article number, or "" if it is one."""
    number = normalize_article_number(text)
    if not number:
        return "no article number"
    if not number.isdigit():
        return f"an article number is digits only: {text!r}"
    if len(number) not in LENGTHS:
        return f"an article number has 20 or 22 digits, not {len(number)}: {text!r}"
    expected = usps_check_digit(number[:-1])
    if int(number[-1]) != expected:
        return f"check digit of {number} is {number[-1]}, the USPS Mod-10 rule gives {expected}"
    return ""
