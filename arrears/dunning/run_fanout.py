"""The daily run's chunks handed to Celery workers (CELERY_BROKER_URL), and waited for.

The run's process keeps what the run does once (the run lock, the review of promises and plans
before the chunks, the inspection offers after) and sends one task per chunk; a worker does the
chunk through `services.run_chunk`, as the in-process run does, and writes its result in a
`RunChunk` row with the chunk's own rows. The run reads the results back from the database, in
chunk order, so its JSON is the in-process run's. Nothing is written until a worker answers
(`worker_wait`); a run whose workers stop answering (no chunk done within the wait) is marked
stopped (`RunLog.stopped`), and a chunk of it a worker finds later does nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from typing import Any

from django.utils.translation import gettext_lazy as _

from arrears.core.broker import workers_answering
from arrears.core.errors import DomainError
from arrears.dunning.models import RunChunk, RunLog
from arrears.dunning.run_rows import unpacked

POLL_SECONDS = 0.2  # how often the run reads its chunks done: one small query


class NoWorkerError(DomainError):
    """No worker answered, or none finished a chunk, within the run's wait."""

    code = "no_worker"


def worker_wait(wait: float) -> None:
    """Return once a worker of this book answers; NoWorkerError if none has within `wait`
    seconds. Asked before the run writes anything, so a run refused for want of a worker
    leaves the book as it was."""
    deadline = time.monotonic() + wait
    while not workers_answering(timeout=min(1.0, max(wait, 0.1)), first=True):
        if time.monotonic() >= deadline:
            raise NoWorkerError(
                _("no worker answered within {wait} s"),
                code="no_worker",
                wait=f"{wait:g}",
            )


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

    for index, pks in enumerate(chunks):
        run_chunk_task.apply_async(
            kwargs={
                "run_id": log.pk,
                "index": index,
                "pks": pks,
                "on": on.isoformat(),
                "actor": actor,
            }
        )
    total = sum(len(pks) for pks in chunks)
    done: dict[int, dict[str, Any]] = {}
    last = time.monotonic()
    while len(done) < len(chunks):
        found = RunChunk.objects.filter(run=log).exclude(index__in=list(done))
        new = {index: unpacked(kept) for index, kept in found.values_list("index", "result")}
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


def _stop(log: RunLog, why: str) -> None:
    log.stopped = why[:300]
    log.save(update_fields=["stopped"])
