"""The transactions file of an import: rows read, checked and inserted in file order (id = the
book's last id + line), then the accounts they touch replayed.

Invariants: nothing is inserted unless every row is good (the caller's transaction rolls back
otherwise); a row the book holds already must be identical and is skipped; a row dated in a
closed month is refused, or with `Rules.into_open` posted on the first open day with its own
date kept in x_original_posted.
"""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing
import os
import pickle
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import date
from typing import IO, TYPE_CHECKING, Any

import psycopg
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Model

from arrears.core.dates import add_months
from arrears.core.fields import from_cents
from arrears.ledger import bulk, txn_parts
from arrears.ledger.allocation import RefundAboveCreditError
from arrears.ledger.interchange import (
    MAX_ERRORS,
    ORIGINAL_POSTED,
    BookImportError,
    Problem,
    RowError,
    SourceFile,
    TxnRow,
    header_read,
    read_rows,
    records_parsed,
)
from arrears.ledger.models import (
    Account,
    CustomColumn,
    OpenItemDelta,
    Transaction,
)
from arrears.ledger.periods import first_open_day
from arrears.ledger.replay import BOOK_COLUMNS, TOUCHED, TXN, replay_touched
from arrears.ledger.txn_checks import REFS, STAGE, check_closed, check_staged, skip_existing
from arrears.ledger.txn_parts import Part, UnsafeSplitError

if TYPE_CHECKING:
    from arrears.ledger.importing import ImportSummary

log = logging.getLogger("arrears.import")


@dataclass
class Rules:
    """What an import checks rows against beyond the rows themselves."""

    today: date  # the book's: no date of a file more than a year after it
    into_open: bool  # rows dated in a closed month go to the first open day instead of refused
    closed_through: date | None = None  # read under the import's lock


@contextmanager
def phase(name: str) -> Iterator[None]:
    """Log how long a step of the import took (LOG_LEVEL=INFO shows it)."""
    started = time.perf_counter()
    yield
    log.info("%s: %.2fs", name, time.perf_counter() - started)


STAGE_COLUMNS = (
    "line",
    "txn_id",
    "account_id",
    "posted_on",
    "type",
    "amount",
    "code",
    "due_on",
    "applies_to",
    "reverses",
    "reference",
    "memo",
    "extra",
)


class _NeedsStagingError(Exception):
    """The fast path met rows already in the book or twice in the file, or a row dated in a
    closed month (`line`): stage them all."""

    def __init__(self, line: int | None = None) -> None:
        super().__init__(line)
        self.line = line


# An account's primary key, the earliest date its entries may hold (a year before it opened,
# docs/ledger-interchange.md, project notes) and the day it opened.
_Known = tuple[int, date, date]


def import_transactions(
    source: SourceFile, summary: ImportSummary, tick: Any, rules: Rules
) -> None:
    """Insert new transactions in file order (id = base + line), then replay their accounts.

    The fast path copies rows that name no other row straight into the book and stages only
    those that do (applies_to, reverses). Any id already in the book, or twice in the file, or a
    row dated in a closed month, sends the import down the complete path, which stages every row,
    skips rows identical to the book's and names each conflict, and each new row dated in a
    closed month. With `rules.into_open` such rows are dated on the first open day as they are
    read, on either path.
    """
    accounts: dict[str, _Known] = {
        account_id: (pk, add_months(opened, -EARLY_MONTHS), opened)
        for account_id, pk, opened in Account.objects.values_list("account_id", "id", "opened_on")
    }
    base = int(bulk.execute(f"SELECT COALESCE(MAX(id), 0) FROM {TXN}")[0][0])
    # The accounts the fast path's rows name, every one of them inserted: the accounts to replay.
    copied: set[int] = set()
    named: set[int] | None = copied
    try:
        with transaction.atomic():
            _create_stage()
            unchanged = _copy_rows(source, accounts, base, tick, rules, copied)
    except _NeedsStagingError:
        named = None  # the complete path inserts what is not in the book already: asked below
        _create_stage()
        unchanged = _stage_rows(source, accounts, base, tick, rules)
    summary.unchanged["transactions"] = unchanged
    summary.created["transactions"] = int(
        bulk.execute(f"SELECT COUNT(*) FROM {TXN} WHERE id > ?", (base,))[0][0]
    )
    first_open = first_open_day(rules.closed_through)
    if rules.into_open and first_open is not None:
        summary.first_open = first_open
        summary.into_open = Transaction.objects.filter(
            id__gt=base, posted_on=first_open, extra__has_key=ORIGINAL_POSTED
        ).count()
        if summary.into_open:
            CustomColumn.objects.get_or_create(file_kind="transactions", name=ORIGINAL_POSTED)
    bulk.execute(f"DROP TABLE IF EXISTS {TOUCHED}")
    bulk.execute(f"CREATE TEMPORARY TABLE {TOUCHED} (account_id BIGINT PRIMARY KEY)")
    if named is not None:
        bulk.insert_rows(TOUCHED, ("account_id",), ((pk,) for pk in sorted(named)))
    else:
        bulk.execute(
            f"INSERT INTO {TOUCHED} SELECT DISTINCT account_id FROM {TXN} WHERE id > ?", (base,)
        )
    with phase("cash application"):
        try:
            summary.accounts_replayed = replay_touched(
                processes=_replay_processes(source), bulk_load=_bulk_load(source, OpenItemDelta)
            )
        except RefundAboveCreditError as exc:
            raise BookImportError([_refund_problem(source, base, exc)]) from None
    # Temporary tables vanish with a rollback on both databases; on success they are dropped here.
    for table in (STAGE, REFS, TOUCHED):
        bulk.execute(f"DROP TABLE IF EXISTS {table}")


