"""The daily run's chunks handed to Celery workers (CELERY_BROKER_URL), and waited for.

The run's process keeps what the run does once (the run lock, the review of promises and plans
before the chunks, the inspection offers after) and sends one task per chunk; a worker does the
chunk through `services.run_chunk`, as the in-process run does, and writes its result in a
`RunChunk` row with the chunk's own rows. The run reads the results back from the database, in
chunk order, so its JSON is the in-process run's. Nothing is written until a worker answers
(`core.broker.worker_wait`); a run whose workers stop answering (no chunk done within the
wait) is marked stopped (`RunLog.stopped`), and a chunk of it a worker finds later does nothing.

A fault of the broker or of the database while the run waits is not the end of the run
(docs/scaling.md "Faults"): asking the workers, sending the chunks and reading the chunks done
are each tried again, with growing waits (`core.broker.fault_waits`), until the run's wait is
spent. The run's PostgreSQL lock, a session's, is lost with its connection: it is taken again on
the new one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django.utils import translation
from django.utils.translation import gettext_lazy as _

from arrears.core.broker import NoWorkerError, tasks_done
from arrears.dunning.models import RunChunk, RunLog
from arrears.dunning.run_lock import run_lock_retake
from arrears.dunning.run_rows import unpacked


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

    total = sum(len(pks) for pks in chunks)
    done: dict[int, dict[str, Any]] = {}

    def chunks_done() -> int:
        found = RunChunk.objects.filter(run=log).exclude(index__in=list(done))
        new = {index: unpacked(kept) for index, kept in found.values_list("index", "result")}
        if new:
            done.update(new)
            if progress:
                progress(sum(len(chunks[i]) for i in done), total)
        return len(done)

    def stopped(failure: NoWorkerError) -> None:
        with translation.override("en"):  # the run's record: in English, whoever reads it
            log.stopped = str(failure)[:300]
        log.save(update_fields=["stopped"])

    tasks_done(
        run_chunk_task,
        [
            {"run_id": log.pk, "index": n, "pks": pks, "on": on.isoformat(), "actor": actor}
            for n, pks in enumerate(chunks)
        ],
        wait=wait,
        total=len(chunks),
        done=chunks_done,
        stalled=(
            _("no chunk done within {wait} s ({done} of {total} done): are the workers up?"),
            "no_chunk_done",
        ),
        given_up=stopped,
        # The run's PostgreSQL lock, a session's, is lost with its connection.
        reconnected=lambda: run_lock_retake(on),
    )
    # Read back, the results need not stay: the run's counts are kept on its RunLog row.
    RunChunk.objects.filter(run=log).update(result={})
    return [done[index] for index in range(len(chunks))]
