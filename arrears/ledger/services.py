"""Writes to the book: import of the interchange format, and replay of cash application.

Invariants:
- an import is one database transaction: any bad row and nothing changes;
- transactions are only inserted; a row whose id exists must be identical (then it is skipped);
- after any change to an account's transactions its allocations, deltas and open items are
  rebuilt from its whole history (`accounts_replay`), and only that account's.
"""

from __future__ import annotations

import hashlib
import json
import logging
import pickle
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import groupby
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from arrears.core.dates import add_months, today
from arrears.core.fields import from_cents
from arrears.ledger import bulk
from arrears.ledger.allocation import Entry, apply_cash
from arrears.ledger.interchange import (
    MAX_ERRORS,
    ORIGINAL_POSTED,
    BookImportError,
    Problem,
    RowError,
    SourceFile,
    TxnRow,
    open_book,
    read_rows,
)
from arrears.ledger.models import (
    Account,
    AccountParty,
    Allocation,
    BookImport,
    CustomColumn,
    OpenItem,
    OpenItemDelta,
    Party,
    Property,
    Transaction,
)
from arrears.ledger.periods import closed_through, ensure_open, first_open_day, label

log = logging.getLogger("arrears.import")

Progress = Callable[[str, int, int], None]  # (file label, bytes done, bytes in all)

TXN = Transaction._meta.db_table
STAGE = "arrears_stage_txn"
REFS = "arrears_stage_ref"
TOUCHED = "arrears_touched_account"


@dataclass
class ImportSummary:
    source: str
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)
    accounts_replayed: int = 0
    # Rows dated in a closed month posted on the first open day (--into-open-period), and that day.
    into_open: int = 0
    first_open: date | None = None

    def line(self) -> str:
        parts = []
        for kind in ("properties", "parties", "accounts", "account_parties", "transactions"):
            c, u, s = (
                self.created.get(kind, 0),
                self.updated.get(kind, 0),
                self.unchanged.get(kind, 0),
            )
            if c or u or s:
                bits = [f"{c} new"]
                if u:
                    bits.append(f"{u} updated")
                if s:
                    bits.append(f"{s} unchanged")
                parts.append(f"{kind} {', '.join(bits)}")
        body = "; ".join(parts) or "nothing to import"
        if self.into_open:
            body += (
                f" ({self.into_open} dated in a closed month posted on {self.first_open}, "
                f"their own date kept in {ORIGINAL_POSTED})"
            )
        return f"Imported {self.source}: {body}; {self.accounts_replayed} accounts re-applied."

    @property
    def changed(self) -> bool:
        return any(self.created.values()) or any(self.updated.values())


@contextmanager
def _phase(name: str) -> Iterator[None]:
    """Log how long a step of the import took (LOG_LEVEL=INFO shows it)."""
    started = time.perf_counter()
    yield
    log.info("%s: %.2fs", name, time.perf_counter() - started)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        with file.open("rb") as stream:
            while block := stream.read(1 << 20):
                digest.update(block)
    return digest.hexdigest()


@dataclass
class _Rules:
    """What an import checks rows against beyond the rows themselves."""

    today: date  # the book's: no date of a file more than a year after it
    into_open: bool  # rows dated in a closed month go to the first open day instead of refused
    closed_through: date | None = None  # read under the import's lock


