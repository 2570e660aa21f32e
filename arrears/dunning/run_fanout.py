"""The daily run's chunks handed to Celery workers (CELERY_BROKER_URL), and waited for.

The run's process keeps what the run does once (the run lock, the review of promises and plans
before the chunks, the inspection offers after) and sends one task per chunk; a worker does the
chunk through `services.run_chunk`, as the in-process run does, and writes its result in a
`RunChunk` row with the chunk's own rows. The run reads the results back from the database, in
chunk order, so its JSON is the in-process run's. Nothing is written until a worker answers
(`worker_wait`); a run whose workers stop answering (no chunk done within the wait) is marked
stopped (`RunLog.stopped`), and a chunk of it a worker finds later does nothing.

A fault of the broker or of the database while the run waits is not the end of the run
(docs/scaling.md "Faults"): asking the workers, sending the chunks and reading the chunks done
are each tried again, with growing waits (`core.broker.fault_waits`), until the run's wait is
spent. The run's PostgreSQL lock, a session's, is lost with its connection: it is taken again on
the new one.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from django.db import InterfaceError, OperationalError, connection
from django.utils.translation import gettext_lazy as _

from arrears.core.broker import (
    POLL_SECONDS,
    NoWorkerError,
    broker_connection,
    broker_errors,
    fault_waits,
    no_broker,
    worker_wait,
)
from arrears.dunning.models import RunChunk, RunLog
from arrears.dunning.run_lock import run_lock_retake
from arrears.dunning.run_rows import unpacked

DB_ERRORS = (OperationalError, InterfaceError)

__all__ = ["NoWorkerError", "chunks_on_workers", "worker_wait"]


def chunks_on_workers(
    *,
    log: RunLog,
    on: date,
    chunks: list[list[int]],
    actor: str,
    wait: float,
    progress: Callable[[int, int], None] | None,
) -> list[dict[str, Any]]:
    """Send each chunk of the run `log` to the workers and wait for them; returns the chunks'
    results in chunk order. Raises NoWorkerError when no chunk is done for `wait` seconds (the
    run is then marked stopped)."""
    from arrears.dunning.tasks import run_chunk_task

    sent = 0
    errors = broker_errors()
    waits = fault_waits()
    deadline = time.monotonic() + wait
    while sent < len(chunks):
        # One connection for every chunk, a new one after a fault. A chunk sent twice (the
        # connection lost after the broker took it) is done once.
        try:
            with broker_connection() as broker:
                while sent < len(chunks):
                    run_chunk_task.apply_async(
                        kwargs={
                            "run_id": log.pk,
                            "index": sent,
                            "pks": chunks[sent],
                            "on": on.isoformat(),
                            "actor": actor,
                        },
                        connection=broker,
                        retry=False,
                    )
                    sent += 1
        except errors:
            if time.monotonic() >= deadline:
                _stop(log, f"the broker did not answer within {wait:g} s")
                raise no_broker(wait) from None
            time.sleep(next(waits))
    total = sum(len(pks) for pks in chunks)
    done: dict[int, dict[str, Any]] = {}
    last = time.monotonic()
    lost_lock = False
    while len(done) < len(chunks):
        try:
            if lost_lock:
                run_lock_retake(on)
                lost_lock = False
            found = RunChunk.objects.filter(run=log).exclude(index__in=list(done))
            new = {index: unpacked(kept) for index, kept in found.values_list("index", "result")}
        except DB_ERRORS:
            # The database went away: this connection (and the run's lock on PostgreSQL) with
            # it. A new one is made by the next query; the wait for a chunk runs on meanwhile.
            _close_broken()
            lost_lock = True
            if time.monotonic() - last >= wait:
                raise
            time.sleep(next(waits))
            continue
        waits = fault_waits()
        if new:
            done.update(new)
            last = time.monotonic()
            if progress:
                progress(sum(len(chunks[i]) for i in done), total)
            continue
        if time.monotonic() - last >= wait:
            _stop(log, f"no chunk done within {wait:g} s ({len(done)} of {len(chunks)} done)")
            raise NoWorkerError(
                _("no chunk done within {wait} s ({done} of {total} done): are the workers up?"),
                code="no_chunk_done",
                wait=f"{wait:g}",
                done=len(done),
                total=len(chunks),
            )
        time.sleep(POLL_SECONDS)
    # Read back, the results need not stay: the run's counts are kept on its RunLog row.
    RunChunk.objects.filter(run=log).update(result={})
    return [done[index] for index in range(len(chunks))]


def _close_broken() -> None:
    """Close the run's connection to the database, broken: the next query opens a new one."""
    with contextlib.suppress(*DB_ERRORS):
        connection.close()


def _stop(log: RunLog, why: str) -> None:
    log.stopped = why[:300]
    log.save(update_fields=["stopped"])
