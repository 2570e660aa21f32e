"""Sessions in the database, as Django keeps them, read with one hand-written query.

Every request of a signed-in user reads its session; Django builds that query with the ORM each
time, which costs more Python than the query (see core.sql). Rows, expiry, sign-out and
`clearsessions` are Django's own: only the read differs. Settings: SESSION_ENGINE."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from django.contrib.sessions.backends.db import SessionStore as DatabaseStore
from django.contrib.sessions.models import Session
from django.db import connection
from django.utils import timezone

from arrears.core import sql


class SessionStore(DatabaseStore):
    def _get_session_from_db(self) -> Any:
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        found = sql.rows(
            f"SELECT session_data FROM {sql.table(Session)}"
            " WHERE session_key = %s AND expire_date > %s",
            [self.session_key, now],
        )
        if not found:
            self._session_key = None
            return None
        return SimpleNamespace(session_data=found[0][0])
