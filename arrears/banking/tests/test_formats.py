"""Every sample bank file of ../shared/data/bank (copied byte for byte into data/ here, with its
SOURCES.md) read, or refused with where and why; the lines' facts read off the files by hand."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from arrears.banking import formats
from arrears.banking.formats import BankFileError

DATA = Path(__file__).with_name("data")
SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "bank"

# (format, credits, returns) of each file that parses, counted by reading each file
READ = {
    "bai2/moj_account_trailer_amount_blank_example.bai2": ("bai2", 0, 0),
    "bai2/moj_citi_example.bai2": ("bai2", 1, 0),
    "bai2/moj_nwb_example.bai2": ("bai2", 1, 0),  # one 399 credit; four 699 debits
    "bai2/moj_svb_us_example.bai2": ("bai2", 2, 0),
    "bai2/moov_sample1.bai2": ("bai2", 5, 0),
    "bai2/moov_sample2.bai2": ("bai2", 4, 0),
    "bai2/moov_sample3.bai2": ("bai2", 13, 0),
    "bai2/moov_sample4-continuations-newline-delimited.bai2": ("bai2", 9, 1),
    "camt/genkgo_camt052.v2.xml": ("camt", 0, 0),
    "camt/genkgo_camt053.v2.all-balance-types.xml": ("camt", 1, 0),
    "camt/genkgo_camt053.v2.five.decimals.xml": ("camt", 1, 0),
    "camt/genkgo_camt053.v2.minimal.xml": ("camt", 1, 0),
    "camt/genkgo_camt053.v2.multi.statement.xml": ("camt", 1, 0),
    "camt/genkgo_camt053.v4.xml": ("camt", 1, 0),
    "camt/genkgo_camt053.v8.xml": ("camt", 1, 0),
    "camt/genkgo_camt054.v2.xml": ("camt", 0, 0),  # debit notifications
    "camt/genkgo_camt054.v4.xml": ("camt", 0, 0),
    "camt/genkgo_camt054.v8.xml": ("camt", 0, 0),
    "camt/genkgo_camt054.v8-with-UETR.xml": ("camt", 0, 0),
    "ofx/ofxparse_anzcc.ofx": ("ofx", 0, 0),
    "ofx/ofxparse_bank_medium.ofx": ("ofx", 0, 0),
    "ofx/ofxparse_checking.ofx": ("ofx", 1, 0),
    "ofx/ofxparse_multiple_accounts.ofx": ("ofx", 0, 0),
    "ofx/ofxparse_ofx-v102-empty-tags.ofx": ("ofx", 1, 0),
    "ofx/ofxparse_suncorp.ofx": ("ofx", 0, 0),
    "ach/moov_20110805A.ach": ("nacha", 28, 0),
    "ach/moov_FISERV-ZEROFILE-PIMRET825324_032720_110221.ach": ("nacha", 0, 0),
    "ach/moov_NACHA_SAMPLE_TEL_REVERSAL.ach": ("nacha", 1, 0),
    "ach/moov_ccd-debit.ach": ("nacha", 2, 0),
    "ach/moov_contested-return.ach": ("nacha", 0, 1),
    "ach/moov_cor-read.ach": ("nacha", 0, 0),  # a notification of change
    "ach/moov_ctx-debit.ach": ("nacha", 1, 0),
    "ach/moov_dishonored-return.ach": ("nacha", 0, 2),
    "ach/moov_ppd-debit-fixedLength.ach": ("nacha", 1, 0),
    "ach/moov_ppd-debit.ach": ("nacha", 1, 0),
    "ach/moov_ppd-mixedDebitCredit.ach": ("nacha", 1, 0),
    "ach/moov_return-PPD-custom-reason-code.ach": ("nacha", 0, 1),
    "ach/moov_return-WEB.ach": ("nacha", 0, 2),
    "ach/moov_web-credit.ach": ("nacha", 0, 0),  # a credit we sent: money out
}
# broken on purpose (ofxparse's "fail_nice" files): no OFX header
REFUSED = {
    "ofx/ofxparse_fail_nice_date_missing.ofx": "OFX header is malformed",
    "ofx/ofxparse_fail_nice_decimal_error.ofx": "OFX header is malformed",
}


def test_every_sample_file_is_here_and_named() -> None:
    here = {str(p.relative_to(DATA)) for p in DATA.rglob("*") if p.is_file() and p.suffix != ".md"}
    assert here == set(READ) | set(REFUSED)


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data/bank is not beside the project")
def test_the_fixtures_are_the_shared_files_byte_for_byte() -> None:
    for name in [*READ, *REFUSED]:
        mine = hashlib.sha256((DATA / name).read_bytes()).hexdigest()
        assert mine == hashlib.sha256((SHARED / name).read_bytes()).hexdigest(), name


@pytest.mark.parametrize("name", sorted(READ))
def test_a_sample_file_parses(name: str) -> None:
    fmt, lines = formats.parse((DATA / name).read_bytes())
    expected_format, credits, returns = READ[name]
    assert fmt == expected_format
    assert sum(1 for ln in lines if ln.kind == "credit") == credits
    assert sum(1 for ln in lines if ln.kind == "return") == returns
    assert all(ln.amount > 0 and ln.reference for ln in lines)
    # the same bytes read twice: the same references
    assert [ln.reference for ln in formats.parse((DATA / name).read_bytes())[1]] == [
        ln.reference for ln in lines
    ]


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_broken_file_is_refused_with_its_reason(name: str) -> None:
    with pytest.raises(BankFileError) as refused:
        formats.parse((DATA / name).read_bytes())
    assert REFUSED[name] in refused.value.message


def test_the_citi_credit_is_read_with_its_bank_reference_and_remittance() -> None:
    (line,) = formats.parse((DATA / "bai2/moj_citi_example.bai2").read_bytes())[1]
    # 16,191,001,V,150715,,1234567890,RP12312312312312/ in group 02 as of 150715
    assert (line.reference, line.amount, line.posted_on, line.bank_account) == (
        "1234567890",
        Decimal("0.01"),
        date(2015, 7, 15),
        "77777777",
    )
    assert "BUCKINGHAM PALACE" in line.text


def test_the_returns_name_the_trace_of_what_they_return() -> None:
    lines = formats.parse((DATA / "ach/moov_return-WEB.ach").read_bytes())[1]
    assert [(ln.return_code, ln.original_reference, ln.amount, ln.payer_name) for ln in lines] == [
        ("R01", "091400600000001", Decimal("123.54"), "Paul Jones"),
        ("R03", "091400600000003", Decimal("45.65"), "Bob Marley"),
    ]


def test_a_camt_credit_reads_its_payer_and_structured_reference() -> None:
    (line,) = formats.parse((DATA / "camt/genkgo_camt053.v8.xml").read_bytes())[1]
    assert (line.payer_name, line.amount, line.posted_on) == (
        "NAME NAME",
        Decimal("8.85"),
        date(2014, 12, 31),
    )
    assert "4654654654654654" in line.text


def test_a_malformed_file_is_refused_with_the_line_and_the_reason() -> None:
    bad = (
        b"01,BANK,X,260320,0800,1,,,2/\n02,X,B,1,260320,,USD,2/\n03,1,USD/\n16,165,12x4,,R/\n99/\n"
    )
    with pytest.raises(BankFileError) as refused:
        formats.parse(bad)
    assert refused.value.message == "line 4: not an amount: '12x4'"
    with pytest.raises(BankFileError) as refused:
        formats.parse(b'<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt')
    assert refused.value.message.startswith("line 1, column")
    with pytest.raises(BankFileError) as refused:
        formats.parse(b"hello")
    assert "not a BAI2, camt.053/054, OFX or NACHA file" in refused.value.message


CAMT = b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>'


@pytest.mark.parametrize(
    ("declared", "says"),
    [
        # an entity that expands a thousandfold (a "billion laughs"): refused before it expands
        (
            b'<!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
            b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>',
            "XML: entity declarations are refused (a)",
        ),
        # an external entity naming a server file: refused, the file never read
        (
            b'<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
            "XML: entity declarations are refused (x)",
        ),
    ],
)
def test_a_camt_file_declaring_entities_is_refused_unread(declared: bytes, says: str) -> None:
    hostile = b'<?xml version="1.0"?>' + declared + CAMT + b"<GrpHdr><MsgId>&c;</MsgId></GrpHdr>"
    with pytest.raises(BankFileError) as refused:
        formats.parse(hostile + b"</BkToCstmrStmt></Document>")
    assert refused.value.message == says
    assert "root:" not in refused.value.message
