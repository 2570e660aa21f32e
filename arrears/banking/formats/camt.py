"""ISO 20022 camt.053 (bank to customer statement), camt.054 (debit/credit notification) and
camt.052 (account report) read into bank lines, any version (001.02 to 001.08 tried), by the
elements' local names (the namespace gives the message and version only). XML is read with
`defusedxml` (no entity expansion, no external entities).

The elements read, and what ISO 20022 says they mean:
- `Stmt` / `Ntfctn` / `Rpt`: one statement, notification or report of one account;
  `Acct/Id/IBAN` or `Acct/Id/Othr/Id` is that account (ours, at the bank), `Acct/Ccy` its currency.
- `Ntry`: one entry booked on the account. `Amt` (with `Ccy`) its amount, `CdtDbtInd` `CRDT`
  (money in) or `DBIT` (money out), `RvslInd` true when the entry reverses an earlier one,
  `BookgDt/Dt` (or `DtTm`) the day it was booked, else `ValDt`, else the statement's
  `CreDtTm`; `AcctSvcrRef` the account servicer's (the bank's) unique reference of the entry.
- `NtryDtls/TxDtls`: the transactions an entry books (a batch booking has several); for each,
  `Refs/AcctSvcrRef` the bank's reference, `Refs/EndToEndId` the payer's end-to-end id (kept
  unchanged through the chain, so a return names it), `Amt` or `AmtDtls/TxAmt/Amt` its own
  amount, `RltdPties/Dbtr/Nm` (`Dbtr/Pty/Nm` from version 8) the payer's name,
  `RltdPties/DbtrAcct/Id` the payer's account, `RmtInf/Ustrd` unstructured remittance text and
  `RmtInf/Strd/CdtrRefInf/Ref` the creditor's reference (what our invoice or account number
  would be), `RtrInf/Rsn/Cd` the reason of a return (ISO external return reason code: AC04
  closed account, AM04 insufficient funds, MD06 refund requested by the end customer, …).
A line is a transaction (or an entry without details): `CRDT` not reversing is a credit; `DBIT`
that reverses, or carries `RtrInf`, is a return of the credit whose end-to-end id it names.
Other debits are not lines.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from xml.etree.ElementTree import Element

from defusedxml import DTDForbidden, ElementTree, EntitiesForbidden
from django.utils.translation import gettext_lazy as _

from arrears.banking.formats import BankLineIn, cents, decimal_of, derived_reference, refuse


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(node: Element | None, *path: str) -> Element | None:
    for name in path:
        if node is None:
            return None
        node = next((c for c in node if _local(c.tag) == name), None)
    return node


def _children(node: Element, name: str) -> list[Element]:
    return [c for c in node if _local(c.tag) == name]


def _text(node: Element | None, *path: str) -> str:
    found = _child(node, *path)
    return (found.text or "").strip() if found is not None else ""


def _day(entry: Element, where: str, fallback: str) -> date:
    for path in (("BookgDt", "Dt"), ("BookgDt", "DtTm"), ("ValDt", "Dt"), ("ValDt", "DtTm")):
        value = _text(entry, *path)
        if value:
            try:
                return date.fromisoformat(value[:10])
            except ValueError:
                raise refuse(
                    f"{where}/{'/'.join(path)}", _("not a date: {v!r}").format(v=value)
                ) from None
    try:
        return date.fromisoformat(fallback[:10])
    except ValueError:
        raise refuse(where, _("an entry without a booking or value date")) from None


def _amount(node: Element | None, where: str) -> Decimal | None:
    if node is None:
        return None
    return cents(decimal_of(node.text or "", where), where)


def _party_name(tx: Element) -> str:
    return _text(tx, "RltdPties", "Dbtr", "Nm") or _text(tx, "RltdPties", "Dbtr", "Pty", "Nm")


def _party_account(tx: Element) -> str:
    return _text(tx, "RltdPties", "DbtrAcct", "Id", "IBAN") or _text(
        tx, "RltdPties", "DbtrAcct", "Id", "Othr", "Id"
    )


def _remittance(tx: Element) -> str:
    info = _child(tx, "RmtInf")
    if info is None:
        return ""
    parts = [(u.text or "").strip() for u in _children(info, "Ustrd")]
    for structured in _children(info, "Strd"):
        parts.append(_text(structured, "CdtrRefInf", "Ref"))
        parts.extend((a.text or "").strip() for a in _children(structured, "AddtlRmtInf"))
    return " ".join(p for p in parts if p)


def _entry_lines(
    entry: Element, where: str, account: str, currency: str, created: str, seen: dict[str, int]
) -> list[BankLineIn]:
    indicator = _text(entry, "CdtDbtInd")
    if indicator not in ("CRDT", "DBIT"):
        raise refuse(f"{where}/CdtDbtInd", _("neither CRDT nor DBIT: {v!r}").format(v=indicator))
    reversal = _text(entry, "RvslInd").lower() in ("true", "1")
    entry_amount = _amount(_child(entry, "Amt"), f"{where}/Amt")
    details = [tx for d in _children(entry, "NtryDtls") for tx in _children(d, "TxDtls")]
    lines: list[BankLineIn] = []
    for i, tx in enumerate(details or [entry], start=1):
        at = f"{where}/NtryDtls/TxDtls[{i}]" if details else where
        returned = _child(tx, "RtrInf") is not None
        if indicator == "CRDT" and not reversal:
            kind = "credit"
        elif indicator == "DBIT" and (reversal or returned):
            kind = "return"
        else:
            continue
        amount = (
            _amount(_child(tx, "Amt"), f"{at}/Amt")
            or _amount(_child(tx, "AmtDtls", "TxAmt", "Amt"), f"{at}/AmtDtls/TxAmt/Amt")
            or (entry_amount if len(details) <= 1 else None)
        )
        if amount is None:
            raise refuse(at, _("a transaction of a batch without its own amount"))
        if amount <= 0:
            continue
        on = _day(entry, where, created)
        end_to_end = _text(tx, "Refs", "EndToEndId")
        bank_ref = _text(tx, "Refs", "AcctSvcrRef") or (
            _text(entry, "AcctSvcrRef") + (f"/{i}" if len(details) > 1 else "")
            if _text(entry, "AcctSvcrRef")
            else ""
        )
        text = _remittance(tx)
        if not bank_ref:
            key = str((account, on, indicator, amount, end_to_end, text))
            seen[key] = seen.get(key, 0) + 1
            bank_ref = derived_reference("camt", key, seen[key])
        lines.append(
            BankLineIn(
                reference=bank_ref,
                bank_account=account,
                posted_on=on,
                amount=amount,
                kind=kind,
                currency=currency,
                payer_name=_party_name(tx) if details else "",
                payer_account=_party_account(tx) if details else "",
                text=text,
                original_reference=end_to_end if kind == "return" else "",
                return_code=_text(tx, "RtrInf", "Rsn", "Cd"),
                where=at,
                extra={"end_to_end": end_to_end}
                if end_to_end and end_to_end != "NOTPROVIDED"
                else {},
            )
        )
    return lines


def read(data: bytes) -> list[BankLineIn]:
    """The credits and returns of a camt.052/053/054 message; raises BankFileError."""
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        line, column = exc.position
        raise refuse(
            _("line {line}, column {column}").format(line=line, column=column), exc
        ) from None
    except EntitiesForbidden as exc:
        # defusedxml: a camt message declares no entities; one that does is refused, unread
        raise refuse(
            "XML", _("entity declarations are refused ({name})").format(name=exc.name)
        ) from None
    except DTDForbidden:
        raise refuse("XML", _("a document type declaration is refused")) from None
    except Exception as exc:
        raise refuse("XML", exc) from None
    message = next(iter(root), None)
    if _local(root.tag) != "Document" or message is None:
        raise refuse("Document", _("not an ISO 20022 camt message"))
    reports = [(name, r) for name in ("Stmt", "Ntfctn", "Rpt") for r in _children(message, name)]
    lines: list[BankLineIn] = []
    seen: dict[str, int] = {}
    for n, (name, report) in enumerate(reports, start=1):
        account = _text(report, "Acct", "Id", "IBAN") or _text(report, "Acct", "Id", "Othr", "Id")
        currency = _text(report, "Acct", "Ccy")
        created = _text(report, "CreDtTm")  # the day of an entry that gives none (camt.054)
        if not account:
            raise refuse(f"{name}[{n}]/Acct", _("a statement without its account"))
        for e, entry in enumerate(_children(report, "Ntry"), start=1):
            where = f"{name}[{n}]/Ntry[{e}]"
            lines.extend(_entry_lines(entry, where, account, currency, created, seen))
    return lines
