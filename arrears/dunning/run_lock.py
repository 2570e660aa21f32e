"""The lock of the daily run: two real runs of a date never run at once (dunning.services).

The lock dies with its holder, so a run killed half-way, run again, resumes (`core.locks`).
PostgreSQL: an advisory lock keyed by the date. SQLite: a `flock` on the file `<database>.run-lock`
(one real run at a time on it, whatever the date: SQLite serialises writers anyway).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import date

from django.db import connection
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _

from arrears.core.dates import book_zone
from arrears.core.errors import DomainError
from arrears.core.locks import exclusive, pg_session_lock_take
from arrears.dunning.models import RunLog

RUN_LOCK_SPACE = 0x41525253  # "ARRS": the namespace of the run's PostgreSQL advisory locks


class RunInProgressError(DomainError):
    """Another real run holds the run's lock: two runs of a date never run at once."""

    code = "run_in_progress"


@contextlib.contextmanager
def run_lock(on: date) -> Iterator[None]:
    """Hold the lock of a real run for `on`, or raise RunInProgressError naming the run that
    holds it (see the module docstring)."""
    with exclusive(
        space=RUN_LOCK_SPACE, key=on.toordinal(), name="run-lock", busy=lambda: _in_progress(on)
    ):
        yield


def run_lock_retake(on: date) -> bool:
    """Take the run's lock for `on` again after the run's database connection was lost (a
    PostgreSQL session lock ends with its session); True if this run holds it now. False: a
    run started meanwhile holds it, and both go on (what one does the other finds done: every
    action's idempotency key). The file lock of a SQLite book is not the connection's: kept."""
    if connection.vendor != "postgresql":
        return True
    return pg_session_lock_take(RUN_LOCK_SPACE, on.toordinal())


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
