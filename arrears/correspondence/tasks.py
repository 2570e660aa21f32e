"""The Celery task of the letters batch: one chunk of a print batch's letters rendered into the
archive (`letter_chunks.letters_chunk`).

Registered on the book's app (`core.broker.celery_app`), consumed by `arrears worker`. A chunk
done twice renders nothing twice (only its letters still queued, locked), so the task is
acknowledged late, given back when its worker dies, and tried again when the database fails it
(`core.broker.TASK_OPTIONS`). A pool process may not start processes
of its own: the chunk's PDFs are rendered in the worker's process (workers=1).

ARREARS_TEST_LETTER_DELAY (seconds), for the tests of a worker killed mid-chunk only: each chunk
says "letters chunk N holding" on standard error and sleeps that long once its first part's rows
are written, before they are committed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from arrears.core.broker import TASK_OPTIONS, celery_app, connection_dropped_on_db_error
from arrears.correspondence.letter_chunks import letters_chunk

app = celery_app()


@app.task(name="arrears.letters_chunk", **TASK_OPTIONS)
def letters_chunk_task(*, batch: int, index: int, pks: list[int], actor: str) -> None:
    """Render chunk `index` of the print batch `batch` (its letters `pks`); tried again later
    when the database fails it, the letters committed rendered skipped."""
    with connection_dropped_on_db_error():
        letters_chunk(batch=batch, pks=pks, actor=actor, workers=1, before_commit=_held(index))


def _held(index: int) -> Callable[[], None] | None:
    seconds = float(os.environ.get("ARREARS_TEST_LETTER_DELAY") or 0)
    if not seconds:
        return None

    def hold() -> None:
        os.write(2, f"letters chunk {index} holding\n".encode())  # past the worker's log handlers
        time.sleep(seconds)

    return hold
