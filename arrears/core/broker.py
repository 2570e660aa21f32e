"""The Celery application of this book: the broker the daily run's chunks go through.

With CELERY_BROKER_URL unset nothing here is used: the run does its chunks in its own process,
through the same function the workers call (`dunning.run_chunks.run_chunk`). With it set (a Redis
or a RabbitMQ), `arrears worker` consumes CELERY_QUEUE and the run hands its chunks to it.

Results come back through the database (each chunk writes a `RunChunk` row in its own
transaction), so there is no result backend. A chunk's message is acknowledged once the chunk
is done (`task_acks_late`) and given back when the worker running it dies
(`task_reject_on_worker_lost`), and a worker takes one message at a time
(`worker_prefetch_multiplier`): a worker killed mid-chunk leaves its chunk to another, and a
chunk done twice adds nothing.
"""

from __future__ import annotations

import functools
from typing import Any

from django.conf import settings


def broker_url() -> str:
    """The broker's URL, or "" when the run's chunks run in-process."""
    return str(getattr(settings, "CELERY_BROKER_URL", "") or "")


@functools.cache
def celery_app() -> Any:
    """The book's Celery application (made once per process)."""
    from celery import Celery

    queue = settings.CELERY_QUEUE
    app = Celery(
        "arrears", broker=broker_url(), include=["arrears.dunning.tasks", "arrears.access.tasks"]
    )
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_backend=None,
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue=queue,
        # Each book its own queue, and its own control exchange for `ping`, so that two books
        # on one broker neither take each other's chunks nor answer for each other's workers.
        control_exchange=f"{queue}.control",
        event_exchange=f"{queue}.events",
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": settings.CELERY_VISIBILITY_TIMEOUT},
        worker_hijack_root_logger=False,
        enable_utc=True,
        # The schedule's times (`arrears scheduler`, access.tasks) are the book's local times.
        timezone=settings.TIME_ZONE,
    )
    app.set_default()
    return app


def workers_answering(timeout: float = 1.0, *, first: bool = False) -> list[str]:
    """The names of the workers of this book's queue that answer a ping within `timeout`; with
    `first`, the first to answer only, as soon as it does (a ping otherwise waits out its
    `timeout` for every worker's answer: a second of every run through the workers)."""
    replies = celery_app().control.ping(timeout=timeout, limit=1 if first else None)
    return sorted(name for reply in replies for name in reply)