def _refund_problem(source: SourceFile, base: int, exc: RefundAboveCreditError) -> Problem:
    """The line that makes a refund larger than the unapplied credit on its date (spec: a refund
    is at most the account's unapplied credit): the refund's own line, or, for a refund the book
    held already, this import's first line on its account (an entry dated before it, such as a
    reversal of the credit it paid out)."""
    refund = Transaction.objects.select_related("account").get(pk=exc.entry)
    owed, credit = from_cents(int(exc.amount)), from_cents(int(exc.credit))
    reason = (
        f"refund of {owed:.2f} on {refund.posted_on.isoformat()} is larger than the unapplied "
        f"credit of account {refund.account.account_id!r} on that day ({credit:.2f}): a refund "
        "is paid out of credit the debtor has, never more"
    )
    if exc.entry > base:
        return Problem(source.label, exc.entry - base, "amount", reason)
    first = (
        Transaction.objects.filter(account_id=refund.account_id, id__gt=base)
        .order_by("id")
        .values_list("id", flat=True)
        .first()
    )
    return Problem(
        source.label,
        (first or base) - base,
        "",
        f"this file leaves the book's refund {refund.txn_id!r} without the credit it paid out: "
        + reason,
    )


def _create_stage() -> None:
    bulk.execute(f"DROP TABLE IF EXISTS {STAGE}")
    bulk.execute(
        f"CREATE TEMPORARY TABLE {STAGE} (line INTEGER NOT NULL, txn_id TEXT NOT NULL, "
        "account_id BIGINT NOT NULL, posted_on DATE NOT NULL, type TEXT NOT NULL, "
        "amount BIGINT NOT NULL, code TEXT NOT NULL, due_on DATE, applies_to TEXT, "
        "reverses TEXT, reference TEXT NOT NULL, memo TEXT NOT NULL, extra TEXT, skip INTEGER, "
        "applies_to_id BIGINT, reverses_id BIGINT)"
    )


EARLY_MONTHS = 12
# A transactions file at least this large (about 60,000 rows) into a book holding fewer
# transactions than it brings (a first load, or one that at least doubles the book) is loaded as a
# bulk load (`bulk.loading`): the table locked against readers until the import commits, its
# indexes and keys made again once at the end, over the whole table. Into a larger book, remaking
# them would cost more than the copy saves, and the pages would wait for it: the daily import
# copies into the indexes as they are.
BULK_LOAD_BYTES = 4 << 20
ROW_BYTES = 64  # a transactions row's size in a file, about: a file's rows from its bytes


