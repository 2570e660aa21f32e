"""OFX (Open Financial Exchange) 1.x SGML and 2.x XML statements read into bank lines, through
`ofxtools`' parser (header and the SGML's unclosed tags). Its typed models are not used: they
refuse real files over a length limit of the spec (a 10-digit BANKID), so the statement
transactions are read from the parsed tree.

Elements read: `STMTRS` / `CCSTMTRS` (one statement), `BANKACCTFROM/ACCTID` or
`CCACCTFROM/ACCTID` (our account at the bank), `CURDEF`; `STMTTRN` (one transaction):
`TRNAMT` (signed: more than 0 is money in), `DTPOSTED` (the day booked), `FITID` (the
financial institution's unique id of the transaction: the bank's reference; where a bank left it
empty, one derived from the line), `NAME` or
`PAYEE/NAME` (the other party: the payer), `MEMO`, `CHECKNUM`, `REFNUM` (remittance text).
`TRNTYPE` `CREDIT`, `DEP`, `DIRECTDEP`, `XFER` and the like with a positive amount are credits.
OFX has no returned-item type of its own: a bank's returned cheque is a debit, not a line here.
"""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from xml.etree.ElementTree import Element

from django.utils.translation import gettext_lazy as _
from ofxtools.Parser import OFXTree

from arrears.banking.formats import BankLineIn, cents, decimal_of, derived_reference, refuse


def _text(node: Element, path: str) -> str:
    found = node.find(path)
    return (found.text or "").strip() if found is not None else ""


def _day(value: str, where: str) -> date:
    try:
        return date(int(value[0:4]), int(value[4:6]), int(value[6:8]))
    except ValueError:
        raise refuse(where, _("not a date: {v!r}").format(v=value)) from None


def read(data: bytes) -> list[BankLineIn]:
    """The credits of an OFX file; raises BankFileError."""
    tree = OFXTree()
    try:
        tree.parse(io.BytesIO(data.lstrip(b"\xef\xbb\xbf \t\r\n")))
    except Exception as exc:
        raise refuse("OFX", str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None
    root = tree.getroot()
    if root is None:
        raise refuse("OFX", _("no statement (STMTRS or CCSTMTRS)"))
    lines: list[BankLineIn] = []
    seen: dict[str, int] = {}
    statements = [*root.iter("STMTRS"), *root.iter("CCSTMTRS")]
    for s, statement in enumerate(statements, start=1):
        account = _text(statement, "BANKACCTFROM/ACCTID") or _text(statement, "CCACCTFROM/ACCTID")
        currency = _text(statement, "CURDEF")
        for t, trn in enumerate(statement.iter("STMTTRN"), start=1):
            where = f"{statement.tag}[{s}]/STMTTRN[{t}]"
            raw_amount = _text(trn, "TRNAMT")
            posted = _text(trn, "DTPOSTED")
            fitid = _text(trn, "FITID")
            if not raw_amount:
                raise refuse(f"{where}/TRNAMT", _("no amount"))
            if not posted:
                raise refuse(f"{where}/DTPOSTED", _("no date"))
            amount: Decimal = decimal_of(raw_amount.replace(",", "."), f"{where}/TRNAMT")
            on = _day(posted, f"{where}/DTPOSTED")
            if amount <= 0:
                continue
            name = _text(trn, "NAME") or _text(trn, "PAYEE/NAME")
            text = " ".join(
                p for p in (_text(trn, "MEMO"), _text(trn, "CHECKNUM"), _text(trn, "REFNUM")) if p
            )
            if not fitid:  # OFX requires one; a few banks leave it empty
                key = str((account, on, amount, name, text))
                seen[key] = seen.get(key, 0) + 1
                fitid = derived_reference("ofx", key, seen[key])
            lines.append(
                BankLineIn(
                    reference=fitid,
                    bank_account=account,
                    posted_on=on,
                    amount=cents(amount, f"{where}/TRNAMT"),
                    currency=currency,
                    payer_name=" ".join(name.split()),
                    text=" ".join(text.split()),
                    where=where,
                    extra={"type": _text(trn, "TRNTYPE")},
                )
            )
    if not statements:
        raise refuse("OFX", _("no statement (STMTRS or CCSTMTRS)"))
    return lines
