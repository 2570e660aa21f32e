"""What every page's layout needs: the user's role and which of the pages they may open."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from arrears.access.selectors import role_of


def workspace(request: HttpRequest) -> dict[str, Any]:
    role = role_of(getattr(request, "user", None))
    return {"role": role}
