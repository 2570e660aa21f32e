"""The import of a book in the interchange format (docs/ledger-interchange.md), all or nothing:
properties, parties, accounts and their parties upserted by id, then the transactions
(`txn_import`).

Invariants: an import is one database transaction, under the book's write lock: any bad row and
nothing changes; a row whose id exists is updated (transactions: must be identical, then it is
skipped); every import that changes the book leaves a BookImport row.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import transaction

from arrears.core.dates import today
from arrears.ledger import bulk
from arrears.ledger.allocation import DEBITS
from arrears.ledger.interchange import (
    ORIGINAL_POSTED,
    BookImportError,
    Problem,
    RowError,
    SourceFile,
    open_book,
    read_rows,
)
from arrears.ledger.interchange.mapping import MappedBook, load_mapping, map_book
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
from arrears.ledger.periods import closed_through
from arrears.ledger.replay import TXN
from arrears.ledger.txn_import import Rules, import_transactions, phase

log = logging.getLogger("arrears.import")

Progress = Callable[[str, int, int], None]  # (file label, bytes done, bytes in all)


@dataclass
class ImportSummary:
    source: str
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)
    accounts_replayed: int = 0
    # Rows dated in a closed month posted on the first open day (`into_open_period`), and that day.
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


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        with file.open("rb") as stream:
            while block := stream.read(1 << 20):
                digest.update(block)
    return digest.hexdigest()


def book_import(
    path: Path,
    *,
    progress: Progress | None = None,
    into_open_period: bool = False,
    on: date | None = None,
    name: str = "",
    mapping: str = "",
    as_of: date | None = None,
) -> ImportSummary:
    """Import a book (folder, .zip or .xlsx) all or nothing; returns what changed.

    A transaction dated in a closed month (`periods`) is refused, unless `into_open_period`:
    then it is posted on the first open day, its own date kept in its `x_original_posted`
    column. `on` is the book's today (default: `core.dates.today()`), for the dates a file may
    hold (docs/ledger-interchange.md, project notes); `name` the file as its user named it, for
    the import's record (default: `path`; an upload's name, not its temporary file's).

    With `mapping` (a builtin mapping's name or a mapping file's path), `path` is a
    property-management export, translated onto the interchange files first
    (`interchange.mapping`); its problems name the export's own lines and columns. `as_of` dates
    an aging export that names no date (default: the book's today).

    Raises BookImportError naming file, line, column and reason for every bad row found (the
    first 50), and then the book is as it was.
    """
    rules = Rules(today=on or today(), into_open=into_open_period)
    if mapping:
        label = Path(name or str(path)).name
        mapped = map_book(path, load_mapping(mapping), as_of=as_of or rules.today, label=label)
        try:
            return _import(path, mapped.sources, rules, progress, name, mapped)
        except BookImportError as exc:
            raise mapped.explain(exc) from None
    return _import(path, open_book(path), rules, progress, name, None)


def _import(
    path: Path,
    sources: list[SourceFile],
    rules: Rules,
    progress: Progress | None,
    name: str,
    mapped: MappedBook | None,
) -> ImportSummary:
    name = name or str(path)
    summary = ImportSummary(source=Path(name).name)
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

    with phase("import"), transaction.atomic():
        # One import at a time: ids are handed out in file order. The lock also keeps the daily
        # run from deciding on any account while the import writes (`book_lock`), and a month
        # from closing meanwhile (`periods.period_close`).
        bulk.write_lock(TXN)
        rules.closed_through = closed_through()
        if mapped is not None:
            _mapped_checks(mapped, Path(name).name)
        for source in sources:
            importer = _IMPORTERS[source.kind.name]
            with phase(source.label):
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


def _mapped_checks(mapped: MappedBook, label: str) -> None:
    """What a property-management export must agree with in the book (`interchange.mapping`):
    an aging is an opening balance; a ledger starts where the book's account stands."""
    accounts = set(mapped.derived_opened) | set(mapped.carried)
    held = dict(
        Account.objects.filter(account_id__in=list(accounts)).values_list("account_id", "opened_on")
    )
    mapped.keep_opened(held)
    problems: list[Problem] = []
    if mapped.unresolved:
        payments: dict[str, list[tuple[str, Decimal]]] = {}
        rows = (
            Transaction.objects.filter(
                account__account_id__in={u[2] for u in mapped.unresolved},
                type="payment",
                reversed_by__isnull=True,
            )
            .order_by("posted_on", "id")
            .values_list("account__account_id", "txn_id", "amount")
        )
        for account_id, txn_id, amount in rows:
            payments.setdefault(account_id, []).append((txn_id, amount))
        problems += mapped.resolve_reversals(payments, label)
    if mapped.opening_accounts:
        problems += _opening_only(mapped.opening_accounts, label)
    if mapped.carried:
        problems += _carried_balances(mapped.carried, label)
    if problems:
        raise BookImportError(sorted(problems, key=lambda p: p.line))


def _carried_balances(
    carried: dict[str, tuple[int, str, Decimal, date, list[str]]], label: str
) -> list[Problem]:
    """A ledger export's first running balance, less its first row, is what the account owed
    before the file: it must be the book's balance before the file's first day (zero for an
    account new to the book), or the export starts in the middle of a history the book lacks."""
    problems = []
    for account_id, (line, column, before, first, txn_ids) in carried.items():
        rows = Transaction.objects.filter(
            account__account_id=account_id, posted_on__lt=first
        ).exclude(txn_id__in=txn_ids)
        book = sum(
            (t.amount if t.type in DEBITS else -t.amount for t in rows.only("type", "amount")),
            Decimal("0.00"),
        )
        if before != book:
            problems.append(
                Problem(
                    label,
                    line,
                    column,
                    f"account {account_id!r} owed {before:.2f} before this row, says the export; "
                    f"the book has {book:.2f} before {first.isoformat()}: the export starts in "
                    "the middle of a history the book lacks (import the earlier part first, or "
                    "export the ledger from move-in)",
                )
            )
    return problems


def _opening_only(opening: dict[str, tuple[int, str]], label: str) -> list[Problem]:
    """An aging export is an account's opening balance: refused for an account whose book
    already holds other entries (a second aging would count its debt twice)."""
    held = (
        Transaction.objects.filter(account__account_id__in=list(opening))
        .values_list("account__account_id", "txn_id")
        .order_by("account__account_id", "id")
    )
    problems, seen = [], set()
    for account_id, txn_id in held.iterator():
        line, prefix = opening[account_id]
        if not txn_id.startswith(prefix) and account_id not in seen:
            seen.add(account_id)
            problems.append(
                Problem(
                    label,
                    line,
                    "",
                    f"account {account_id!r} already holds entries (such as {txn_id!r}): an "
                    "aging export is an opening balance, for an account new to the book",
                )
            )
    return problems


def _remember_custom_columns(source: SourceFile) -> None:
    for name in source.header:
        if name.startswith("x_"):
            CustomColumn.objects.get_or_create(file_kind=source.kind.name, name=name)


def _collect(
    source: SourceFile, tick: Callable[[int], None] | None, rules: Rules
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
    bulk.insert_objects(new)  # COPY on PostgreSQL: a model instance a row, no SQL to compile
    if changed:
        model.objects.bulk_update(changed, sorted(fields), batch_size=2000)
    kind = source.kind.name
    summary.created[kind] = len(new)
    summary.updated[kind] = len(changed)
    summary.unchanged[kind] = len(rows) - len(new) - len(changed)


def _import_properties(source: SourceFile, summary: ImportSummary, tick: Any, rules: Rules) -> None:
    rows = _collect(source, tick, rules)
    _duplicates(source, rows, lambda r: r["property_id"], "property_id")
    _upsert(Property, "property_id", source, rows, summary)


def _import_parties(source: SourceFile, summary: ImportSummary, tick: Any, rules: Rules) -> None:
    rows = _collect(source, tick, rules)
    _duplicates(source, rows, lambda r: r["party_id"], "party_id")
    _upsert(Party, "party_id", source, rows, summary)


def _import_accounts(source: SourceFile, summary: ImportSummary, tick: Any, rules: Rules) -> None:
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
    source: SourceFile, summary: ImportSummary, tick: Any, rules: Rules
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
    bulk.insert_objects(new)
    AccountParty.objects.bulk_update(changed, ["guarantee_limit", "extra"], batch_size=2000)
    summary.created["account_parties"] = len(new)
    summary.updated["account_parties"] = len(changed)
    summary.unchanged["account_parties"] = len(rows) - len(new) - len(changed)


_IMPORTERS: dict[str, Callable[[SourceFile, ImportSummary, Any, Rules], None]] = {
    "properties": _import_properties,
    "parties": _import_parties,
    "accounts": _import_accounts,
    "account_parties": _import_account_parties,
    "transactions": import_transactions,
}
