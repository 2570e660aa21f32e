"""The secret key's one rule: a server signs sessions and CSRF tokens only with a key the
environment gives it.

settings.SECRET_KEY is the environment's SECRET_KEY, else a random key made for this process (so
that commands that serve no one, an import or the daily run, need none, and nothing signed with it
outlives the process). A server with DEBUG off refuses to start on such a key: `arrears serve` and
the WSGI application (config/wsgi.py, for gunicorn) both ask `secret_key_problem()` first.
"""

from __future__ import annotations

import os


def secret_key_problem() -> str:
    """Why a server may not start with the settings in force ("" when it may)."""
    from django.conf import settings

    if settings.DEBUG or os.environ.get("SECRET_KEY"):
        return ""
    return (
        "SECRET_KEY is not set: a server with DEBUG off signs sessions and CSRF tokens only with "
        "a key from the environment. Set SECRET_KEY to a long random value (for example the output "
        "of `python -c 'import secrets; print(secrets.token_urlsafe(50))'`), kept the same across "
        "restarts and workers; `make demo` makes one in .secret-key."
    )
