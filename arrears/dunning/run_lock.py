"""The lock of the daily run: two real runs of a date never run at once (dunning.services).

The lock dies with its holder, so a run killed half-way, run again, resumes. PostgreSQL: a session
advisory lock keyed by the date (a transaction's, inside a caller's transaction). SQLite: an
exclusive `flock` on a file beside the database (one real run at a time on it, whatever the date:
SQLite serialises writers anyway); an in-memory database has one process, and a lock of that
process.
"""

from __future__ import annotations

import contextlib
import fcntl
import threading
from collections.abc import Iterator
from datetime import date

from django.db import connection
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _

from arrears.core.dates import book_zone
from arrears.core.errors import DomainError
from arrears.dunning.models import RunLog

RUN_LOCK_SPACE = 0x41525253  # "ARRS": the namespace of the run's PostgreSQL advisory locks
_MEMORY_RUN_LOCK = threading.Lock()


class RunInProgressError(DomainError):
    """Another real run holds the run's lock: two runs of a date never run at once."""

    code = "run_in_progress"


@contextlib.contextmanager
def run_lock(on: date) -> Iterator[None]:
    """Hold the lock of a real run for `on`, or raise RunInProgressError naming the run that
    holds it (see the module docstring)."""
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        # Inside a caller's transaction (the API's audited act): a lock of that transaction,
        # released with it whatever becomes of it.
        if not _pg_advisory("SELECT pg_try_advisory_xact_lock(%s, %s)", on):
            raise _in_progress(on)
        yield
        return
    if connection.vendor == "postgresql":
        if not _pg_advisory("SELECT pg_try_advisory_lock(%s, %s)", on):
            raise _in_progress(on)
        try:
            yield
        finally:
            _pg_advisory("SELECT pg_advisory_unlock(%s, %s)", on)
        return
    name = str(connection.settings_dict["NAME"])
    if name == ":memory:" or "mode=memory" in name:
        if not _MEMORY_RUN_LOCK.acquire(blocking=False):
            raise _in_progress(on)
        try:
            yield
        finally:
            _MEMORY_RUN_LOCK.release()
        return
    with open(f"{name}.run-lock", "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _in_progress(on) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run_lock_retake(on: date) -> bool:
    """Take the run's lock for `on` again after the run's database connection was lost (a
    PostgreSQL session lock ends with its session); True if this run holds it now. False: a
    run started meanwhile holds it, and both go on (what one does the other finds done: every
    action's idempotency key). The file lock of a SQLite book is not the connection's: kept."""
    if connection.vendor != "postgresql":
        return True
    return _pg_advisory("SELECT pg_try_advisory_lock(%s, %s)", on)


def _pg_advisory(statement: str, on: date) -> bool:
    """Run one of PostgreSQL's advisory lock functions on the run's key for `on`."""
    with connection.cursor() as cursor:
        cursor.execute(statement, [RUN_LOCK_SPACE, on.toordinal()])
        return bool(cursor.fetchone()[0])


def _in_progress(on: date) -> RunInProgressError:
    running = (
        RunLog.objects.filter(dry_run=False, finished_at__isnull=True)
        .order_by("-started_at")
        .first()
    )
    if running is None:
        return RunInProgressError(
            _("a run for {date} is in progress"), code="run_in_progress", date=on.isoformat()
        )
    started = dj_timezone.localtime(running.started_at, book_zone())
    return RunInProgressError(
        _("a run for {date} is in progress (started {started})"),
        code="run_in_progress",
        date=running.run_on.isoformat(),
        started_at=running.started_at.isoformat(),
        started=f"{started:%Y-%m-%d %H:%M:%S %Z}",
    )