def book_import(
    path: Path,
    *,
    progress: Progress | None = None,
    into_open_period: bool = False,
    on: date | None = None,
    name: str = "",
) -> ImportSummary:
    """Import a book (folder, .zip or .xlsx) all or nothing; returns what changed.

    A transaction dated in a closed month (`periods`) is refused, unless `into_open_period`:
    then it is posted on the first open day, its own date kept in its `x_original_posted`
    column. `on` is the book's today (default: `core.dates.today()`), for the dates a file may
    hold (docs/ledger-interchange.md, project notes); `name` the file as its user named it, for
    the import's record (default: `path`; an upload's name, not its temporary file's).

    Raises BookImportError naming file, line, column and reason for every bad row found (the
    first 50), and then the book is as it was.
    """
    sources = open_book(path)
    name = name or str(path)
    summary = ImportSummary(source=Path(name).name)
    rules = _Rules(today=on or today(), into_open=into_open_period)
    total = sum(s.size for s in sources)
    done = 0

    def tick_for(source: SourceFile) -> Callable[[int], None] | None:
        if progress is None:
            return None

        def tick(n: int) -> None:
            nonlocal done
            done += n
            progress(source.label, done, total)

        return tick

    with _phase("import"), transaction.atomic():
        # One import at a time: ids are handed out in file order. The lock also keeps the daily
        # run from deciding on any account while the import writes (`book_lock`), and a month
        # from closing meanwhile (`periods.period_close`).
        bulk.write_lock(TXN)
        rules.closed_through = closed_through()
        for source in sources:
            importer = _IMPORTERS[source.kind.name]
            with _phase(source.label):
                importer(source, summary, tick_for(source), rules)
            _remember_custom_columns(source)
        if summary.changed:
            counts: dict[str, Any] = {"created": summary.created, "updated": summary.updated}
            if summary.into_open:  # posted on the first open day, their months being closed
                counts["into_open_period"] = summary.into_open
            BookImport.objects.create(source=name[:500], sha256=_sha256(path), counts=counts)
        log.info("all rows written; committing")
    if summary.changed and bulk.is_postgres():
        # Fresh statistics for what was just loaded: autovacuum may be off or late, and a run
        # straight after an import would otherwise be planned blind.
        for model in (Transaction, Allocation, OpenItemDelta, OpenItem, Account):
            bulk.execute(f"ANALYZE {model._meta.db_table}")
    return summary


