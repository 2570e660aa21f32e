"""`arrears serve`: gunicorn, used as a library, serving the application `arrears serve` loaded.

gunicorn's master process binds the port and keeps `--workers` worker processes, each answering
`--threads` requests at once (one, by default: gunicorn's sync worker; more: its threaded worker).
The master restarts a worker that dies, replaces a worker after `--max-requests` requests (give
or take `--max-requests-jitter`, so that they do not all restart at once), kills one silent for
`--timeout` seconds, and on SIGHUP starts new workers and lets the old ones finish their requests
(`--graceful-timeout` seconds at most); SIGTERM stops it gracefully. See docs/scaling.md.

The application is loaded once, in the master, before the workers fork (gunicorn's
`preload_app`), and warmed there: the URL configuration (which imports every view and the API)
and the Jinja templates, which a worker otherwise loaded on its first request (2.0-3.2 s for a
worker replaced; with them warmed, 35-100 ms). Before each fork what the master holds is frozen
out of the garbage collector's sight (`gc.freeze`, as gunicorn's and Python's documentation
advise) and a collection waits for 20,000 new objects: 0.28-0.35 ms of collection an account
page instead of 0.63. So a new worker serves at once, and a HUP gives new workers of the same
code: new code needs the service restarted. The measures: the README's "The workspace under
load".
"""

from __future__ import annotations

import functools
import gc
from dataclasses import dataclass
from typing import Any

from gunicorn.app.base import BaseApplication


@dataclass(frozen=True)
class Serving:
    """How `arrears serve` serves: its options, as the command line gave them."""

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    threads: int = 1
    max_requests: int = 0  # 0: a worker serves until it dies or is reloaded
    max_requests_jitter: int | None = None  # None: a tenth of max_requests
    timeout: int = 120
    graceful_timeout: int = 30
    trusted_proxy: str = ""  # the address whose X-Forwarded-Proto is believed (none if "")

    def options(self) -> dict[str, Any]:
        """The gunicorn settings of these options."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        jitter = self.max_requests_jitter
        return {
            "bind": [f"{host}:{self.port}"],
            "workers": max(self.workers, 1),
            "threads": max(self.threads, 1),  # above 1, gunicorn takes its threaded worker
            "max_requests": self.max_requests,
            "max_requests_jitter": self.max_requests // 10 if jitter is None else jitter,
            "timeout": self.timeout,
            "graceful_timeout": self.graceful_timeout,
            "preload_app": True,
            "backlog": 1024,
            # The scheme a TLS-ending proxy says, believed from its address alone; gunicorn
            # would otherwise believe it from 127.0.0.1 whatever ARREARS_TRUSTED_PROXY says.
            "forwarded_allow_ips": self.trusted_proxy or "",
            "secure_scheme_headers": {"X-FORWARDED-PROTO": "https"},
            "pre_fork": freeze_before_fork,
            "when_ready": announce,
            "proc_name": "arrears",
            # No control socket (gunicorn 27's, one path in the home folder, ~/.gunicorn): two
            # servers of one user would take each other's; signals control the master.
            "control_socket_disable": True,
        }


@functools.cache
def warm_up() -> None:
    """Load once, in the master, what every worker would load on its first requests: the URL
    configuration (every view module and the API) and the compiled Jinja templates."""
    from django.db import connections
    from django.template import engines
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - the property imports the views
    for engine in engines.all():
        jinja = getattr(engine, "env", None)  # the Jinja2 backend's environment
        if jinja is not None:
            for name in jinja.list_templates(extensions=["html"]):
                jinja.get_template(name)
    connections.close_all()  # none may be shared across the fork


def freeze_before_fork(server: Any, worker: Any) -> None:
    """gunicorn's pre_fork hook, in the master before each worker forks: the application warmed
    (once), and what the master holds moved out of the collector's reach, so that no worker's
    collection walks it, or writes to its pages (which keeps them shared)."""
    warm_up()
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, *gc.get_threshold()[1:])


def _address(listener: str) -> str:
    """A listener as a URL (gunicorn 27 writes its scheme itself, 26 wrote host:port alone)."""
    return f"{listener.rstrip('/')}/" if "://" in listener else f"http://{listener}/"


def announce(server: Any) -> None:
    """gunicorn's when_ready hook: the address served, once the port is bound."""
    where = ", ".join(_address(str(listener)) for listener in server.LISTENERS)
    print(
        f"Serving Arrears on {where} with {server.num_workers} worker(s) (Ctrl-C stops)",
        flush=True,
    )


class ArrearsServer(BaseApplication):
    """gunicorn's master, its settings from `Serving` rather than a command line or a file."""

    def __init__(self, application: Any, serving: Serving) -> None:
        self.application, self.serving = application, serving
        super().__init__(prog="arrears serve")

    def load_config(self) -> None:
        for name, value in self.serving.options().items():
            self.cfg.set(name, value)

    def load(self) -> Any:
        return self.application


def serve(application: Any, serving: Serving) -> int:
    """Serve until SIGTERM or Ctrl-C."""
    ArrearsServer(application, serving).run()
    return 0
