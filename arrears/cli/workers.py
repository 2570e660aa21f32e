"""`arrears worker`: a Celery worker for this book (CELERY_BROKER_URL), doing the daily run's
chunks that `arrears run` hands it (`arrears.dunning.tasks`), the letters batch's chunks
(`arrears.correspondence.tasks`) and the scheduled tasks
(`arrears.access.tasks`); `arrears scheduler`: Celery beat sending those on the book's schedule
(docs/scaling.md)."""

from __future__ import annotations

import argparse
import gc
import os
import socket
import sys
from typing import Any

from arrears.cli.common import command, ensure_migrated


def cmd_worker(args: argparse.Namespace) -> int:
    from celery.signals import worker_process_init, worker_ready
    from django.db import connections

    from arrears.core.broker import broker_url, celery_app

    if not broker_url():
        sys.stderr.write(
            "arrears worker: CELERY_BROKER_URL is not set (a redis:// or amqp:// broker); "
            "without it the run does its chunks in its own process\n"
        )
        return 2
    ensure_migrated()
    connections.close_all()  # no database connection may be shared across the pool's fork
    # The run's task and the scheduled ones, registered on the app.
    import arrears.access.tasks
    import arrears.correspondence.tasks
    import arrears.dunning.tasks  # noqa: F401

    app = celery_app()
    # What a pool process holds once started (Django, the book's modules, Celery's worker: over
    # 200,000 objects) moved out of the garbage collector's sight: each full collection in a
    # chunk walked it all, a third of a chunk's time on the 10,000-account book (as the
    # in-process run keeps the book's open items out of it, `core.heap.frozen_heap`, and
    # `arrears serve` its application).
    worker_process_init.connect(_freeze_heap, weak=False)  # each prefork process
    worker_ready.connect(_freeze_heap, weak=False)  # the worker's own (--pool solo, threads)
    argv = [
        "worker",
        f"--pool={args.pool}",
        f"--loglevel={args.loglevel}",
        f"--hostname={args.name or f'arrears-{os.getpid()}@{socket.gethostname()}'}",
        # The workers of a book do not need to know one another: no start-up exchange.
        "--without-mingle",
        "--without-gossip",
    ]
    if args.concurrency:
        argv.append(f"--concurrency={args.concurrency}")
    if args.queues:
        argv.append(f"--queues={args.queues}")
    app.worker_main(argv)
    return 0


def _freeze_heap(**_: Any) -> None:
    gc.collect()
    gc.freeze()


def cmd_scheduler(args: argparse.Namespace) -> int:
    from arrears.core.broker import broker_url, celery_app

    if not broker_url():
        sys.stderr.write(
            "arrears scheduler: CELERY_BROKER_URL is not set (a redis:// or amqp:// broker, "
            "with `arrears worker` running); without one, run the daily job from cron: "
            "`arrears run --snapshots`, `arrears letters batch`, `arrears mail send`, "
            "`arrears subscription send`, and `arrears mail fetch` every few minutes "
            "(docs/scaling.md)\n"
        )
        return 2
    ensure_migrated()
    from arrears.access.tasks import beat_schedule

    app = celery_app()
    app.conf.beat_schedule = beat_schedule()
    # The schedule is kept in memory (celery.beat.Scheduler), not in a file: a day missed while
    # the scheduler was down is caught up by the next daily tick (access.schedule.daily_tick).
    app.Beat(scheduler="celery.beat:Scheduler", loglevel=args.loglevel).run()
    return 0


def _scheduler_parser(sub: Any) -> None:
    p = command(
        sub,
        "scheduler",
        cmd_scheduler,
        "Celery beat for this book: the daily job at ARREARS_DAILY_AT, mail fetching every "
        "ARREARS_MAIL_FETCH_MINUTES (needs CELERY_BROKER_URL and `arrears worker`)",
    )
    p.add_argument("--loglevel", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])


def _worker_parser(sub: Any) -> None:
    p = command(
        sub,
        "worker",
        cmd_worker,
        "a Celery worker for this book: does the daily run's chunks and renders the letters "
        "batch's (needs CELERY_BROKER_URL)",
    )
    p.add_argument(
        "--concurrency",
        type=int,
        help="chunks done at once (processes of the pool; default: the machine's cores)",
    )
    p.add_argument(
        "--pool",
        choices=["prefork", "solo", "threads"],
        default="prefork",
        help="prefork (default): a process per chunk at once; solo: the worker's own process",
    )
    p.add_argument(
        "--queues", help="the queues to consume, comma-separated (default CELERY_QUEUE: arrears)"
    )
    p.add_argument("--name", help="the worker's name (default arrears-PID@HOST)")
    p.add_argument("--loglevel", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"])


PARSERS = {"worker": _worker_parser, "scheduler": _scheduler_parser}