def book_lock(*, lo: int, hi: int) -> None:
    """Inside the caller's transaction, lock the book for a decision on accounts `lo`..`hi` (by
    key), so that what the caller reads next is the book as committed and stays so until it
    commits what it decided (the daily run's chunk: no fee on an account an import paid).

    Every writer takes its locks in this order, so none waits on another in a circle. PostgreSQL:
    the transactions table in ROW EXCLUSIVE mode, which an import's SHARE ROW EXCLUSIVE lock
    (taken first, held to its commit) excludes, so an import in progress is waited for and an
    import starting waits; then the accounts' rows in key order, FOR UPDATE, which a payment
    posted meanwhile waits on (its reference to the account). SQLite: the database's one write
    lock, now rather than at the first write, so nothing commits between the reads and the writes
    (SQLite serialises writers; an import takes the same lock first).
    """
    if not bulk.is_postgres():
        bulk.write_lock(TXN)
        return
    bulk.execute(f"LOCK TABLE {TXN} IN ROW EXCLUSIVE MODE")
    list(
        Account.objects.select_for_update()
        .filter(pk__gte=lo, pk__lte=hi)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _remember_custom_columns(source: SourceFile) -> None:
    for name in source.header:
        if name.startswith("x_"):
            CustomColumn.objects.get_or_create(file_kind=source.kind.name, name=name)


def _collect(
    source: SourceFile, tick: Callable[[int], None] | None, rules: _Rules
) -> list[tuple[int, Any]]:
    """All rows of a small file, or BookImportError with every bad row."""
    rows: list[tuple[int, Any]] = []
    problems: list[Problem] = []
    for line, parsed in read_rows(source, tick, today=rules.today):
        if isinstance(parsed, RowError):
            problems.append(Problem(source.label, line, parsed.column, parsed.reason))
        else:
            rows.append((line, parsed))
    if problems:
        raise BookImportError(problems)
    return rows


def _duplicates(
    source: SourceFile, rows: list[tuple[int, Any]], key: Callable[[Any], Any], column: str
) -> None:
    first: dict[Any, int] = {}
    problems = []
    for line, row in rows:
        k = key(row)
        if k in first:
            problems.append(
                Problem(source.label, line, column, f"{k!r} is already on line {first[k]}")
            )
        else:
            first[k] = line
    if problems:
        raise BookImportError(problems)


def _upsert(
    model: Any,
    key: str,
    source: SourceFile,
    rows: list[tuple[int, dict[str, Any]]],
    summary: ImportSummary,
) -> None:
    """Create new rows, update changed ones (by their id), leave identical ones alone."""
    existing = {
        getattr(o, key): o
        for o in model.objects.filter(**{f"{key}__in": [r[key] for _, r in rows]})
    }
    new, changed = [], []
    fields: set[str] = set()
    for _, row in rows:
        obj = existing.get(row[key])
        if obj is None:
            new.append(model(**row))
            continue
        diff = {f: v for f, v in row.items() if getattr(obj, f) != v}
        if diff:
            for f, v in diff.items():
                setattr(obj, f, v)
            fields.update(diff)
            changed.append(obj)
    model.objects.bulk_create(new, batch_size=2000)
    if changed:
        model.objects.bulk_update(changed, sorted(fields), batch_size=2000)
    kind = source.kind.name
    summary.created[kind] = len(new)
    summary.updated[kind] = len(changed)
    summary.unchanged[kind] = len(rows) - len(new) - len(changed)


def _import_properties(
    source: SourceFile, summary: ImportSummary, tick: Any, rules: _Rules
) -> None:
    rows = _collect(source, tick, rules)
    _duplicates(source, rows, lambda r: r["property_id"], "property_id")
    _upsert(Property, "property_id", source, rows, summary)


def _import_parties(source: SourceFile, summary: ImportSummary, tick: Any, rules: _Rules) -> None:
    rows = _collect(source, tick, rules)
    _duplicates(source, rows, lambda r: r["party_id"], "party_id")
    _upsert(Party, "party_id", source, rows, summary)


def _import_accounts(source: SourceFile, summary: ImportSummary, tick: Any, rules: _Rules) -> None:
    rows = _collect(source, tick, rules)
    _duplicates(source, rows, lambda r: r["account_id"], "account_id")
    wanted = {r["property_id"] for _, r in rows if r["property_id"]}
    properties = dict(
        Property.objects.filter(property_id__in=wanted).values_list("property_id", "id")
    )
    existing_currency = dict(
        Account.objects.filter(account_id__in=[r["account_id"] for _, r in rows]).values_list(
            "account_id", "currency"
        )
    )
    problems = []
    for line, row in rows:
        ref = row.pop("property_id")
        if ref and ref not in properties:
            problems.append(Problem(source.label, line, "property_id", f"unknown property {ref!r}"))
        row["property_id"] = properties.get(ref)
        old = existing_currency.get(row["account_id"])
        if old is not None and old != row["currency"] and _has_transactions(row["account_id"]):
            problems.append(
                Problem(
                    source.label,
                    line,
                    "currency",
                    f"the account has transactions in {old}; its currency cannot change",
                )
            )
    if problems:
        raise BookImportError(problems)
    _upsert(Account, "account_id", source, rows, summary)


def _has_transactions(account_id: str) -> bool:
    return Transaction.objects.filter(account__account_id=account_id).exists()


def _import_account_parties(
    source: SourceFile, summary: ImportSummary, tick: Any, rules: _Rules
) -> None:
    rows = _collect(source, tick, rules)
    _duplicates(source, rows, lambda r: (r["account_id"], r["party_id"], r["role"]), "party_id")
    accounts = dict(
        Account.objects.filter(account_id__in={r["account_id"] for _, r in rows}).values_list(
            "account_id", "id"
        )
    )
    parties = dict(
        Party.objects.filter(party_id__in={r["party_id"] for _, r in rows}).values_list(
            "party_id", "id"
        )
    )
    problems = []
    for line, row in rows:
        if row["account_id"] not in accounts:
            problems.append(
                Problem(source.label, line, "account_id", f"unknown account {row['account_id']!r}")
            )
        if row["party_id"] not in parties:
            problems.append(
                Problem(source.label, line, "party_id", f"unknown party {row['party_id']!r}")
            )
    if problems:
        raise BookImportError(problems)
    existing = {
        (ap.account_id, ap.party_id, ap.role): ap
        for ap in AccountParty.objects.filter(account_id__in=accounts.values())
    }
    new, changed = [], []
    for _, row in rows:
        key = (accounts[row["account_id"]], parties[row["party_id"]], row["role"])
        current = existing.get(key)
        if current is None:
            new.append(
                AccountParty(
                    account_id=key[0],
                    party_id=key[1],
                    role=key[2],
                    guarantee_limit=row["guarantee_limit"],
                    extra=row["extra"],
                )
            )
        elif (current.guarantee_limit, current.extra) != (row["guarantee_limit"], row["extra"]):
            current.guarantee_limit = row["guarantee_limit"]
            current.extra = row["extra"]
            changed.append(current)
    AccountParty.objects.bulk_create(new, batch_size=2000)
    AccountParty.objects.bulk_update(changed, ["guarantee_limit", "extra"], batch_size=2000)
    summary.created["account_parties"] = len(new)
    summary.updated["account_parties"] = len(changed)
    summary.unchanged["account_parties"] = len(rows) - len(new) - len(changed)


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
    """The fast path met rows already in the book or twice in the file: stage them all."""


# An account's primary key, the earliest date its entries may hold (a year before it opened,
# docs/ledger-interchange.md, project notes) and the day it opened.
_Known = tuple[int, date, date]


def _import_transactions(
    source: SourceFile, summary: ImportSummary, tick: Any, rules: _Rules
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
    try:
        with transaction.atomic():
            _create_stage()
            unchanged = _copy_rows(source, accounts, base, tick, rules)
    except _NeedsStagingError:
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
    bulk.execute(
        f"INSERT INTO {TOUCHED} SELECT DISTINCT account_id FROM {TXN} WHERE id > ?", (base,)
    )
    with _phase("cash application"):
        summary.accounts_replayed = _replay_touched()
    # Temporary tables vanish with a rollback on both databases; on success they are dropped here.
    for table in (STAGE, REFS, TOUCHED):
        bulk.execute(f"DROP TABLE IF EXISTS {table}")


def _create_stage() -> None:
    bulk.execute(f"DROP TABLE IF EXISTS {STAGE}")
    bulk.execute(
        f"CREATE TEMPORARY TABLE {STAGE} (line INTEGER NOT NULL, txn_id TEXT NOT NULL, "
        "account_id BIGINT NOT NULL, posted_on DATE NOT NULL, type TEXT NOT NULL, "
        "amount BIGINT NOT NULL, code TEXT NOT NULL, due_on DATE, applies_to TEXT, "
        "reverses TEXT, reference TEXT NOT NULL, memo TEXT NOT NULL, extra TEXT, skip INTEGER, "
        "applies_to_id BIGINT, reverses_id BIGINT)"
    )


# An entry dated more than this many months before its account opened is a mistyped year.
EARLY_MONTHS = 12


def _valid_rows(
    source: SourceFile,
    accounts: dict[str, _Known],
    tick: Any,
    problems: list[Problem],
    rules: _Rules,
) -> Iterator[tuple[int, int, TxnRow]]:
    """(line, account pk, row) of each good row; bad ones go to `problems` (50 at most). With
    `rules.into_open`, a row dated in a closed month comes dated on the first open day."""
    through = rules.closed_through if rules.into_open else None
    first_open = first_open_day(through)
    for line, row in read_rows(source, tick, today=rules.today):
        if isinstance(row, RowError):
            problems.append(Problem(source.label, line, row.column, row.reason))
        elif (known := accounts.get(row.account_id)) is None:
            problems.append(
                Problem(source.label, line, "account_id", f"unknown account {row.account_id!r}")
            )
        elif row.posted_on < known[1] or (row.due_on is not None and row.due_on < known[1]):
            early = row.posted_on < known[1]
            column, day = ("posted", row.posted_on) if early else ("due", row.due_on)
            reason = (
                f"{day} is more than a year before account {row.account_id!r} opened "
                f"({known[2]}): a mistyped year?"
            )
            problems.append(Problem(source.label, line, column, reason))
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


BOOK_COLUMNS = (
    "id",
    "txn_id",
    "account_id",
    "posted_on",
    "type",
    "amount",
    "code",
    "due_on",
    "applies_to_id",
    "reverses_id",
    "reference",
    "memo",
    "extra",
)


def _copy_rows(
    source: SourceFile, accounts: dict[str, _Known], base: int, tick: Any, rules: _Rules
) -> int:
    problems: list[Problem] = []
    # Rows that name another row wait on disk, so memory stays flat, and are staged after the copy.
    held = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the with block below
    through = rules.closed_through

    def direct() -> Iterator[tuple[Any, ...]]:
        for line, account, row in _valid_rows(source, accounts, tick, problems, rules):
            if through is not None and row.posted_on <= through:
                # Refused, unless the book holds it already: the complete path tells which.
                raise _NeedsStagingError
            staged = _stage_row(line, account, row)
            if row.applies_to or row.reverses:
                pickle.dump(staged, held)
                continue
            yield (base + line, *staged[1:8], None, None, *staged[10:13])

    def held_rows() -> Iterator[tuple[Any, ...]]:
        held.seek(0)
        while True:
            try:
                yield pickle.load(held)  # noqa: S301 - our own file, written just above
            except EOFError:
                return

    with held:
        with _phase("read, check and copy rows"):
            try:
                bulk.insert_rows(TXN, BOOK_COLUMNS, direct())
            except Exception as exc:
                if _is_unique_violation(exc):
                    raise _NeedsStagingError from exc
                raise
        if problems:
            raise BookImportError(problems)
        bulk.insert_rows(STAGE, STAGE_COLUMNS, held_rows())
    with _phase("check references"):
        _index_stage()
        collisions = bulk.execute(
            f"SELECT 1 FROM {STAGE} s JOIN {TXN} t ON t.txn_id = s.txn_id LIMIT 1"
        )
        if collisions:
            raise _NeedsStagingError
        _check_staged(source, base)
    with _phase("insert rows that name others"):
        _insert_staged(base)
    return 0


def _index_stage() -> None:
    bulk.execute(f"CREATE INDEX {STAGE}_txn ON {STAGE} (txn_id)")
    bulk.execute(f"ANALYZE {STAGE}")  # no autovacuum for temporary tables: plan with facts


def _stage_rows(
    source: SourceFile, accounts: dict[str, _Known], base: int, tick: Any, rules: _Rules
) -> int:
    problems: list[Problem] = []
    with _phase("read and check rows"):
        bulk.insert_rows(
            STAGE,
            STAGE_COLUMNS,
            (
                _stage_row(line, account, row)
                for line, account, row in _valid_rows(source, accounts, tick, problems, rules)
            ),
        )
    if problems:
        raise BookImportError(problems)
    with _phase("check references"):
        _index_stage()
        _check_staged(source, base)
    with _phase("compare with the book"):
        unchanged = _skip_existing(source)
        _check_closed(source, rules.closed_through)
    with _phase("insert transactions"):
        _insert_staged(base)
    return unchanged


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
        json.dumps(row.extra, sort_keys=True) if row.extra else None,
    )


def _fail(source: SourceFile, rows: list[Any], column: str, reason: Callable[[Any], str]) -> None:
    if rows:
        raise BookImportError([Problem(source.label, r[0], column, reason(r)) for r in rows])


def _check_staged(source: SourceFile, base: int) -> None:
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


def _check_closed(source: SourceFile, through: date | None) -> None:
    """A new row dated in a closed month is refused (rows the book holds already are skipped;
    with --into-open-period none is left here: they were dated on the first open day)."""
    if through is None:
        return
    rows = bulk.execute(
        f"SELECT line, posted_on FROM {STAGE} WHERE skip IS NULL AND posted_on <= ? "
        f"ORDER BY line LIMIT {MAX_ERRORS}",
        (through.isoformat(),),
    )
    _fail(source, rows, "posted", lambda r: _closed_reason(_norm(r[1]), through))


def _closed_reason(posted: str, through: date) -> str:
    return (
        f"{posted[:7]} is closed (the book is closed through {label(through)}): import with "
        f"--into-open-period to post it on {first_open_day(through)}, its own date kept in "
        f"{ORIGINAL_POSTED}, or a controller reopens the month"
    )


def _skip_existing(source: SourceFile) -> int:
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


def _replay_touched(code_priority: Mapping[str, int] | None = None) -> int:
    """Rebuild allocations, deltas and open items of the accounts in the touched table."""
    for model in (Allocation, OpenItemDelta, OpenItem):
        bulk.execute(
            f"DELETE FROM {model._meta.db_table} WHERE account_id IN "
            f"(SELECT account_id FROM {TOUCHED})"
        )
    rows = bulk.stream(
        f"SELECT t.account_id, t.id, t.type, t.posted_on, t.amount, t.due_on, t.code, "
        f"t.applies_to_id, t.reverses_id FROM {TXN} t "
        f"WHERE t.account_id IN (SELECT account_id FROM {TOUCHED}) "
        f"ORDER BY t.account_id, t.posted_on, t.id"
    )
    allocations: list[tuple[Any, ...]] = []
    deltas: list[tuple[Any, ...]] = []
    open_items: list[tuple[Any, ...]] = []
    accounts = 0

    def entries(group: Iterable[Any]) -> Iterable[Entry]:
        make = tuple.__new__  # builds the named tuple from a row without a Python-level call
        for row in group:
            if isinstance(row[3], str):  # SQLite without declared-type conversion
                _, pk, kind, posted, amount, due, code, applies, reverses = row
                due_on = date.fromisoformat(due) if due else None
                posted_on = date.fromisoformat(posted)
                yield Entry(pk, kind, posted_on, amount, due_on, code, applies, reverses)
            else:
                yield make(Entry, row[1:])

    def flush() -> None:
        _write_derived(allocations, deltas, open_items)
        allocations.clear()
        deltas.clear()
        open_items.clear()

    for account, group in groupby(rows, key=lambda r: r[0]):
        replay = apply_cash(entries(group), code_priority=code_priority)
        accounts += 1
        allocations.extend(
            (account, a.charge, a.source, a.amount, a.made_on, a.undone_on)
            for a in replay.allocations
        )
        deltas.extend(
            (account, d.item, d.is_credit, d.due_on, d.on_date, d.delta) for d in replay.deltas
        )
        open_items.extend(
            (account, o.item, o.is_credit, o.due_on, o.amount) for o in replay.open_items
        )
        if len(deltas) > bulk.CHUNK:
            flush()
    flush()
    return accounts


def _write_derived(
    allocations: list[tuple[Any, ...]], deltas: list[tuple[Any, ...]], open_items: list[Any]
) -> None:
    """Append rows of the three derived tables (amounts in whole cents)."""
    bulk.insert_plain_rows(
        Allocation._meta.db_table,
        ("account_id", "charge_id", "source_id", "amount", "made_on", "undone_on"),
        allocations,
    )
    bulk.insert_plain_rows(
        OpenItemDelta._meta.db_table,
        ("account_id", "item_id", "is_credit", "due_on", "on_date", "delta"),
        deltas,
    )
    bulk.insert_plain_rows(
        OpenItem._meta.db_table,
        ("account_id", "item_id", "is_credit", "due_on", "amount"),
        open_items,
    )


def accounts_replay(account_ids: Iterable[int]) -> int:
    """Rebuild cash application for these accounts (by primary key); returns how many."""
    with transaction.atomic():
        bulk.execute(f"DROP TABLE IF EXISTS {TOUCHED}")
        bulk.execute(f"CREATE TEMPORARY TABLE {TOUCHED} (account_id BIGINT PRIMARY KEY)")
        bulk.insert_rows(TOUCHED, ("account_id",), ((pk,) for pk in set(account_ids)))
        count = _replay_touched()
        bulk.execute(f"DROP TABLE {TOUCHED}")
        return count


_IMPORTERS: dict[str, Callable[[SourceFile, ImportSummary, Any, _Rules], None]] = {
    "properties": _import_properties,
    "parties": _import_parties,
    "accounts": _import_accounts,
    "account_parties": _import_account_parties,
    "transactions": _import_transactions,
}


@dataclass(frozen=True)
class NewCharge:
    txn_id: str
    account_pk: int
    posted_on: date
    due_on: date
    code: str
    amount: Decimal
    memo: str = ""
    reference: str = ""


def charges_post(charges: list[NewCharge]) -> int:
    """Post charges (late fees and the like) and re-apply cash on their accounts.

    Must run inside the caller's transaction; returns how many were posted. A charge whose txn_id
    is already in the book is skipped, so that posting is idempotent.
    """
    base, fresh = _append_new(
        charges,
        gettext_lazy("a charge"),
        lambda c: (
            c.txn_id,
            c.account_pk,
            c.posted_on.isoformat(),
            "charge",
            int(c.amount * 100),
            c.code,
            c.due_on.isoformat(),
            None,
            None,
            c.reference,
            c.memo,
            None,
        ),
    )
    if not fresh:
        return 0
    _apply_new_charges(base, fresh)
    return len(fresh)


def _append_new(
    entries: list[Any], what: str | Promise, row: Callable[[Any], tuple[Any, ...]]
) -> tuple[int, list[Any]]:
    """Append the entries (each with a txn_id) not yet in the book after its last one, in order;
    returns the id before the first and the entries appended. `row` gives an entry's columns
    after the id (BOOK_COLUMNS). Runs inside the caller's transaction.

    Raises PeriodClosedError when an entry is dated in a closed month (`what` names it)."""
    if not entries:
        return 0, []
    existing = set(
        Transaction.objects.filter(txn_id__in=[e.txn_id for e in entries]).values_list(
            "txn_id", flat=True
        )
    )
    fresh = [e for e in entries if e.txn_id not in existing]
    if not fresh:
        return 0, []
    bulk.write_lock(TXN)  # ids in book order, and no month closing meanwhile
    ensure_open((e.posted_on for e in fresh), what=what)
    base = int(bulk.execute(f"SELECT COALESCE(MAX(id), 0) FROM {TXN}")[0][0])
    bulk.insert_rows(TXN, BOOK_COLUMNS, ((base + i, *row(e)) for i, e in enumerate(fresh, 1)))
    return base, fresh


def _apply_new_charges(base: int, fresh: list[NewCharge]) -> None:
    """Apply cash for newly posted charges.

    An account whose new charges come after everything already on it (the usual case: today's
    fee) needs no replay: each charge is paid at once by the oldest unapplied credit, exactly as
    the replay would do it, and the open items change in place. Any other account is replayed.
    """
    accounts = {c.account_pk for c in fresh}
    last_before = dict(
        Transaction.objects.filter(account_id__in=accounts, id__lte=base)
        .values("account_id")
        .annotate(last=Max("posted_on"))
        .values_list("account_id", "last")
    )
    first_new: dict[int, date] = {}
    for c in fresh:
        first_new[c.account_pk] = min(first_new.get(c.account_pk, c.posted_on), c.posted_on)
    replay = {pk for pk in accounts if last_before.get(pk) and last_before[pk] > first_new[pk]}
    append = accounts - replay
    credit: dict[int, list[list[int]]] = defaultdict(list)  # account -> [[source id, cents]]
    for pk, item, amount in (
        OpenItem.objects.filter(account_id__in=append, is_credit=True)
        .order_by("account_id", "item__posted_on", "item_id")
        .values_list("account_id", "item_id", "amount")
    ):
        credit[pk].append([item, int(amount * 100)])
    allocations: list[tuple[Any, ...]] = []
    deltas: list[tuple[Any, ...]] = []
    opened: list[tuple[Any, ...]] = []
    for i, c in enumerate(fresh, start=1):
        if c.account_pk not in append:
            continue
        charge_id, left, on = base + i, int(c.amount * 100), c.posted_on
        deltas.append((c.account_pk, charge_id, False, c.due_on, on, left))
        for source in credit[c.account_pk]:
            if not left or not source[1]:
                continue
            paid = min(left, source[1])
            source[1] -= paid
            left -= paid
            allocations.append((c.account_pk, charge_id, source[0], paid, on, None))
            deltas.append((c.account_pk, charge_id, False, c.due_on, on, -paid))
            deltas.append((c.account_pk, source[0], True, None, on, -paid))
        if left:
            opened.append((c.account_pk, charge_id, False, c.due_on, left))
    sources = [source for listed in credit.values() for source in listed]
    OpenItem.objects.filter(item_id__in=[item for item, cents in sources if not cents]).delete()
    for item, cents in sources:
        if cents:
            OpenItem.objects.filter(item_id=item).update(amount=from_cents(cents))
    _write_derived(allocations, deltas, opened)
    if replay:
        accounts_replay(replay)


@dataclass(frozen=True)
class NewCredit:
    """A credit against a charge (a dispute upheld, a fee waived): a new entry, never an edit."""

    txn_id: str
    account_pk: int
    posted_on: date
    amount: Decimal
    applies_to_pk: int | None = None
    code: str = ""
    memo: str = ""
    reference: str = ""


def credits_post(credits: list[NewCredit]) -> int:
    """Post credits and replay cash application on their accounts.

    Must run inside the caller's transaction; returns how many were posted. A credit whose txn_id
    is already in the book is skipped (idempotent). A credit names the charge it pays first
    (`applies_to`, spec: ledger-interchange); what it does not need there is unapplied credit.
    """
    _, fresh = _append_new(
        credits,
        gettext_lazy("a credit"),
        lambda c: (
            c.txn_id,
            c.account_pk,
            c.posted_on.isoformat(),
            "credit",
            int(c.amount * 100),
            c.code,
            None,
            c.applies_to_pk,
            None,
            c.reference,
            c.memo,
            None,
        ),
    )
    if not fresh:
        return 0
    accounts_replay({c.account_pk for c in fresh})
    return len(fresh)
