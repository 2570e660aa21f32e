"""Cash application rebuilt from the book: an account's allocations, deltas and open items are
derived from its whole history (`allocation.apply_cash`), never edited by hand.

Invariants: the accounts rebuilt are exactly those in the touched table (TOUCHED), and each is
rebuilt whole: its three derived tables are emptied and written again in one pass, inside the
caller's transaction.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from datetime import date
from itertools import groupby
from typing import Any

from django.db import transaction

from arrears.ledger import bulk
from arrears.ledger.allocation import Entry, apply_cash
from arrears.ledger.models import (
    Allocation,
    OpenItem,
    OpenItemDelta,
    Transaction,
)
from arrears.ledger.replay_processes import replay_in_processes

TXN = Transaction._meta.db_table
TOUCHED = "arrears_touched_account"
# The book's columns in the order a bulk insert of new entries gives them.
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
ALLOCATION_COLUMNS = ("account_id", "charge_id", "source_id", "amount", "made_on", "undone_on")
DELTA_COLUMNS = ("account_id", "item_id", "is_credit", "due_on", "on_date", "delta")
OPEN_ITEM_COLUMNS = ("account_id", "item_id", "is_credit", "due_on", "amount")


def replay_touched(
    code_priority: Mapping[str, int] | None = None,
    *,
    processes: int = 1,
    bulk_load: bool = False,
) -> int:
    """Rebuild allocations, deltas and open items of the accounts in the touched table. With
    `processes` above 1, on PostgreSQL, the replays run in that many child processes
    (`replay_processes`): the same rows, for a large replay in less time. With `bulk_load` (a
    first load, whose derived rows outnumber those the tables hold) the three tables are bulk
    loaded (`bulk.loading`): their indexes and keys made again once after the rows."""
    for model in (Allocation, OpenItemDelta, OpenItem):
        bulk.execute(
            f"DELETE FROM {model._meta.db_table} WHERE account_id IN "
            f"(SELECT account_id FROM {TOUCHED})"
        )
    with contextlib.ExitStack() as loads:
        if bulk_load:
            for model in (Allocation, OpenItemDelta, OpenItem):
                loads.enter_context(bulk.loading(model._meta.db_table, primary_key=True))
        return _replay(code_priority, processes)


def _replay(code_priority: Mapping[str, int] | None, processes: int) -> int:
    if processes > 1 and bulk.is_postgres():
        derived = tuple(
            (model._meta.db_table, columns)
            for model, columns in (
                (Allocation, ALLOCATION_COLUMNS),
                (OpenItemDelta, DELTA_COLUMNS),
                (OpenItem, OPEN_ITEM_COLUMNS),
            )
        )
        return replay_in_processes(TOUCHED, TXN, derived, processes, code_priority)
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
        write_derived(allocations, deltas, open_items)
        allocations.clear()
        deltas.clear()
        open_items.clear()

    try:
        for account, group in groupby(rows, key=lambda r: r[0]):
            replay = apply_cash(entries(group), code_priority=code_priority)
            accounts += 1
            allocations.extend(
                (account, a.charge, a.source, a.amount, a.made_on, a.undone_on)
                for a in replay.allocations
            )
            # A Delta and an OpenAmount hold the columns of their tables, in order.
            deltas.extend((account, *d) for d in replay.deltas)
            open_items.extend((account, *o) for o in replay.open_items)
            if len(deltas) > bulk.CHUNK:
                flush()
    finally:
        # A replay that refuses an entry (a refund above the credit) closes the server-side
        # cursor now, in the transaction that opened it, not when the generator is collected
        # (after a rollback, where closing it would fail the next transaction).
        rows.close()
    flush()
    return accounts


def write_derived(
    allocations: list[tuple[Any, ...]], deltas: list[tuple[Any, ...]], open_items: list[Any]
) -> None:
    """Append rows of the three derived tables (amounts in whole cents, dates as dates)."""
    for model, columns, rows in (
        (Allocation, ALLOCATION_COLUMNS, allocations),
        (OpenItemDelta, DELTA_COLUMNS, deltas),
        (OpenItem, OPEN_ITEM_COLUMNS, open_items),
    ):
        bulk.insert_rows(model._meta.db_table, columns, rows, bulk.column_types(model, columns))


def accounts_replay(account_ids: Iterable[int]) -> int:
    """Rebuild cash application for these accounts (by primary key); returns how many."""
    with transaction.atomic():
        bulk.execute(f"DROP TABLE IF EXISTS {TOUCHED}")
        bulk.execute(f"CREATE TEMPORARY TABLE {TOUCHED} (account_id BIGINT PRIMARY KEY)")
        bulk.insert_rows(TOUCHED, ("account_id",), ((pk,) for pk in set(account_ids)))
        count = replay_touched()
        bulk.execute(f"DROP TABLE {TOUCHED}")
        return count
