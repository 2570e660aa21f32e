"""Cash application of a large replay (a first load of millions of transactions) spread over
processes, on PostgreSQL: the same `allocation.apply_cash`, the same rows, in the same order, as
`replay.replay_touched` writes in this process.

Why processes: the replay is Python, one account after another, and was about 40% of an import
(98 s of 238 s at 10M transactions, quiet). Accounts replay independently, so their replays can
run side by side; the rows they read are uncommitted (the import's own transaction), which no
other connection sees, so the children never touch the database. This process, the only one on
the connection, streams each part's entries to a file (`COPY … TO STDOUT`, a block at a time:
no row is looked at here) while the children replay the replays before it, and copies their
derived rows back in part order (`COPY … FROM STDIN (FORMAT BINARY)`, a block at a time), so
the rows and their ids are those of the replay in this process.

The children are forked (`fork`): they inherit the loaded code, and this process's database
connection, which they never use, and they leave by `os._exit` (multiprocessing's own), so
nothing of it is closed from there. What a child needs is only `apply_cash`, its part's file
and the code priority; what it gives back is three files of rows in PostgreSQL's binary COPY
format (its documentation, "COPY", "Binary Format") and how many accounts it replayed.

Dates travel as day numbers (days since 2000-01-01, PostgreSQL's own epoch for a binary date)
and stay so through the replay, which only compares dates and keeps them: no date object is
made for ten million entries.
"""

from __future__ import annotations

import csv
import logging
import multiprocessing
import os
import struct
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import groupby
from operator import itemgetter
from typing import Any

from django.db import connection

from arrears.ledger import bulk
from arrears.ledger.allocation import Entry, apply_cash
from arrears.ledger.models import Account

ACCOUNT = Account._meta.db_table

# The derived tables, each with the columns of its rows in a part's file, in the order of the
# files a part gives back (`replay_part`): allocations, deltas, open items.
Derived = tuple[tuple[str, tuple[str, ...]], ...]
log = logging.getLogger("arrears.import")
PARTS_PER_PROCESS = 8  # smaller replays: the first starts sooner and the last ends sooner


