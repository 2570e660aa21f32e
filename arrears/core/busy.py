"""A database too busy to take a write is a refusal to try again later, never a server error.

SQLite lets one connection write at a time. A write waits for the one before it up to the busy
timeout (settings.ARREARS_SQLITE_TIMEOUT; every transaction begins IMMEDIATE: config/settings.py);
past it, SQLite answers "database is locked" and the transaction is rolled back whole. The API
and the pages turn that answer into a 503 with a Retry-After header (RFC 9110 §10.2.3) and this
message, and nothing was written.
"""

from __future__ import annotations

import math

from django.conf import settings
from django.db import OperationalError
from django.utils.translation import gettext_lazy as _

from arrears.core.errors import DatabaseBusyError

LOCKED = ("database is locked", "database table is locked")


def busy_error(exc: BaseException | None) -> DatabaseBusyError | None:
    """The refusal to give for `exc` when it is the database saying it is busy, else None."""
    if not isinstance(exc, OperationalError) or not str(exc).startswith(LOCKED):
        return None
    seconds = retry_after()
    return DatabaseBusyError(
        _(
            "the database is busy with another change (an import or a run may hold it) and "
            "nothing was written: try again in {retry_after} second"
        )
        if seconds == 1
        else _(
            "the database is busy with another change (an import or a run may hold it) and "
            "nothing was written: try again in {retry_after} seconds"
        ),
        retry_after=seconds,
    )


def retry_after() -> int:
    """Seconds to wait before trying again: as long as a write already waited in vain."""
    return max(1, math.ceil(settings.ARREARS_SQLITE_TIMEOUT))
