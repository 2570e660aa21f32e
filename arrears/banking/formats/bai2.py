"""BAI2 (Cash Management Balance Reporting Specification, version 2) read into bank lines.

A small reader of its own rather than PyPI's `bai2` (0.15): that library refuses three of the
eight real files in ../shared/data/bank/bai2 (records packed on one physical line, a summary
record continued by an `88` record mid-field, `16` records without their `/`), which banks do
send; its table of type codes (`bai2.constants.TypeCodes`) is what names a code here.

Records are comma-separated fields ended by `/` (or by the end of the physical line, as some
banks write them); several records may share a physical line. `88` continues the record before
it: a `16`'s text gets the continuation after a space, any other record its fields. Only what
cash application needs is read:
- `02` group header: the as-of date (field 4, YYMMDD) and currency (field 6);
- `03` account identifier: the account at the bank (field 1) and its currency (field 2);
- `16` transaction detail: type code, amount in the currency's minor unit (cents), funds type and
  the fields it brings (`V`: value date and time; `S`: three amounts; `D`: a count then that
  many pairs), bank reference, customer reference, text (the rest of the record, commas and all).
Credits are type codes 100-399; a debit (400-699) is a line only when it is a returned item
(RETURN_CODES: 555 deposited item returned, 557 individual ACH return item, 566 return item),
whose customer reference names the credit it returns. `49`, `98`, `99` trailers are checked to
be where they belong, not their totals.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from bai2.constants import TypeCodes
from django.utils.translation import gettext_lazy as _

from arrears.banking.formats import BankLineIn, cents, decimal_of, derived_reference, refuse

RETURN_CODES = frozenset({"555", "557", "566"})
_PACKED = re.compile(r"/\s+(?=(?:01|02|03|16|49|88|98|99),)")
_RECORD_CODES = frozenset({"01", "02", "03", "16", "49", "88", "98", "99"})


def _records(text: str) -> list[tuple[int, str, str]]:
    """(physical line number, record text without its `/`, a `16`'s continued text),
    continuations merged: an `88` record, or a physical line that does not start a record after
    one not ended by `/` (a long record wrapped by the sender)."""
    records: list[tuple[int, str, str]] = []
    open_record = False  # the last record has no `/` yet: a physical line may go on with it
    for number, physical in enumerate(text.splitlines(), start=1):
        for piece in _PACKED.split(physical.strip()):
            record = piece.strip()
            if not record:
                continue
            ended = record.endswith("/")
            if ended:
                record = record[:-1].rstrip()
            code = record[:2]
            is_record = code in _RECORD_CODES and record[2:3] in (",", "")
            if not is_record and open_record and records:
                at, before, more = records[-1]
                records[-1] = (at, f"{before} {record}", more)
                open_record = not ended
                continue
            open_record = not ended
            if not is_record:
                raise refuse(
                    _("line {n}").format(n=number),
                    _("not a BAI2 record: {text!r}").format(text=record[:40]),
                )
            if code == "88":
                if not records:
                    raise refuse(_("line {n}").format(n=number), _("a continuation of nothing"))
                at, before, more = records[-1]
                rest = record[3:]
                if before.startswith("16,"):
                    records[-1] = (at, before, f"{more} {rest}")
                else:
                    records[-1] = (at, f"{before},{rest}", more)
            else:
                records.append((number, record, ""))
    return records


def _yymmdd(text: str, where: str) -> date:
    try:
        return datetime.strptime(text.strip(), "%y%m%d").date()  # noqa: DTZ007 (a day)
    except ValueError:
        raise refuse(where, _("not a date (YYMMDD): {text!r}").format(text=text)) from None


def _detail(
    fields: list[str],
    more: str,
    where: str,
    account: str,
    on: date,
    currency: str,
    seen: dict[str, int],
) -> BankLineIn | None:
    code = fields[1].strip() if len(fields) > 1 else ""
    if not code.isdigit():
        raise refuse(where, _("no type code"))
    raw = fields[2].strip() if len(fields) > 2 else ""
    amount = decimal_of(raw or "0", where) / 100
    funds = fields[3].strip().upper() if len(fields) > 3 else ""
    i = 4
    if funds == "V":
        i += 2
    elif funds == "S":
        i += 3
    elif funds == "D":
        try:
            i += 1 + 2 * int(fields[4])
        except (IndexError, ValueError):
            raise refuse(where, _("funds type D without a count")) from None
    bank_ref = fields[i].strip() if len(fields) > i else ""
    customer_ref = fields[i + 1].strip() if len(fields) > i + 1 else ""
    text = f"{','.join(fields[i + 2 :])} {more}".strip()
    number = int(code)
    if 100 <= number < 400:
        kind = "credit"
    elif code in RETURN_CODES:
        kind = "return"
    else:
        return None
    if amount <= 0:
        return None
    amount = cents(amount, where)
    if bank_ref:
        reference = bank_ref
    else:
        key = (account, on, code, amount, customer_ref, text)
        seen[str(key)] = seen.get(str(key), 0) + 1
        reference = derived_reference("bai2", *key, seen[str(key)])
    described = TypeCodes.get(code)
    return BankLineIn(
        reference=reference,
        bank_account=account,
        posted_on=on,
        amount=amount,
        kind=kind,
        currency=currency,
        text=" ".join(text.split()),
        original_reference=customer_ref if kind == "return" else "",
        where=where,
        extra={
            "type_code": code,
            "type": described.description if described else "",
            "customer_reference": customer_ref,
        },
    )


def read(data: bytes) -> list[BankLineIn]:
    """The credits and returned items of a BAI2 file; raises BankFileError."""
    text = data.decode("utf-8", errors="replace").lstrip("\ufeff")
    records = _records(text)
    if not records or records[0][1][:2] != "01":
        raise refuse(_("line 1"), _("a BAI2 file starts with a 01 file header"))
    if records[-1][1][:2] != "99":
        raise refuse(
            _("line {n}").format(n=records[-1][0]), _("a BAI2 file ends with a 99 file trailer")
        )
    lines: list[BankLineIn] = []
    seen: dict[str, int] = {}
    on: date | None = None
    group_currency = account = currency = ""
    line_word = str(_("line {n}"))  # translated once, not per record
    for number, record, more in records:
        where = line_word.format(n=number)
        fields = record.split(",")
        code = fields[0]
        if code == "02":
            on = _yymmdd(fields[4] if len(fields) > 4 else "", where)
            group_currency = fields[6].strip() if len(fields) > 6 else ""
            account = ""
        elif code == "03":
            if on is None:
                raise refuse(where, _("an account before its group header (02)"))
            account = fields[1].strip() if len(fields) > 1 else ""
            currency = (fields[2].strip() if len(fields) > 2 else "") or group_currency
        elif code == "16":
            if not account or on is None:
                raise refuse(where, _("a transaction before its account (03)"))
            line = _detail(fields, more, where, account, on, currency, seen)
            if line is not None:
                lines.append(line)
        elif code == "49":
            account = ""
    return lines
