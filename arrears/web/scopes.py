"""Whose lines the Today page shows (`access.selectors.WorklistScope`): the coordinator's own by
default, everyone's, the accounts assigned to no one, or one user's; read from the page's
`scope` parameter (`mine`, `everyone`, `unassigned`, `user:NAME`)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.http import HttpRequest

from arrears.access.assigned import workers
from arrears.access.selectors import worklist_scope


def today_scoped(request: HttpRequest, day: Any) -> dict[str, Any]:
    """The day with only the lines of the scope asked for (or the user's default), the scope,
    and the users one may pick (`web/_worklist_scope.html`)."""
    asked = request.GET.get("scope", "")[:160]
    kind, _, username = asked.partition(":")
    scope = worklist_scope(request.user, on=day.on, kind=kind, username=username)
    return {
        "day": replace(day, work=scope.lines(request.user, day.work, day.on)),
        "scope": scope,
        "scope_users": workers(),
    }
