"""The access part's errors: who is asking is unknown, not allowed, or locked out."""

from __future__ import annotations

from arrears.core.errors import DomainError


class NotSignedInError(DomainError):
    code = "unauthenticated"


class ForbiddenError(DomainError):
    code = "forbidden"


class LockedOutError(DomainError):
    code = "locked"
