"""The fast parser of a clean transaction row, by column position.

It returns None for anything it does not accept, and the row then goes through the complete path
(`rows.check_row`), which decides and names the problem: the two agree on every row the fast one
takes (`tests/test_parsers_agree.py`, a property test). A NUL byte in any field fails that field's
pattern (ids, dates, amounts, codes, the type) or its control-character check (reference, memo),
so such a row goes the complete way too. A date outside EARLIEST to `latest` (the book's today
plus a year) is left to the complete path.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from arrears.core.dates import EARLIEST
from arrears.ledger.interchange.fields import (
    AMOUNT_RE,
    CODE_RE,
    CONTROL_IN_MEMO_RE,
    CONTROL_RE,
    ID_RE,
)
from arrears.ledger.interchange.formats import MAX_LENGTHS, TRANSACTIONS
from arrears.ledger.interchange.rows import TxnRow

_REFERENCE_LIMIT = MAX_LENGTHS["transactions"]["reference"]


def _iso_date(value: str) -> date | None:
    if len(value) != 10 or value[4] != "-" or value[7] != "-":
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _positions(header: list[str]) -> tuple[int, ...]:
    """The position of each transaction column in `header`, in TRANSACTIONS.columns order; a
    missing optional column points one past the record (`fast_transaction_parser` pads it)."""
    ix = {name: i for i, name in enumerate(header)}
    return tuple(ix.get(name, len(header)) for name in TRANSACTIONS.columns)


def _consistent(kind: str, code: str, due: str, applies: str, reverses: str, txn_id: str) -> bool:
    """True when a row's type allows what it holds: a charge has a code and names no other row,
    a payment or a credit has no due date and may name a charge, a reversal names what it undoes,
    a refund names nothing (it is paid out of the oldest credit); the rows named are ids, and not
    the row's own."""
    if (applies and not ID_RE.fullmatch(applies)) or (reverses and not ID_RE.fullmatch(reverses)):
        return False
    if kind == "charge":
        return bool(code) and not applies and not reverses
    if kind in ("payment", "credit"):
        return not due and not reverses and applies != txn_id
    if kind == "refund":
        return not due and not applies and not reverses
    return kind == "reversal" and not due and not applies and bool(reverses) and reverses != txn_id


def fast_transaction_parser(
    header: list[str], latest: date
) -> Callable[[list[str]], TxnRow | None]:
    """A parser of a record of a transactions file with this header (no `x_` column): the TxnRow
    of a clean row, or None for the complete path to decide."""
    padded = len(header) != len(TRANSACTIONS.columns)
    (
        i_txn,
        i_account,
        i_posted,
        i_type,
        i_amount,
        i_code,
        i_due,
        i_applies,
        i_reverses,
        i_ref,
        i_memo,
    ) = _positions(header)
    amount_ok, code_ok, id_ok = AMOUNT_RE.fullmatch, CODE_RE.fullmatch, ID_RE.fullmatch
    control, control_in_memo = CONTROL_RE.search, CONTROL_IN_MEMO_RE.search

    def parse(rec: list[str]) -> TxnRow | None:
        if padded:
            rec = [*rec, ""]
        txn_id, account_id, reference, memo = rec[i_txn], rec[i_account], rec[i_ref], rec[i_memo]
        if not id_ok(txn_id) or not id_ok(account_id):
            return None  # the complete path names the column and why
        if len(reference) > _REFERENCE_LIMIT or control(reference) or control_in_memo(memo):
            return None
        posted, text = _iso_date(rec[i_posted]), rec[i_amount]
        if posted is None or not amount_ok(text) or not EARLIEST <= posted <= latest:
            return None
        amount = Decimal(text)
        kind, code, due_text = rec[i_type], rec[i_code], rec[i_due]
        applies, reverses = rec[i_applies], rec[i_reverses]
        if not amount or (code and not code_ok(code)):
            return None
        if not _consistent(kind, code, due_text, applies, reverses, txn_id):
            return None
        due = (_iso_date(due_text) if due_text else posted) if kind == "charge" else None
        if kind == "charge" and (due is None or not EARLIEST <= due <= latest):
            return None
        return TxnRow(
            txn_id,
            account_id,
            posted,
            kind,
            amount,
            code,
            due,
            applies,
            reverses,
            reference,
            memo,
            {},
        )

    return parse
