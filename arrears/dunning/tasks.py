"""The Celery tasks of the daily run, one chunk of accounts (`services.run_chunk`), and of
`mail send`, one batch of emails (`email_batches.email_batch_run`).

Registered on the book's app (`core.broker.celery_app`), consumed by `arrears worker`. A chunk
done twice adds nothing (its `RunChunk` row, and every action's idempotency key), and a batch
sent twice sends no email twice (arrears.dunning.email_batches), so both are acknowledged late
and given back when their worker dies.

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

from arrears.core.broker import celery_app
from arrears.correspondence.models import Outbound
from arrears.dunning.email_batches import email_batch_run
from arrears.dunning.services import run_chunk

app = celery_app()


@app.task(name="arrears.run_chunk", acks_late=True, reject_on_worker_lost=True)
def run_chunk_task(*, run_id: int, index: int, pks: list[int], on: str, actor: str) -> None:
    """Do chunk `index` of the run `run_id` (its accounts `pks`, for the date `on`)."""
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


@app.task(name="arrears.emails_batch", acks_late=True, reject_on_worker_lost=True)
def emails_batch_task(*, batch_id: int) -> None:
    """Send the batch `batch_id` of a `mail send` (its `EmailBatch` row)."""
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
