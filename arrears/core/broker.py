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

The broker going away for a while (restarted, a network cut) is ridden out, not failed
(docs/scaling.md "Faults"): a worker reconnects until it is back (`broker_connection_retry`,
with no limit of tries), a chunk it was doing when the connection went is finished and its row
committed, and the message, unacknowledged, comes back to a worker, which finds the chunk done;
the run's process asks again (`broker_errors`) until its wait is spent.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils.translation import gettext_lazy as _

from arrears.core.errors import DomainError


class NoWorkerError(DomainError):
    """No worker answered, or none finished a chunk, within the wait of a run or a batch."""

    code = "no_worker"


log = logging.getLogger("arrears.broker")

REDIS_SOCKET_SECONDS = 30  # above kombu's 1 s BRPOP and 25 s health checks


DB_ERRORS = (OperationalError, InterfaceError)  # the database unreachable, or its connection lost

# Every task of a run, a letters batch or a mail send: acknowledged once done, given back when
# its worker dies (each is idempotent: done twice, it adds nothing), and tried again later when
# the database fails it, after a wait doubling from RETRY_BACKOFF seconds to at most
# RETRY_BACKOFF_MAX, each drawn at random below that (Celery's full jitter, so that the workers
# whose tasks failed together do not all come back at once), at most RETRY_MAX times: about 6
# minutes at the longest, 3 on average. Past that the task is left undone; the run or batch that
# sent it stops waiting after its wait, and done again does the rest (docs/scaling.md "Faults").
RETRY_BACKOFF = 2  # seconds before the first try again: 2, 4, 8, 16, 32, then 60 s
RETRY_BACKOFF_MAX = 60
RETRY_MAX = 10  # 2 + 4 + 8 + 16 + 32 + 5 × 60 = 362 s of waits at most
TASK_OPTIONS: dict[str, Any] = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": DB_ERRORS,
    "retry_backoff": RETRY_BACKOFF,
    "retry_backoff_max": RETRY_BACKOFF_MAX,
    "retry_jitter": True,
    "max_retries": RETRY_MAX,
}


def broker_url() -> str:
    """The broker's URL, or "" when the run's chunks run in-process."""
    return str(getattr(settings, "CELERY_BROKER_URL", "") or "")


def on_workers() -> bool:
    """Whether work begun now goes to the workers: with a broker, and not from inside a
    caller's transaction (the page's or the API's act), whose rows the workers' connections
    could not see."""
    return bool(broker_url()) and not transaction.get_connection().in_atomic_block


@contextlib.contextmanager
def connection_dropped_on_db_error() -> Iterator[None]:
    """A task's body: a database error ends its transaction with nothing of it committed; the
    broken connection is closed, not asked again, so the task's next try opens a new one."""
    try:
        yield
    except DB_ERRORS:
        _close_broken()
        raise


def _close_broken() -> None:
    with contextlib.suppress(*DB_ERRORS):
        connection.close()


@functools.cache
def celery_app() -> Any:
    """The book's Celery application (made once per process)."""
    from celery import Celery

    queue = settings.CELERY_QUEUE
    app = Celery(
        "arrears",
        broker=broker_url(),
        include=[
            "arrears.dunning.tasks",
            "arrears.correspondence.tasks",
            "arrears.access.tasks",
        ],
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
        # A worker whose broker went away tries again, with kombu's growing waits (2 s more each
        # time, at most 30 s between tries), for as long as it takes: it has nothing else to do.
        broker_connection_retry=True,
        broker_connection_max_retries=None,
        # A chunk under way when the connection went is finished, not cancelled: it commits, and
        # its message (not acknowledged, so given again) finds it done. Celery 6's default would
        # cancel it and do it again.
        worker_cancel_long_running_tasks_on_connection_loss=False,
        broker_transport_options=_transport_options(),
        worker_hijack_root_logger=False,
        enable_utc=True,
        # The schedule's times (`arrears scheduler`, access.tasks) are the book's local times.
        timezone=settings.TIME_ZONE,
    )
    app.set_default()
    return app