def _bulk_load(source: SourceFile, model: type[Model] = Transaction) -> bool:
    """Whether `source` is loaded into `model`'s table (the transactions', or the derived ones of
    the cash application, a row or so for each transaction) as a bulk load."""
    if not bulk.is_postgres() or source.size < BULK_LOAD_BYTES:
        return False
    return bulk.holds_fewer_than(model._meta.db_table, source.size // ROW_BYTES)


# A transactions file at least this large (about 200,000 rows) replays its accounts' cash
# application in ARREARS_IMPORT_PROCESSES processes side by side (`replay_processes`); a smaller
# one in the import's own process, which starts no process for a second's work.
REPLAY_PROCESSES_BYTES = 12 << 20


def _replay_processes(source: SourceFile) -> int:
    if source.size < REPLAY_PROCESSES_BYTES:
        return 1
    return int(settings.ARREARS_IMPORT_PROCESSES)


def _valid_rows(
    label: str,
    parsed: Iterable[tuple[int, Any]],
    accounts: dict[str, _Known],
    problems: list[Problem],
    rules: Rules,
) -> Iterator[tuple[int, int, TxnRow]]:
    """(line, account pk, row) of each good row of the file `label`'s `parsed` rows (its
    `read_rows`, or a part's); bad ones go to `problems` (50 at most). With `rules.into_open`, a
    row dated in a closed month comes dated on the first open day."""
    through = rules.closed_through if rules.into_open else None
    first_open = first_open_day(through)
    for line, row in parsed:
        if isinstance(row, RowError):
            problems.append(Problem(label, line, row.column, row.reason))
        elif (known := accounts.get(row.account_id)) is None:
            problems.append(
                Problem(label, line, "account_id", f"unknown account {row.account_id!r}")
            )
        elif row.posted_on < known[1] or (row.due_on is not None and row.due_on < known[1]):
            early = row.posted_on < known[1]
            column, day = ("posted", row.posted_on) if early else ("due", row.due_on)
            reason = (
                f"{day} is more than a year before account {row.account_id!r} opened "
                f"({known[2]}): a mistyped year?"
            )
            problems.append(Problem(label, line, column, reason))
        elif not problems:
            if through is not None and row.posted_on <= through:
                row = row._replace(
                    posted_on=first_open,
                    extra={ORIGINAL_POSTED: row.posted_on.isoformat(), **row.extra},
                )
            yield line, known[0], row
        if len(problems) >= MAX_ERRORS:
            return


def _is_unique_violation(exc: BaseException) -> bool:
    """True for a duplicate key (an id already in the book, or twice in the file)."""
    import sqlite3

    from psycopg import errors

    cause = exc.__cause__ or exc
    if isinstance(cause, errors.UniqueViolation):
        return True
    return isinstance(cause, sqlite3.IntegrityError) and "UNIQUE" in str(cause)


def _copy_rows(
    source: SourceFile,
    accounts: dict[str, _Known],
    base: int,
    tick: Any,
    rules: Rules,
    named: set[int],
) -> int:
    problems: list[Problem] = []
    # Rows that name another row wait on disk, so memory stays flat, and are staged after the copy.
    held = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the with block below
    # A binary COPY on PostgreSQL: dates as dates, `extra` a dict (bulk.insert_rows).
    types = bulk.column_types(Transaction, BOOK_COLUMNS)
    as_json = _json_text if not bulk.is_postgres() else dict

    def copied_here() -> None:
        valid = _valid_rows(
            source.label, read_rows(source, tick, today=rules.today), accounts, problems, rules
        )
        rows = _direct(valid, base, rules.closed_through, named, held, as_json)
        bulk.insert_rows(TXN, BOOK_COLUMNS, rows, types)

    def held_rows() -> Iterator[tuple[Any, ...]]:
        held.seek(0)
        while True:
            try:
                yield pickle.load(held)  # noqa: S301 - our own file, written just above
            except EOFError:
                return

    # A large file is a bulk load: the book's indexes and keys are made again after it, once.
    load = bulk.loading(TXN) if _bulk_load(source) else nullcontext()
    parts = _parts(source)
    with held:
        with phase("read, check and copy rows"):
            try:
                with load:
                    if parts is None:
                        copied_here()
                    else:
                        try:
                            with transaction.atomic():
                                _copy_in_parts(
                                    source,
                                    parts,
                                    accounts,
                                    base,
                                    rules,
                                    named,
                                    held,
                                    problems,
                                    tick,
                                )
                        except UnsafeSplitError:
                            log.info(
                                "%s: read in one process (a part could not be read alone)",
                                source.label,
                            )
                            named.clear()
                            problems.clear()
                            held.seek(0)
                            held.truncate()
                            copied_here()
            except Exception as exc:
                if _is_unique_violation(exc):
                    raise _NeedsStagingError from exc
                raise
        if problems:
            raise BookImportError(problems)
        bulk.insert_rows(STAGE, STAGE_COLUMNS, held_rows())
    with phase("check references"):
        _index_stage()
        collisions = bulk.execute(
            f"SELECT 1 FROM {STAGE} s JOIN {TXN} t ON t.txn_id = s.txn_id LIMIT 1"
        )
        if collisions:
            raise _NeedsStagingError
        check_staged(source, base)
    with phase("insert rows that name others"):
        _insert_staged(base)
    return 0


def _direct(
    valid: Iterable[tuple[int, int, TxnRow]],
    base: int,
    through: date | None,
    named: set[int],
    held: IO[bytes],
    as_json: Callable[[dict[str, Any]], Any],
) -> Iterator[tuple[Any, ...]]:
    """The book's row (BOOK_COLUMNS) of each valid row that names no other; those that do are
    pickled into `held`, to be staged; the accounts of both go into `named`. A row dated on or
    before `through` (a closed month) raises _NeedsStagingError with its line."""
    name = named.add
    for line, account, row in valid:
        if through is not None and row.posted_on <= through:
            # Refused, unless the book holds it already: the complete path tells which.
            raise _NeedsStagingError(line)
        name(account)
        if row.applies_to or row.reverses:
            pickle.dump(_stage_row(line, account, row), held)
            continue
        yield (
            base + line,
            row.txn_id,
            account,
            row.posted_on,
            row.type,
            int(row.amount * 100),
            row.code,
            row.due_on,
            None,
            None,
            row.reference,
            row.memo,
            as_json(row.extra) if row.extra else None,
        )


# A transactions file at least this large, on its own on disk, is read in parts by
# ARREARS_IMPORT_PROCESSES processes side by side (`txn_parts`), parts of at most PART_BYTES.
PART_BYTES = 32 << 20


def _parts(source: SourceFile) -> list[Part] | None:
    """The parts `source` is read in by several processes, or None to read it here."""
    processes = _replay_processes(source)
    if processes < 2 or source.path is None or source.ragged or not bulk.is_postgres():
        return None
    rows = source.open_rows(None)
    try:
        _, record = next(iter(rows))
        header_read(source, record)  # the header's problems: the one-process path names them
    except (StopIteration, BookImportError):
        return None
    finally:
        close = getattr(rows, "close", None)
        if close is not None:
            close()
    return txn_parts.split(source.path, max(processes * 4, source.size // PART_BYTES))


@dataclass
class _PartRead:
    """What a process made of a part of the file (`_part_read`)."""

    problems: list[Problem]
    named: set[int]
    closed_line: int | None  # a row dated in a closed month, before any problem of the part
    rows: str  # its rows in binary COPY format, without the format's header and trailer
    held: str  # its rows that name others, pickled (as `_direct` holds them)


# What the parts' processes read, set before they are forked (never pickled).
_PARTS_JOB: dict[str, Any] = {}


def _copy_in_parts(
    source: SourceFile,
    parts: list[Part],
    accounts: dict[str, _Known],
    base: int,
    rules: Rules,
    named: set[int],
    held: IO[bytes],
    problems: list[Problem],
    tick: Any,
) -> None:
    """Read the parts of `source` in ARREARS_IMPORT_PROCESSES processes and copy their rows into
    the book in file order, as `_direct` would have: the same rows, the same problems (the first
    50 by line), the same fall to the complete path. Raises UnsafeSplitError when a part cannot
    be read alone (the caller reads the file here instead)."""
    processes = _replay_processes(source)
    with tempfile.TemporaryDirectory(prefix="arrears-import-") as folder:
        _PARTS_JOB.update(source=source, accounts=accounts, base=base, rules=rules, folder=folder)
        pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork"))
        try:
            reads = [pool.submit(_part_read, n, part) for n, part in enumerate(parts)]
            columns = ", ".join(BOOK_COLUMNS)
            with connection.cursor() as cursor:
                sql = f"COPY {TXN} ({columns}) FROM STDIN (FORMAT BINARY)"
                # The copy always ends as it began, whole rows then the format's trailer, and
                # only then does a failure here go on: the server's own error (an id the book
                # holds, refused while the parts were sent) is raised by the copy's end, as a
                # copy of rows raises it, never lost under ours or logged as ignored.
                failure: Exception | None = None
                with cursor.cursor.copy(sql) as copy:
                    try:
                        copy.write(bulk.COPY_BINARY_HEADER)
                        for part, read in zip(parts, reads, strict=True):
                            done = read.result()
                            if done.closed_line is not None and not problems:
                                raise _NeedsStagingError(done.closed_line)
                            problems.extend(done.problems)
                            named.update(done.named)
                            if not problems:
                                bulk.file_handed(done.rows, copy.write)
                                bulk.file_handed(done.held, held.write)
                            if tick:
                                tick(part.end - part.start)
                            if len(problems) >= MAX_ERRORS:
                                break
                        copy.write(bulk.COPY_BINARY_TRAILER)
                    except psycopg.Error:
                        pass
                    except (UnsafeSplitError, _NeedsStagingError) as exc:
                        failure = exc
                        with contextlib.suppress(psycopg.Error):
                            copy.write(bulk.COPY_BINARY_TRAILER)
                if failure is not None:
                    raise failure
            del problems[MAX_ERRORS:]
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            _PARTS_JOB.clear()


def _part_read(index: int, part: Part) -> _PartRead:
    """In a process of `_copy_in_parts`: read, check and format the rows of one part."""
    job = _PARTS_JOB
    source, rules = job["source"], job["rules"]
    problems: list[Problem] = []
    named: set[int] = set()
    rows_path = os.path.join(job["folder"], f"{index}.rows")
    held_path = os.path.join(job["folder"], f"{index}.held")
    assert source.path is not None
    records = txn_parts.records(source.path, part)
    parsed = records_parsed(source, source.header, records, today=rules.today)
    valid = _valid_rows(source.label, parsed, job["accounts"], problems, rules)
    binary = txn_parts.BinaryRows(json.dumps)
    closed_line = None
    with open(rows_path, "wb") as out, open(held_path, "wb") as held:
        block: list[bytes] = []
        try:
            for values in _direct(valid, job["base"], rules.closed_through, named, held, dict):
                block.append(binary.row(values))
                if len(block) >= 10_000:
                    out.write(b"".join(block))
                    block.clear()
        except _NeedsStagingError as exc:
            closed_line = exc.line
        out.write(b"".join(block))
    return _PartRead(problems, named, closed_line, rows_path, held_path)


def _index_stage() -> None:
    bulk.execute(f"CREATE INDEX {STAGE}_txn ON {STAGE} (txn_id)")
    bulk.execute(f"ANALYZE {STAGE}")  # no autovacuum for temporary tables: plan with facts


def _stage_rows(
    source: SourceFile, accounts: dict[str, _Known], base: int, tick: Any, rules: Rules
) -> int:
    problems: list[Problem] = []
    with phase("read and check rows"):
        bulk.insert_rows(
            STAGE,
            STAGE_COLUMNS,
            (
                _stage_row(line, account, row)
                for line, account, row in _valid_rows(
                    source.label,
                    read_rows(source, tick, today=rules.today),
                    accounts,
                    problems,
                    rules,
                )
            ),
        )
    if problems:
        raise BookImportError(problems)
    with phase("check references"):
        _index_stage()
        check_staged(source, base)
    with phase("compare with the book"):
        unchanged = skip_existing(source)
        check_closed(source, rules.closed_through)
    with phase("insert transactions"):
        _insert_staged(base)
    return unchanged


def _json_text(extra: dict[str, Any]) -> str:
    return json.dumps(extra, sort_keys=True)


def _stage_row(line: int, account: int, row: TxnRow) -> tuple[Any, ...]:
    return (
        line,
        row.txn_id,
        account,
        row.posted_on.isoformat(),
        row.type,
        int(row.amount * 100),
        row.code,
        row.due_on.isoformat() if row.due_on else None,
        row.applies_to or None,
        row.reverses or None,
        row.reference,
        row.memo,
        _json_text(row.extra) if row.extra else None,
    )


def _insert_staged(base: int) -> None:
    """Insert the staged new rows; their ids continue the book's (id = base + line)."""
    for column in ("applies_to", "reverses"):
        # Only rows that name another are touched; the target is in the book or in this file.
        bulk.execute(
            f"UPDATE {STAGE} SET {column}_id = COALESCE("
            f"(SELECT t.id FROM {TXN} t WHERE t.txn_id = {STAGE}.{column}), "
            f"(SELECT ? + x.line FROM {STAGE} x WHERE x.txn_id = {STAGE}.{column})) "
            f"WHERE {column} IS NOT NULL",
            (base,),
        )
    extra = "extra::jsonb" if bulk.is_postgres() else "extra"
    bulk.execute(
        f"INSERT INTO {TXN} (id, txn_id, account_id, posted_on, type, amount, code, due_on, "
        f"applies_to_id, reverses_id, reference, memo, extra) "
        f"SELECT ? + line, txn_id, account_id, posted_on, type, amount, code, due_on, "
        f"applies_to_id, reverses_id, reference, memo, {extra} FROM {STAGE} "
        f"WHERE skip IS NULL ORDER BY line",
        (base,),
    )
