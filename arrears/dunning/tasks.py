"""The Celery tasks of the daily run, one chunk of accounts (`services.run_chunk`), and of
`mail send`, one batch of emails (`email_batches.email_batch_run`).

Registered on the book's app (`core.broker.celery_app`), consumed by `arrears worker`. A chunk
done twice adds nothing (its `RunChunk` row, and every action's idempotency key), and a batch
sent twice sends no email twice (arrears.dunning.email_batches), so both are acknowledged late
and given back when their worker dies.

The database unreachable (PostgreSQL restarted, a network cut, a failover) fails the chunk's (or
the batch's) transaction, which commits nothing of it: the task closes its broken connection and
is tried again later (`autoretry_for`), after a wait doubling from RETRY_BACKOFF seconds to at
most RETRY_BACKOFF_MAX, each drawn at random below that (Celery's full jitter, so that the
workers whose chunks failed together do not all come back at once), at most RETRY_MAX times:
about 6 minutes at the longest, 3 on average. Past that the chunk is left undone; its run stops
waiting after its `--wait`, and the run done again does the rest (docs/scaling.md "Faults").

For the tests of a worker killed mid-task only: ARREARS_TEST_CHUNK_DELAY (seconds): each chunk
says "chunk N holding" on standard error and sleeps that long after writing its rows, before it
commits; ARREARS_TEST_EMAIL_DELAY: each email once sent and recorded says "email KEY holding"
and sleeps that long.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

from django.db import InterfaceError, OperationalError, connection

from arrears.core.broker import celery_app
from arrears.correspondence.models import Outbound
from arrears.dunning.email_batches import email_batch_run
from arrears.dunning.services import run_chunk

app = celery_app()

DB_ERRORS = (OperationalError, InterfaceError)
RETRY_BACKOFF = 2  # seconds before the first try again: 2, 4, 8, 16, 32, then 60 s
RETRY_BACKOFF_MAX = 60
RETRY_MAX = 10  # 2 + 4 + 8 + 16 + 32 + 5 × 60 = 362 s of waits at most


# Both tasks: acknowledged once done, given back when their worker dies, and tried again with
# backoff when the database fails them (the module docstring).
TASK_OPTIONS: dict[str, Any] = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": DB_ERRORS,
    "retry_backoff": RETRY_BACKOFF,
    "retry_backoff_max": RETRY_BACKOFF_MAX,
    "retry_jitter": True,
    "max_retries": RETRY_MAX,
}


@contextlib.contextmanager
def _connection_dropped_on_db_error() -> Iterator[None]:
    """A database error ends the task's transaction with nothing of it committed; the broken
    connection is closed, not asked again, so the next try opens a new one."""
    try:
        yield
    except DB_ERRORS:
        with contextlib.suppress(*DB_ERRORS):
            connection.close()
        raise


@app.task(name="arrears.run_chunk", **TASK_OPTIONS)
def run_chunk_task(*, run_id: int, index: int, pks: list[int], on: str, actor: str) -> None:
    """Do chunk `index` of the run `run_id` (its accounts `pks`, for the date `on`); tried again
    later when the database fails it (see the module docstring)."""
    with _connection_dropped_on_db_error():
        run_chunk(
            run_id=run_id,
            index=index,
            pks=pks,
            on=date.fromisoformat(on),
            dry_run=False,
            actor=actor,
            keep_result=True,
            before_commit=_test_delay(index),
        )


@app.task(name="arrears.emails_batch", **TASK_OPTIONS)
def emails_batch_task(*, batch_id: int) -> None:
    """Send the batch `batch_id` of a `mail send` (its `EmailBatch` row); tried again later when
    the database fails it, the emails recorded sent skipped (email_batches)."""
    with _connection_dropped_on_db_error():
        email_batch_run(batch_id=batch_id, after=_test_email_delay())


def _test_delay(index: int) -> Callable[[], None] | None:
    delay = float(os.environ.get("ARREARS_TEST_CHUNK_DELAY") or 0)
    if not delay:
        return None
    return lambda: _hold(f"chunk {index}", delay)


def _test_email_delay() -> Callable[[Outbound], None] | None:
    delay = float(os.environ.get("ARREARS_TEST_EMAIL_DELAY") or 0)
    if not delay:
        return None
    return lambda row: _hold(f"email {row.key}", delay)


def _hold(what: str, delay: float) -> None:
    os.write(2, f"{what} holding\n".encode())  # past the worker's own log handlers
    time.sleep(delay)
