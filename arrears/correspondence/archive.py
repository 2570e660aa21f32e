"""The document archive: every rendered document stored once, with its SHA-256, never overwritten.

The storage is Django's `storages["archive"]` (settings.STORAGES): the file system under
ARREARS_ARCHIVE_DIR by default, any storage backend (S3-compatible through django-storages) by
setting ARREARS_ARCHIVE_STORAGE. Invariants:
- a document's bytes are stored once: storing the same bytes again returns the first `Document`;
- a name holds one document forever: a different document under a taken name is refused;
- a file left by a transaction that rolled back is adopted if its bytes match, refused otherwise.
"""

from __future__ import annotations

import hashlib

from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _

from arrears.core.errors import DomainError
from arrears.correspondence.models import Document


class ArchiveError(DomainError):
    code = "archive"


def archive_storage() -> Storage:
    return storages["archive"]


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def archive_store(*, data: bytes, name: str, kind: str, content_type: str) -> Document:
    """Store `data` under `name` unless the same bytes are archived already; returns its row.

    Raises ArchiveError when `name` already holds different bytes (nothing is overwritten).
    Runs in the caller's transaction; the file is written before the row.
    """
    digest = sha256_of(data)
    existing = Document.objects.filter(sha256=digest).first()
    if existing is not None:
        return existing
    if Document.objects.filter(name=name).exists():
        raise ArchiveError(
            _("the archive already holds a different document named {name}"),
            code="archive_name_taken",
            name=name,
        )
    storage = archive_storage()
    if storage.exists(name):
        with storage.open(name, "rb") as stream:
            if sha256_of(stream.read()) != digest:
                raise ArchiveError(
                    _("the archive's file {name} holds other bytes; it is never overwritten"),
                    code="archive_file_differs",
                    name=name,
                )
    else:
        saved = storage.save(name, ContentFile(data))
        if saved != name:  # the storage chose another name: never ours to keep
            storage.delete(saved)
            raise ArchiveError(
                _("the archive could not store {name}"), code="archive_store_failed", name=name
            )
    return Document.objects.create(
        sha256=digest,
        name=name,
        content_type=content_type,
        size=len(data),
        kind=kind,
        created_at=dj_timezone.now(),
    )


def archive_read(document: Document) -> bytes:
    """The bytes of an archived document; ArchiveError if they no longer match its SHA-256."""
    with archive_storage().open(document.name, "rb") as stream:
        data: bytes = stream.read()
    if sha256_of(data) != document.sha256:
        raise ArchiveError(
            _("{name} no longer matches its SHA-256"),
            code="archive_sha256_mismatch",
            name=document.name,
        )
    return data


def archive_path(name: str) -> str:
    """A local path of an archived name when the storage has one (file system), else the name."""
    try:
        return str(archive_storage().path(name))
    except NotImplementedError:
        return name
