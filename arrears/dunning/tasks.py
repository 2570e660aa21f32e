"""The Celery task of the daily run: one chunk of accounts (`services.run_chunk`).

Registered on the book's app (`core.broker.celery_app`), consumed by `arrears worker`. A chunk
done twice adds nothing (its `RunChunk` row, and every action's idempotency key), so the task is
acknowledged late and given back when its worker dies.

ARREARS_TEST_CHUNK_DELAY (seconds), for the tests of a worker killed mid-chunk only: each chunk
says "chunk N holding" on standard error and sleeps that long after writing its rows, before it
commits.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import date

from arrears.core.broker import celery_app
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


def _test_delay(index: int) -> Callable[[], None] | None:
    delay = float(os.environ.get("ARREARS_TEST_CHUNK_DELAY") or 0)
    if not delay:
        return None

    def hold() -> None:
        os.write(2, f"chunk {index} holding\n".encode())  # past the worker's own log handlers
        time.sleep(delay)

    return hold
