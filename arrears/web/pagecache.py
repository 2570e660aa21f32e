"""Rendered pages kept per state of the book, in this process's cache.

A page that is a pure function of the book's state, the day, the user's scope, the language and
the URL is rendered once per such key and then served from the cache (`cached_render`). Every
page carries a CSRF token (the sign-out form at least) that must be the requesting session's:
the page is rendered with a placeholder in its place, and each response gets the request's own
token (`get_token`) put in, so a cached page is never another session's.

The key's part that names the book's state is the caller's: it must change with every change
the page shows (see `access.selectors.book_state`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.translation import get_language

from arrears.access.selectors import profile_of
from arrears.core.dates import today

# Not a token Django could make (those are letters and digits only): replaced in every response.
CSRF_PLACEHOLDER = "{csrf-token-of-this-request}"


def scope_of(user: Any) -> tuple[Hashable, ...]:
    """What decides what `user` may see and do: name, role, firm and (managers) properties."""
    profile = profile_of(user)
    if profile is None:
        return (getattr(user, "pk", None),)
    properties = tuple(sorted(getattr(profile, "property_pks", ()) or ()))
    return (user.pk, user.get_username(), profile.role, profile.firm, properties)


def cached_render(
    request: HttpRequest,
    template: str,
    state: tuple[Hashable, ...],
    context: Callable[[], dict[str, Any]],
    *,
    seconds: int,
) -> HttpResponse:
    """`template` rendered with `context()`, or the same page rendered before for this `state`,
    day, user scope, language and URL (kept at most `seconds`)."""
    parts = (
        template,
        state,
        today().isoformat(),
        scope_of(request.user),
        get_language(),
        request.get_full_path(),
        request.headers.get("HX-Request", ""),
    )
    key = "page:" + hashlib.sha256(repr(parts).encode()).hexdigest()
    body: str | None = cache.get(key)
    if body is None:
        values = context()
        values["csrf_token"] = CSRF_PLACEHOLDER  # the view's context wins over the processors'
        body = render_to_string(template, values, request)
        cache.set(key, body, seconds)
    return HttpResponse(body.replace(CSRF_PLACEHOLDER, get_token(request)))
