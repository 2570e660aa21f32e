"""The one error hierarchy: every domain error has a stable `code` and the facts of the case, and
its interfaces word it for their reader.

A raise site names a specific `code` (the class's own `code` is the fallback and, for the API, the
kind of error that picks the HTTP status) and passes its facts as keywords; they are `extra`. Its
message is a neutral template (`gettext_lazy`, `{fact}` placeholders) that names no flag, URL or
form label of one interface: `message` fills it in the active language, so a page shows it in the
user's language while the CLI words the code its own way (arrears.cli.wording). A plain `str`
message is taken as already worded and is not filled in.
"""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise


class DomainError(Exception):
    code = "error"

    def __init__(self, message: str | Promise, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.template = message
        if code is not None:
            self.code = code
        self.extra = extra

    @property
    def kind(self) -> str:
        """The class's code (not_found, invalid, forbidden, ...), whatever the specific code."""
        return type(self).code

    @property
    def message(self) -> str:
        """The wording in the active language, the facts filled in."""
        if isinstance(self.template, Promise):
            return str(self.template).format(**self.extra)
        return str(self.template)

    def __str__(self) -> str:
        return self.message

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "extra": self.extra}


class NotFoundError(DomainError):
    code = "not_found"


class ValidationError(DomainError):
    code = "invalid"


class DatabaseBusyError(DomainError):
    """The database could not take a write in time: nothing was written, the same request may
    be sent again after `retry_after` seconds (arrears.core.busy)."""

    code = "database_busy"


class InvalidTextError(DomainError):
    """Text no database can hold (a NUL character: PostgreSQL refuses it in any text; half of a
    UTF-16 pair), refused before anything is read or written (arrears.core.text)."""

    code = "invalid_text"
