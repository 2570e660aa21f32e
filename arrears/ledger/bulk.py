"""Bulk writes and streaming reads that are fast on both databases.

PostgreSQL gets `COPY … FROM STDIN` and named (server-side) cursors; SQLite gets `executemany`
and its own lazy cursor. Callers pass plain Python values: ints, strings, dates, None.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Generator, Iterable, Sequence
from typing import Any

from django.db import connection

CHUNK = 20_000
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


def insert_rows(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert rows into `table`; returns how many. Runs inside the caller's transaction."""
    count = 0
    cols = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        if is_postgres():
            with cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
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
    rows = (
        [f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields] for obj in objects
    )
    return insert_rows(model._meta.db_table, columns, rows)


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
