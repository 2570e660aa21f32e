"""The web part's command: `arrears serve`, the pages and the API behind gunicorn.

How it serves (gunicorn's master and workers, the garbage collector) is `arrears.cli.serve`,
imported when the command runs: gunicorn alone costs more than the rest of `arrears --help`.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from arrears.cli.common import command, ensure_migrated


def cmd_serve(args: argparse.Namespace) -> int:
    from django.conf import settings
    from django.db import connections

    from arrears.cli.serve import Serving, serve, warm_up
    from config.secret import secret_key_problem

    if problem := secret_key_problem():
        sys.stderr.write(f"arrears serve: {problem}\n")
        return 2
    from config.wsgi import application

    ensure_migrated()
    warm_up()  # before the port is bound: the first request finds it ready
    connections.close_all()  # no database connection may be shared across a fork
    serving = Serving(
        host=args.host,
        port=args.port,
        workers=args.workers,
        threads=args.threads,
        max_requests=args.max_requests,
        max_requests_jitter=args.max_requests_jitter,
        timeout=args.timeout,
        graceful_timeout=args.graceful_timeout,
        trusted_proxy=settings.ARREARS_TRUSTED_PROXY,
    )
    return serve(application, serving)


def _serve_parser(sub: Any) -> None:
    help = "serve the web pages (gunicorn, a production WSGI server)"
    p = command(sub, "serve", cmd_serve, help)
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--host", default="127.0.0.1")
    # One request at a time per process, a process per core (see arrears/cli/serve.py): threads in
    # one process take turns at Python's GIL, and that cost more CPU than the pages themselves.
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help="requests at once per worker (default 1; more if long reports block)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="worker processes (default: one per core)",
    )
    p.add_argument(
        "--max-requests",
        type=int,
        default=0,
        help="replace a worker after this many requests (default 0: never)",
    )
    p.add_argument(
        "--max-requests-jitter",
        type=int,
        default=None,
        help="up to this many more, drawn per worker (default: a tenth of --max-requests)",
    )
    p.add_argument(
        "--timeout",
        type=int,
        default=120,
        help="seconds a worker may be silent on one request before it is killed (default 120)",
    )
    p.add_argument(
        "--graceful-timeout",
        type=int,
        default=30,
        help="seconds a worker has to finish its requests on HUP or SIGTERM (default 30)",
    )


PARSERS = {"serve": _serve_parser}
