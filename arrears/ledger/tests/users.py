"""The Arrears users of a story's book, added as an operator adds them to a new book:
`arrears user add NAME --role R` with the password on standard input, naming no user (there is
no admin yet). The commands of the story then act as the user ARREARS_USER names."""

from __future__ import annotations

import contextlib
import io
import sys
from typing import Any

import pytest

from arrears.cli import main


def users_add(monkeypatch: pytest.MonkeyPatch, settings: Any, *people: tuple[str, str]) -> None:
    """Add each (name, role), admins last (once an admin exists, users are an admin's change)."""
    # Hashing strength is Django's business; the stories only need a user, quickly.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with monkeypatch.context() as patch, contextlib.redirect_stdout(io.StringIO()):
        patch.delenv("ARREARS_USER", raising=False)
        for name, role in people:
            patch.setattr(sys, "stdin", io.StringIO("a-long-enough-password\n"))
            assert main(["user", "add", name, "--role", role]) == 0
