"""No request carries a NUL character in its text: refused before anything reads or writes it.

PostgreSQL holds no NUL (U+0000) in a text value, and a query or a write that sends one fails
("text fields cannot contain NUL"): the page or the API answered 500 where SQLite kept the NUL.
Nothing Arrears keeps is text with a NUL in it (the import refuses control characters the same
way: arrears.ledger.interchange), so a request whose path, query, a page's form fields or a JSON
body holds one is answered 422 `invalid_text`, naming where, on both databases: in the API's
error shape under /api/, as a line of text elsewhere. Files uploaded are the import's to check.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.utils.translation import gettext_lazy as _

from arrears.core.errors import InvalidTextError

NUL = "\x00"


def refuse_nul_text(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable[..., Any]:
    """Middleware: a 422 for a request whose text holds a NUL, else the response."""

    def middleware(request: HttpRequest) -> HttpResponse:
        found = next(_with_nul(request), None)
        if found is None:
            return get_response(request)
        where, field = found
        facts = {"where": where} if field is None else {"where": where, "field": field}
        error = InvalidTextError(
            _("{where} holds a NUL character (U+0000), which is not text"), **facts
        )
        if request.path_info.startswith("/api/"):
            return JsonResponse(error.as_dict(), status=422)
        return HttpResponse(error.message, status=422, content_type="text/plain; charset=utf-8")

    return middleware


def _with_nul(request: HttpRequest) -> Iterator[tuple[str, str | None]]:
    """Where the request's text holds a NUL ("the path", "query field NAME", "field NAME"), and
    the field's name (as the API's other errors name it in `extra["field"]`) when it is one."""
    if NUL in request.path_info:
        yield "the path", None
    for kind, fields in (("query field", request.GET), ("field", _form(request))):
        for name, values in fields.lists():
            if NUL in name or any(NUL in value for value in values):
                shown = name.replace(NUL, "?")
                yield f"{kind} {shown!r}", shown
    if request.content_type == "application/json":
        try:
            body = json.loads(request.body)
        except ValueError:
            return  # not JSON: the API says so itself
        yield from ((f"field {path!r}", path) for path in _json_nul(body, "body"))


def _form(request: HttpRequest) -> Any:
    """A page's form fields, read as the CSRF check reads them (a malformed body is Django's
    400, as it was). Not the API's: it takes JSON, and reading an import's upload here would
    leave the stream read for its route; any other body stays unread."""
    if request.method == "POST" and not request.path_info.startswith("/api/"):
        return request.POST
    return QueryDict()


def _json_nul(value: Any, path: str) -> Iterator[str]:
    if isinstance(value, str):
        if NUL in value:
            yield path
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _json_nul(item, f"{path}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            if NUL in key:
                yield f"{path}.{key.replace(NUL, '?')}"
            yield from _json_nul(item, f"{path}.{key}")
