"""`arrears worker`: a Celery worker for this book (CELERY_BROKER_URL), doing the daily run's
chunks that `arrears run` hands it (`arrears.dunning.tasks`, docs/scaling.md)."""

from __future__ import annotations

import argparse
import os
import socket
import sys
from typing import Any

from arrears.cli.common import command, ensure_migrated


def cmd_worker(args: argparse.Namespace) -> int:
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
    import arrears.dunning.tasks  # noqa: F401  (registers the run's task on the app)

    app = celery_app()
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


def _worker_parser(sub: Any) -> None:
    p = command(
        sub,
        "worker",
        cmd_worker,
        "a Celery worker for this book: does the daily run's chunks (needs CELERY_BROKER_URL)",
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


PARSERS = {"worker": _worker_parser}
