"""The access part's errors: who is asking is unknown, not named, not allowed, or locked out."""

from __future__ import annotations

from arrears.core.errors import DomainError


class NotSignedInError(DomainError):
    code = "unauthenticated"


class ForbiddenError(DomainError):
    code = "forbidden"


class LockedOutError(DomainError):
    code = "locked"


class UserNotNamedError(DomainError):
    """A change from the command line with no Arrears user named (`--as`, ARREARS_USER)."""

    code = "user_not_named"
