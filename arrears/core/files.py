"""Reading a file a user gives (an upload, a path the command opened) up to a size, so that a
larger one is refused before it fills the memory."""

from __future__ import annotations

from typing import Any, Protocol

from django.utils.translation import gettext_lazy as _

from arrears.core.errors import ValidationError


class Readable(Protocol):
    """A file open for reading bytes: an upload, or a file the command opened."""

    def read(self, size: int, /) -> Any: ...


def read_at_most(stream: Readable, most: int) -> bytes:
    """The file's bytes, or ValidationError `file_too_large` when it holds more than `most`
    (read: `most` + 1 bytes at the most)."""
    data = bytes(stream.read(most + 1))
    if len(data) > most:
        raise ValidationError(
            _("the file is larger than {most} bytes"), code="file_too_large", most=most
        )
    return data
