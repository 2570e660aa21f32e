"""Bulk writes and streaming reads that are fast on both databases.

PostgreSQL gets `COPY … FROM STDIN` and named (server-side) cursors; SQLite gets `executemany`
and its own lazy cursor. Callers pass plain Python values: ints, strings, dates, None.
"""

from __future__ import annotations

import logging
import os
import struct
import time
import zlib
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import connection

from arrears.core.lookups import sent_as_is

CHUNK = 20_000
# PostgreSQL's binary COPY format (its documentation, "COPY", "Binary Format"): the signature, the
# flags and the header extension's length before the rows; -1 as a field count after them. The
# rows that the import's processes write (`txn_parts`, `replay_processes`) go between the two.
COPY_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
COPY_BINARY_TRAILER = struct.pack(">h", -1)


def file_handed(path: str, write: Callable[[Any], object]) -> None:
    """Hand the bytes of the file at `path` to `write` (a COPY's, a file's) a megabyte at a
    time, then remove the file."""
    with open(path, "rb") as stream:
        while block := stream.read(1 << 20):
            write(block)
    os.unlink(path)


SLOW = 0.2  # seconds: slower statements are logged at INFO
log = logging.getLogger("arrears.sql")


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def write_lock(table: str) -> None:
    """Inside the caller's transaction, wait for and take the book's write lock: one writer of
    the book at a time. PostgreSQL: SHARE ROW EXCLUSIVE on `table`, which excludes itself and the
    ROW EXCLUSIVE lock every insert takes. SQLite: nothing more to do, the transaction took the
    database's one write lock when it began (BEGIN IMMEDIATE, config/settings.py), waiting for
    another writer up to the busy timeout."""
    if is_postgres():
        execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")


APPEND_LOCK_SPACE = 0x41505044  # "APPD": the namespace of the appenders' advisory locks


def append_lock(table: str) -> None:
    """Inside the caller's transaction, wait for and take the right to append to `table`: one
    appender at a time, and no `write_lock` holder meanwhile. PostgreSQL: ROW EXCLUSIVE on
    `table` (which a `write_lock` holder excludes: an import, a month closing), then a
    transaction-scoped advisory lock of `table` (one appender at a time). Not `write_lock`:
    appenders that already hold ROW EXCLUSIVE (the daily run's chunks, which lock the book with
    it before they decide, `posting.book_lock`) would each wait for the other's to go, which
    PostgreSQL ends as a deadlock when two chunks run at once on two workers. SQLite: nothing
    more to do (one writer at a time, from BEGIN IMMEDIATE)."""
    if is_postgres():
        execute(f"LOCK TABLE {table} IN ROW EXCLUSIVE MODE")
        execute(
            "SELECT pg_advisory_xact_lock(?, ?)",
            (APPEND_LOCK_SPACE, zlib.crc32(table.encode()) & 0x7FFFFFFF),
        )


@contextmanager
def loading(table: str, *, primary_key: bool = False) -> Iterator[None]:
    """A bulk load of `table`, inside the caller's transaction, on PostgreSQL: its secondary
    indexes, unique constraints and foreign keys are dropped for the load and made again after
    it, each in one pass over the whole table (a sort for an index, one join for a foreign key)
    instead of a B-tree insertion per index and a trigger call per key for every row. SQLite:
    nothing changes.

    The guarantees are the same: making a unique constraint again over rows that break it raises
    IntegrityError (a unique violation), and a foreign key over rows that name no parent raises
    IntegrityError too, as the row-by-row checks would have; the caller's transaction (or
    savepoint) then rolls back and the table is as it was, its indexes and keys with it (DDL is
    transactional in PostgreSQL). Not restored when the block raises: the rollback does that.

    The primary key stays (other tables' foreign keys point at it), unless `primary_key` is
    given for a table no foreign key names (the cash application's derived tables): it is then
    made again after the load too. The table's CHECK constraints and triggers stay. The price:
    DROP INDEX takes an ACCESS EXCLUSIVE lock on `table` until the transaction ends, so readers
    of the table wait for the rest of the load; use it for bulk loads only. Rows pending a
    deferred trigger of `table` from earlier in the same transaction would make ALTER TABLE
    fail: their checks are run first (SET CONSTRAINTS), and every deferrable constraint is
    deferred again after them (all of this project's are DEFERRABLE INITIALLY DEFERRED: Django's
    foreign keys).
    """
    if not is_postgres():
        yield
        return
    # Constraints (unique, foreign key) and the indexes that back none, with what makes them.
    keys = execute(
        "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = ?::regclass AND contype IN (?, 'u', 'f') ORDER BY contype DESC, conname",
        (table, "p" if primary_key else "u"),
    )
    if primary_key and execute(
        "SELECT 1 FROM pg_constraint WHERE confrelid = ?::regclass LIMIT 1", (table,)
    ):
        raise ValueError(f"{table}'s primary key is named by a foreign key: it stays for a load")
    indexes = execute(
        "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = ?::regclass "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) "
        "ORDER BY c.relname",
        (table,),
    )
    if any(kind == "f" for _, kind, _ in keys):
        # Dropping a foreign key alters the table it names too: the deferred checks pending on
        # either (rows inserted earlier in this transaction) are run now, as COMMIT would.
        execute("SET CONSTRAINTS ALL IMMEDIATE")
        execute("SET CONSTRAINTS ALL DEFERRED")  # every deferrable constraint here is so
    for name, _, _ in keys:
        execute(f"ALTER TABLE {table} DROP CONSTRAINT {connection.ops.quote_name(name)}")
    for name, _ in indexes:
        execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    yield
    started = time.perf_counter()
    execute("SET LOCAL maintenance_work_mem = '256MB'")  # sorts for the indexes in memory
    for _, definition in indexes:
        execute(definition)
    for name, _, definition in keys:  # unique constraints, the primary key, foreign keys
        execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {connection.ops.quote_name(name)} {definition}"
        )
    log.info("%s: indexes and keys made again in %.2fs", table, time.perf_counter() - started)


