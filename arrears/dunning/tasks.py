"""The Celery tasks of the daily run, one chunk of accounts (`services.run_chunk`), and of
`mail send`, one batch of emails (`email_batches.email_batch_run`).

Registered on the book's app (`core.broker.celery_app`), consumed by `arrears worker`. A chunk
done twice adds nothing (its `RunChunk` row, and every action's idempotency key), and a batch
sent twice sends no email twice (arrears.dunning.email_batches), so both are acknowledged late
and given back when their worker dies.

The database unreachable (PostgreSQL restarted, a network cut, a failover) fails the chunk's (or
the batch's) transaction, which commits nothing of it: the task closes its broken connection and
is tried again later, with growing waits (`core.broker.TASK_OPTIONS`). Past its last try the
chunk is left undone; its run stops waiting after its `--wait`, and the run done again does the
rest (docs/scaling.md "Faults").

For the tests of a worker killed mid-task only: ARREARS_TEST_CHUNK_DELAY (seconds): each chunk
says "chunk N holding" on standard error and sleeps that long after writing its rows, before it
commits; ARREARS_TEST_EMAIL_DELAY: each email once sent and recorded says "email KEY holding"
and sleeps that long.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import date

from arrears.core.broker import TASK_OPTIONS, celery_app, connection_dropped_on_db_error
from arrears.correspondence.models import Outbound
from arrears.dunning.email_batches import email_batch_run
from arrears.dunning.services import run_chunk

app = celery_app()


@app.task(name="arrears.run_chunk", **TASK_OPTIONS)
def run_chunk_task(*, run_id: int, index: int, pks: list[int], on: str, actor: str) -> None:
    """Do chunk `index` of the run `run_id` (its accounts `pks`, for the date `on`); tried again
    later when the database fails it (see the module docstring)."""
    with connection_dropped_on_db_error():
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
    with connection_dropped_on_db_error():
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