def replay_in_processes(
    touched: str,
    txn: str,
    derived: Derived,
    processes: int,
    code_priority: Mapping[str, int] | None = None,
) -> int:
    """Replay the accounts of the table `touched` (their derived rows already deleted) from the
    transactions table `txn` with `processes` children, into the `derived` tables; returns how
    many accounts. Raises what a replay raises (RefundAboveCreditError, ValueError) for the first
    account, in key order, that fails: the caller's transaction, which then rolls back, has the
    rows of the parts before."""
    accounts = [pk for (pk,) in _rows(f"SELECT account_id FROM {touched} ORDER BY 1")]
    if not accounts:
        return 0
    count = max(1, min(len(accounts), processes * PARTS_PER_PROCESS))
    size = -(-len(accounts) // count)
    parts = [accounts[i : i + size] for i in range(0, len(accounts), size)]
    replayed = 0
    spent = {"out": 0.0, "wait": 0.0, "in": 0.0}

    def derived_in(replay: Future[tuple[int, list[str]]]) -> int:
        started = time.perf_counter()
        done = replay.result()
        spent["wait"] += time.perf_counter() - started
        started = time.perf_counter()
        accounts = _derived_in(derived, done)
        spent["in"] += time.perf_counter() - started
        return accounts

    with tempfile.TemporaryDirectory(prefix="arrears-replay-") as folder:
        pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork"))
        try:
            replays: list[Future[tuple[int, list[str]]]] = []
            written = 0
            for n, part in enumerate(parts):
                entries = os.path.join(folder, f"{n}.csv")
                started = time.perf_counter()
                _entries_out(touched, txn, part, entries)
                spent["out"] += time.perf_counter() - started
                replays.append(pool.submit(replay_part, entries, dict(code_priority or {})))
                # The parts already replayed, in order, while the others are.
                while written < len(replays) and replays[written].done():
                    replayed += derived_in(replays[written])
                    written += 1
            for replay in replays[written:]:
                replayed += derived_in(replay)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    log.info(
        "replayed in %d processes, %d parts: entries out %.2fs, waiting %.2fs, rows in %.2fs",
        processes,
        len(parts),
        spent["out"],
        spent["wait"],
        spent["in"],
    )
    return replayed


def _rows(sql: str) -> list[Any]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def _entries_out(touched: str, txn: str, part: list[int], path: str) -> None:
    """The entries of the touched accounts `part` (in key order), in book order, as CSV into
    `path`."""
    lo, hi = part[0], part[-1]
    # Every account from lo to hi touched (a first load): no join with the touched table.
    (between,) = _rows(f"SELECT COUNT(*) FROM {ACCOUNT} WHERE id BETWEEN {lo:d} AND {hi:d}")[0]
    only = (
        "" if between == len(part) else f"AND t.account_id IN (SELECT account_id FROM {touched}) "
    )
    sql = (
        f"COPY (SELECT t.account_id, t.id, t.type, t.posted_on - DATE '2000-01-01', t.amount, "
        f"t.due_on - DATE '2000-01-01', t.code, t.applies_to_id, t.reverses_id FROM {txn} t "
        f"WHERE t.account_id BETWEEN {lo:d} AND {hi:d} {only}"
        f"ORDER BY t.account_id, t.posted_on, t.id) TO STDOUT (FORMAT CSV)"
    )
    with connection.cursor() as cursor, open(path, "wb") as out:
        # In key order, the index's (txn_account_order), not sorted again: PostgreSQL's own plan
        # (a bitmap scan, then a sort spilled to disk) took 27.9 s for 10M rows against 10.4 s.
        # No JIT either: compiling the plan costs more than the scan it would speed.
        cursor.execute("SELECT current_setting('enable_sort'), current_setting('jit')")
        sort, jit = cursor.fetchone()
        cursor.execute(
            "SELECT set_config('enable_sort', 'off', true), set_config('jit', 'off', true)"
        )
        with cursor.cursor.copy(sql) as copy:
            for block in copy:
                out.write(block)
        cursor.execute(
            "SELECT set_config('enable_sort', %s, true), set_config('jit', %s, true)", [sort, jit]
        )


def _derived_in(derived: Derived, part: tuple[int, list[str]]) -> int:
    """Copy a replayed part's rows into the three derived tables; returns its accounts."""
    accounts, paths = part
    with connection.cursor() as cursor:
        for (table, columns), path in zip(derived, paths, strict=True):
            sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
            with cursor.cursor.copy(sql) as copy:
                bulk.file_handed(path, copy.write)
    return accounts


# What a child runs: no database, no Django; the files in, the files out.

_NULL = -1
# A row of each table: its field count, then each field's length and value (int8 8 bytes, a
# date 4, a boolean 1), a NULL as length -1 with no value.
_ALLOCATION = struct.Struct(">h iq iq iq iq ii ii")
_ALLOCATION_LIVE = struct.Struct(">h iq iq iq iq ii i")  # undone_on NULL
_DELTA = struct.Struct(">h iq iq i? ii ii iq")
_DELTA_NO_DUE = struct.Struct(">h iq iq i? i ii iq")
_OPEN = struct.Struct(">h iq iq i? ii iq")
_OPEN_NO_DUE = struct.Struct(">h iq iq i? i iq")


def replay_part(path: str, code_priority: Mapping[str, int]) -> tuple[int, list[str]]:
    """Replay the accounts of the entries file `path` (`_entries_out`); write their
    allocations, deltas and open items next to it; returns (accounts, the three files)."""
    outputs = [f"{path}.{name}" for name in ("allocations", "deltas", "open_items")]
    accounts = 0
    with (
        open(path, newline="") as source,
        open(outputs[0], "wb") as allocations,
        open(outputs[1], "wb") as deltas,
        open(outputs[2], "wb") as open_items,
    ):
        for out in (allocations, deltas, open_items):
            out.write(bulk.COPY_BINARY_HEADER)
        for account, group in groupby(csv.reader(source), key=itemgetter(0)):
            replay = apply_cash(_entries(group), code_priority=code_priority)
            accounts += 1
            pk = int(account)
            allocations.write(b"".join(_allocation_rows(pk, replay.allocations)))
            deltas.write(b"".join(_delta_rows(pk, replay.deltas)))
            open_items.write(b"".join(_open_rows(pk, replay.open_items)))
        for out in (allocations, deltas, open_items):
            out.write(bulk.COPY_BINARY_TRAILER)
    os.unlink(path)
    return accounts, outputs


def _entries(rows: Iterable[list[str]]) -> Iterator[Entry]:
    for _, pk, kind, posted, amount, due, code, applies, reverses in rows:
        yield Entry(
            int(pk),
            kind,
            int(posted),  # type: ignore[arg-type]  # a day number: see the module docstring
            int(amount),
            int(due) if due else None,  # type: ignore[arg-type]
            code,
            int(applies) if applies else None,
            int(reverses) if reverses else None,
        )


def _allocation_rows(pk: int, rows: Iterable[Any]) -> Iterator[bytes]:
    for a in rows:
        if a.undone_on is None:
            yield _ALLOCATION_LIVE.pack(
                6, 8, pk, 8, a.charge, 8, a.source, 8, a.amount, 4, a.made_on, _NULL
            )
        else:
            yield _ALLOCATION.pack(
                6, 8, pk, 8, a.charge, 8, a.source, 8, a.amount, 4, a.made_on, 4, a.undone_on
            )


def _delta_rows(pk: int, rows: Iterable[Any]) -> Iterator[bytes]:
    for item, is_credit, due_on, on_date, delta in rows:
        if due_on is None:
            yield _DELTA_NO_DUE.pack(6, 8, pk, 8, item, 1, is_credit, _NULL, 4, on_date, 8, delta)
        else:
            yield _DELTA.pack(6, 8, pk, 8, item, 1, is_credit, 4, due_on, 4, on_date, 8, delta)


def _open_rows(pk: int, rows: Iterable[Any]) -> Iterator[bytes]:
    for item, is_credit, due_on, amount in rows:
        if due_on is None:
            yield _OPEN_NO_DUE.pack(5, 8, pk, 8, item, 1, is_credit, _NULL, 8, amount)
        else:
            yield _OPEN.pack(5, 8, pk, 8, item, 1, is_credit, 4, due_on, 8, amount)
