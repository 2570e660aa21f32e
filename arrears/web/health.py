"""`/healthz`: whether this server can serve, for a load balancer's health check.

Answered before Django's middleware, so that the check is cheap (no session, no CSRF, no page)
and is answered however the balancer asks: by the instance's own address as the Host (not one of
ALLOWED_HOSTS) and by plain HTTP (which SECURE_SSL_REDIRECT would redirect). It says 200 "ok" when
the database answers `SELECT 1`, 503 when it does not: a server without its database serves no
page, and the balancer should send the pages elsewhere. Only GET and HEAD; docs/scaling.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.db import close_old_connections, connection

PATH = "/healthz"


def _database_answers() -> bool:
    """Whether the database answers, on this worker's connection: closed before and after as
    around a page (ARREARS_DB_CONN_SECONDS), and closed when it failed."""
    close_old_connections()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:  # whatever the driver raises, the database did not answer
        connection.close()
        return False
    finally:
        close_old_connections()


def with_health(application: Callable) -> Callable:
    """The WSGI `application`, with `/healthz` answered before it."""

    def health(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").rstrip("/") != PATH:
            return application(environ, start_response)
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            start_response("405 Method Not Allowed", [("Allow", "GET, HEAD")])
            return [b""]
        status, body = (
            ("200 OK", b"ok\n")
            if _database_answers()
            else ("503 Service Unavailable", b"no database\n")
        )
        headers: list[tuple[str, Any]] = [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
        ]
        start_response(status, headers)
        return [b"" if environ["REQUEST_METHOD"] == "HEAD" else body]

    return health