def holds_fewer_than(table: str, rows: int) -> bool:
    """Whether `table` holds fewer than `rows` rows: it reads at most that many (an index-only or
    sequential scan that stops there), so asking costs what the load it decides costs at most."""
    found = execute(f"SELECT 1 FROM {table} LIMIT 1 OFFSET ?", (max(rows - 1, 0),))
    return not found


def insert_rows(
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    types: Sequence[str] | None = None,
) -> int:
    """Insert rows into `table`; returns how many. Runs inside the caller's transaction.

    With `types` (the columns' PostgreSQL types, `column_types`), PostgreSQL gets a binary COPY:
    each value must then be of its column's Python type (int, str, bool, date, a dict for jsonb,
    None), and it is sent as the server keeps it, neither formatted as text here nor parsed
    there (about half the client's time of a text COPY, and less of the server's). SQLite gets
    the same rows (`types` unused): a JSON column's value must then be its JSON text.
    """
    count = 0
    cols = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        if is_postgres():
            binary = " (FORMAT BINARY)" if types else ""
            with cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN{binary}") as copy:
                if types:
                    copy.set_types(list(types))
                for row in rows:
                    copy.write_row(row)
                    count += 1
            return count
        marks = ", ".join("?" * len(columns))
        sql = f"INSERT INTO {table} ({cols}) VALUES ({marks})"
        raw = cursor.cursor  # sqlite3's own cursor: Django's wrapper would rewrite %s
        chunk: list[Sequence[Any]] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= CHUNK:
                raw.executemany(sql, chunk)
                count += len(chunk)
                chunk = []
        if chunk:
            raw.executemany(sql, chunk)
            count += len(chunk)
    return count


def column_types(model: Any, columns: Sequence[str]) -> tuple[str, ...]:
    """The PostgreSQL types of `model`'s `columns` (for `insert_rows`), as its fields make them,
    without their length (varchar(64) is varchar to a COPY)."""
    fields = {f.column: f for f in model._meta.concrete_fields}
    return tuple(fields[c].db_type(connection).split("(")[0] for c in columns)


def insert_plain_rows(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """`insert_rows` for rows of ints, dates, booleans and None only (no text to escape).

    On PostgreSQL the rows are formatted as COPY text here, a block at a time, several times
    faster than handing them over one by one: str() of these values is their COPY text ("True"
    is a boolean to PostgreSQL), and "None", which nothing else can spell, becomes NULL.
    """
    if not is_postgres():
        return insert_rows(table, columns, rows)
    count = 0
    cols = ", ".join(columns)
    template = "\t".join(["%s"] * len(columns))
    copy_sql = f"COPY {table} ({cols}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(copy_sql) as copy:
        lines: list[str] = []
        for row in rows:
            lines.append(template % tuple(row))
            if len(lines) >= CHUNK:
                copy.write(("\n".join(lines) + "\n").replace("None", "\\N"))
                count += len(lines)
                lines = []
        if lines:
            copy.write(("\n".join(lines) + "\n").replace("None", "\\N"))
            count += len(lines)
    return count


def insert_objects(objects: Sequence[Any]) -> int:
    """Insert unsaved model instances of one model with COPY (PostgreSQL) or executemany.

    Much faster than `bulk_create` for tens of thousands of rows; values are prepared by each
    field exactly as Django would save them. The instances do not get their primary keys.
    """
    if not objects:
        return 0
    model = type(objects[0])
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    columns = [f.column for f in fields]
    # A text in a text column, a number in a number column, goes as it is (`sent_as_is`):
    # the field's own preparation, a few method calls a value, would give it back unchanged.
    plain = [(f.attname, sent_as_is(f), f.get_db_prep_save) for f in fields]

    def prepared(obj: Any) -> list[Any]:
        values = obj.__dict__
        return [
            value if type(value := values[name]) is kind else prepare(value, connection)
            for name, kind, prepare in plain
        ]

    return insert_rows(model._meta.db_table, columns, map(prepared, objects))


def stream(
    sql: str, params: Sequence[Any] = (), *, name: str = "arrears_stream"
) -> Generator[Any, None, None]:
    """Rows of a query, fetched a block at a time so that memory stays flat."""
    if is_postgres():
        raw = connection.connection
        assert raw is not None
        with raw.cursor(name=name, binary=True) as cursor:
            cursor.itersize = CHUNK
            cursor.execute(sql.replace("?", "%s"), params)
            while block := cursor.fetchmany(CHUNK):
                yield from block
        return
    with connection.cursor() as cursor:
        raw = cursor.cursor
        raw.execute(sql, params)
        while True:
            block = raw.fetchmany(CHUNK)
            if not block:
                return
            yield from block


def execute(sql: str, params: Sequence[Any] = ()) -> Any:
    """Run one statement written with `?` placeholders; returns the cursor's rows, if any."""
    started = time.perf_counter()
    try:
        return _execute(sql, params)
    finally:
        took = time.perf_counter() - started
        if took > SLOW:
            log.info("%.2fs %s", took, sql[:160])


def _execute(sql: str, params: Sequence[Any]) -> Any:
    with connection.cursor() as cursor:
        if is_postgres():
            cursor.execute(sql.replace("?", "%s"), params)
        else:
            cursor.cursor.execute(sql, params)
        if cursor.description is None:
            return []
        return cursor.fetchall()
