"""Bank files made for tests, field by field as their formats lay them out (docs in
arrears/banking/formats): a BAI2 statement and a NACHA ACH file."""

from __future__ import annotations

from datetime import date


def bai2(*details: str, on: str = "260320", account: str = "5550001") -> bytes:
    """A BAI2 file of one group (as of `on`, YYMMDD) and one account, with these 16 records."""
    body = [
        f"01,BANK,ARREARS,{on},0800,1,,,2/",
        f"02,ARREARS,BANK,1,{on},,USD,2/",
        f"03,{account},USD,010,0,,/",
        *details,
        f"49,0,{len(details) + 2}/",
        "98,0,1,1/",
        "99,0,1,1/",
    ]
    return ("\n".join(body) + "\n").encode()


def ach_entry(
    *,
    code: str,
    cents: int,
    individual: str,
    name: str,
    trace: str,
    account: str = "123456789",
    returned: tuple[str, str] | None = None,
) -> list[str]:
    """An entry detail record (6), and its return addenda (799: reason, original trace)."""
    records = [
        f"6{code}091400606{account:<17}{cents:010d}{individual:<15}{name:<22}  "
        f"{'1' if returned else '0'}{trace:>15}"
    ]
    if returned:
        reason, original = returned
        records.append(f"799{reason:<3}{original:>15}{'':6}09140060{'':44}{trace:>15}")
    return records


def ach(*entries: list[str], effective: date, company: str = "1234567890") -> bytes:
    """A NACHA file of one PPD batch from `company`, effective on `effective`."""
    on = effective.strftime("%y%m%d")
    records = [
        f"101 091400606 123456789{on}0800A094101{'BANK':<23}{'ARREARS':<23}{'':8}",
        f"5200{'ARREARS':<16}{'':20}{company:<10}PPD{'RENT':<10}{on}{on}   1091400600000001",
        *[r for entry in entries for r in entry],
        "8200" + "0" * 90,
        "9000001" + "0" * 87,
    ]
    assert all(len(r) == 94 for r in records), [len(r) for r in records]
    return ("\n".join(records) + "\n").encode()


def camt053(*entries: str, account: str = "NL26VAYB8060476890") -> bytes:
    """A camt.053.001.02 statement of `account` with these `Ntry` elements."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>'
        "<GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-03-20T10:00:00</CreDtTm></GrpHdr>"
        f"<Stmt><Id>S1</Id><Acct><Id><IBAN>{account}</IBAN></Id><Ccy>USD</Ccy></Acct>"
        + "".join(entries)
        + "</Stmt></BkToCstmrStmt></Document>"
    ).encode()


def camt_entry(
    *,
    amount: str,
    indicator: str,
    ref: str,
    end_to_end: str,
    name: str = "",
    text: str = "",
    on: str = "2026-03-20",
    reversal: bool = False,
    reason: str = "",
) -> str:
    """One `Ntry` with one `TxDtls` (docs: arrears/banking/formats/camt.py)."""
    returned = f"<RtrInf><Rsn><Cd>{reason}</Cd></Rsn></RtrInf>" if reason else ""
    return (
        f'<Ntry><Amt Ccy="USD">{amount}</Amt><CdtDbtInd>{indicator}</CdtDbtInd>'
        f"<RvslInd>{'true' if reversal else 'false'}</RvslInd><Sts>BOOK</Sts>"
        f"<BookgDt><Dt>{on}</Dt></BookgDt><AcctSvcrRef>{ref}</AcctSvcrRef>"
        f"<NtryDtls><TxDtls><Refs><EndToEndId>{end_to_end}</EndToEndId></Refs>"
        f"<RltdPties><Dbtr><Nm>{name}</Nm></Dbtr></RltdPties>"
        f"<RmtInf><Ustrd>{text}</Ustrd></RmtInf>{returned}</TxDtls></NtryDtls></Ntry>"
    )
