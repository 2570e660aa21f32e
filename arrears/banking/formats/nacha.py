"""NACHA ACH files (the Nacha Operating Rules' file format) read into bank lines by a small
reader of its own: no maintained Python library reads them (PyPI's `ach` and `carta-ach` were
last released in 2014 and 2019).

An ACH file is 94-character records, one per line (some senders write them without line breaks,
or leave the last records short), each known by its first character; the positions read here
(1-based, inclusive, as the rules number them):
- `1` file header: 24-29 the file's creation date (YYMMDD).
- `5` batch header: 5-20 company name, 41-50 company identification (ours, the originator's),
  51-53 standard entry class (PPD, CCD, WEB, TEL, …), 54-63 entry description, 70-75 effective
  entry date (YYMMDD).
- `6` entry detail: 2-3 transaction code (22/32 a credit to the receiver's checking/savings
  account, 27/37 a debit to it; 21/26/31/36 the same returned or changed), 4-11 the receiving
  bank's routing number, 13-29 the receiver's account number, 30-39 the amount in cents,
  40-54 the individual's identification number (what the tenant or debtor is known by: our
  account number), 55-76 the individual's name, 80-94 the trace number (unique within a day's
  files only: the line's reference is the effective day and the trace, `YYMMDD-TRACE`; the
  trace alone is what a return names, kept as the line's end-to-end id).
- `7` addenda: 2-3 its type; `05` payment related information (4-83, remittance text), `98` a
  notification of change (not a line), `99` a return: 4-6 the return reason code (R01
  insufficient funds, R02 account closed, R03 no account, R09 uncollected funds, R10 not
  authorised, …), 7-21 the original entry's trace number.
- `8`, `9` batch and file controls (not checked), `9999…` filler.
What a collector's bank sends back is its own debits to the payers (rent collected by ACH
debit): an entry debiting the receiver (27, 37) without a `99` addenda is a credit line to us;
an entry with a `99` addenda is the return of the entry whose trace number it names. Credits we
sent out (refunds: 22, 32) are not lines.
"""

from __future__ import annotations

from datetime import date, datetime

from django.utils.translation import gettext_lazy as _

from arrears.banking.formats import BankLineIn, cents, decimal_of, refuse

RECORD = 94
DEBITS = frozenset({"27", "37", "28", "38", "47", "55"})


def _records(data: bytes) -> list[tuple[int, str]]:
    text = data.decode("ascii", errors="replace").lstrip("\ufeff")
    physical = text.splitlines()
    if len(physical) == 1 and len(physical[0].rstrip()) > RECORD:
        one = physical[0]
        physical = [one[i : i + RECORD] for i in range(0, len(one), RECORD)]
    return [(n, line.ljust(RECORD)) for n, line in enumerate(physical, start=1) if line.strip()]


def _yymmdd(text: str, where: str) -> date | None:
    if not text.strip() or text == "000000":  # a return's batch may leave it unset
        return None
    try:
        return datetime.strptime(text, "%y%m%d").date()  # noqa: DTZ007 (a day)
    except ValueError:
        raise refuse(where, _("not a date (YYMMDD): {text!r}").format(text=text)) from None


def read(data: bytes) -> list[BankLineIn]:
    """The debits collected and the returns of a NACHA ACH file; raises BankFileError."""
    records = _records(data)
    if not records or records[0][1][0] != "1":
        raise refuse(_("record 1"), _("an ACH file starts with a file header (1)"))
    created = _yymmdd(records[0][1][23:29], str(_("record 1, positions 24-29")))
    lines: list[BankLineIn] = []
    company = description = ""
    effective: date | None = None
    entry: dict[str, str] | None = None

    def flush() -> None:
        nonlocal entry
        if entry is None:
            return
        returned = "return_code" in entry
        if returned or entry["code"] in DEBITS:
            on = effective or created or date(1970, 1, 1)
            lines.append(
                BankLineIn(
                    # a trace number is unique within a day's files only: the day goes with it
                    reference=f"{on:%y%m%d}-{entry['trace']}",
                    bank_account=company,
                    posted_on=on,
                    amount=cents(decimal_of(entry["amount"], entry["where"]) / 100, entry["where"]),
                    kind="return" if returned else "credit",
                    payer_name=" ".join(entry["name"].split()),
                    payer_account=f"{entry['routing']}:{entry['account']}",
                    text=" ".join(f"{entry['individual']} {description} {entry['info']}".split()),
                    original_reference=entry.get("original", ""),
                    return_code=entry.get("return_code", ""),
                    where=entry["where"],
                    extra={"transaction_code": entry["code"], "end_to_end": entry["trace"]},
                )
            )
        entry = None

    record_word = str(_("record {n}"))  # translated once, not per record
    for n, record in records:
        where = record_word.format(n=n)
        kind = record[0]
        if kind == "5":
            flush()
            company = record[40:50].strip()
            description = record[53:63].strip()
            effective = _yymmdd(record[69:75], f"{where}, positions 70-75")
        elif kind == "6":
            flush()
            amount = record[29:39]
            if not amount.isdigit():
                raise refuse(f"{where}, positions 30-39", _("not an amount in cents"))
            entry = {
                "code": record[1:3],
                "routing": record[3:11].strip(),
                "account": record[12:29].strip(),
                "amount": amount,
                "individual": record[39:54].strip(),
                "name": record[54:76],
                "trace": record[79:94].strip(),
                "info": "",
                "where": where,
            }
            if not entry["trace"]:
                raise refuse(f"{where}, positions 80-94", _("an entry without a trace number"))
        elif kind == "7":
            if entry is None:
                raise refuse(where, _("an addenda without its entry"))
            addenda = record[1:3]
            if addenda == "05":
                entry["info"] = record[3:83].strip()
            elif addenda == "99":
                entry["return_code"] = record[3:6].strip()
                entry["original"] = record[6:21].strip()
        elif kind in "89":
            flush()
        elif kind != "1":
            raise refuse(where, _("not an ACH record type: {kind!r}").format(kind=kind))
    flush()
    return lines
