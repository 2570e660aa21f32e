"""Where mail keeps its bytes: the document archive (stored once with its SHA-256, never
overwritten). A stand-in with the archive's own signature until `archive.py` is merged."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from django.utils import timezone as dj_timezone

from arrears.correspondence.models import Document


def _root() -> Path:
    return Path(os.environ.get("ARREARS_ARCHIVE_DIR", "archive"))


def archive_store(*, data: bytes, name: str, kind: str, content_type: str) -> Document:
    digest = hashlib.sha256(data).hexdigest()
    existing = Document.objects.filter(sha256=digest).first()
    if existing is not None:
        return existing
    path = _root() / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return Document.objects.create(sha256=digest, name=name, content_type=content_type,
                                   size=len(data), kind=kind,
                                   created_at=dj_timezone.now())  # fmt: skip


def archive_read(document: Document) -> bytes:
    return (_root() / document.name).read_bytes()
