"""The audit log for an admin: every change made through the pages, the API and the command line,
and every sign-in, failed sign-in and sign-out, newest first, through the selector the admin's
page and `arrears audit list` read (`access.selectors.audit_list`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema

from arrears.access.selectors import audit_list
from arrears.api.common import ERRORS, day

router = Router(tags=["audit"])


class AuditEntryOut(Schema):
    id: int
    at: datetime
    username: str
    via: str
    verb: str
    account_id: str
    ip: str
    detail: dict[str, Any]


@router.get("/audit", response={200: list[AuditEntryOut], **ERRORS})
def audit_get(
    request: HttpRequest,
    user: str = Query("", max_length=150),
    verb: str = Query("", max_length=60),
    via: Literal["", "web", "api", "cli", "system"] = "",
    account_id: str = Query("", max_length=64),
    since: date | None = None,
    until: date | None = None,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=10_000_000),
) -> Any:
    """Audit entries, newest first (admins only): `user` a user name (or a name typed at a
    failed sign-in, or `system:<login>`), `verb` a verb or its start up to a dot (`signin`,
    `user`), `via`, `account_id`, `since` and `until` days in the book's zone (included);
    `limit`/`offset` page through them."""
    rows = audit_list(
        request.user,
        username=user,
        verb=verb,
        via=via,
        account_id=account_id,
        since=day(since) if since else None,
        until=day(until) if until else None,
    )
    return list(rows[offset : offset + limit])
