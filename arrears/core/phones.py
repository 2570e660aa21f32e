"""Phone numbers as the book keeps them (E.164: "+13475550113") and as a person reads them.

A North American number (country code 1) reads "(347) 555-0113"; any other keeps its E.164
form, which is how it is dialled from here. A `tel:` link always carries the E.164 form.
"""

from __future__ import annotations

import re

E164_RE = re.compile(r"\+[1-9][0-9]{6,14}")
# The North American Numbering Plan: area code and exchange each start with 2-9.
NANP_RE = re.compile(r"\+1([2-9][0-9]{2})([2-9][0-9]{2})([0-9]{4})")


def phone_display(number: str) -> str:
    """The number as a person reads it: "(347) 555-0113" for +13475550113; else as given."""
    match = NANP_RE.fullmatch(number or "")
    if match is None:
        return number or ""
    area, exchange, line = match.groups()
    return f"({area}) {exchange}-{line}"


def phone_href(number: str) -> str:
    """The `tel:` link of an E.164 number ("" for anything else: no link is better than a
    wrong one)."""
    return f"tel:{number}" if E164_RE.fullmatch(number or "") else ""


def phone_e164(text: str) -> str:
    """A number as typed ("(347) 555-0113", "347.555.0113", "+1 347 555 0113") in E.164 form,
    or the text stripped when it is not one (the caller's check then names it). Ten digits are
    a North American number."""
    text = (text or "").strip()
    digits = re.sub(r"[\s().\-]", "", text)
    if re.fullmatch(r"[2-9][0-9]{9}", digits):
        return "+1" + digits
    if re.fullmatch(r"1[2-9][0-9]{9}", digits):
        return "+" + digits
    return digits if digits.startswith("+") else text
