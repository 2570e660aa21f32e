"""The web part's command: `arrears serve`, the pages and the API behind waitress.

How it serves (the workers, the acceptor, the garbage collector) is `arrears.cli.serve`,
imported when the command runs: waitress alone costs more than the rest of `arrears --help`.
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

    from arrears.cli.serve import serve
    from config.secret import secret_key_problem

    if problem := secret_key_problem():
        sys.stderr.write(f"arrears serve: {problem}\n")
        return 2
    from config.wsgi import application

    ensure_migrated()
    connections.close_all()  # no database connection may be shared across a fork
    return serve(
        application,
        args.host,
        args.port,
        max(args.workers, 1),
        args.threads,
        trusted_proxy=settings.ARREARS_TRUSTED_PROXY,
    )


def _serve_parser(sub: Any) -> None:
    help = "serve the web pages (waitress, a production WSGI server)"
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


PARSERS = {"serve": _serve_parser}
