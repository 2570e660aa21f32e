"""Reading a file of a book into parsed rows: its header checked, then each row parsed by the fast
path when it is a clean transaction row and by the complete path (`rows.check_row`) otherwise."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date
from typing import Any

from arrears.ledger.interchange.errors import BookImportError, Problem, RowError
from arrears.ledger.interchange.fast import fast_transaction_parser
from arrears.ledger.interchange.fields import CONTROL_RE, control_reason, latest_date
from arrears.ledger.interchange.formats import TRANSACTIONS
from arrears.ledger.interchange.rows import TxnRow, check_row
from arrears.ledger.interchange.sources import SourceFile


def check_header(source: SourceFile, header: list[str]) -> list[Problem]:
    """Problems with a file's header: missing required, unknown or repeated columns."""
    problems = []
    kind = source.kind
    seen: set[str] = set()
    for number, name in enumerate(header, start=1):
        if CONTROL_RE.search(name):
            # Named by its place: the name itself would carry the character into the message.
            problems.append(Problem(source.label, 1, f"#{number}", control_reason(name)))
            continue
        if name in seen:
            problems.append(Problem(source.label, 1, name, "the column appears twice"))
        seen.add(name)
        if name not in kind.columns and not name.startswith("x_"):
            problems.append(
                Problem(source.label, 1, name, "unknown column (custom columns start with x_)")
            )
    for name in kind.required:
        if name not in seen:
            problems.append(Problem(source.label, 1, name, "required column is missing"))
    return problems


def read_rows(
    source: SourceFile, progress: Callable[[int], None] | None = None, *, today: date
) -> Iterator[tuple[int, Any]]:
    """(line, parsed row or RowError) for each data row of a file; `today` is the book's, for
    the dates a row may hold (`rows.dates_check`).

    Raises BookImportError for a bad header, an empty file, bad quoting or bytes that are not UTF-8.
    """
    rows = source.open_rows(progress)
    for _, record in rows:
        header = header_read(source, record)
        yield from records_parsed(source, header, rows, today=today)
        return
    raise BookImportError([Problem(source.label, 1, "", "the file is empty (no header row)")])


def records_parsed(
    source: SourceFile,
    header: list[str],
    records: Iterable[tuple[int, list[str]]],
    *,
    today: date,
) -> Iterator[tuple[int, Any]]:
    """(line, parsed row or RowError) for each record of `source` after its `header`, read or
    not from the file's start (`txn_parts` reads a part of a file)."""
    kind = source.kind.name
    custom = [name for name in header if name.startswith("x_")]
    fast: Callable[[list[str]], TxnRow | None] | None = None
    if source.kind is TRANSACTIONS and not custom:
        fast = fast_transaction_parser(header, latest_date(today))
    for line, record in records:
        if source.ragged:
            record = _unragged(record, len(header))
        if len(record) != len(header):
            yield line, RowError("", f"expected {len(header)} fields, found {len(record)}")
        elif fast is not None and (clean := fast(record)) is not None:
            yield line, clean
        else:
            yield line, _complete(kind, header, custom, record, today)


def header_read(source: SourceFile, record: list[str]) -> list[str]:
    """The header of a file, kept on `source`; raises BookImportError when it is not good."""
    if source.ragged:
        # A worksheet's header row ends where its last name is.
        while record and record[-1] == "":
            record.pop()
    header = [name.strip() for name in record]
    problems = check_header(source, header)
    if problems:
        raise BookImportError(problems)
    source.header = header
    return header


def _unragged(record: list[str], width: int) -> list[str]:
    """A worksheet's row as wide as its header: its rows end where their last value is, or run
    past the header empty."""
    record = record[:width] if not any(record[width:]) else record
    return record + [""] * (width - len(record))


def _complete(
    kind: str, header: list[str], custom: list[str], record: list[str], today: date
) -> Any:
    """The row by the complete path, with its `custom` (x_) columns as `extra`; or the RowError."""
    row = dict(zip(header, record, strict=True))
    try:
        parsed = check_row(kind, row, today)
    except RowError as exc:
        return exc
    extra = {k: row[k] for k in custom if row[k] != ""}
    if isinstance(parsed, TxnRow):
        return parsed._replace(extra=extra)
    parsed["extra"] = extra
    return parsed
