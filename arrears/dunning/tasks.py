"""The Celery task of the daily run: one chunk of accounts (`services.run_chunk`).

Registered on the book's app (`core.broker.celery_app`), consumed by `arrears worker`. A chunk
done twice adds nothing (its `RunChunk` row, and every action's idempotency key), so the task is
acknowledged late and given back when its worker dies.

The database unreachable (PostgreSQL restarted, a network cut, a failover) fails the chunk's
transaction, which commits nothing of it: the task closes its broken connection and is tried
again later (`autoretry_for`), after a wait doubling from RETRY_BACKOFF seconds to at most
RETRY_BACKOFF_MAX, each drawn at random below that (Celery's full jitter, so that the workers
whose chunks failed together do not all come back at once), at most RETRY_MAX times: about 6
minutes at the longest, 3 on average. Past that the chunk is left undone; its run stops waiting
after its `--wait`, and the run done again does the rest (docs/scaling.md "Faults").

ARREARS_TEST_CHUNK_DELAY (seconds), for the tests of a worker killed mid-chunk only: each chunk
says "chunk N holding" on standard error and sleeps that long after writing its rows, before it
commits.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from datetime import date

from django.db import InterfaceError, OperationalError, connection

from arrears.core.broker import celery_app
from arrears.dunning.services import run_chunk

app = celery_app()

DB_ERRORS = (OperationalError, InterfaceError)
RETRY_BACKOFF = 2  # seconds before the first try again: 2, 4, 8, 16, 32, then 60 s
RETRY_BACKOFF_MAX = 60
RETRY_MAX = 10  # 2 + 4 + 8 + 16 + 32 + 5 × 60 = 362 s of waits at most


@app.task(
    name="arrears.run_chunk",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=DB_ERRORS,
    retry_backoff=RETRY_BACKOFF,
    retry_backoff_max=RETRY_BACKOFF_MAX,
    retry_jitter=True,
    max_retries=RETRY_MAX,
)
def run_chunk_task(*, run_id: int, index: int, pks: list[int], on: str, actor: str) -> None:
    """Do chunk `index` of the run `run_id` (its accounts `pks`, for the date `on`); tried again
    later when the database fails it (see the module docstring)."""
    try:
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
    except DB_ERRORS:
        # Its transaction is gone with the connection, nothing of the chunk committed. The
        # connection is not asked again: the next try opens a new one.
        with contextlib.suppress(*DB_ERRORS):
            connection.close()
        raise


def _test_delay(index: int) -> Callable[[], None] | None:
    delay = float(os.environ.get("ARREARS_TEST_CHUNK_DELAY") or 0)
    if not delay:
        return None

    def hold() -> None:
        os.write(2, f"chunk {index} holding\n".encode())  # past the worker's own log handlers
        time.sleep(delay)

    return hold