def _transport_options() -> dict[str, Any]:
    if broker_url().startswith("amqp://"):
        # Publisher confirms: a chunk sent is sent once RabbitMQ says it has it. Without, a
        # chunk written to the socket as the broker went down is lost unnoticed (AMQP's publish
        # has no answer), and its run waits for it in vain (Redis answers every command).
        return {"confirm_publish": True}
    visibility = settings.CELERY_VISIBILITY_TIMEOUT
    return {
        "visibility_timeout": visibility,
        # A chunk a dead worker held is given again once it is older than the visibility
        # timeout, by a scan of the unacknowledged messages that kombu does on every tenth
        # call of a timer every 10 s: 100 s late. Every call, at a tenth of the timeout (1 to
        # 10 s), makes it due within a tenth of the timeout past it (one small ZRANGE a call).
        "unacked_restore_throttle": 1,
        "unacked_restore_interval": max(1, min(10, visibility // 10)),
        # A Redis gone without closing its connections (a failover, a network cut that sends
        # no reset): a command waits this long for its answer rather than forever, and
        # kombu's checks of the idle connections (every 25 s) get their turn.
        "socket_timeout": REDIS_SOCKET_SECONDS,
        "socket_connect_timeout": REDIS_SOCKET_SECONDS,
        "socket_keepalive": True,
    }


def workers_answering(timeout: float = 1.0, *, first: bool = False) -> list[str]:
    """The names of the workers of this book's queue that answer a ping within `timeout`; with
    `first`, the first to answer only, as soon as it does (a ping otherwise waits out its
    `timeout` for every worker's answer: a second of every run through the workers). Raises
    one of `broker_errors()` when the broker cannot be reached."""
    replies = celery_app().control.ping(timeout=timeout, limit=1 if first else None)
    return sorted(name for reply in replies for name in reply)


def broker_errors() -> tuple[type[BaseException], ...]:
    """What the broker's client raises when the broker cannot be reached (connection refused,
    closed, timed out), for either transport: worth asking again once it is back."""
    from kombu.exceptions import OperationalError

    connection = celery_app().connection_for_write()
    return (OperationalError, *connection.connection_errors)


def broker_connection() -> Any:
    """A new connection to the broker (a context manager, closed after), to publish on with
    kombu's own retry left off (`retry=False`): its caller asks again on `broker_errors()`,
    with a new connection, because kombu's Redis channel, revived after its connection was
    lost, fails on `None` (an AttributeError, not a connection error). Opening it tries a few
    times (about 6 s) before it raises."""
    return celery_app().connection_for_write()


POLL_SECONDS = 0.2  # how often a run or a batch reads what its workers did: one small query
# The waits between tries after a fault of the broker or the database: doubling from the poll's
# 0.2 s to at most 5 s, so that a blip costs a fraction of a second and a restart no more than
# 5 s past its end, without a hundred failed connections a minute meanwhile.
WAIT_MAX_SECONDS = 5.0


def fault_waits() -> Iterator[float]:
    """The waits between tries after a fault: POLL_SECONDS doubling to WAIT_MAX_SECONDS."""
    wait = POLL_SECONDS
    while True:
        yield wait
        wait = min(wait * 2, WAIT_MAX_SECONDS)


def worker_wait(wait: float) -> None:
    """Return once a worker of this book answers; NoWorkerError if none has within `wait`
    seconds. Asked before a run, a letters batch or a mail send writes anything, so one refused
    for want of a worker leaves the book as it was. A broker that cannot be reached is asked
    again (`fault_waits`) until the wait is spent (code `no_broker` then)."""
    deadline = time.monotonic() + wait
    errors = broker_errors()
    waits = fault_waits()
    said = False
    while True:
        try:
            if workers_answering(timeout=min(1.0, max(wait, 0.1)), first=True):
                return
            reached = True
        except errors:
            reached = False
        if time.monotonic() >= deadline:
            raise no_worker(wait) if reached else no_broker(wait)
        if not said:
            # Once, on standard error: a wait of minutes in silence looks like a hang.
            log.warning(
                "no worker of the queue %s answers yet (%s); waiting up to %g s",
                settings.CELERY_QUEUE,
                "the broker answers" if reached else "the broker does not answer",
                wait,
            )
            said = True
        if not reached:
            time.sleep(next(waits))


def no_worker(wait: float) -> NoWorkerError:
    return NoWorkerError(
        _("no worker answered within {wait} s"), code="no_worker", wait=f"{wait:g}"
    )


def no_broker(wait: float) -> NoWorkerError:
    return NoWorkerError(
        _("the broker did not answer within {wait} s"), code="no_broker", wait=f"{wait:g}"
    )


def tasks_done(
    task: Any,
    messages: list[dict[str, Any]],
    *,
    wait: float,
    total: int,
    done: Callable[[], int],
    stalled: tuple[Any, str],
    given_up: Callable[[NoWorkerError], object] | None = None,
    reconnected: Callable[[], object] | None = None,
) -> None:
    """Send `task` once per message (its keyword arguments) and wait until `done()`, which reads
    the database, says `total` of the work is done. The one loop of a run's chunks, a letters
    batch's chunks and a mail send's batches.

    A fault is ridden out, not failed (docs/scaling.md "Faults"): a message the broker did not
    take is sent again, on a new connection, until `wait` is spent (then `no_broker`); the
    database gone while waiting closes the connection and reads again later, `reconnected()`
    first (a session's lock to take again). A message sent twice (the connection lost after the
    broker took it) does its work once: every task is idempotent. Nothing done for `wait`
    seconds raises NoWorkerError with `stalled`'s message (its {wait}, {done} and {total} filled
    in) and code; `given_up` is shown the error first, either way."""
    deadline = time.monotonic() + wait
    errors = broker_errors()
    waits = fault_waits()
    sent = 0
    while sent < len(messages):
        try:
            # kombu's own retry left off (`broker_connection`): asked again here.
            with broker_connection() as broker:
                while sent < len(messages):
                    task.apply_async(kwargs=messages[sent], connection=broker, retry=False)
                    sent += 1
        except errors:
            if time.monotonic() >= deadline:
                failure = no_broker(wait)
                if given_up is not None:
                    given_up(failure)
                raise failure from None
            time.sleep(next(waits))
    so_far, last, lost = 0, time.monotonic(), False
    waits = fault_waits()
    while so_far < total:
        try:
            if lost and reconnected is not None:
                reconnected()
            lost = False
            now_done = done()
        except DB_ERRORS:
            # The database went away, this connection with it: the next query opens a new one,
            # and the wait for the work runs on meanwhile.
            _close_broken()
            lost = True
            if time.monotonic() - last >= wait:
                raise
            time.sleep(next(waits))
            continue
        waits = fault_waits()
        if now_done > so_far:
            so_far, last = now_done, time.monotonic()
            continue
        if time.monotonic() - last >= wait:
            message, code = stalled
            failure = NoWorkerError(message, code=code, wait=f"{wait:g}", done=so_far, total=total)
            if given_up is not None:
                given_up(failure)
            raise failure
        time.sleep(POLL_SECONDS)
