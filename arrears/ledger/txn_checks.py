"""Checks of an import's staged transactions across rows, in SQL, so that a file of any size
needs no memory for them: ids twice in the file, the same payment twice, references to a charge
or a payment that is not there (or not the account's, or posted later), a row the book holds
with other content, a new row dated in a closed month.

Each check raises BookImportError naming file, line, column and reason for its first 50 rows.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from arrears.core.fields import from_cents
from arrears.ledger import bulk
from arrears.ledger.interchange import (
    MAX_ERRORS,
    ORIGINAL_POSTED,
    BookImportError,
    Problem,
    SourceFile,
)
from arrears.ledger.periods import first_open_day, label
from arrears.ledger.replay import TXN

STAGE = "arrears_stage_txn"
REFS = "arrears_stage_ref"


def _fail(source: SourceFile, rows: list[Any], column: str, reason: Callable[[Any], str]) -> None:
    if rows:
        raise BookImportError([Problem(source.label, r[0], column, reason(r)) for r in rows])


def check_staged(source: SourceFile, base: int) -> None:
    """Checks across rows, in SQL so that a file of any size needs no memory for them."""
    _fail(
        source,
        bulk.execute(
            f"SELECT s.line, s.txn_id, f.first FROM {STAGE} s JOIN (SELECT txn_id, MIN(line) AS "
            f"first FROM {STAGE} GROUP BY txn_id HAVING COUNT(*) > 1) f ON f.txn_id = s.txn_id "
            f"WHERE s.line > f.first ORDER BY s.line LIMIT {MAX_ERRORS}"
        ),
        "txn_id",
        lambda r: f"{r[1]!r} is already on line {r[2]}",
    )
    _check_same_payments(source, base)
    # A referenced row, from this file or the book: (txn_id, account, type, amount, posted, order)
    # where order is the file order (line here, 0 for the book, which comes before).
    bulk.execute(f"DROP TABLE IF EXISTS {REFS}")
    bulk.execute(
        f"CREATE TEMPORARY TABLE {REFS} AS SELECT applies_to AS ref FROM {STAGE} "
        f"WHERE applies_to IS NOT NULL "
        f"UNION SELECT reverses FROM {STAGE} WHERE reverses IS NOT NULL"
    )
    target = (
        f"(SELECT txn_id, account_id, type, amount, posted_on, line AS ord FROM {STAGE} "
        f"WHERE txn_id IN (SELECT ref FROM {REFS}) "
        f"UNION ALL SELECT txn_id, account_id, type, amount, posted_on, "
        f"CASE WHEN t.id > {base:d} THEN t.id - {base:d} ELSE 0 END FROM {TXN} t "
        f"WHERE t.txn_id IN (SELECT ref FROM {REFS}) "
        f"AND NOT EXISTS (SELECT 1 FROM {STAGE} x WHERE x.txn_id = t.txn_id))"
    )
    rows = bulk.execute(
        f"SELECT s.line, s.applies_to, r.account_id, r.type, r.posted_on, r.ord, s.account_id, "
        f"s.posted_on FROM {STAGE} s LEFT JOIN {target} r ON r.txn_id = s.applies_to "
        f"WHERE s.applies_to IS NOT NULL AND (r.txn_id IS NULL OR r.type <> 'charge' OR "
        f"r.account_id <> s.account_id OR r.posted_on > s.posted_on OR "
        f"(r.posted_on = s.posted_on AND r.ord > s.line)) ORDER BY s.line LIMIT {MAX_ERRORS}"
    )
    _fail(source, rows, "applies_to", _explain_applies_to)
    rows = bulk.execute(
        f"SELECT s.line, s.reverses, r.account_id, r.type, r.posted_on, r.ord, s.account_id, "
        f"s.posted_on, r.amount, s.amount FROM {STAGE} s LEFT JOIN {target} r "
        f"ON r.txn_id = s.reverses WHERE s.reverses IS NOT NULL AND (r.txn_id IS NULL OR "
        f"r.type NOT IN ('payment', 'credit') OR r.account_id <> s.account_id OR "
        f"r.posted_on > s.posted_on OR (r.posted_on = s.posted_on AND r.ord > s.line) OR "
        f"r.amount <> s.amount) ORDER BY s.line LIMIT {MAX_ERRORS}"
    )
    _fail(source, rows, "reverses", _explain_reverses)
    rows = bulk.execute(
        f"SELECT s.line, s.reverses, f.first FROM {STAGE} s JOIN (SELECT reverses, MIN(line) AS "
        f"first FROM {STAGE} WHERE reverses IS NOT NULL GROUP BY reverses HAVING COUNT(*) > 1) f "
        f"ON f.reverses = s.reverses WHERE s.line > f.first ORDER BY s.line LIMIT {MAX_ERRORS}"
    )
    _fail(source, rows, "reverses", lambda r: f"{r[1]!r} is already reversed on line {r[2]}")
    rows = bulk.execute(
        f"SELECT s.line, s.reverses, b.txn_id FROM {STAGE} s JOIN {TXN} p ON p.txn_id = "
        f"s.reverses JOIN {TXN} b ON b.reverses_id = p.id WHERE b.txn_id <> s.txn_id "
        f"ORDER BY s.line LIMIT {MAX_ERRORS}"
    )
    _fail(source, rows, "reverses", lambda r: f"{r[1]!r} is already reversed by {r[2]!r}")


def _check_same_payments(source: SourceFile, base: int) -> None:
    """The same payment twice: the same account, date, amount and (non-empty) reference as
    another payment of the file or of the book, under another id (one that differs by case, or a
    system that numbered its export anew), would double a credit. A row with a non-empty
    `x_distinct` column says it is another payment indeed. This import's rows are in the stage,
    or already in the book past `base` (those the fast path copied)."""
    # One pass over this import's payments and the book's with a reference, grouped by what
    # makes two payments the same and ordered by line (the book's first): a row whose group's
    # first payment is another is refused. A window, not a self-join of the two unions, so that
    # no plan can turn it into a nested loop: the stage and the rows the fast path just copied
    # have no statistics yet, and PostgreSQL, taking them for a row or two, once ran a 200,000-
    # row import's check for over ten minutes.
    rows = bulk.execute(
        f"SELECT line, txn_id, first_txn, first_line FROM (SELECT line, txn_id, extra, fresh, "
        f"FIRST_VALUE(txn_id) OVER same AS first_txn, FIRST_VALUE(line) OVER same AS first_line "
        f"FROM (SELECT 1 AS fresh, line, txn_id, account_id, posted_on, amount, reference, extra "
        f"FROM {STAGE} WHERE type = 'payment' AND reference <> '' "
        f"UNION ALL SELECT 1, id - {base:d}, txn_id, account_id, posted_on, amount, reference, "
        f"CAST(extra AS TEXT) FROM {TXN} WHERE id > {base:d} AND type = 'payment' "
        f"AND reference <> '' "
        f"UNION ALL SELECT 0, 0, t.txn_id, t.account_id, t.posted_on, t.amount, t.reference, NULL "
        f"FROM {TXN} t WHERE t.id <= {base:d} AND t.type = 'payment' AND t.reference <> '' "
        f"AND NOT EXISTS (SELECT 1 FROM {STAGE} x WHERE x.txn_id = t.txn_id)) payments "
        f"WINDOW same AS (PARTITION BY account_id, posted_on, amount, reference "
        f"ORDER BY line, txn_id)) grouped "
        f"WHERE fresh = 1 AND first_txn <> txn_id AND (extra IS NULL OR extra NOT LIKE ?) "
        f"ORDER BY line LIMIT {MAX_ERRORS}",
        ['%"x_distinct":%'],
    )
    _fail(
        source,
        rows,
        "reference",
        lambda r: (
            f"{r[1]!r} is the same payment as {r[2]!r} "
            + (f"on line {r[3]}" if r[3] else "in the book")
            + " (the same account, date, amount and reference): if it is another payment, say so"
            " in an x_distinct column"
        ),
    )


def _explain_applies_to(r: Any) -> str:
    _line, ref, account, kind, _posted, _order, own_account, _own_posted = r
    if account is None:
        return f"unknown charge {ref!r}"
    if kind != "charge":
        return f"{ref!r} is a {kind}, not a charge"
    if account != own_account:
        return f"charge {ref!r} belongs to another account"
    return f"charge {ref!r} is posted after this row"


def _explain_reverses(r: Any) -> str:
    _line, ref, account, kind, _posted, _order, own_account, _own_posted, amount, own_amount = r
    if account is None:
        return f"reversal of an unknown payment {ref!r}"
    if kind not in ("payment", "credit"):
        return f"{ref!r} is a {kind}: only a payment or a credit can be reversed"
    if account != own_account:
        return f"payment {ref!r} belongs to another account"
    if amount != own_amount:
        return (
            f"reversal amount {Decimal(own_amount) / 100:.2f} differs from payment {ref!r} "
            f"amount {Decimal(amount) / 100:.2f}"
        )
    return f"payment {ref!r} is posted after this reversal"


def check_closed(source: SourceFile, through: date | None) -> None:
    """A new row dated in a closed month is refused (rows the book holds already are skipped;
    imported into the open period (`Rules.into_open`), none is left here: they were dated on the
    first open day)."""
    if through is None:
        return
    rows = bulk.execute(
        f"SELECT line, posted_on FROM {STAGE} WHERE skip IS NULL AND posted_on <= ? "
        f"ORDER BY line LIMIT {MAX_ERRORS}",
        (through.isoformat(),),
    )
    _fail(source, rows, "posted", lambda r: _closed_reason(_norm(r[1]), through))


def _closed_reason(posted: str, through: date) -> str:
    # Said the same on every interface: the option that posts into the open period has a name of
    # its own on each (the CLI's flag, the API's parameter), so the reason names what it does.
    return (
        f"{posted[:7]} is closed (the book is closed through {label(through)}): a controller "
        f"reopens the month, or the row is imported into the open period, posted on "
        f"{first_open_day(through)} with its own date kept in {ORIGINAL_POSTED}"
    )


def skip_existing(source: SourceFile) -> int:
    """Mark rows already in the book (they must be identical); returns how many."""
    rows = bulk.execute(
        f"SELECT s.line, s.account_id, s.posted_on, s.type, s.amount, s.code, s.due_on, "
        f"s.applies_to, s.reverses, s.reference, s.memo, s.extra, t.account_id, t.posted_on, "
        f"t.type, t.amount, t.code, t.due_on, a.txn_id, r.txn_id, t.reference, t.memo, t.extra, "
        f"s.txn_id FROM {STAGE} s JOIN {TXN} t ON t.txn_id = s.txn_id "
        f"LEFT JOIN {TXN} a ON a.id = t.applies_to_id LEFT JOIN {TXN} r ON r.id = t.reverses_id"
    )
    names = (
        "account_id",
        "posted",
        "type",
        "amount",
        "code",
        "due",
        "applies_to",
        "reverses",
        "reference",
        "memo",
        "x_ columns",
    )
    problems = []
    for row in rows:
        staged, stored = _first_dated(row[1:12]), _first_dated(row[12:23])
        for name, a, b in zip(names, staged, stored, strict=True):
            if _same(name, a, b):
                continue
            problems.append(
                Problem(
                    source.label,
                    row[0],
                    name if name != "x_ columns" else "",
                    f"txn_id {row[23]!r} is already in the book with different content "
                    f"({name}: {_show(name, b)} there, {_show(name, a)} here)",
                )
            )
            break
    if problems:
        raise BookImportError(problems[:MAX_ERRORS])
    if rows:
        bulk.execute(f"UPDATE {STAGE} SET skip = 1 WHERE txn_id IN (SELECT txn_id FROM {TXN})")
    return len(rows)


def _first_dated(values: tuple[Any, ...]) -> list[Any]:
    """A row's values (account … extra) as its file first dated it: a row posted on the first
    open day because its month was closed holds its own date in x_original_posted. So the row as
    first imported, and the same row posted into the open period, are one entry, whichever of
    the two the book holds and the file brings."""
    out = list(values)
    extra = _json(out[10])
    if ORIGINAL_POSTED in extra:
        extra = dict(extra)
        out[1] = extra.pop(ORIGINAL_POSTED)
    out[10] = extra
    return out


def _json(value: Any) -> dict[str, Any]:
    return (json.loads(value) if isinstance(value, str) else value) or {}


def _same(name: str, a: Any, b: Any) -> bool:
    if name == "x_ columns":
        return bool(_json(a) == _json(b))
    return _norm(a) == _norm(b)


def _norm(value: Any) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value.isoformat()
    return value


def _show(name: str, value: Any) -> str:
    if _norm(value) is None:
        return "empty"
    if name == "amount":
        return f"{from_cents(int(value)):.2f}"  # both sides are whole cents here
    return repr(_norm(value))
