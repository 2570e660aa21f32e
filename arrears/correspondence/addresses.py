"""Postal addresses of letters: the addressee block and the key that recognizes an address. Pure.

A tenant with no address of their own on file is written at the leased unit (the property's
address and the unit); a guarantor never is (the guard refuses a guarantor's letter without an
address of their own).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class PostalAddress:
    street: str
    city: str
    state: str
    postal_code: str
    country: str = "US"

    def lines(self) -> list[str]:
        """The street line(s) and the last line, as printed on an envelope."""
        street = [part.strip() for part in re.split(r"[\n;]", self.street) if part.strip()]
        last = " ".join(
            x for x in (f"{self.city}," if self.city else "", self.state, self.postal_code) if x
        ).strip(" ,")
        out = [*street, last] if last else street
        if self.country and self.country.upper() != "US":
            out.append(self.country.upper())
        return out

    def one_line(self) -> str:
        return ", ".join(self.lines())


def mailing_address(
    *,
    role: str,
    party: tuple[str, str, str, str, str],
    premises: tuple[str, str, str, str, str, str] | None,
) -> PostalAddress | None:
    """Where a party's letters go: their own address, else (not for a guarantor) the leased unit.

    `party` is (address, city, state, postal_code, country); `premises` is the property's
    (address, city, state, postal_code, country, unit) or None. None: no postal address.
    """
    address, city, state, postal, country = party
    if address.strip():
        return PostalAddress(address, city, state, postal, country or "US")
    if role == "guarantor" or premises is None or not premises[0].strip():
        return None
    p_address, p_city, p_state, p_postal, p_country, unit = premises
    street = f"{p_address}, Unit {unit}" if unit else p_address
    return PostalAddress(street, p_city, p_state, p_postal, p_country or "US")


def address_key(address: PostalAddress | None) -> str:
    """A comparison key for an address: letters and digits only, upper case, one space apart.

    Two spellings that differ only in case, punctuation or spacing have the same key, so a letter
    returned from "12 Elm St., Apt 3B" marks "12 ELM ST APT 3B" bad too.
    """
    if address is None:
        return ""
    return lines_key(address.lines())


def lines_key(lines: list[str]) -> str:
    """`address_key` of an address already printed as lines."""
    return " ".join(re.findall(r"[A-Z0-9]+", " ".join(lines).upper()))
