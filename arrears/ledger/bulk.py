"""Bulk writes and streaming reads that are fast on both databases.

PostgreSQL gets `COPY … FROM STDIN` and named (server-side) cursors; SQLite gets `executemany`
and its own lazy cursor. Callers pass plain Python values: ints, strings, dates, None.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.db import connection

CHUNK = 20_000
SLOW = 0.2  # seconds: slower statements are logged at INFO
log = logging.getLogger("arrears.sql")


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def insert_rows(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert rows into `table`; returns how many. Runs inside the caller's transaction."""
    count = 0
    cols = ", ".join(columns)
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


def stream(sql: str, params: Sequence[Any] = (), *, name: str = "arrears_stream") -> Iterator[Any]:
    """Rows of a query, fetched a block at a time so that memory stays flat."""
    if is_postgres():
        raw = connection.connection
        assert raw is not None
        with raw.cursor(name=name) as cursor:
            cursor.itersize = CHUNK
            cursor.execute(sql.replace("?", "%s"), params)
            yield from cursor
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
