"""Locks between the processes of one book that die with their holder: a job killed half-way
leaves no lock behind, and the same job run again goes on.

PostgreSQL: a session advisory lock on (space, key) (a transaction's, inside a caller's
transaction). SQLite: an exclusive `flock` on a file beside the database, named after the lock;
an in-memory database has one process, and a lock of that process.
"""

from __future__ import annotations

import contextlib
import fcntl
import threading
from collections.abc import Callable, Iterator

from django.db import connection

_MEMORY_LOCKS: dict[str, threading.Lock] = {}
_MEMORY_GUARD = threading.Lock()


@contextlib.contextmanager
def exclusive(*, space: int, key: int, name: str, busy: Callable[[], Exception]) -> Iterator[None]:
    """Hold the lock (`space`, `key`) on PostgreSQL, `name` on SQLite, or raise `busy()` at once
    when another holds it (see the module docstring)."""
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        # Inside a caller's transaction (the API's audited act): a lock of that transaction,
        # released with it whatever becomes of it.
        if not _pg_advisory("SELECT pg_try_advisory_xact_lock(%s, %s)", space, key):
            raise busy()
        yield
        return
    if connection.vendor == "postgresql":
        if not _pg_advisory("SELECT pg_try_advisory_lock(%s, %s)", space, key):
            raise busy()
        try:
            yield
        finally:
            _pg_advisory("SELECT pg_advisory_unlock(%s, %s)", space, key)
        return
    database = str(connection.settings_dict["NAME"])
    if database == ":memory:" or "mode=memory" in database:
        with _MEMORY_GUARD:
            lock = _MEMORY_LOCKS.setdefault(name, threading.Lock())
        if not lock.acquire(blocking=False):
            raise busy()
        try:
            yield
        finally:
            lock.release()
        return
    # Each open() is a lock of its own for flock, so two threads of one process exclude each
    # other as two processes do.
    with open(f"{database}.{name}", "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise busy() from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def pg_session_lock_take(space: int, key: int) -> bool:
    """Take the PostgreSQL session lock (`space`, `key`) again, after the connection that held
    it was lost (the lock ended with its session); True if this session holds it now."""
    return _pg_advisory("SELECT pg_try_advisory_lock(%s, %s)", space, key)


def _pg_advisory(statement: str, space: int, key: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(statement, [space, key])
        return bool(cursor.fetchone()[0])
