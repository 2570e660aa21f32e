"""Bank files read into plain lines (`BankLineIn`), one module per format; nothing here touches
the database.

Invariants: a file is read whole or refused whole (`BankFileError`, naming the line or element
and the reason); every line has a reference that the bank gave it, or, where a format carries
none, one derived from the line's own content and its place among identical lines, so the
same file read twice gives the same references. Amounts are positive `Decimal`s; `kind` says
whether the money came in (`credit`) or an earlier credit came back (`return`). Debits that are
not returns (fees, transfers out) are not lines.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from arrears.core.errors import ValidationError

FORMATS = ("bai2", "camt", "ofx", "nacha")


class BankFileError(ValidationError):
    """A bank file that does not parse: refused whole, with where and why (`bank_file_invalid`)."""


def refuse(where: Any, reason: Any) -> BankFileError:
    return BankFileError(
        _("{where}: {reason}"), code="bank_file_invalid", where=where, reason=str(reason)
    )


@dataclass(frozen=True)
class BankLineIn:
    reference: str  # the bank's own reference for the line (unique per bank account)
    bank_account: str  # the account at the bank that received the money
    posted_on: date
    amount: Decimal  # > 0
    kind: str = "credit"  # credit | return
    currency: str = ""
    payer_name: str = ""
    payer_account: str = ""  # the payer's bank account, when the file says it
    text: str = ""  # remittance text, free
    original_reference: str = ""  # a return: the reference of the credit it returns
    return_code: str = ""  # a return: the reason code (R01, AC04, …)
    where: str = ""  # the line or element it was read from
    extra: dict[str, str] = field(default_factory=dict)


def derived_reference(fmt: str, *parts: object) -> str:
    """A reference for a line whose format gives none: its content and its place among identical
    lines of the file, hashed (`fmt:` and 24 hex digits)."""
    text = "\x1f".join(str(p) for p in parts)
    return f"{fmt}:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def detect(data: bytes) -> str:
    """The format of `data` by its first bytes: BAI2 starts `01,`, NACHA `101`, camt is XML with
    an ISO 20022 camt namespace, OFX has `OFXHEADER` or `<OFX>`."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"01,"):
        return "bai2"
    if head.startswith(b"101"):
        return "nacha"
    if b"urn:iso:std:iso:20022:tech:xsd:camt" in head:
        return "camt"
    upper = head.upper()
    if upper.startswith(b"OFXHEADER") or b"<OFX>" in upper:
        return "ofx"
    raise refuse("file", _("not a BAI2, camt.053/054, OFX or NACHA file"))


def parse(data: bytes, fmt: str = "auto") -> tuple[str, list[BankLineIn]]:
    """The format read and the lines of `data`; raises BankFileError for a file that does not
    parse, or an unknown format."""
    from arrears.banking.formats import bai2, camt, nacha, ofx

    fmt = detect(data) if fmt == "auto" else fmt
    readers = {"bai2": bai2.read, "camt": camt.read, "ofx": ofx.read, "nacha": nacha.read}
    if fmt not in readers:
        raise refuse("--file-format", _("unknown format {fmt}").format(fmt=fmt))
    return fmt, readers[fmt](data)


def decimal_of(text: str, where: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except ArithmeticError:
        raise refuse(where, _("not an amount: {text!r}").format(text=text)) from None
    if not value.is_finite():
        raise refuse(where, _("not an amount: {text!r}").format(text=text))
    return value


def cents(amount: Decimal, where: str) -> Decimal:
    """`amount` to the cent: a line with a fraction of a cent that is not zero is refused."""
    rounded = amount.quantize(Decimal("0.01"))
    if rounded != amount:
        raise refuse(
            where, _("an amount with a fraction of a cent: {amount}").format(amount=amount)
        )
    return rounded
