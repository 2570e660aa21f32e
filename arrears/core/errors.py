"""The one error hierarchy: every domain error has a stable `code` and a human message."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "error"

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra

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
